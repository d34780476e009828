/**
 * One candidate packet's road through the server (spec §8): precheck → source pre-match →
 * replay check → per stanza: destination, expiry, HMAC/decrypt/decode → record digest → policy.
 * (The replay check moves behind the HMAC when every candidate stanza has one: see below.)
 * Returns one Decision; it never throws on hostile input and never touches the firewall.
 */

import type { SharedReplay } from "../cluster/shared-replay.js";
import type { AccessStanza } from "../config/access-stanza.js";
import { b64Decode } from "../crypto/base64.js";
import { DEFAULT_GPG_EXE, type GpgSignature, gpgDecrypt } from "../crypto/gpg.js";
import { type ErrorCode, ok, type Result, reject } from "../errors.js";
import { escapeLogText } from "../log/escape.js";
import { replayDigests } from "../protocol/canonical-wire.js";
import { B64_GPG_PREFIX } from "../protocol/constants.js";
import {
  classifyEncryption,
  type DecodedSpa,
  decodePlaintext,
  decodeSpa,
  verifySpaHmac,
} from "../protocol/spa.js";
import { checkGpgSigner, gpgSigner, verifyGpgSignatures } from "./gpg-policy.js";
import type { Candidate } from "./intake/intake.js";
import { decodeDump } from "./packet-dump.js";
import { decidePolicy, type Grant, type PolicySettings } from "./policy.js";
import { type PrecheckOptions, precheck } from "./precheck.js";
import {
  type ReplayCache,
  type ReplayEntry,
  replayDetectedMessage,
} from "./replay/replay-cache.js";

export interface PipelineContext {
  stanzas: readonly AccessStanza[];
  replay: ReplayCache | undefined;
  /** The cluster-wide replay check (REPLAY_CACHE_URL); asked only once a packet authenticated. */
  shared?: SharedReplay | undefined;
  precheck: PrecheckOptions;
  policy: PolicySettings;
  /** Unix seconds. */
  now: () => number;
  /** Informational lines the pipeline itself logs (the GPG signer of a packet). */
  info?: (line: string) => void;
  /** 2.6.10's -v lines: the packet data tried under a stanza, and its decoded fields. */
  debug?: (line: string) => void;
}

/** Why one stanza did not grant: kept so the final verdict names the most telling reason. */
export interface StanzaOutcome {
  stanza: number;
  code: ErrorCode;
  detail: string;
}

export type Decision =
  | {
      ok: true;
      grant: Grant;
      message: DecodedSpa;
      /** How the granting stanza decrypted the packet. */
      encryption: "rijndael" | "gpg";
      wire: string;
      outcomes: StanzaOutcome[];
    }
  | {
      ok: false;
      code: ErrorCode;
      detail: string;
      /** True once a stanza's keys authenticated the packet (the digest was then recorded). */
      authenticated: boolean;
      message?: DecodedSpa;
      outcomes: StanzaOutcome[];
    };

/**
 * Synchronous for every packet no step has to wait for — all junk and every refusal before a
 * stanza authenticated the packet — so the flood a daemon must absorb costs no promise per
 * packet; a promise once a replay lookup, a digest claim or gpg is involved.
 */
export function processCandidate(c: Candidate, ctx: PipelineContext): Decision | Promise<Decision> {
  const pre = precheck(c.payload, ctx.precheck);
  if (!pre.ok)
    return { ok: false, code: pre.code, detail: pre.detail, authenticated: false, outcomes: [] };
  const { wire, forwardedFor } = pre.value;

  if (!ctx.stanzas.some((s) => s.source.matches(c.srcIp))) {
    return {
      ok: false,
      code: "FWK_ERR_SPA_NO_SOURCE_MATCH",
      detail: `No access data found for source IP: ${c.srcIp}`,
      authenticated: false,
      outcomes: [],
    };
  }

  const encClass = classifyEncryption(wire);
  const walk: Walk = {
    c,
    wire,
    forwardedFor,
    ctx,
    encClass,
    now: ctx.now(),
    outcomes: [],
    replayChecked: false,
    recorded: false,
    claimed: false,
  };
  // The replay check needs the packet's digests (a hash of the whole text). 2.6.10 looks them
  // up before any crypto. When every stanza that could take this packet verifies an HMAC first
  // and none would hand it to gpg, a replay is found just as surely once the HMAC verified, and
  // junk — which fails the HMAC — never pays for the digests (issue 15). Otherwise (no HMAC, or
  // a gpg run at stake) the lookup stays in front, so a replay costs no decryption.
  const { replay } = ctx;
  if (replay && needsEarlyReplayCheck(c, encClass, ctx.stanzas)) {
    walk.replayChecked = true;
    return lookupAny(replay, replayDigests(wire)).then((seen) =>
      seen ? replayed(c, seen) : walkStanzas(walk, 0),
    );
  }
  return walkStanzas(walk, 0);
}

/** True when a stanza could decrypt the packet without an HMAC, or run gpg on it. */
export function needsEarlyReplayCheck(
  c: Candidate,
  encClass: ReturnType<typeof classifyEncryption>,
  stanzas: readonly AccessStanza[],
): boolean {
  const gpgSized = encClass === "gpg";
  return stanzas.some(
    (s) =>
      s.source.matches(c.srcIp) &&
      (!s.hmacKey || (gpgSized && (s.gpgDecryptPw !== undefined || s.gpgAllowNoPw))),
  );
}

/** A packet is a replay when either of its two digests (exact, canonical) is known. */
async function lookupAny(
  replay: ReplayCache,
  digests: { exact: string; canonical: string },
): Promise<ReplayEntry | undefined> {
  for (const d of new Set([digests.exact, digests.canonical])) {
    const seen = await replay.lookup(d);
    if (seen) return seen;
  }
  return undefined;
}

/** One packet's walk over the stanzas: what each refused, and what was done once. */
interface Walk {
  c: Candidate;
  wire: string;
  forwardedFor: string | undefined;
  ctx: PipelineContext;
  encClass: ReturnType<typeof classifyEncryption>;
  now: number;
  outcomes: StanzaOutcome[];
  /** Set by the first stanza that authenticated the packet. */
  message?: DecodedSpa;
  /** The exact and canonical digests, computed once a stanza authenticated the packet. */
  digests?: { exact: string; canonical: string };
  replayChecked: boolean;
  recorded: boolean;
  claimed: boolean;
}

/** A stanza's answer: the final Decision, try the next stanza, or stop trying (final refusal). */
type Step = Decision | "next" | "stop";

/** Stanzas from `from` on, synchronously until a stanza's step has to wait. */
function walkStanzas(w: Walk, from: number): Decision | Promise<Decision> {
  const { stanzas } = w.ctx;
  for (let i = from; i < stanzas.length; i++) {
    const step = tryStanza(w, stanzas[i] as AccessStanza);
    if (step instanceof Promise) {
      return step.then((s) =>
        s === "next" ? walkStanzas(w, i + 1) : s === "stop" ? refusal(w) : s,
      );
    }
    if (step === "stop") break;
    if (step !== "next") return step;
  }
  return refusal(w);
}

function miss(w: Walk, stanza: AccessStanza, code: ErrorCode, detail: string): "next" {
  w.outcomes.push({ stanza: stanza.index, code, detail });
  return "next";
}

/** Source, destination and expiry, then the keys: everything up to authentication is synchronous. */
function tryStanza(w: Walk, stanza: AccessStanza): Step | Promise<Step> {
  const { c, ctx, wire, encClass } = w;
  if (!stanza.source.matches(c.srcIp)) return "next";
  if (stanza.destination && !stanza.destination.matches(c.dstIp)) {
    return miss(
      w,
      stanza,
      "FWK_ERR_SPA_DEST_MISMATCH",
      `SPA packet (${c.srcIp} -> ${c.dstIp}) filtered by SOURCE and/or DESTINATION criteria (destination not in DESTINATION)`,
    );
  }
  if (stanza.accessExpire !== undefined && w.now > stanza.accessExpire) {
    return miss(
      w,
      stanza,
      "FWK_ERR_SPA_STANZA_EXPIRED",
      `Access stanza has expired (stanza #${stanza.index})`,
    );
  }

  ctx.debug?.(`SPA Packet: '${wire}'`);
  const decoded = decryptRijndael(wire, encClass, stanza);
  const gpgStanza = stanza.gpgDecryptPw !== undefined || stanza.gpgAllowNoPw;
  // Step 10: GPG when Rijndael did not succeed.
  if (!decoded?.ok && gpgStanza && encClass === "gpg") {
    return decodeGpgSpa(wire, stanza).then((d) => afterDecrypt(w, stanza, d));
  }
  return afterDecrypt(w, stanza, decoded);
}

function afterDecrypt(
  w: Walk,
  stanza: AccessStanza,
  decoded: Result<Decrypted> | undefined,
): Step | Promise<Step> {
  if (!decoded) {
    return miss(
      w,
      stanza,
      "FWK_ERR_SPA_NO_DECRYPT_MODE",
      `No stanza encryption mode match for encryption type: ${w.encClass}`,
    );
  }
  if (!decoded.ok) return miss(w, stanza, decoded.code, decoded.detail);
  return authenticated(w, stanza, decoded.value);
}

/** The stanza's keys authenticated the packet: replay check and claim, signer, policy. */
async function authenticated(w: Walk, stanza: AccessStanza, decrypted: Decrypted): Promise<Step> {
  const { c, ctx, wire, now } = w;
  // The replay check 2.6.10 makes before any crypto, if it was left to now.
  w.digests ??= replayDigests(wire);
  if (ctx.replay && !w.replayChecked) {
    w.replayChecked = true;
    const seen = await lookupAny(ctx.replay, w.digests);
    if (seen) return replayed(c, seen);
  }
  const message = decrypted.message;
  w.message = message;
  const encryption = decrypted.signatures ? "gpg" : "rijndael";
  ctx.debug?.(decodeDump(c.srcIp, stanza, message, encryption, wire));

  // Upstream records the digest as soon as a packet authenticates, before the age, user and
  // port checks: an authentic packet that is refused cannot be retried by an eavesdropper.
  // The claim is atomic: of two copies in flight, the one that claims second is the replay.
  // Without an HMAC every encoding variant decrypts alike: remember the canonical form.
  const digest = stanza.hmacKey ? w.digests.exact : w.digests.canonical;
  if (ctx.replay && !w.recorded && !ctx.policy.testMode) {
    w.recorded = true;
    const first = await ctx.replay.claim(entryFor(c, digest, now));
    if (first) return replayed(c, first);
  }
  // One atomic claim in the shared store decides which gateway of a cluster owns the packet.
  if (ctx.shared && !w.claimed && !ctx.policy.testMode) {
    w.claimed = true;
    const claim = await ctx.shared.claim(entryFor(c, digest, now));
    if (!claim.ok) return { ...claim, authenticated: true, message, outcomes: w.outcomes };
  }

  if (decrypted.signatures && stanza.gpgRequireSig) {
    const signer = gpgSigner(decrypted.signatures);
    if (signer.ok) {
      ctx.info?.(
        `[${c.srcIp}] (stanza #${stanza.index}) Incoming SPA data signed by '${escapeLogText(signer.value.id)}' (fingerprint '${escapeLogText(signer.value.fingerprint)}').`,
      );
    }
    const allowed = signer.ok ? checkGpgSigner(signer.value, stanza) : signer;
    if (!allowed.ok) return miss(w, stanza, allowed.code, allowed.detail);
  }

  const packet =
    w.forwardedFor === undefined
      ? { srcIp: c.srcIp, dstIp: c.dstIp }
      : { srcIp: c.srcIp, dstIp: c.dstIp, forwardedFor: w.forwardedFor };
  const verdict = decidePolicy(message, stanza, packet, ctx.policy, now);
  if (verdict.ok) {
    return { ok: true, grant: verdict.value, message, encryption, wire, outcomes: w.outcomes };
  }
  miss(w, stanza, verdict.code, verdict.detail);
  return verdict.final ? "stop" : "next";
}

/** No stanza granted: the most telling of their reasons. */
function refusal(w: Walk): Decision {
  const { message, outcomes } = w;
  const telling = mostTelling(outcomes, message !== undefined);
  const base = telling ?? reject("SPA_MSG_ACCESS_DENIED", "no access stanza accepted the packet");
  return {
    ok: false,
    code: base.code,
    detail: base.detail,
    authenticated: message !== undefined,
    ...(message ? { message } : {}),
    outcomes,
  };
}

/** What one stanza's keys made of the packet; `signatures` only for the GPG path. */
interface Decrypted {
  message: DecodedSpa;
  signatures?: readonly GpgSignature[];
}

/** Rijndael when the stanza has a key and the packet's class allows it; else undefined. */
function decryptRijndael(
  wire: string,
  encClass: ReturnType<typeof classifyEncryption>,
  stanza: AccessStanza,
): Result<Decrypted> | undefined {
  if (stanza.key === undefined || (encClass !== "rijndael" && !stanza.enableCmdExec)) return;
  const decoded = decodeSpa(wire, {
    encKey: stanza.key,
    encMode: stanza.encMode,
    ...(stanza.hmacKey ? { hmacKey: stanza.hmacKey, hmacType: stanza.hmacType } : {}),
  });
  return decoded.ok ? ok({ message: decoded.value }) : decoded;
}

/** Longest a gpg run may take: normally milliseconds, more while gpg-agent starts. */
const GPG_TIMEOUT_MS = 10_000;

/** The GPG path (§6): HMAC with `hQ`, restore `hQ`, base64, gpg, signature check, decode. */
async function decodeGpgSpa(wire: string, stanza: AccessStanza): Promise<Result<Decrypted>> {
  // The HMAC comes first so that a packet without the right MAC never costs a gpg process.
  const text = verifySpaHmac(wire, {
    encKey: Buffer.alloc(0),
    encMode: "Asymmetric",
    ...(stanza.hmacKey ? { hmacKey: stanza.hmacKey, hmacType: stanza.hmacType } : {}),
  });
  if (!text.ok) return text;
  const prefixed = text.value.startsWith(B64_GPG_PREFIX) ? text.value : B64_GPG_PREFIX + text.value;
  // libfko classifies again after the HMAC is cut off; only GPG-sized text goes to gpg.
  if (classifyEncryption(prefixed) !== "gpg") {
    return reject(
      "FKO_ERROR_INVALID_DATA_ENCRYPT_TYPE_UNKNOWN",
      `${prefixed.length}-character ciphertext is not GPG by length`,
    );
  }
  const ciphertext = b64Decode(prefixed);
  if (!ciphertext) return reject("FKO_ERROR_INVALID_DATA", "GPG ciphertext is not base64");
  const plain = await gpgDecrypt(ciphertext, {
    exe: stanza.gpgExe ?? DEFAULT_GPG_EXE,
    ...(stanza.gpgHomeDir !== undefined ? { homeDir: stanza.gpgHomeDir } : {}),
    ...(stanza.gpgDecryptId !== undefined ? { decryptId: stanza.gpgDecryptId } : {}),
    ...(stanza.gpgDecryptPw ? { passphrase: Buffer.from(stanza.gpgDecryptPw, "utf8") } : {}),
    timeoutMs: GPG_TIMEOUT_MS,
  });
  if (!plain.ok) return plain;
  const sigs = verifyGpgSignatures(plain.value.signatures, stanza);
  if (!sigs.ok) return sigs;
  const message = decodePlaintext(plain.value.plaintext);
  if (!message.ok) return message;
  return ok({ message: message.value, signatures: plain.value.signatures });
}

function replayed(c: Candidate, original: ReplayEntry): Decision {
  return {
    ok: false,
    code: "SPA_MSG_REPLAY",
    detail: replayDetectedMessage(c, original),
    authenticated: false,
    outcomes: [],
  };
}

function entryFor(c: Candidate, digest: string, time: number): ReplayEntry {
  return {
    digest,
    proto: c.proto,
    srcIp: c.srcIp,
    srcPort: c.srcPort,
    dstIp: c.dstIp,
    dstPort: c.dstPort,
    time,
  };
}

/** Codes a stanza reports before it has authenticated the packet. */
const PRE_AUTH = new Set<ErrorCode>([
  "FWK_ERR_SPA_DEST_MISMATCH",
  "FWK_ERR_SPA_STANZA_EXPIRED",
  "FWK_ERR_SPA_NO_DECRYPT_MODE",
]);

/**
 * With several stanzas, the useful reason is the one from a stanza that authenticated the
 * packet (policy refusal); else a crypto failure; else a pre-auth mismatch.
 */
function mostTelling(
  outcomes: readonly StanzaOutcome[],
  authenticated: boolean,
): StanzaOutcome | undefined {
  if (authenticated) {
    const policy = outcomes.find((o) => !PRE_AUTH.has(o.code) && !o.code.startsWith("FKO_"));
    if (policy) return policy;
  }
  return outcomes.find((o) => !PRE_AUTH.has(o.code)) ?? outcomes[0];
}
