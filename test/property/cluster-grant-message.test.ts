/**
 * Properties of the fan-out message: any grant signs and opens back to itself, and any change
 * to the stored body or signature, or another key or cluster name, makes it a forgery.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type ClusterGrant, openGrant, signGrant } from "../../src/cluster/grant-message.js";

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((t) => t.join("."));
const ipv6 = fc.ipV6();
const port = fc.integer({ min: 1, max: 65535 });

/** fast-check's optional fields come as undefined; JSON drops them, as the wire form does. */
function clean<T>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

const grant: fc.Arbitrary<ClusterGrant> = fc
  .record({
    origin: fc.string({ maxLength: 80 }),
    clientIp: fc.oneof(ipv4, ipv6),
    packetDstIp: fc.oneof(ipv4, ipv6),
    ports: fc.array(fc.record({ proto: fc.constantFrom("tcp" as const, "udp" as const), port }), {
      minLength: 1,
      maxLength: 5,
    }),
    messageType: fc.constantFrom(0, 1, 2, 3, 4, 5, 6) as fc.Arbitrary<ClusterGrant["messageType"]>,
    nat: fc.option(fc.record({ ip: ipv4, port }), { nil: undefined }),
    stanza: fc.record({
      forceSnat: fc.option(ipv4, { nil: undefined }),
      forceNat: fc.option(fc.record({ ip: ipv4, port }), { nil: undefined }),
      forceMasquerade: fc.boolean(),
      disableDnat: fc.boolean(),
      forwardAll: fc.boolean(),
    }),
    timeout: fc.integer({ min: 1, max: 2 ** 31 }),
    expiresAt: fc.integer({ min: 0, max: 2 ** 42 }),
  })
  .map((g) => clean(g) as ClusterGrant);
const key = fc.uint8Array({ minLength: 32, maxLength: 64 }).map((b) => Buffer.from(b));
const name = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/);

test("sign → open round trip for arbitrary grants", () => {
  fc.assert(
    fc.property(grant, key, name, (g, k, n) => {
      const opened = openGrant(signGrant(g, k, n), k, n);
      assert.ok(opened.ok, opened.ok ? "" : opened.detail);
      assert.deepEqual(opened.value, g);
    }),
    { numRuns: 2000 },
  );
});

test("any altered byte, other key or other cluster name is a forgery", () => {
  fc.assert(
    fc.property(grant, key, key, name, name, fc.nat(), fc.nat(255), (g, k, k2, n, n2, at, byte) => {
      const signed = signGrant(g, k, n);
      const i = at % signed.body.length;
      const altered =
        signed.body.slice(0, i) + String.fromCharCode(byte) + signed.body.slice(i + 1);
      const forged = (m: { body: string; sig: string }, kk: Buffer, nn: string) => {
        const r = openGrant(m, kk, nn);
        return !r.ok && r.code === "FWK_ERR_CLUSTER_FORGED";
      };
      if (altered !== signed.body) assert.ok(forged({ body: altered, sig: signed.sig }, k, n));
      if (!k2.equals(k)) assert.ok(forged(signed, k2, n));
      if (n2 !== n) assert.ok(forged(signed, k, n2));
      const sig = Buffer.from(signed.sig, "base64");
      const j = at % sig.length;
      sig.writeUInt8((sig.readUInt8(j) ^ (1 + (byte % 255))) & 0xff, j);
      assert.ok(forged({ body: signed.body, sig: sig.toString("base64") }, k, n));
    }),
    { numRuns: 2000 },
  );
});
