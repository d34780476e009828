/**
 * Any textual form of an allow-IP that the codec accepts (inet_aton's leading zeros and octal
 * parts, upper-case or zero-padded IPv6, `::ffff:` IPv4-mapped) is one address from the policy
 * on, and a grant for it closes at its expiry in every backend (issue 9, item 2). The backends
 * are the real ones (iptables chain, ipset, nftables) inside a throw-away namespace.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { FirewallBackend, Rule } from "../../src/firewall/backend.js";
import { DualStackIptablesBackend } from "../../src/firewall/iptables-dual-stack.js";
import { NftablesBackend } from "../../src/firewall/nftables.js";
import { rulesForGrant } from "../../src/firewall/rules.js";
import { defaultFirewallSettings } from "../../src/firewall/settings.js";
import { silentLogger } from "../../src/log/logger.js";
import { canonicalAddress } from "../../src/protocol/address-text.js";
import { decodeSpa, encodeSpa } from "../../src/protocol/spa.js";
import { GrantLedger } from "../../src/server/grants.js";
import { decidePolicy } from "../../src/server/policy.js";
import { canUseNetns, createNetnsPair, type NetnsPair } from "../helpers/netns.js";
import { nftSettings } from "../helpers/nft.js";
import { makeStanza } from "../helpers/stanza.js";

const KEYS = { encKey: randomBytes(32), encMode: "CBC" as const };
const STANZA = makeStanza({ key: KEYS.encKey });
const POLICY = {
  packetAging: true,
  maxPacketAge: 120,
  natForwarding: false,
  localNat: false,
  testMode: false,
};

/** One IPv4 octet as inet_aton may read it: decimal, or octal with any number of leading zeros. */
const octetText = (v: number) =>
  fc.oneof(
    fc.constant(String(v)),
    fc.nat(2).map((extra) => `0${"0".repeat(extra)}${v.toString(8)}`),
  );

/** [form, canonical] pairs for an IPv4 address of 198.18.200.0/24, at most 15 characters. */
const ipv4Form = fc
  .integer({ min: 1, max: 254 })
  .chain((last) =>
    fc
      .tuple(octetText(198), octetText(18), octetText(200), octetText(last))
      .map((parts) => [parts.join("."), `198.18.200.${last}`] as const),
  )
  .filter(([form]) => form.length <= 15);

/** The same address written as `::ffff:a.b.c.d` or `::FFFF:xxxx:xxxx`. */
const mappedForm = fc.tuple(fc.integer({ min: 1, max: 254 }), fc.boolean()).map(([last, hex]) => {
  const form = hex
    ? `::FFFF:C612:C8${last.toString(16).padStart(2, "0").toUpperCase()}`
    : `::ffff:198.18.200.${last}`;
  return [form, `198.18.200.${last}`] as const;
});

/** 2001:db8::c:N in upper case, zero-padded or fully expanded. */
const ipv6Form = fc
  .tuple(fc.integer({ min: 1, max: 0xfff }), fc.constantFrom("upper", "padded", "full"))
  .map(([n, style]) => {
    const h = n.toString(16);
    const form =
      style === "upper"
        ? `2001:DB8::C:${h.toUpperCase()}`
        : style === "padded"
          ? `2001:0db8::000c:${h.padStart(4, "0")}`
          : `2001:db8:0:0:0:0:c:${h}`;
    return [form, `2001:db8::c:${h}`] as const;
  });

/** Encodes, decodes and decides a knock for `form`, as the daemon would. */
function grantFor(form: string, timeout: number): Rule[] {
  const now = Math.floor(Date.now() / 1000);
  const enc = encodeSpa(
    {
      randomValue: "1234567890123456",
      username: "test",
      timestamp: now,
      version: "3.0.0",
      messageType: 1,
      message: `${form},tcp/2222`,
    },
    KEYS,
    { digestType: "sha256", salt: randomBytes(8) },
  );
  assert.ok(enc.ok, `the codec accepts ${form}`);
  const dec = decodeSpa(enc.value.wire, KEYS);
  assert.ok(dec.ok, `the decoder accepts ${form}`);
  const verdict = decidePolicy(
    dec.value,
    STANZA,
    { srcIp: "198.18.0.2", dstIp: "198.18.0.1" },
    POLICY,
    now,
  );
  assert.ok(verdict.ok && verdict.value.kind === "access", `policy grants ${form}`);
  const g = verdict.value;
  return rulesForGrant(
    {
      clientIp: g.clientIp,
      packetDstIp: "198.18.0.1",
      ports: g.ports,
      messageType: 1,
      timeout,
      stanza: { forceMasquerade: false, disableDnat: false, forwardAll: false },
    },
    defaultFirewallSettings(),
    now,
  );
}

test("property: every accepted textual form decides to the canonical address", () => {
  fc.assert(
    fc.property(fc.oneof(ipv4Form, mappedForm, ipv6Form), ([form, canonical]) => {
      assert.equal(canonicalAddress(form), canonical);
      const rules = grantFor(form, 30);
      assert.deepEqual(
        rules.map((r) => r.src),
        [canonical],
      );
    }),
    { numRuns: 300 },
  );
});

/** Polls until `done()` or the bound passes; returns whether it became true. */
async function eventually(done: () => Promise<boolean>, boundMs: number): Promise<boolean> {
  const end = Date.now() + boundMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Grant length: long enough that a loaded machine still lists the grant right after it. */
const GRANT_S = 5;

/** Seconds a closed grant may outlive its `_exp_` here: generous for a loaded machine, far below the 60 s sweep. */
const CLOSE_BOUND_S = 15;

const BACKENDS = {
  "iptables chain": (ns: string) =>
    new DualStackIptablesBackend(defaultFirewallSettings(), { log: silentLogger, netns: ns }),
  ipset: (ns: string) =>
    new DualStackIptablesBackend(
      { ...defaultFirewallSettings(), ipset: true },
      { log: silentLogger, netns: ns },
    ),
  nftables: (ns: string) => new NftablesBackend(nftSettings(), { log: silentLogger, netns: ns }),
} satisfies Record<string, (ns: string) => FirewallBackend>;

for (const [name, make] of Object.entries(BACKENDS)) {
  describe(`${name}: any accepted form of an allow-IP closes on time`, () => {
    let pair: NetnsPair;
    before(async () => {
      if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
      pair = await createNetnsPair("addrform");
    });
    after(() => pair?.cleanup());

    test("property: a short grant for the form is gone from the kernel soon after its expiry", async () => {
      const backend = make(pair.server);
      await backend.init({ flush: true });
      const ledger = new GrantLedger(backend, { log: silentLogger });
      const forms =
        name === "nftables"
          ? fc.oneof(ipv4Form, mappedForm, ipv6Form)
          : fc.oneof(ipv4Form, mappedForm);
      try {
        await fc.assert(
          fc.asyncProperty(forms, async ([form, canonical]) => {
            const rules = grantFor(form, GRANT_S);
            await ledger.grant(rules);
            const listed = async () =>
              (await backend.listInstalled()).some((r) => r.src === canonical);
            assert.ok(await listed(), `${form}: the grant is in the firewall`);
            const closed = await eventually(
              async () => !(await listed()),
              (rules[0]?.expiresAt ?? 0) * 1000 - Date.now() + CLOSE_BOUND_S * 1000,
            );
            assert.ok(
              closed,
              `${form} (${canonical}) still open ${CLOSE_BOUND_S} s after its expiry`,
            );
          }),
          { numRuns: 3 },
        );
      } finally {
        await ledger.stop();
        await backend.flush();
      }
    });
  });
}
