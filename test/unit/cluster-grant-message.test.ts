import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { test } from "node:test";
import {
  type ClusterGrant,
  encodeGrant,
  grantRequest,
  openGrant,
  signGrant,
} from "../../src/cluster/grant-message.js";
import { rulesForGrant } from "../../src/firewall/rules.js";
import { defaultFirewallSettings } from "../../src/firewall/settings.js";

const KEY = randomBytes(32);

const GRANT: ClusterGrant = {
  origin: "gw-a/123/abcdef",
  clientIp: "198.18.10.10",
  packetDstIp: "198.18.10.1",
  ports: [
    { proto: "tcp", port: 22 },
    { proto: "udp", port: 53 },
  ],
  messageType: 2,
  nat: { ip: "192.0.2.20", port: 2222 },
  stanza: { forceSnat: "192.0.2.1", forceMasquerade: true, disableDnat: false, forwardAll: true },
  timeout: 30,
  expiresAt: 1_700_000_030,
};

test("a signed grant opens to the same grant; the encoding is canonical", () => {
  const signed = signGrant(GRANT, KEY, "edge");
  assert.equal(signed.body, encodeGrant(structuredClone(GRANT)));
  assert.deepEqual(openGrant(signed, KEY, "edge"), { ok: true, value: GRANT });
  const plain: ClusterGrant = {
    ...GRANT,
    messageType: 1,
    stanza: { forceMasquerade: false, disableDnat: false, forwardAll: false },
  };
  delete plain.nat;
  assert.deepEqual(openGrant(signGrant(plain, KEY, "edge"), KEY, "edge"), {
    ok: true,
    value: plain,
  });
});

test("wrong key, other cluster, missing or altered signature: FWK_ERR_CLUSTER_FORGED", () => {
  const signed = signGrant(GRANT, KEY, "edge");
  const tampered = signed.body.replace("198.18.10.10", "198.18.10.66");
  for (const [msg, key, cluster] of [
    [signed, randomBytes(32), "edge"],
    [signed, KEY, "other"],
    [{ body: signed.body, sig: undefined }, KEY, "edge"],
    [{ body: tampered, sig: signed.sig }, KEY, "edge"],
    [{ body: signed.body, sig: "" }, KEY, "edge"],
  ] as const) {
    const r = openGrant(msg, key, cluster);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, "FWK_ERR_CLUSTER_FORGED");
  }
});

test("correctly signed nonsense is FWK_ERR_CLUSTER_MESSAGE, never a grant", () => {
  // A valid layout, then one field at a time made wrong (index → value).
  const valid = [1, "o", "198.18.10.10", "198.18.10.1", "tcp/22", 1, "", 0, "", "", 0, "", 30, 1];
  const wrong = (i: number, v: unknown) => JSON.stringify(valid.map((x, j) => (j === i ? v : x)));
  const bodies = [
    "not json",
    "[]",
    wrong(0, 2), // version
    wrong(2, "not-an-ip"),
    wrong(4, "tcp/0"),
    wrong(4, "icmp/1"),
    wrong(5, 9), // message type
    wrong(11, "X"), // flags
    wrong(12, 0), // timeout
  ];
  for (const body of bodies) {
    const r = openGrant(signedText(body), KEY, "edge");
    assert.equal(r.ok, false, body);
    assert.equal(!r.ok && r.code, "FWK_ERR_CLUSTER_MESSAGE", body);
  }
});

/** Arbitrary text with a valid MAC (computed as the module documents it), for cluster "edge". */
function signedText(body: string): { body: string; sig: string } {
  const sig = createHmac("sha256", KEY)
    .update(`fwknop-ts cluster grant v1\nedge\n${body}`)
    .digest("base64");
  return { body, sig };
}

test("a received grant builds rules that expire at its absolute expiry", () => {
  const settings = defaultFirewallSettings();
  const g: ClusterGrant = {
    ...GRANT,
    messageType: 1,
    stanza: { forceMasquerade: false, disableDnat: false, forwardAll: false },
  };
  delete g.nat;
  const rules = rulesForGrant(grantRequest(g), settings, g.expiresAt - g.timeout);
  assert.equal(rules.length, 2);
  for (const r of rules) {
    assert.equal(r.expiresAt, g.expiresAt);
    assert.equal(r.src, "198.18.10.10");
  }
});
