/**
 * fast-check generators for the codec properties: valid SPA messages (every message type, the
 * field grammars of spec §3.3 within decodable sizes), keys for every mode and HMAC type, and
 * hostile inputs.
 */
import fc from "fast-check";
import { b64uEncode } from "../../src/crypto/base64.js";
import {
  DIGEST_NAMES,
  type DigestName,
  type MessageTypeId,
  SYMMETRIC_MODES,
} from "../../src/protocol/constants.js";
import type { SpaKeys, SpaMessage } from "../../src/protocol/spa.js";

const B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Printable ASCII a username may contain (libfko refuses `"/\[]:;|=,+*?<>`). */
const USER_CHARS = [...Array(95).keys()]
  .map((i) => String.fromCharCode(0x20 + i))
  .filter((c) => !'"/\\[]:;|=,+*?<>'.includes(c));

const fromChars = (chars: readonly string[] | string, minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...chars), minLength, maxLength });

export const digits16 = fromChars("0123456789", 16, 16);
export const username = fromChars(USER_CHARS, 1, 24);
const octet = fc.integer({ min: 0, max: 255 });
export const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join("."));
const port = fc.integer({ min: 1, max: 65535 });
const spec = fc.tuple(fc.constantFrom("tcp", "udp"), port).map(([p, n]) => `${p}/${n}`);
const accessMsg = fc
  .tuple(ipv4, fc.array(spec, { minLength: 1, maxLength: 3 }))
  .map(([ip, specs]) => `${ip},${specs.join(",")}`);
const printable = fromChars(
  [...Array(95).keys()].map((i) => String.fromCharCode(0x20 + i)),
  1,
  40,
);
const commandMsg = fc.tuple(ipv4, printable).map(([ip, cmd]) => `${ip},${cmd}`);
const hostname = fromChars("abcdefghijklmnopqrstuvwxyz0123456789.-", 1, 30);
const natAccess = fc.tuple(fc.oneof(ipv4, hostname), port).map(([h, p]) => `${h},${p}`);
const version = fc.oneof(fc.constant("3.0.0"), fromChars("0123456789.abcxyz", 1, 8));

/** A message whose declared type already agrees with its NAT and timeout fields. */
export const spaMessage: fc.Arbitrary<SpaMessage> = fc
  .record({
    randomValue: digits16,
    username,
    timestamp: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    version,
    messageType: fc.constantFrom<MessageTypeId>(0, 1, 2, 3, 4, 5, 6),
    access: accessMsg,
    command: commandMsg,
    nat: natAccess,
    serverAuth: fc.option(printable, { nil: undefined }),
    timeout: fc.integer({ min: 1, max: 65536 }),
  })
  .map((r) => {
    const msg: SpaMessage = {
      randomValue: r.randomValue,
      username: r.username,
      timestamp: r.timestamp,
      version: r.version,
      messageType: r.messageType,
      message: r.messageType === 0 ? r.command : r.access,
    };
    if ([2, 4, 5, 6].includes(r.messageType)) msg.natAccess = r.nat;
    if ([3, 4, 6].includes(r.messageType)) msg.clientTimeout = r.timeout;
    if (r.serverAuth !== undefined) msg.serverAuth = r.serverAuth;
    return msg;
  });

const digestName = fc.constantFrom<DigestName>(...DIGEST_NAMES);

export const spaKeys: fc.Arbitrary<SpaKeys> = fc
  .record({
    encKey: fc.uint8Array({ minLength: 0, maxLength: 32 }),
    encMode: fc.constantFrom(...SYMMETRIC_MODES),
    hmac: fc.option(
      fc.record({ key: fc.uint8Array({ minLength: 0, maxLength: 136 }), type: digestName }),
      { nil: undefined },
    ),
  })
  .map((r) => {
    const keys: SpaKeys = { encKey: Buffer.from(r.encKey), encMode: r.encMode };
    if (r.hmac) {
      keys.hmacKey = Buffer.from(r.hmac.key);
      keys.hmacType = r.hmac.type;
    }
    return keys;
  });

export const encodeOptions = fc.record({
  digestType: digestName,
  salt: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((a) => Buffer.from(a)),
});

/** Text over the base64 alphabet (what the server's precheck lets through). */
export const b64Text = (minLength: number, maxLength: number) =>
  fromChars(B64_CHARS, minLength, maxLength);

/** Arbitrary byte-per-character strings, including NULs and non-ASCII. */
export const latin1Text = fc
  .uint8Array({ minLength: 0, maxLength: 1600 })
  .map((a) => Buffer.from(a).toString("latin1"));

/** Either a well-formed value for a field position or junk, so every parser stage is reached. */
const b64Of = (a: fc.Arbitrary<string>) => a.map((v) => b64uEncode(Buffer.from(v, "latin1")));
const junk = fc.oneof(b64Text(0, 70), fc.stringMatching(/^[ +-]?\d{0,14}[a-z]?$/));
const field = (good: fc.Arbitrary<string>) => fc.oneof({ weight: 6, arbitrary: good }, junk);

/**
 * Inner messages (before the digest) mixing valid and junk fields, with the digest type to seal
 * them with: a correct digest lets the decoder's field parser see every kind of damage.
 */
export const nearValidInner = fc
  .record({
    head: fc.tuple(
      field(digits16),
      field(b64Of(fc.oneof(username, fc.string({ maxLength: 50 })))),
      field(fc.oneof(fc.nat().map(String), fc.constantFrom("-5", "+5", "12ab", "4294967296"))),
      field(fc.constantFrom("3.0.0", "2.0", "123456789")),
      field(fc.constantFrom("0", "1", "2", "3", "4", "5", "6", "7", "01", "-1")),
      field(b64Of(spaMessage.map((m) => m.message))),
    ),
    tail: fc.array(
      field(
        fc.oneof(
          b64Of(fc.constantFrom("10.0.0.1,22", "host,80", "a,b")),
          fc.nat(70000).map(String),
        ),
      ),
      { maxLength: 4 },
    ),
    digest: digestName,
  })
  .map(({ head, tail, digest }) => ({ encoded: [...head, ...tail].join(":"), digest }));
