/**
 * One candidate packet's road through the server (spec §8): precheck → source pre-match →
 * replay check → per stanza: destination, expiry, HMAC/decrypt/decode → record digest → policy.
 * Returns one Decision; it never throws on hostile input and never touches the firewall.
 */
import type { AccessStanza } from "../config/access-config.js";
import { type ErrorCode, reject } from "../errors.js";
import { classifyEncryption, type DecodedSpa, decodeSpa, replayDigest } from "../protocol/spa.js";
import type { Candidate } from "./intake/intake.js";
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
  precheck: PrecheckOptions;
  policy: PolicySettings;
  /** Unix seconds. */
  now: () => number;
}

/** Why one stanza did not grant: kept so the final verdict names the most telling reason. */
export interface StanzaOutcome {
  stanza: number;
  code: ErrorCode;
  detail: string;
}

export type Decision =
  | { ok: true; grant: Grant; message: DecodedSpa; wire: string; outcomes: StanzaOutcome[] }
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
 * Digests of packets being processed right now: a duplicate that arrives while the first copy
 * is still between lookup and record must count as a replay too.
 */
const inFlight = new Set<string>();

export async function processCandidate(c: Candidate, ctx: PipelineContext): Promise<Decision> {
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

  const digest = ctx.replay ? replayDigest(wire) : "";
  if (ctx.replay) {
    // Claim the digest before the first await, so a concurrent copy sees it as in flight.
    if (inFlight.has(digest)) return replayed(c, entryFor(c, digest, ctx.now()));
    inFlight.add(digest);
    const seen = await ctx.replay.lookup(digest).catch((e: unknown) => {
      inFlight.delete(digest);
      throw e;
    });
    if (seen) {
      inFlight.delete(digest);
      return replayed(c, seen);
    }
  }
  try {
    return await evaluateStanzas(c, wire, forwardedFor, digest, ctx);
  } finally {
    inFlight.delete(digest);
  }
}

async function evaluateStanzas(
  c: Candidate,
  wire: string,
  forwardedFor: string | undefined,
  digest: string,
  ctx: PipelineContext,
): Promise<Decision> {
  const outcomes: StanzaOutcome[] = [];
  const encClass = classifyEncryption(wire);
  const now = ctx.now();
  let recorded = false;
  let message: DecodedSpa | undefined;

  for (const stanza of ctx.stanzas) {
    const miss = (code: ErrorCode, detail: string) =>
      outcomes.push({ stanza: stanza.index, code, detail });
    if (!stanza.source.matches(c.srcIp)) continue;
    if (stanza.destination && !stanza.destination.matches(c.dstIp)) {
      miss("FWK_ERR_SPA_DEST_MISMATCH", `destination ${c.dstIp} is not in DESTINATION`);
      continue;
    }
    if (stanza.accessExpire !== undefined && now > stanza.accessExpire) {
      miss("FWK_ERR_SPA_STANZA_EXPIRED", `Access stanza #${stanza.index} has expired`);
      continue;
    }

    const tryRijndael =
      stanza.key !== undefined && (encClass === "rijndael" || stanza.enableCmdExec);
    if (!tryRijndael) {
      const gpgStanza = stanza.gpgDecryptPw !== undefined || stanza.gpgAllowNoPw;
      if (gpgStanza && encClass === "gpg") {
        miss("FWK_ERR_SPA_GPG_UNSUPPORTED", "GnuPG-encrypted SPA packets are not supported yet");
      } else {
        miss(
          "FWK_ERR_SPA_NO_DECRYPT_MODE",
          `No stanza encryption mode match for encryption type: ${encClass}`,
        );
      }
      continue;
    }
    const decoded = decodeSpa(wire, {
      encKey: stanza.key as Buffer,
      encMode: stanza.encMode,
      ...(stanza.hmacKey ? { hmacKey: stanza.hmacKey, hmacType: stanza.hmacType } : {}),
    });
    if (!decoded.ok) {
      miss(decoded.code, decoded.detail);
      continue;
    }
    message = decoded.value;

    // Upstream records the digest as soon as a packet authenticates, before the age, user and
    // port checks: an authentic packet that is refused cannot be retried by an eavesdropper.
    if (ctx.replay && !recorded && !ctx.policy.testMode) {
      recorded = true;
      await ctx.replay.add(entryFor(c, digest, now));
    }

    const packet =
      forwardedFor === undefined
        ? { srcIp: c.srcIp, dstIp: c.dstIp }
        : { srcIp: c.srcIp, dstIp: c.dstIp, forwardedFor };
    const verdict = decidePolicy(message, stanza, packet, ctx.policy, now);
    if (verdict.ok) return { ok: true, grant: verdict.value, message, wire, outcomes };
    miss(verdict.code, verdict.detail);
    if (verdict.final) break;
  }

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
