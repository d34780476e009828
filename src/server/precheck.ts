/**
 * Cheap checks on a raw payload before any crypto (spec §8 steps 1–4): size window, the
 * prefix-prepending replay tricks, SPA over HTTP, and the base64 alphabet. Pure.
 */
import { isBase64Text } from "../crypto/base64.js";
import { ok, type Result, reject } from "../errors.js";

/** fwknopd's MIN_SPA_DATA_SIZE / MAX_SPA_PACKET_LEN. */
export const MIN_SPA_DATA_SIZE = 140;
export const MAX_SPA_PACKET_LEN = 1500;
/** A GPG wire string is at least this long (spec §4.6). */
const MIN_GNUPG_MSG_SIZE = 400;

export interface PrecheckOptions {
  /** ENABLE_SPA_OVER_HTTP */
  http: boolean;
  /** ALLOW_ANY_USER_AGENT (2.6.11) */
  anyUserAgent: boolean;
  /** ENABLE_X_FORWARDED_FOR */
  xForwardedFor: boolean;
}

export interface Prechecked {
  /** The SPA wire string (HTTP form already converted back to standard base64). */
  wire: string;
  /** X-Forwarded-For address from an HTTP request, when enabled and present. */
  forwardedFor?: string;
}

const IPV4_TEXT = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

export function precheck(payload: Buffer, opts: PrecheckOptions): Result<Prechecked> {
  if (payload.length < MIN_SPA_DATA_SIZE) {
    return reject(
      "SPA_MSG_LEN_TOO_SMALL",
      `payload of ${payload.length} bytes is below ${MIN_SPA_DATA_SIZE}`,
    );
  }
  if (payload.length > MAX_SPA_PACKET_LEN) {
    return reject(
      "SPA_MSG_BAD_DATA",
      `payload of ${payload.length} bytes is above ${MAX_SPA_PACKET_LEN}`,
    );
  }
  // The common case, a datagram that is neither HTTP nor a replayed prefix, is checked on the
  // bytes: junk that fails costs no string at all.
  if (!startsWithGet(payload)) {
    if (startsWith(payload, RIJNDAEL_PREFIX))
      return reject("SPA_MSG_BAD_DATA", "payload starts with the Rijndael prefix (replay trick)");
    if (payload.length > MIN_GNUPG_MSG_SIZE && startsWith(payload, GPG_PREFIX)) {
      return reject("SPA_MSG_BAD_DATA", "payload starts with the GnuPG prefix (replay trick)");
    }
    // The string is needed anyway; the codec's own base64 check on it is then remembered.
    const wire = payload.toString("latin1");
    if (!isBase64Text(wire))
      return reject("SPA_MSG_NOT_SPA_DATA", "payload contains characters outside base64");
    return ok({ wire });
  }
  let text = payload.toString("latin1");
  let forwardedFor: string | undefined;
  if (!opts.http)
    return reject(
      "SPA_MSG_HTTP_NOT_ENABLED",
      "HTTP request received but ENABLE_SPA_OVER_HTTP is not set",
    );
  if (!opts.anyUserAgent && !text.includes("User-Agent: Fwknop")) {
    return reject("SPA_MSG_NOT_SPA_DATA", "HTTP request without a 'User-Agent: Fwknop' header");
  }
  if (opts.xForwardedFor) forwardedFor = forwardedForAddress(text);
  const end = text.slice(5).search(/\s/);
  text = (end < 0 ? text.slice(5) : text.slice(5, 5 + end)).replace(/-/g, "+").replace(/_/g, "/");
  if (text.length < MIN_SPA_DATA_SIZE) {
    return reject(
      "SPA_MSG_LEN_TOO_SMALL",
      `HTTP SPA data of ${text.length} characters is below ${MIN_SPA_DATA_SIZE}`,
    );
  }
  // A captured packet re-sent with its constant prefix put back would otherwise get a fresh
  // replay digest and still decrypt; upstream drops these, and so must we.
  if (text.startsWith("U2FsdGVkX1"))
    return reject("SPA_MSG_BAD_DATA", "payload starts with the Rijndael prefix (replay trick)");
  if (text.length > MIN_GNUPG_MSG_SIZE && text.startsWith("hQ")) {
    return reject("SPA_MSG_BAD_DATA", "payload starts with the GnuPG prefix (replay trick)");
  }
  if (!isBase64Text(text))
    return reject("SPA_MSG_NOT_SPA_DATA", "payload contains characters outside base64");
  return ok(forwardedFor === undefined ? { wire: text } : { wire: text, forwardedFor });
}

/**
 * A captured packet re-sent with its constant prefix put back would otherwise get a fresh
 * replay digest and still decrypt; upstream drops these, and so must we.
 */
const RIJNDAEL_PREFIX = Buffer.from("U2FsdGVkX1", "latin1");
const GPG_PREFIX = Buffer.from("hQ", "latin1");

function startsWith(b: Buffer, prefix: Buffer): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

/** "GET /" in any letter case, as `toUpperCase() === "GET /"` compared it. */
function startsWithGet(b: Buffer): boolean {
  return (
    b.length >= 5 &&
    ((b[0] as number) | 0x20) === 0x67 &&
    ((b[1] as number) | 0x20) === 0x65 &&
    ((b[2] as number) | 0x20) === 0x74 &&
    b[3] === 0x20 &&
    b[4] === 0x2f
  );
}

function forwardedForAddress(request: string): string | undefined {
  const at = request.toLowerCase().indexOf("x-forwarded-for: ");
  if (at < 0) return undefined;
  const value = request.slice(at + "x-forwarded-for: ".length).split(/\s/, 1)[0] ?? "";
  return IPV4_TEXT.test(value) && value.split(".").every((o) => Number(o) <= 255)
    ? value
    : undefined;
}
