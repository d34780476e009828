/**
 * The benchmark's junk shapes must be what bench/lib/junk-shapes.ts says they are, or the
 * "worst case" rows measure something milder: each shape goes through the real pipeline and must
 * be refused at the step its documentation names.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { JUNK_SHAPES, junkPool, junkShape } from "../../bench/lib/junk-shapes.js";
import type { Candidate } from "../../src/server/intake/intake.js";
import { processCandidate } from "../../src/server/pipeline.js";
import { defaultPipelineContext } from "../helpers/pipeline-context.js";
import { makeStanza } from "../helpers/stanza.js";

const ctx = defaultPipelineContext({
  stanzas: [makeStanza({ key: randomBytes(32), hmacKey: randomBytes(64), hmacType: "sha256" })],
  now: () => 1_700_000_000,
});

function candidate(payload: Buffer): Candidate {
  return {
    payload,
    srcIp: "198.18.0.2",
    srcPort: 40000,
    dstIp: "0.0.0.0",
    dstPort: 62201,
    proto: 17,
    receivedAt: 0,
  };
}

const EXPECTED: Record<string, string> = {
  "rijndael-hmac": "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
  "random-b64": "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
  "gpg-sized": "FWK_ERR_SPA_NO_DECRYPT_MODE",
  binary: "SPA_MSG_NOT_SPA_DATA",
};

test("every junk shape is refused at the step its documentation names", async () => {
  assert.deepEqual(
    JUNK_SHAPES.map((s) => s.name),
    Object.keys(EXPECTED),
  );
  for (const shape of JUNK_SHAPES) {
    for (const payload of junkPool(shape, 50)) {
      const d = await processCandidate(candidate(payload), ctx);
      assert.equal(d.ok, false);
      assert.equal(d.ok ? "" : d.code, EXPECTED[shape.name], `${shape.name}: ${payload}`);
    }
  }
});

test("the worst case is the longest text that still costs an HMAC: one more character does not", async () => {
  const worst = junkPool(junkShape("rijndael-hmac"), 20);
  for (const payload of worst) {
    assert.equal(payload.length, 399);
    const longer = Buffer.concat([payload, Buffer.from("A")]);
    const d = await processCandidate(candidate(longer), ctx);
    assert.equal(d.ok ? "" : d.code, "FWK_ERR_SPA_NO_DECRYPT_MODE");
  }
});
