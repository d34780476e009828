/** GPG signature policy (spec §6): verification at decrypt time, signer lists after it. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { GpgSignature } from "../../src/crypto/gpg.js";
import {
  checkGpgSigner,
  type GpgSigSettings,
  gpgSigner,
  verifyGpgSignatures,
} from "../../src/server/gpg-policy.js";

const FPR = "F588467751A2D87FE55160EFFCDC37A96F2A7CF7";
const good: GpgSignature = { fingerprint: FPR, keyId: FPR.slice(-16), valid: true, status: "good" };
const required: GpgSigSettings = { gpgRequireSig: true, gpgIgnoreSigVerifyError: false };

function code(r: { ok: boolean; code?: string }): string {
  return r.ok ? "ok" : (r.code as string);
}

test("required signatures: the first must be good and valid", () => {
  assert.equal(code(verifyGpgSignatures([good], required)), "ok");
  assert.equal(code(verifyGpgSignatures([], required)), "FKO_ERROR_GPGME_NO_SIGNATURE");
  for (const status of ["bad", "expired", "revoked", "missing-key", "error"] as const) {
    const r = verifyGpgSignatures([{ ...good, status }], required);
    assert.equal(code(r), "FKO_ERROR_GPGME_BAD_SIGNATURE", status);
  }
  const untrusted = verifyGpgSignatures([{ ...good, valid: false }], required);
  assert.equal(code(untrusted), "FKO_ERROR_GPGME_BAD_SIGNATURE");
  // Only the first signature counts, as in libfko.
  assert.equal(
    code(verifyGpgSignatures([{ ...good, status: "bad" }, good], required)),
    "FKO_ERROR_GPGME_BAD_SIGNATURE",
  );
});

test("GPG_IGNORE_SIG_VERIFY_ERROR and signatures not required skip verification", () => {
  const bad = [{ ...good, status: "missing-key" as const, valid: false }];
  assert.equal(
    code(verifyGpgSignatures(bad, { ...required, gpgIgnoreSigVerifyError: true })),
    "ok",
  );
  assert.equal(code(verifyGpgSignatures([], { ...required, gpgRequireSig: false })), "ok");
});

test("the signer is the first signature's fingerprint and its last 8 characters", () => {
  assert.deepEqual(gpgSigner([good, { ...good, fingerprint: "X" }]), {
    ok: true,
    value: { id: "6F2A7CF7", fingerprint: FPR },
  });
  assert.equal(code(gpgSigner([])), "FKO_ERROR_GPGME_NO_SIGNATURE");
});

test("GPG_FINGERPRINT_ID and GPG_REMOTE_ID must both match when present (exact case)", () => {
  const signer = { id: "6F2A7CF7", fingerprint: FPR };
  const cases: [Partial<GpgSigSettings>, string][] = [
    [{}, "ok"],
    [{ gpgRemoteIds: ["12345678", "6F2A7CF7"] }, "ok"],
    [{ gpgRemoteIds: ["6f2a7cf7"] }, "FWK_ERR_SPA_GPG_SIGNER_DENIED"],
    [{ gpgFingerprintIds: [FPR] }, "ok"],
    [{ gpgFingerprintIds: [FPR.toLowerCase()] }, "FWK_ERR_SPA_GPG_SIGNER_DENIED"],
    [{ gpgFingerprintIds: [FPR], gpgRemoteIds: ["6F2A7CF7"] }, "ok"],
    [{ gpgFingerprintIds: [FPR], gpgRemoteIds: ["00000000"] }, "FWK_ERR_SPA_GPG_SIGNER_DENIED"],
  ];
  for (const [lists, expected] of cases) {
    assert.equal(
      code(checkGpgSigner(signer, { ...required, ...lists })),
      expected,
      JSON.stringify(lists),
    );
  }
  const r = checkGpgSigner(signer, { ...required, gpgRemoteIds: ["00000000"] });
  assert.ok(!r.ok);
  assert.equal(
    r.detail,
    "Incoming SPA packet signed by ID: 6F2A7CF7, but that ID is not in the GPG_REMOTE_ID list.",
  );
});
