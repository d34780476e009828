/**
 * One canonical text per address, decided once where an address enters from a packet
 * (allow-IP, X-Forwarded-For, NAT target). Every later step — firewall rules, the grant ledger,
 * expiry, logs — compares text, and the kernel reports addresses canonically (`iptables -S`,
 * `nft -j list`, `ipset list`), so a grant keyed by `192.000.002.002` was never found again at
 * expiry. Pure.
 */
import ipaddr from "ipaddr.js";

/**
 * glibc `inet_aton` for text already known to be digits and exactly three dots (all libfko lets
 * through): each part is read like `strtoul(…, 0)`, so a leading 0 means octal (`010` is 8) and
 * an 8 or 9 after a leading 0 is trailing garbage. Returns the address as a number, or undefined.
 */
export function inetAtonDotted(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return undefined;
    const octal = p.length > 1 && p.startsWith("0");
    if (octal && !/^[0-7]+$/.test(p)) return undefined;
    const v = octal ? Number.parseInt(p, 8) : Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** Dotted-decimal text of a 32-bit address. */
export function ipv4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** `192.000.002.002` → `192.0.2.2`, `010.1.1.1` → `8.1.1.1` (as libfko and netfilter read them). */
export function canonicalIpv4(text: string): string | undefined {
  const n = inetAtonDotted(text);
  return n === undefined ? undefined : ipv4Text(n);
}

/**
 * The canonical form of an address accepted from a packet: dotted decimal for IPv4 (and for an
 * IPv4-mapped IPv6 address, which reaches us as that IPv4 client), RFC 5952 text for IPv6
 * (lower-case hex, longest zero run compressed, no leading zeros). Undefined for anything else.
 */
export function canonicalAddress(text: string): string | undefined {
  const v4 = canonicalIpv4(text);
  if (v4 !== undefined) return v4;
  if (!text.includes(":") || !ipaddr.IPv6.isValid(text)) return undefined;
  const v6 = ipaddr.IPv6.parse(text);
  if (v6.zoneId !== undefined) return undefined;
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toString();
}
