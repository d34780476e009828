/**
 * Property: any valid message encodes and decodes back to itself, with every mode, digest and
 * HMAC type, any key length libfko allows and any salt.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { decodeSpa, effectiveMessageType, encodeSpa } from "../../src/protocol/spa.js";
import { encodeOptions, spaKeys, spaMessage } from "./codec-arbitraries.js";

const RUNS = 40_000;

test("encode → decode round trip for arbitrary valid messages", () => {
  let built = 0;
  fc.assert(
    fc.property(spaMessage, spaKeys, encodeOptions, (msg, keys, opts) => {
      const enc = encodeSpa(msg, keys, opts);
      if (!enc.ok) {
        // The only refusal for a valid message: too long for fwknopd's Rijndael length class.
        assert.equal(enc.code, "FWK_ERR_CODEC_RIJNDAEL_TOO_LONG", enc.detail);
        return;
      }
      built++;
      const dec = decodeSpa(enc.value.wire, keys);
      assert.ok(dec.ok, dec.ok ? "" : `${dec.code}: ${dec.detail}`);
      const { digestType, digest, encoded, ...fields } = dec.value;
      assert.deepEqual(fields, { ...msg, messageType: effectiveMessageType(msg) });
      assert.equal(digestType, opts.digestType);
      assert.equal(digest, enc.value.digest);
      assert.equal(encoded, enc.value.encoded);
    }),
    { numRuns: RUNS },
  );
  assert.ok(built > RUNS * 0.75, `only ${built} of ${RUNS} messages fit a Rijndael packet`);
});
