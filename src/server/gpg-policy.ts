/**
 * Signature policy for GPG packets (spec §6, §8 steps 10 and 12). Pure: takes the signatures
 * gpg reported and the stanza's GPG_* settings.
 *
 * Upstream splits it in two, and so do we: libfko's decryption itself fails on a missing or bad
 * signature (step 10, before the replay digest is recorded), while fwknopd compares the signer
 * with GPG_FINGERPRINT_ID / GPG_REMOTE_ID only after recording it (step 12).
 */
import type { AccessStanza } from "../config/access-stanza.js";
import type { GpgSignature } from "../crypto/gpg.js";
import { ok, type Result, reject } from "../errors.js";

export type GpgSigSettings = Pick<
  AccessStanza,
  "gpgRequireSig" | "gpgIgnoreSigVerifyError" | "gpgRemoteIds" | "gpgFingerprintIds"
>;

export interface GpgSigner {
  /** Last 8 characters of the fingerprint: what GPG_REMOTE_ID lists. */
  id: string;
  fingerprint: string;
}

/**
 * Step 10: with signatures required and errors not ignored, the first signature must be good
 * and made by a key of at least marginal validity. (The loader already turned GPG_REQUIRE_SIG
 * on unless GPG_DISABLE_SIG is set.)
 */
export function verifyGpgSignatures(
  sigs: readonly GpgSignature[],
  s: GpgSigSettings,
): Result<void> {
  if (!s.gpgRequireSig || s.gpgIgnoreSigVerifyError) return ok(undefined);
  const first = sigs[0];
  if (!first) return reject("FKO_ERROR_GPGME_NO_SIGNATURE", "the GPG packet is not signed");
  if (first.status !== "good") {
    return reject(
      "FKO_ERROR_GPGME_BAD_SIGNATURE",
      `Bad GPG signature: ${first.status} signature from key ${first.keyId}`,
    );
  }
  if (!first.valid) {
    return reject(
      "FKO_ERROR_GPGME_BAD_SIGNATURE",
      `Bad GPG signature: key ${first.fingerprint} is not valid (owner trust below marginal)`,
    );
  }
  return ok(undefined);
}

/** The signer upstream reports: the first signature's fingerprint and its last 8 characters. */
export function gpgSigner(sigs: readonly GpgSignature[]): Result<GpgSigner> {
  const first = sigs[0];
  if (!first) return reject("FKO_ERROR_GPGME_NO_SIGNATURE", "the GPG packet is not signed");
  return ok({ id: first.fingerprint.slice(-8), fingerprint: first.fingerprint });
}

/** Step 12: each list, when configured, must contain the signer (exact, case-sensitive). */
export function checkGpgSigner(signer: GpgSigner, s: GpgSigSettings): Result<GpgSigner> {
  if (s.gpgFingerprintIds && !s.gpgFingerprintIds.includes(signer.fingerprint)) {
    return reject(
      "FWK_ERR_SPA_GPG_SIGNER_DENIED",
      `Incoming SPA packet signed by: ${signer.fingerprint}, but that fingerprint is not in the GPG_FINGERPRINT_ID list.`,
    );
  }
  if (s.gpgRemoteIds && !s.gpgRemoteIds.includes(signer.id)) {
    return reject(
      "FWK_ERR_SPA_GPG_SIGNER_DENIED",
      `Incoming SPA packet signed by ID: ${signer.id}, but that ID is not in the GPG_REMOTE_ID list.`,
    );
  }
  return ok(signer);
}
