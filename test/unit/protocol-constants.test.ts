import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DIGEST_DISPLAY_NAMES,
  DIGEST_IDS,
  ENCRYPTION_MODE_IDS,
  MESSAGE_TYPE_NAMES,
  parseDigestName,
  parseEncryptionMode,
} from "../../src/protocol/constants.js";

test("digest names parse case-insensitively, as fwknop compares them", () => {
  assert.equal(parseDigestName("SHA256"), "sha256");
  assert.equal(parseDigestName("sha3_512"), "sha3_512");
  assert.equal(parseDigestName("Md5"), "md5");
  for (const bad of ["sha3-256", "sha224", "", "sha256 "])
    assert.equal(parseDigestName(bad), undefined);
});

test("encryption modes parse case-insensitively; PCBC is refused", () => {
  assert.equal(parseEncryptionMode("cbc"), "CBC");
  assert.equal(parseEncryptionMode("LEGACY"), "legacy");
  assert.equal(parseEncryptionMode("asymmetric"), "Asymmetric");
  assert.equal(parseEncryptionMode("Ctr"), "CTR");
  assert.equal(parseEncryptionMode("pcbc"), undefined);
  assert.equal(parseEncryptionMode("gcm"), undefined);
});

test("upstream ids and display names", () => {
  assert.equal(DIGEST_IDS.sha256, 3);
  assert.equal(DIGEST_DISPLAY_NAMES.sha3_256, "SHA3_256");
  assert.equal(ENCRYPTION_MODE_IDS.CBC, 2);
  assert.equal(ENCRYPTION_MODE_IDS.legacy, 8);
  assert.equal(MESSAGE_TYPE_NAMES[1], "Access msg");
  assert.equal(MESSAGE_TYPE_NAMES[6], "Client timeout local NAT access msg");
});
