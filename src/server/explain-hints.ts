/**
 * `fwknopd --explain`: likely causes of a refusal, in plain words, found by trying what the
 * operator would try by hand — the stanza's key with the other HMAC types and encryption modes,
 * the packet's clock against ours, the requested ports against OPEN_PORTS/RESTRICT_PORTS.
 * Pure: nothing here touches a file, a cache or the firewall.
 */
import type { AccessStanza } from "../config/access-stanza.js";
import { parsePortList } from "../config/port-list.js";
import { hmacLength } from "../crypto/hmac.js";
import type { ErrorCode } from "../errors.js";
import { DIGEST_NAMES, type DigestName, SYMMETRIC_MODES } from "../protocol/constants.js";
import { type DecodedSpa, decodeSpa, type SpaKeys, verifySpaHmac } from "../protocol/spa.js";

/** Length of the `U2FsdGVkX1` prefix the client strips from Rijndael ciphertext. */
const SALT_PREFIX_CHARS = 10;

/** True when `chars` base64 characters (prefix stripped) can be a Rijndael ciphertext. */
function fitsRijndaelBody(chars: number): boolean {
  const total = chars + SALT_PREFIX_CHARS;
  const bytes = Math.floor((total * 3) / 4);
  // "Salted__" + 8-byte salt + at least one 16-byte block; unpadded base64 of exactly that.
  return bytes >= 32 && bytes % 16 === 0 && Math.ceil((bytes * 4) / 3) === total;
}

/** HMAC types whose length leaves a well-formed Rijndael ciphertext in front of it. */
export function hmacTypesByLength(wire: string): DigestName[] {
  return DIGEST_NAMES.filter((t) => fitsRijndaelBody(wire.length - hmacLength(t)));
}

function keysOf(stanza: AccessStanza): SpaKeys {
  return {
    encKey: stanza.key ?? Buffer.alloc(0),
    encMode: stanza.encMode,
    ...(stanza.hmacKey ? { hmacKey: stanza.hmacKey, hmacType: stanza.hmacType } : {}),
  };
}

/** Why the HMAC did not match this stanza. */
export function hmacHints(wire: string, stanza: AccessStanza): string[] {
  const keys = keysOf(stanza);
  const want = stanza.hmacType;
  const verifiesAs = DIGEST_NAMES.filter(
    (t) => t !== want && verifySpaHmac(wire, { ...keys, hmacType: t }).ok,
  );
  if (verifiesAs.length > 0) {
    const t = verifiesAs[0] as DigestName;
    return [
      `the HMAC verifies as ${t} with this stanza's HMAC key: the client uses --hmac-digest-type ${t}, stanza #${stanza.index} expects HMAC_DIGEST_TYPE ${want}`,
    ];
  }
  const fits = hmacTypesByLength(wire);
  if (fits.length > 0 && !fits.includes(want)) {
    const lens = [...new Set(fits.map((t) => hmacLength(t)))].join("/");
    return [
      `the HMAC is ${lens} characters long, which fits ${fits.join(" or ")}, not ${want} (${hmacLength(want)} characters): the client's HMAC digest type differs from HMAC_DIGEST_TYPE of stanza #${stanza.index}`,
    ];
  }
  // HMAC lengths differ by about one cipher block, so a length often fits several types.
  const others = fits.filter((t) => hmacLength(t) !== hmacLength(want));
  if (others.length > 0) {
    return [
      `the HMAC key differs from the client's (HMAC_KEY / HMAC_KEY_BASE64 of stanza #${stanza.index}), or the client uses another HMAC digest type whose length also fits this packet (${others.join(", ")}): compare HMAC_DIGEST_TYPE ${want} with the client's --hmac-digest-type`,
    ];
  }
  return [
    `the HMAC length fits ${want}, so the HMAC key differs from the client's (HMAC_KEY / HMAC_KEY_BASE64 of stanza #${stanza.index}), or the packet was altered on the way`,
  ];
}

/** Why decryption or decoding failed although the HMAC (if any) matched. */
export function decryptHints(wire: string, stanza: AccessStanza): string[] {
  const keys = keysOf(stanza);
  for (const mode of SYMMETRIC_MODES) {
    if (mode === stanza.encMode) continue;
    if (decodeSpa(wire, { ...keys, encMode: mode }).ok) {
      return [
        `the key decrypts the packet under ${mode}: the client uses -M ${mode.toLowerCase()}, stanza #${stanza.index} has ENCRYPTION_MODE ${stanza.encMode}`,
      ];
    }
  }
  if (!stanza.hmacKey) {
    const fits = hmacTypesByLength(wire);
    if (fits.length > 0 && !fitsRijndaelBody(wire.length)) {
      return [
        `the packet seems to end in an HMAC (its length fits ${fits.join(" or ")}) but stanza #${stanza.index} has no HMAC_KEY: add the client's HMAC key`,
      ];
    }
  }
  return stanza.hmacKey
    ? [
        `the HMAC key matches but the encryption key does not (KEY / KEY_BASE64 of stanza #${stanza.index} differs from the client's)`,
      ]
    : [
        `the encryption key (KEY / KEY_BASE64 of stanza #${stanza.index}) differs from the client's`,
      ];
}

/** Plain words for a policy refusal of a decoded message. */
export function policyHints(
  code: ErrorCode,
  msg: DecodedSpa,
  stanza: AccessStanza,
  now: number,
  maxAge: number,
): string[] {
  if (code === "SPA_MSG_TOO_OLD") {
    const skew = now - msg.timestamp;
    const side = skew > 0 ? "behind" : "ahead of";
    return [
      `clock skew of ${Math.abs(skew)} s: the packet's timestamp is ${Math.abs(skew)} s ${side} this server's clock (MAX_SPA_PACKET_AGE ${maxAge}); check NTP on both hosts, or the packet is an old capture`,
    ];
  }
  if (code === "FWK_ERR_SPA_PORTS_DENIED") {
    const requested = parsePortList(msg.message.slice(msg.message.indexOf(",") + 1));
    if (!requested.ok) return [];
    const text = (p: { proto: string; port: number }) => `${p.proto}/${p.port}`;
    const has = (
      list: readonly { proto: string; port: number }[] | undefined,
      p: { proto: string; port: number },
    ) => list?.some((x) => x.proto === p.proto && x.port === p.port) ?? false;
    const out: string[] = [];
    for (const p of requested.value) {
      if (stanza.openPorts && !has(stanza.openPorts, p))
        out.push(
          `port ${text(p)} is not in OPEN_PORTS (${stanza.openPorts.map(text).join(",")}) of stanza #${stanza.index}`,
        );
      if (has(stanza.restrictPorts, p))
        out.push(`port ${text(p)} is in RESTRICT_PORTS of stanza #${stanza.index}`);
    }
    return out;
  }
  if (code === "FWK_ERR_SPA_USERNAME_MISMATCH") {
    return [
      `the client sent username '${msg.username}' (fwknop -U sets it), stanza #${stanza.index} requires '${stanza.requireUsername ?? ""}'`,
    ];
  }
  return [];
}
