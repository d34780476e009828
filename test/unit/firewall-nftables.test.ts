/**
 * The nftables backend's pure part (nft-json.ts): table layout, batch transactions, and the
 * listing parser, checked against JSON that nft 1.0.6 printed for our own table.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadServerConfig } from "../../src/config/server-config.js";
import {
  applyCommands,
  elementOf,
  elementTimeout,
  flushCommands,
  layoutCommands,
  type NftCommand,
  type NftLayout,
  parseListing,
  ruleExprs,
} from "../../src/firewall/nft-json.js";
import type { Rule } from "../../src/firewall/rule.js";
import { ruleKey } from "../../src/firewall/rules.js";
import { backendSettingsFromConfig, createFirewallBackend } from "../../src/firewall/select.js";
import { silentLogger } from "../../src/log/logger.js";

const MARK = 0x2000_0000;
const layout = (over: Partial<NftLayout> = {}): NftLayout => ({
  table: "fwknop",
  priority: -10,
  mark: MARK,
  chains: { input: "FWKNOP_INPUT" },
  prepend: false,
  ...over,
});
const NAT_CHAINS = {
  input: "FWKNOP_INPUT",
  forward: "FWKNOP_FORWARD",
  dnat: "FWKNOP_PREROUTING",
  snat: "FWKNOP_POSTROUTING",
  masquerade: "FWKNOP_MASQUERADE",
};
const AT = 1795771323;
const access = (src: string, dport = 22, dst = "0.0.0.0/0"): Rule => ({
  chain: "input",
  proto: "tcp",
  src,
  dst,
  dport,
  expiresAt: AT,
});
/** The object of one command, e.g. part(cmd, "add", "set"); undefined for other commands. */
const part = (c: NftCommand | undefined, verb: string, what: string) =>
  c?.[verb]?.[what] as Record<string, unknown> | undefined;
const all = (cmds: NftCommand[], verb: string, what: string): Record<string, unknown>[] =>
  cmds.flatMap((c) => {
    const p = part(c, verb, what);
    return p ? [p] : [];
  });
const markThenAccept = [
  { mangle: { key: { meta: { key: "mark" } }, value: { "|": [{ meta: { key: "mark" } }, MARK] } } },
  { accept: null },
];

describe("nftables layout", () => {
  test("default: sets with timeouts, FWKNOP_INPUT, an input base chain at filter - 10", () => {
    const cmds = layoutCommands(layout());
    assert.deepEqual(cmds[0], { add: { table: { family: "inet", name: "fwknop" } } });
    const sets = all(cmds, "add", "set");
    assert.deepEqual(
      sets.map((s) => [s.name, (s.type as string[]).join(" . "), s.flags]),
      [
        ["allow4", "ipv4_addr . inet_proto . inet_service", ["timeout"]],
        ["allow4_dst", "ipv4_addr . inet_proto . inet_service . ipv4_addr", ["timeout"]],
        ["allow6", "ipv6_addr . inet_proto . inet_service", ["timeout"]],
        ["allow6_dst", "ipv6_addr . inet_proto . inet_service . ipv6_addr", ["timeout"]],
      ],
    );
    const base = all(cmds, "add", "chain").filter((c) => c.hook);
    assert.deepEqual(base, [
      {
        family: "inet",
        table: "fwknop",
        name: "input",
        type: "filter",
        hook: "input",
        prio: -10,
        policy: "accept",
      },
    ]);
    const rules = all(cmds, "add", "rule").map((r) => r.expr);
    assert.equal(rules.length, 5, "four set lookups and the jump");
    assert.deepEqual(rules[4], [{ jump: { target: "FWKNOP_INPUT" } }]);
    assert.deepEqual((rules[0] as unknown[]).slice(1), markThenAccept);
  });

  test("base chains are re-created (never doubled); regular chains and sets only added", () => {
    const verbs = layoutCommands(layout()).flatMap((c) => {
      const [verb, body] = Object.entries(c)[0] ?? [];
      const chain = body?.chain as { name: string } | undefined;
      return chain ? [`${verb} ${chain.name}`] : [];
    });
    assert.deepEqual(verbs, [
      "add FWKNOP_INPUT",
      "add input",
      "flush input",
      "delete input",
      "add input",
    ]);
  });

  test("NAT kinds: prerouting at dstnat - 10, postrouting at srcnat - 10, forward at filter - 10", () => {
    const base = all(layoutCommands(layout({ chains: NAT_CHAINS, priority: -5 })), "add", "chain")
      .filter((c) => c.hook)
      .map((c) => [c.name, c.type, c.prio]);
    assert.deepEqual(base, [
      ["input", "filter", -5],
      ["forward", "filter", -5],
      ["prerouting", "nat", -105],
      ["postrouting", "nat", 95],
    ]);
  });

  test("flush is add + delete of the table, so a missing table is not an error", () => {
    assert.deepEqual(flushCommands("t"), [
      { add: { table: { family: "inet", name: "t" } } },
      { delete: { table: { family: "inet", name: "t" } } },
    ]);
  });
});

describe("rules as set elements or chain rules", () => {
  test("plain access grants are elements; anything else stays a rule", () => {
    assert.deepEqual(elementOf(access("198.18.0.2")), {
      set: "allow4",
      val: ["198.18.0.2", "tcp", 22],
    });
    assert.deepEqual(elementOf(access("198.18.0.2/32", 22, "198.18.0.1")), {
      set: "allow4_dst",
      val: ["198.18.0.2", "tcp", 22, "198.18.0.1"],
    });
    assert.deepEqual(elementOf(access("2001:db8::2")), {
      set: "allow6",
      val: ["2001:db8::2", "tcp", 22],
    });
    assert.equal(elementOf(access("198.18.0.0/24")), undefined, "a network");
    assert.equal(elementOf(access("2001:db8::2", 22, "198.18.0.1")), undefined, "mixed families");
    assert.equal(elementOf({ ...access("198.18.0.2"), chain: "forward" }), undefined);
  });

  test("kernel timeout: whole seconds up to the _exp_, at least 1", () => {
    assert.equal(elementTimeout(access("198.18.0.2"), AT - 30.4), 31);
    assert.equal(elementTimeout(access("198.18.0.2"), AT + 5), 1);
  });

  test("verdicts: mark + accept, dnat/snat with family, masquerade to a port", () => {
    const dnat: Rule = {
      chain: "dnat",
      proto: "tcp",
      src: "198.18.0.2",
      dst: "0.0.0.0/0",
      dport: 2200,
      toDestination: "192.0.2.5:22",
      expiresAt: AT,
    };
    assert.deepEqual(ruleExprs(dnat, MARK), [
      {
        match: {
          op: "==",
          left: { payload: { protocol: "ip", field: "saddr" } },
          right: "198.18.0.2",
        },
      },
      { match: { op: "==", left: { payload: { protocol: "tcp", field: "dport" } }, right: 2200 } },
      { dnat: { family: "ip", addr: "192.0.2.5", port: 22 } },
    ]);
    const all: Rule = { chain: "forward", src: "198.18.0.0/24", expiresAt: AT };
    assert.deepEqual(ruleExprs(all, MARK), [
      {
        match: {
          op: "==",
          left: { payload: { protocol: "ip", field: "saddr" } },
          right: { prefix: { addr: "198.18.0.0", len: 24 } },
        },
      },
      ...markThenAccept,
    ]);
    const masq: Rule = {
      chain: "masquerade",
      proto: "udp",
      dport: 53,
      toPorts: 5353,
      expiresAt: AT,
    };
    assert.deepEqual(ruleExprs(masq, MARK).at(-1), { masquerade: { port: 5353 } });
    const snat: Rule = { chain: "snat", src: "198.18.0.3", toSource: "192.0.2.1", expiresAt: AT };
    assert.deepEqual(ruleExprs(snat, MARK).at(-1), { snat: { family: "ip", addr: "192.0.2.1" } });
  });
});

describe("one batch, one transaction", () => {
  test("removals are add + delete (an element the kernel expired is no error), before additions", () => {
    const old = access("198.18.0.2");
    const fresh = { ...old, expiresAt: AT + 60 };
    const cmds = applyCommands(layout(), [fresh], [old], [], AT - 10);
    assert.deepEqual(
      cmds.map((c) => {
        const [verb = "", body] = Object.entries(c)[0] ?? [];
        const elems = body?.element as { elem: { elem: { timeout: number; comment: string } }[] };
        const elem = elems.elem[0];
        return [verb, elem?.elem.timeout, elem?.elem.comment];
      }),
      [
        ["add", 10, `_exp_${AT}`],
        ["delete", 10, `_exp_${AT}`],
        ["add", 70, `_exp_${AT + 60}`],
      ],
    );
  });

  test("chain rules: delete by handle; add (or insert with ENABLE_RULE_PREPEND) with _exp_", () => {
    const fwd: Rule = {
      chain: "forward",
      proto: "tcp",
      src: "198.18.0.2",
      dport: 22,
      expiresAt: AT,
    };
    const l = layout({ chains: NAT_CHAINS });
    const cmds = applyCommands(
      l,
      [fwd],
      [],
      [{ rule: fwd, chain: "FWKNOP_FORWARD", handle: 7 }],
      AT,
    );
    assert.deepEqual(cmds[0], {
      delete: { rule: { family: "inet", table: "fwknop", chain: "FWKNOP_FORWARD", handle: 7 } },
    });
    assert.equal(part(cmds[1], "add", "rule")?.comment, `_exp_${AT}`);
    assert.equal(part(cmds[1], "add", "rule")?.chain, "FWKNOP_FORWARD");
    const prepended = applyCommands({ ...l, prepend: true }, [fwd], [], [], AT);
    assert.ok(part(prepended[0], "insert", "rule"), "insert puts it at the top");
  });
});

describe("listing parser (JSON as nft 1.0.6 prints our table)", () => {
  const listing = JSON.stringify({
    nftables: [
      { metainfo: { version: "1.0.6", json_schema_version: 1 } },
      { table: { family: "inet", name: "fwknop", handle: 2 } },
      {
        set: {
          family: "inet",
          name: "allow4_dst",
          table: "fwknop",
          type: ["ipv4_addr", "inet_proto", "inet_service", "ipv4_addr"],
          handle: 2,
          flags: ["timeout"],
          elem: [
            {
              elem: {
                val: { concat: ["198.18.0.2", "tcp", 22, "198.18.0.1"] },
                timeout: 30,
                expires: 29,
                comment: `_exp_${AT}`,
              },
            },
            { elem: { val: { concat: ["198.18.0.9", "tcp", 22, "198.18.0.1"] }, timeout: 30 } },
          ],
        },
      },
      {
        set: {
          family: "inet",
          name: "allow6",
          table: "fwknop",
          handle: 3,
          elem: [{ elem: { val: { concat: ["2001:db8::2", "udp", 53] }, comment: `_exp_${AT}` } }],
        },
      },
      {
        rule: {
          family: "inet",
          table: "fwknop",
          chain: "FWKNOP_PREROUTING",
          handle: 31,
          comment: `_exp_${AT}`,
          expr: [
            {
              match: {
                op: "==",
                left: { payload: { protocol: "ip", field: "saddr" } },
                right: "198.18.0.2",
              },
            },
            {
              match: {
                op: "==",
                left: { payload: { protocol: "tcp", field: "dport" } },
                right: 2200,
              },
            },
            { dnat: { family: "ip", addr: "192.0.2.5", port: 22 } },
          ],
        },
      },
      {
        rule: {
          family: "inet",
          table: "fwknop",
          chain: "FWKNOP_MASQUERADE",
          handle: 32,
          comment: `_exp_${AT}`,
          expr: [
            {
              match: {
                op: "==",
                left: { payload: { protocol: "ip", field: "daddr" } },
                right: "192.0.2.5",
              },
            },
            {
              match: {
                op: "==",
                left: { payload: { protocol: "udp", field: "dport" } },
                right: 53,
              },
            },
            { masquerade: { port: 5353 } },
          ],
        },
      },
      {
        rule: {
          family: "inet",
          table: "fwknop",
          chain: "input",
          handle: 17,
          expr: [{ jump: { target: "FWKNOP_INPUT" } }],
        },
      },
    ],
  });

  test("elements and rules with _exp_ come back as the rules they were made from", () => {
    const { elements, rules } = parseListing(layout({ chains: NAT_CHAINS }), listing);
    const expected: Rule[] = [
      access("198.18.0.2", 22, "198.18.0.1"),
      { chain: "input", proto: "udp", src: "2001:db8::2", dport: 53, expiresAt: AT },
    ];
    assert.deepEqual(elements.map(ruleKey), expected.map(ruleKey), "element without _exp_ skipped");
    assert.ok(elements.every((e) => e.via === "set" && e.expiresAt === AT));
    assert.deepEqual(
      rules.map((r) => [r.chain, r.handle, ruleKey(r.rule)]),
      [
        [
          "FWKNOP_PREROUTING",
          31,
          ruleKey({
            chain: "dnat",
            proto: "tcp",
            src: "198.18.0.2",
            dport: 2200,
            toDestination: "192.0.2.5:22",
            expiresAt: AT,
          }),
        ],
        [
          "FWKNOP_MASQUERADE",
          32,
          ruleKey({
            chain: "masquerade",
            proto: "udp",
            dst: "192.0.2.5",
            dport: 53,
            toPorts: 5353,
            expiresAt: AT,
          }),
        ],
      ],
      "base-chain rules (no _exp_) are not grants",
    );
  });
});

describe("FIREWALL_TYPE nftables settings", () => {
  const work = mkdtempSync(join(tmpdir(), "fwknop-nft-settings-"));
  after(() => rmSync(work, { recursive: true, force: true }));
  let seq = 0;
  const settingsOf = (text: string) => {
    const path = join(work, `c${++seq}.conf`);
    writeFileSync(path, `FIREWALL_TYPE nftables\n${text}`, { mode: 0o600 });
    return backendSettingsFromConfig(loadServerConfig({ configFile: path, warn: () => {} }));
  };

  test("defaults: table fwknop, priority -10, mark 0x20000000, nft, FWKNOP_INPUT only", () => {
    const s = settingsOf("");
    assert.deepEqual(s.nft, { table: "fwknop", priority: -10, mark: 0x2000_0000 });
    assert.equal(s.exe, "/usr/sbin/nft");
    assert.deepEqual(Object.keys(s.chains), ["input"]);
    const b = createFirewallBackend("nftables", s, { log: silentLogger });
    assert.equal(b.name, "nftables");
    assert.equal(b.chainName("input"), "FWKNOP_INPUT");
  });

  test("ENABLE_NFT_* switch chain kinds on; NFT_* values are read", () => {
    const s = settingsOf(
      "ENABLE_NFT_FORWARDING Y\nENABLE_NFT_SNAT Y\nNFT_TABLE spa\nNFT_PRIORITY -300\nNFT_MARK 0x10\n",
    );
    assert.deepEqual(Object.keys(s.chains).sort(), [
      "dnat",
      "forward",
      "input",
      "masquerade",
      "snat",
    ]);
    const { setAt, ...nft } = s.nft ?? {};
    assert.deepEqual(nft, { table: "spa", priority: -300, mark: 0x10 });
    assert.deepEqual(Object.keys(setAt ?? {}), ["NFT_TABLE"], "only what the file sets");
    assert.match(setAt?.NFT_TABLE ?? "", /\.conf:\d+$/, "NFT_TABLE's file and line");
  });

  test("invalid NFT_MARK and NFT_TABLE are configuration errors", () => {
    assert.throws(() => settingsOf("NFT_MARK 0\n"), /Invalid NFT_MARK/);
    assert.throws(() => settingsOf("NFT_MARK 0x1ffffffff\n"), /Invalid NFT_MARK/);
    assert.throws(() => settingsOf("NFT_TABLE 1abc\n"), /Invalid NFT_TABLE/);
    assert.throws(() => settingsOf("NFT_PRIORITY 5000\n"), /not in the range/);
  });

  test("a chain named like one of our base chains is refused at init, before nft is run", async () => {
    const s = settingsOf(
      "ENABLE_NFT_FORWARDING Y\nNFT_FORWARD_ACCESS ACCEPT, filter, FORWARD, 1, forward, 1\n",
    );
    // No nft could run from here: the check comes before any process.
    const b = createFirewallBackend(
      "nftables",
      { ...s, exe: "/nonexistent/nft" },
      {
        log: silentLogger,
      },
    );
    await assert.rejects(b.init({ flush: false }), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(
        e.message,
        /\.conf:3: NFT_FORWARD_ACCESS 'forward' is the name of one of our base chains \(input, output, forward, prerouting, postrouting\)/,
      );
      return true;
    });
  });

  test("NFT_ATTACH names family, table and chain of the admin's base chain; unset by default", () => {
    assert.equal(settingsOf("").nft?.attach, undefined);
    assert.deepEqual(settingsOf("NFT_ATTACH inet, filter, input\n").nft?.attach, {
      family: "inet",
      table: "filter",
      chain: "input",
    });
    assert.deepEqual(settingsOf("NFT_ATTACH ip,host-fw,INPUT\n").nft?.attach, {
      family: "ip",
      table: "host-fw",
      chain: "INPUT",
    });
    for (const bad of [
      "inet, filter",
      "bridge, filter, input",
      "inet, filter, in put",
      "inet, , input",
    ]) {
      assert.throws(() => settingsOf(`NFT_ATTACH ${bad}\n`), /\.conf:\d+: Invalid NFT_ATTACH/, bad);
    }
  });
});
