/**
 * `fwknopd --explain`: the road one packet takes through the server, told step by step —
 * precheck, source match, replay (read only), each stanza tried (destination, expiry, HMAC type
 * and result, decryption mode, decoded fields, policy verdict) — and the final outcome with the
 * stage that decided it. The outcome is the real pipeline's (processCandidate and the NAT step
 * run as in the daemon, with a replay cache that never records); the walk beside it re-runs the
 * same checks to show where each stanza stopped. Nothing here touches the firewall.
 */
import type { AccessStanza } from "../config/access-stanza.js";
import type { ErrorCode } from "../errors.js";
import { escapeLogText } from "../log/escape.js";
import { MESSAGE_TYPE_NAMES } from "../protocol/constants.js";
import {
  classifyEncryption,
  type DecodedSpa,
  decodeSpa,
  replayDigest,
  verifySpaHmac,
} from "../protocol/spa.js";
import { decryptHints, hmacHints, policyHints } from "./explain-hints.js";
import type { Candidate } from "./intake/intake.js";
import { resolveNatStep } from "./nat-resolve.js";
import {
  type Decision,
  needsEarlyReplayCheck,
  type PipelineContext,
  processCandidate,
} from "./pipeline.js";
import { decidePolicy } from "./policy.js";
import { precheck } from "./precheck.js";
import { formatEntryTime } from "./replay/replay-cache.js";

export type Stage =
  | "precheck"
  | "source"
  | "replay"
  | "destination"
  | "stanza"
  | "hmac"
  | "decrypt"
  | "decode"
  | "gpg"
  | "policy"
  | "nat";

/** Codes of the decryption itself; other codec failures come from decoding the plaintext. */
const DECRYPT_CODES = new Set<ErrorCode>([
  "FKO_ERROR_DECRYPTION_FAILURE",
  "FKO_ERROR_DECRYPTION_SIZE",
  "FKO_ERROR_INVALID_DATA_ENCRYPT_TYPE_UNKNOWN",
]);

export interface StanzaWalk {
  stanza: number;
  lines: string[];
  /** Where this stanza stopped (undefined: it granted). */
  stage?: Stage;
  code?: ErrorCode;
}

export interface Explanation {
  /** Before the stanzas: precheck, source, replay. */
  steps: string[];
  stanzas: StanzaWalk[];
  /** After the stanzas: the NAT step. */
  after: string[];
  outcome:
    | { granted: true; detail: string }
    | { granted: false; code: ErrorCode; stage: Stage; detail: string };
  hints: string[];
}

export interface ExplainOptions {
  ctx: PipelineContext;
  /** ENABLE_NAT_DNS, for the NAT step. */
  natDns: boolean;
}

export async function explainCandidate(c: Candidate, o: ExplainOptions): Promise<Explanation> {
  const { ctx } = o;
  const decision = await resolveNatStep(await processCandidate(c, ctx), { dns: o.natDns });
  const steps: string[] = [];
  const hints: string[] = [];
  const refused = (stage: Stage): Explanation => ({
    steps,
    stanzas: [],
    after: [],
    outcome: outcomeOf(decision, stage),
    hints,
  });

  const pre = precheck(c.payload, ctx.precheck);
  if (!pre.ok) {
    steps.push(`precheck: ${pre.detail} -> ${pre.code}`);
    return refused("precheck");
  }
  const { wire } = pre.value;
  steps.push(
    `precheck: ok, ${wire.length}-character SPA data, ${classifyEncryption(wire)} by length`,
  );
  const matching = ctx.stanzas.filter((s) => s.source.matches(c.srcIp));
  if (matching.length === 0) {
    steps.push(`source: no stanza's SOURCE contains ${c.srcIp} -> FWK_ERR_SPA_NO_SOURCE_MATCH`);
    return refused("source");
  }
  steps.push(`source: ${c.srcIp} matches stanza ${matching.map((s) => `#${s.index}`).join(", ")}`);
  if (ctx.replay) {
    const digest = replayDigest(wire);
    const seen = await ctx.replay.lookup(digest);
    // The pipeline looks the digest up after the HMAC when every stanza for this source has one
    // (pipeline.ts); a known digest then only decides the outcome if the packet authenticates.
    const early = needsEarlyReplayCheck(c, classifyEncryption(wire), ctx.stanzas);
    if (seen) {
      const recorded = `digest ${digest} was recorded ${formatEntryTime(seen.time)} from ${seen.srcIp}`;
      const replayed = !decision.ok && decision.code === "SPA_MSG_REPLAY";
      steps.push(
        early
          ? `replay: ${recorded} -> SPA_MSG_REPLAY`
          : `replay: ${recorded}; looked up once a stanza's HMAC verifies -> ${replayed ? "SPA_MSG_REPLAY" : "the HMAC did not verify"}`,
      );
      if (early || replayed) {
        hints.push(
          "this exact packet was accepted before; a client must send a fresh one per knock",
        );
        return refused("replay");
      }
    } else {
      steps.push(`replay: digest ${digest} not seen (the cache is only read, never written)`);
    }
  } else {
    steps.push("replay: no digest cache (ENABLE_DIGEST_PERSISTENCE N)");
  }

  const stanzas = await Promise.all(matching.map((s) => walkStanza(c, wire, s, o, hints)));
  const telling = decision.ok
    ? undefined
    : stanzas.find((w) => w.code === decision.code && w.stage !== undefined);
  const stage: Stage = decision.ok
    ? "policy"
    : (telling?.stage ?? (decision.code === "FWK_ERR_SPA_NAT_RESOLVE" ? "nat" : "policy"));
  const after: string[] = [];
  if (!decision.ok && decision.code === "FWK_ERR_SPA_NAT_RESOLVE") {
    after.push(`nat: ${decision.detail} -> FWK_ERR_SPA_NAT_RESOLVE`);
  } else if (!decision.ok && !telling) {
    // Never expected: say so rather than pretend the walk found the pipeline's reason.
    after.push(`pipeline: ${decision.code} (not reproduced by the walk above)`);
  }
  return { steps, stanzas, after, outcome: outcomeOf(decision, stage), hints };
}

function outcomeOf(d: Decision, stage: Stage): Explanation["outcome"] {
  if (d.ok) {
    const g = d.grant;
    const what =
      g.kind === "command"
        ? `command '${g.command}'`
        : `${g.ports.map((p) => `${p.proto}/${p.port}`).join(",")} for ${g.clientIp}, ${g.timeout} s`;
    return { granted: true, detail: `stanza #${g.stanza.index} grants ${g.kind}: ${what}` };
  }
  return { granted: false, code: d.code, stage, detail: d.detail };
}

/** One stanza's checks in pipeline order, stopping where the pipeline would. */
async function walkStanza(
  c: Candidate,
  wire: string,
  stanza: AccessStanza,
  o: ExplainOptions,
  hints: string[],
): Promise<StanzaWalk> {
  const lines = [
    `stanza #${stanza.index} (${stanza.file}:${stanza.line}): SOURCE matches ${c.srcIp}`,
  ];
  const stop = (stage: Stage, code: ErrorCode, detail: string): StanzaWalk => {
    lines.push(`${stage}: ${detail} -> ${code}`);
    return { stanza: stanza.index, lines, stage, code };
  };
  const now = o.ctx.now();
  if (stanza.destination && !stanza.destination.matches(c.dstIp))
    return stop("destination", "FWK_ERR_SPA_DEST_MISMATCH", `${c.dstIp} is not in DESTINATION`);
  if (stanza.accessExpire !== undefined && now > stanza.accessExpire)
    return stop("stanza", "FWK_ERR_SPA_STANZA_EXPIRED", `expired at ${stanza.accessExpire}`);

  const encClass = classifyEncryption(wire);
  const gpgStanza = stanza.gpgDecryptPw !== undefined || stanza.gpgAllowNoPw;
  if (stanza.key === undefined || (encClass !== "rijndael" && !stanza.enableCmdExec)) {
    if (gpgStanza && encClass === "gpg") return walkGpg(c, stanza, o, lines);
    return stop(
      "decrypt",
      "FWK_ERR_SPA_NO_DECRYPT_MODE",
      `the stanza has no key for ${encClass} packets`,
    );
  }
  const keys = {
    encKey: stanza.key,
    encMode: stanza.encMode,
    ...(stanza.hmacKey ? { hmacKey: stanza.hmacKey, hmacType: stanza.hmacType } : {}),
  };
  if (stanza.hmacKey) {
    const mac = verifySpaHmac(wire, keys);
    if (!mac.ok) {
      if (mac.code === "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL")
        hints.push(...hmacHints(wire, stanza));
      return stop("hmac", mac.code, `HMAC ${stanza.hmacType}: ${mac.detail}`);
    }
    lines.push(`hmac: HMAC ${stanza.hmacType} matches`);
  } else {
    lines.push("hmac: none (the stanza has no HMAC key)");
  }
  const decoded = decodeSpa(wire, keys);
  if (!decoded.ok) {
    if (gpgStanza && encClass === "gpg") return walkGpg(c, stanza, o, lines);
    hints.push(...decryptHints(wire, stanza));
    const stage = DECRYPT_CODES.has(decoded.code) ? "decrypt" : "decode";
    return stop(stage, decoded.code, `Rijndael ${stanza.encMode}: ${decoded.detail}`);
  }
  lines.push(`decrypt: Rijndael ${stanza.encMode}, digest ${decoded.value.digestType} verified`);
  return policyStep(c, decoded.value, stanza, o, lines, hints);
}

/** GPG stanzas: gpg itself ran in the pipeline; its per-stanza outcome is shown as found. */
async function walkGpg(
  c: Candidate,
  stanza: AccessStanza,
  o: ExplainOptions,
  lines: string[],
): Promise<StanzaWalk> {
  const d = await processCandidate(c, { ...o.ctx, stanzas: [stanza] });
  if (d.ok) {
    lines.push("gpg: decrypted and signature accepted");
    return policyStep(c, d.message, stanza, o, lines, []);
  }
  const mine = d.outcomes.find((x) => x.stanza === stanza.index) ?? d;
  const stage: Stage =
    mine.code.startsWith("FKO_") ||
    mine.code.startsWith("FWK_ERR_GPG") ||
    mine.code === "FWK_ERR_SPA_GPG_SIGNER_DENIED"
      ? "gpg"
      : "policy";
  lines.push(`${stage}: ${mine.detail} -> ${mine.code}`);
  return { stanza: stanza.index, lines, stage, code: mine.code };
}

function policyStep(
  c: Candidate,
  msg: DecodedSpa,
  stanza: AccessStanza,
  o: ExplainOptions,
  lines: string[],
  hints: string[],
): StanzaWalk {
  const now = o.ctx.now();
  const type = MESSAGE_TYPE_NAMES[msg.messageType];
  lines.push(
    `fields: user '${msg.username}', timestamp ${msg.timestamp} (${now - msg.timestamp} s old), type ${msg.messageType} (${type}), message '${msg.message}'` +
      (msg.natAccess !== undefined ? `, NAT '${msg.natAccess}'` : "") +
      (msg.clientTimeout !== undefined ? `, client timeout ${msg.clientTimeout}` : ""),
  );
  const verdict = decidePolicy(msg, stanza, { srcIp: c.srcIp, dstIp: c.dstIp }, o.ctx.policy, now);
  if (verdict.ok) {
    lines.push(`policy: accepted (${verdict.value.kind} for ${verdict.value.clientIp})`);
    return { stanza: stanza.index, lines };
  }
  hints.push(...policyHints(verdict.code, msg, stanza, now, o.ctx.policy.maxPacketAge));
  lines.push(`policy: ${verdict.detail} -> ${verdict.code}`);
  return { stanza: stanza.index, lines, stage: "policy", code: verdict.code };
}

/**
 * The report as text, one packet. Lines quote what the sender put in the packet (user names,
 * messages, ports), so each line is escaped like a log line: a control character or a newline
 * in a packet cannot forge report lines or reach the operator's terminal.
 */
export function formatExplanation(title: string, e: Explanation): string {
  const out = [title, ...e.steps.map((s) => `  ${s}`)];
  for (const w of e.stanzas) {
    out.push(`  ${w.lines[0]}`);
    for (const l of w.lines.slice(1)) out.push(`    ${l}`);
  }
  for (const a of e.after) out.push(`  ${a}`);
  const r = e.outcome;
  out.push(
    r.granted
      ? `  outcome: GRANTED (${r.detail})`
      : `  outcome: refused at ${r.stage}: ${r.detail} [${r.code}]`,
  );
  for (const h of e.hints) out.push(`  likely cause: ${h}`);
  return `${out.map(escapeLogText).join("\n")}\n`;
}
