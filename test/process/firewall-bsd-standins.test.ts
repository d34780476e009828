/**
 * pf and ipfw end to end on Linux, against recording stand-ins for pfctl and ipfw that keep
 * state (scripts/*-standin.ts): the exact commands each backend runs, ipfw's rule-number window
 * running out (a refused, logged grant), the expire set and its purge, pf's anchor check; and
 * our fwknopd driving each stand-in for a knock from the C client 2.6.10.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { FwknopError } from "../../src/errors.js";
import type { Rule } from "../../src/firewall/backend.js";
import type { IpfwBackend } from "../../src/firewall/ipfw.js";
import { DEFAULT_IPFW_SETTINGS, type IpfwSettings } from "../../src/firewall/ipfw-rules.js";
import { DEFAULT_PF_SETTINGS } from "../../src/firewall/pf-rules.js";
import { createFirewallBackend } from "../../src/firewall/select.js";
import { defaultFirewallSettings } from "../../src/firewall/settings.js";
import { GrantLedger } from "../../src/server/grants.js";
import { run } from "../../src/sys/run.js";
import {
  accessStanza,
  C_FWKNOP,
  knock,
  OUR_FWKNOPD,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import { canUseNetns, createNetnsPair, type NetnsPair } from "../helpers/netns.js";
import { recorder } from "../helpers/recording-logger.js";
import { createPfctl, createStandin, type Standin } from "../helpers/standins.js";
import { waitUntil } from "../helpers/wait.js";

const nowSec = () => Math.floor(Date.now() / 1000);

interface IpfwState {
  rules: { num: number; set: number; body: string }[];
  disabled: number[];
  dynamic: number[];
}

function access(src: string, port: number, expiresAt: number): Rule {
  return { chain: "input", proto: "tcp", src, dst: "0.0.0.0/0", dport: port, expiresAt };
}

function ipfwBackend(tool: Standin, over: Partial<IpfwSettings> = {}, log = recorder()) {
  const ipfw = { ...DEFAULT_IPFW_SETTINGS, ...over };
  const settings = { ...defaultFirewallSettings(), exe: tool.exe, ipfw };
  return createFirewallBackend("ipfw", settings, { log }) as IpfwBackend;
}

describe("ipfw against the stand-in", () => {
  const tools: Standin[] = [];
  const standin = () => {
    const t = createStandin("ipfw");
    tools.push(t);
    return t;
  };
  after(() => {
    for (const t of tools) t.cleanup();
  });

  test("init, a two-port knock and its expiry run 2.6.10's commands; one rule number per knock", async () => {
    const tool = standin();
    const b = ipfwBackend(tool, { addCheckState: true });
    await b.init({ flush: true });
    const exp = nowSec() + 30;
    await b.apply(
      [access("198.18.0.2", 22, exp), { ...access("198.18.0.2", 53, exp), proto: "udp" }],
      [],
    );
    await b.apply(
      [],
      [access("198.18.0.2", 22, exp), { ...access("198.18.0.2", 53, exp), proto: "udp" }],
    );
    await b.flush();
    assert.deepEqual(tool.calls(), [
      "delete set 1",
      "delete set 2",
      "set disable 2",
      "-d -S -T set 1 list",
      "add 10000 set 1 check-state",
      "-d -S -T set 1 list",
      "-S set 2 list",
      `add 10001 set 1 pass 6 from 198.18.0.2 to me dst-port 22 setup keep-state // _exp_${exp}`,
      `add 10001 set 1 pass 17 from 198.18.0.2 to me dst-port 53 setup keep-state // _exp_${exp}`,
      "-d -S -T set 1 list",
      "-S set 2 list",
      "set move rule 10001 to 2",
      "delete set 1",
      "delete set 2",
    ]);
  });

  test("a re-knock of one port of a two-port knock: the shared number moves, the other port is re-added", async () => {
    const tool = standin();
    const b = ipfwBackend(tool);
    await b.init({ flush: true });
    const exp = nowSec() + 30;
    const ssh = access("198.18.0.2", 22, exp);
    const web = access("198.18.0.2", 80, exp);
    await b.apply([ssh, web], []);
    const later = { ...ssh, expiresAt: exp + 60 };
    await b.apply([later], [ssh]);
    const rules = tool.read<IpfwState>().rules.map((r) => [r.num, r.set, r.body]);
    assert.deepEqual(rules, [
      [10000, 2, `allow tcp from 198.18.0.2 to me dst-port 22 setup keep-state // _exp_${exp}`],
      [10000, 2, `allow tcp from 198.18.0.2 to me dst-port 80 setup keep-state // _exp_${exp}`],
      [10001, 1, `allow tcp from 198.18.0.2 to me dst-port 80 setup keep-state // _exp_${exp}`],
      [
        10002,
        1,
        `allow tcp from 198.18.0.2 to me dst-port 22 setup keep-state // _exp_${exp + 60}`,
      ],
    ]);
    const live = (await b.listInstalled()).map((r) => [r.dport, r.expiresAt]).sort();
    assert.deepEqual(live, [
      [22, exp + 60],
      [80, exp],
    ]);
    await b.flush();
  });

  test("IPFW_MAX_RULES reached: the grant is refused with FWK_ERR_FW_IPFW_RULES_EXHAUSTED and logged", async () => {
    const tool = standin();
    const log = recorder();
    const b = ipfwBackend(tool, { startRuleNum: 500, maxRules: 2 }, log);
    await b.init({ flush: true });
    const ledger = new GrantLedger(b, { log, retryMs: 60_000 });
    try {
      await ledger.grant([access("198.18.0.2", 22, nowSec() + 60)]);
      await ledger.grant([access("198.18.0.3", 22, nowSec() + 60)]);
      await assert.rejects(
        ledger.grant([access("198.18.0.4", 22, nowSec() + 60)]),
        (e: unknown) => e instanceof FwknopError && e.code === "FWK_ERR_FW_IPFW_RULES_EXHAUSTED",
      );
      assert.ok(
        log.lines.some((l) =>
          /^error: Firewall update for 1 rule\(s\) failed: no free ipfw rule number in 500-501 \(IPFW_MAX_RULES 2 reached\); access not granted$/.test(
            l,
          ),
        ),
        log.lines.join("\n"),
      );
      const state = tool.read<IpfwState>();
      assert.deepEqual(state.rules.map((r) => r.num).sort(), [500, 501]);
      assert.ok(
        !state.rules.some((r) => r.body.includes("198.18.0.4")),
        "nothing added for the refused grant",
      );
    } finally {
      await ledger.stop();
    }
  });

  test("expired rules wait in the disabled expire set while they have dynamic state; the purge deletes them and frees the number", async () => {
    const tool = standin();
    const b = ipfwBackend(tool, { startRuleNum: 700, maxRules: 1 });
    await b.init({ flush: true });
    const ledger = new GrantLedger(b, { log: recorder() });
    try {
      const r = access("198.18.0.2", 22, nowSec() + 3);
      await ledger.grant([r]);
      await run([tool.exe, "_dyn", "700"]); // a connection made while the rule was live
      // Wait for the ledger's removal batch (a move to the expire set) after the expiry.
      const moved = () => tool.read<IpfwState>().rules.some((x) => x.num === 700 && x.set === 2);
      await waitUntil("the move to the expire set", moved);
      assert.ok(Date.now() >= r.expiresAt * 1000, "moved before its expiry");
      let state = tool.read<IpfwState>();
      assert.deepEqual(
        state.rules.map((x) => [x.num, x.set]),
        [[700, 2]],
        "moved to the expire set",
      );
      assert.deepEqual(state.disabled, [2]);
      assert.deepEqual(await b.purgeExpired(), [], "kept while its connection lives");
      // The only number is still taken: a new grant is refused until the purge.
      await assert.rejects(
        ledger.grant([access("198.18.0.3", 22, nowSec() + 60)]),
        /IPFW_MAX_RULES 1 reached/,
      );
      await run([tool.exe, "_undyn", "700"]);
      assert.deepEqual(await b.purgeExpired(), [700]);
      state = tool.read<IpfwState>();
      assert.deepEqual(state.rules, []);
      assert.ok(tool.calls().includes("set 2 delete 700"));
      await ledger.grant([access("198.18.0.5", 22, nowSec() + 60)]);
      assert.deepEqual(
        tool.read<IpfwState>().rules.map((x) => [x.num, x.set]),
        [[700, 1]],
        "number reused",
      );
    } finally {
      await ledger.stop();
      await b.flush();
    }
  });
});

describe("pf against the stand-in", () => {
  test("init refuses an anchor the main ruleset does not load (FWK_ERR_FW_PF_ANCHOR)", async () => {
    const tool = createStandin("pfctl", { linked: ["other"], anchors: {} });
    try {
      const b = createFirewallBackend(
        "pf",
        { ...defaultFirewallSettings(), exe: tool.exe, pf: { ...DEFAULT_PF_SETTINGS } },
        { log: recorder() },
      );
      await assert.rejects(
        b.init({ flush: true }),
        (e: unknown) => e instanceof FwknopError && e.code === "FWK_ERR_FW_PF_ANCHOR",
      );
      assert.deepEqual(tool.calls(), ["-s Anchor"]);
    } finally {
      tool.cleanup();
    }
  });

  test("a grant and its removal: list the anchor, load it whole; other lines in the anchor stay", async () => {
    const tool = createPfctl();
    try {
      const b = createFirewallBackend(
        "pf",
        { ...defaultFirewallSettings(), exe: tool.exe, pf: { ...DEFAULT_PF_SETTINGS } },
        { log: recorder() },
      );
      await b.init({ flush: true });
      const exp = nowSec() + 30;
      await run([tool.exe, "-a", "fwknop", "-f", "-"], {
        input: "pass in quick proto tcp from 192.0.2.9 to any port 80 keep state label keep-me\n",
      });
      await b.apply([access("198.18.0.2", 22, exp)], []);
      const anchor = () => tool.read<{ anchors: Record<string, string[]> }>().anchors.fwknop;
      assert.deepEqual(anchor(), [
        'pass in quick proto tcp from 192.0.2.9 to any port = 80 flags S/SA keep state label "keep-me"',
        `pass in quick proto tcp from 198.18.0.2 to any port = 22 flags S/SA keep state label "_exp_${exp}"`,
      ]);
      await b.apply([], [access("198.18.0.2", 22, exp)]);
      assert.equal(anchor()?.length, 1);
      assert.deepEqual(tool.calls(), [
        "-s Anchor",
        "-a fwknop -F all",
        "-a fwknop -f -",
        "-a fwknop -s rules",
        "-a fwknop -f -",
        "-a fwknop -s rules",
        "-a fwknop -f -",
      ]);
    } finally {
      tool.cleanup();
    }
  });
});

describe("our fwknopd with FIREWALL_TYPE pf / ipfw (stand-ins), knocked by the C client", () => {
  let pair: NetnsPair;
  const keys = randomKeys();
  before(async () => {
    if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns)");
    if (!existsSync(C_FWKNOP)) assert.fail(`the C client ${C_FWKNOP} is missing`);
    pair = await createNetnsPair("bsd");
  });
  after(() => pair?.cleanup());

  for (const type of ["ipfw", "pf"] as const) {
    test(`${type}: a knock opens, the expiry closes, --fw-list shows the rule, exit flushes`, async () => {
      const tool = type === "pf" ? createPfctl() : createStandin("ipfw");
      const cfg = writeConfigDir(
        {
          FIREWALL_TYPE: type,
          FIREWALL_EXE: tool.exe,
          ...(type === "ipfw" ? { IPFW_MAX_RULES: "1" } : {}),
        },
        accessStanza(keys, { FW_ACCESS_TIMEOUT: "3" }),
      );
      const daemon = await startDaemon(cfg, { netns: pair.server });
      const chain = type === "pf" ? "fwknop" : "set 1";
      try {
        await knock(pair, keys, { port: 2222 });
        const added = await daemon.waitForLog(/Added access rule to /, 15_000);
        assert.match(
          added,
          new RegExp(
            `Added access rule to ${chain} for 198\\.18\\.0\\.2 -> 0\\.0\\.0\\.0/0 tcp/2222, expires at \\d+`,
          ),
        );
        const exp = Number(/expires at (\d+)/.exec(added)?.[1]);
        const listed = await run([OUR_FWKNOPD, "-c", cfg.confFile, "--fw-list"]);
        assert.match(
          listed.stdout,
          type === "pf"
            ? /^Listing rules in fwknopd pf anchor\.\.\./
            : /^Listing fwknopd ipfw rules\.\.\./,
        );
        assert.ok(listed.stdout.includes(`_exp_${exp}`), listed.stdout);
        if (type === "ipfw") {
          // IPFW_MAX_RULES 1: a second knock while the first rule lives finds no number.
          const since = daemon.output().length;
          await knock(pair, keys, { port: 2223 });
          await daemon.waitForLog(
            /no free ipfw rule number in 10000-10000 \(IPFW_MAX_RULES 1 reached\)/,
            15_000,
            since,
          );
        }
        await daemon.waitForLog(
          new RegExp(`Removed rule from ${chain} with expire time of ${exp}`),
          15_000,
        );
        await daemon.stop();
        // FLUSH_*_AT_EXIT Y (default): nothing of ours is left.
        const calls = tool.calls();
        assert.equal(calls.at(-1), type === "pf" ? "-a fwknop -F all" : "delete set 2");
      } finally {
        await daemon.stop();
        tool.cleanup();
      }
    });
  }
});
