/**
 * SOURCE / DESTINATION lists of access.conf: comma-separated `ANY`, `IP`, `IP/cidr` (1-32) or
 * `IP/dotted-mask` entries, parsed the way fwknopd parses them (glibc inet_aton, so `10.1` and
 * octal forms work). IPv6 entries (`2001:db8::/32`) are our extension for the IPv6 intake to come.
 */

import { isIPv4, isIPv6 } from "node:net";
import ipaddr from "ipaddr.js";
import { ok, type Result, reject } from "../errors.js";
import { isCSpace, parseCInt } from "./tokenizer.js";

export interface AddressEntry {
  /** The entry as written (leading whitespace removed). */
  readonly text: string;
  /** True for `ANY`. */
  readonly any: boolean;
}

export interface AddressList {
  readonly entries: readonly AddressEntry[];
  /** True if the textual/IPv4-mapped address falls inside any entry. */
  matches(ip: string): boolean;
  /** True when the list contains `ANY`. */
  readonly any: boolean;
}

const MAX_U32 = 0xffff_ffff;
/** fwknopd's MAX_IPV4_STR_LEN / MIN_IPV4_STR_LEN: address text must stay under 16 characters. */
const MAX_IPV4_TEXT = 16;
const MIN_IPV4_TEXT = 7;

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= "0" && ch <= "9";
}

/**
 * glibc inet_aton(): the address as an unsigned 32-bit number, or undefined where inet_aton fails.
 * Accepts `a`, `a.b`, `a.b.c`, `a.b.c.d` with decimal, octal (leading 0) or hex (0x) parts, and
 * ignores anything after a whitespace character that follows the address (glibc does too).
 */
export function inetAton(text: string): number | undefined {
  const parts: number[] = [];
  let pos = 0;
  let value = 0;
  for (;;) {
    if (!isDigit(text[pos])) return undefined;
    let base = 10;
    value = 0;
    if (text[pos] === "0") {
      pos++;
      if (text[pos] === "x" || text[pos] === "X") {
        base = 16;
        pos++;
      } else {
        base = 8;
      }
    }
    for (;;) {
      const ch = text[pos];
      if (ch === undefined) break;
      const digit = base === 16 ? Number.parseInt(ch, 16) : isDigit(ch) ? Number(ch) : Number.NaN;
      if (Number.isNaN(digit)) break;
      if (base === 8 && digit > 7) return undefined;
      value = value * base + digit;
      if (value > MAX_U32) return undefined;
      pos++;
    }
    if (text[pos] !== ".") break;
    if (parts.length >= 3) return undefined;
    parts.push(value);
    pos++;
  }
  if (pos < text.length && !isCSpace(text[pos])) return undefined;
  const [a = 0, b = 0, c = 0] = parts;
  switch (parts.length) {
    case 0:
      return value;
    case 1:
      if (value > 0xff_ffff || a > 0xff) return undefined;
      return a * 2 ** 24 + value;
    case 2:
      if (value > 0xffff || a > 0xff || b > 0xff) return undefined;
      return a * 2 ** 24 + b * 2 ** 16 + value;
    default:
      if (value > 0xff || a > 0xff || b > 0xff || c > 0xff) return undefined;
      return a * 2 ** 24 + b * 2 ** 16 + c * 2 ** 8 + value;
  }
}

/**
 * fwknop's is_valid_ipv4_addr(): 7-15 characters of digits and exactly three dots, then inet_aton.
 * Used for FORCE_NAT, FORCE_SNAT and SNAT_TRANSLATE_IP.
 */
export function isValidIpv4Addr(text: string): boolean {
  if (text.length < MIN_IPV4_TEXT || text.length >= MAX_IPV4_TEXT) return false;
  if (!/^[0-9.]+$/.test(text) || text.split(".").length !== 4) return false;
  return inetAton(text) !== undefined;
}

/** Dotted-quad text to a 32-bit number; only strict forms (socket addresses), never inet_aton. */
function ipv4ToU32(ip: string): number {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

interface V4Net {
  readonly kind: "v4";
  readonly net: number;
  readonly mask: number;
}
interface V6Net {
  readonly kind: "v6";
  readonly net: ipaddr.IPv6;
  readonly prefix: number;
}
type Net = V4Net | V6Net | { readonly kind: "any" };

function cidrMask(bits: number): number {
  return bits === 0 ? 0 : (MAX_U32 << (32 - bits)) >>> 0;
}

/** 2.6.10's words lead each reason (operators grep them), ours explain. */
function notAddress(entry: string, ipText: string): string {
  const what = ipText === entry ? "not an IPv4 address" : `'${ipText}' is not an IPv4 address`;
  return `Error parsing string to IP (${what})`;
}

function parseV4Entry(entry: string): Result<V4Net> {
  const slash = entry.indexOf("/");
  let ipText = entry;
  let mask = MAX_U32;
  if (slash >= 0) {
    ipText = entry.slice(0, slash);
    const maskText = entry.slice(slash + 1);
    if (maskText.length === 0) {
      return reject("FWK_ERR_CONFIG_ADDRESS", "Missing mask value. (nothing after '/')");
    }
    if (maskText.length > 2) {
      // fwknopd takes 7-15 characters after the slash as a dotted mask, anything else is invalid.
      const dotted =
        maskText.length >= MIN_IPV4_TEXT && maskText.length < MAX_IPV4_TEXT
          ? inetAton(maskText)
          : undefined;
      if (dotted === undefined) {
        const dottedLength = maskText.length >= MIN_IPV4_TEXT && maskText.length < MAX_IPV4_TEXT;
        return reject(
          "FWK_ERR_CONFIG_ADDRESS",
          dottedLength
            ? `Fatal error parsing IP mask to int for: ${maskText} (use /1-/32 or a dotted mask)`
            : `Invalid IP mask str '${maskText}'. (use /1-/32 or a dotted mask)`,
        );
      }
      mask = dotted;
    } else {
      const bits = parseCInt(maskText).value;
      if (bits < 1 || bits > 32) {
        return reject(
          "FWK_ERR_CONFIG_ADDRESS",
          `Invalid IP mask str '${maskText}'. (CIDR prefix must be 1-32)`,
        );
      }
      mask = cidrMask(bits);
    }
  }
  if (ipText.length >= MAX_IPV4_TEXT) {
    return reject("FWK_ERR_CONFIG_ADDRESS", notAddress(entry, ipText));
  }
  const addr = inetAton(ipText);
  if (addr === undefined) {
    return reject("FWK_ERR_CONFIG_ADDRESS", notAddress(entry, ipText));
  }
  return ok({ kind: "v4", net: (addr & mask) >>> 0, mask });
}

function parseV6Entry(entry: string): Result<V6Net> {
  const [addrText = "", prefixText, ...rest] = entry.split("/");
  const prefix = prefixText === undefined ? 128 : Number(prefixText);
  if (
    rest.length > 0 ||
    !isIPv6(addrText) ||
    (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) ||
    prefix < 1 ||
    prefix > 128
  ) {
    return reject("FWK_ERR_CONFIG_ADDRESS", "not an IPv6 address or network (/1-/128)");
  }
  return ok({ kind: "v6", net: ipaddr.IPv6.parse(addrText), prefix });
}

function parseEntry(raw: string): Result<Net> {
  // fwknopd skips whitespace before each entry; we also drop it after one so `ANY , x` works.
  let start = 0;
  while (start < raw.length && isCSpace(raw[start])) start++;
  const entry = raw.slice(start);
  if (entry.trim().toUpperCase() === "ANY") return ok({ kind: "any" });
  if (entry === "") {
    return reject(
      "FWK_ERR_CONFIG_ADDRESS",
      "Fatal error parsing IP to int for:  (empty entry, stray comma?)",
    );
  }
  if (entry.includes(":")) return parseV6Entry(entry.trim());
  return parseV4Entry(entry);
}

function toV4(ip: string): number | undefined {
  if (isIPv4(ip)) return ipv4ToU32(ip);
  if (!isIPv6(ip)) return undefined;
  const v6 = ipaddr.IPv6.parse(ip);
  return v6.isIPv4MappedAddress() ? ipv4ToU32(v6.toIPv4Address().toString()) : undefined;
}

/** Parse a SOURCE/DESTINATION value. The detail of a rejection names the offending entry. */
export function parseAddressList(text: string): Result<AddressList> {
  const nets: Net[] = [];
  const entries: AddressEntry[] = [];
  for (const raw of text.split(",")) {
    const parsed = parseEntry(raw);
    if (!parsed.ok) {
      const entry = raw.trim();
      const where = entry === text.trim() ? `'${entry}'` : `'${entry}' in '${text}'`;
      return reject(parsed.code, `${where}: ${parsed.detail}`);
    }
    nets.push(parsed.value);
    entries.push({ text: raw.replace(/^[ \t\n\v\f\r]+/, ""), any: parsed.value.kind === "any" });
  }
  const any = nets.some((n) => n.kind === "any");
  const v4 = nets.filter((n): n is V4Net => n.kind === "v4");
  const v6 = nets.filter((n): n is V6Net => n.kind === "v6");
  return ok({
    entries,
    any,
    matches(ip: string): boolean {
      if (any) return true;
      const addr = toV4(ip);
      if (addr !== undefined) return v4.some((n) => (addr & n.mask) >>> 0 === n.net);
      if (!isIPv6(ip) || v6.length === 0) return false;
      const parsed = ipaddr.IPv6.parse(ip);
      return v6.some((n) => parsed.match(n.net, n.prefix));
    },
  });
}
