/**
 * SPA message construction from the client settings (spec §13.5). The allow-IP (already
 * resolved for -R), username, clock, random values and keys come in as arguments; the codec does
 * the encoding and Rijndael encryption, gpg (through `seal`) the GPG encryption.
 */
import { digestB64 } from "../crypto/digest.js";
import { computeHmac } from "../crypto/hmac.js";
import { FwknopError, type Result } from "../errors.js";
import { FKO_PROTOCOL_VERSION, type MessageTypeId } from "../protocol/constants.js";
import {
  type EncodedSpa,
  encodeMessage,
  encodeSpa,
  type SpaKeys,
  type SpaMessage,
} from "../protocol/spa.js";
import { fkoError, isValidNatHost } from "./fko-message.js";
import type { RunRequest } from "./options.js";

/** Encrypts `encoded:digest` for GPG mode; returns the base64 text with its `hQ` prefix. */
export type GpgSeal = (plaintext: string) => Promise<string>;

export interface BuildInputs {
  /** Allow-IP for the message: -a, 0.0.0.0 for -s, or the address -R found. */
  allowIp: string;
  username: string;
  /** Unix seconds, before the time offset is added. */
  now: number;
  /** Returns a fresh 16-digit random value on every call. */
  randomValue: () => string;
  salt: Buffer;
  encKey: Buffer;
  hmacKey?: Buffer;
  /** Present in GPG mode: replaces Rijndael. */
  gpgSeal?: GpgSeal;
}

export interface BuiltPacket {
  message: SpaMessage;
  keys: SpaKeys;
  encoded: EncodedSpa;
  /** Destination port (-p, or the random one of -r). */
  dstPort: number;
  /** Printed when --nat-rand-port picked a port. */
  notice?: string;
}

function fail(msg: string): never {
  throw new FwknopError("FWK_ERR_CLIENT_OPTIONS", msg);
}

/** 10000–65534 from the first five digits of a random value, as upstream derives -r ports. */
export function portFromRandom(random: string): number {
  return 10000 + (Number(random.slice(0, 5)) % 55535);
}

/** A port as the C client reads one: digits only, 1-65535. */
function validPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

/**
 * `-N host[:|,port]` → `host,port`; the port defaults to the single -A port. The host and port
 * are checked with C's messages ("Invalid NAT destination", "Invalid port value in -N arg").
 */
function natTarget(nat: string, defaultPort: string): string {
  const sep = Math.max(nat.lastIndexOf(","), nat.lastIndexOf(":"));
  const host = sep > 0 ? nat.slice(0, sep) : nat;
  const port = sep > 0 ? nat.slice(sep + 1) : defaultPort;
  const invalid = (line: string) => fkoError("FKO_ERROR_INVALID_DATA", `-N ${nat}`, line);
  if (!isValidNatHost(host)) throw invalid(`[*] Invalid NAT destination '${host}' for -N arg.`);
  if (sep > 0 && !validPort(port)) throw invalid("[*] Invalid port value in -N arg.");
  return `${host},${port}`;
}

/**
 * The single -A spec used for NAT, checked as the C client does: --nat-port/--nat-rand-port need
 * a `proto/port` spec, and with -N as well the -A port itself must be valid.
 */
function checkNatAccessSpec(spec: string, withNatAccess: boolean): void {
  const slash = spec.indexOf("/");
  if (slash < 0) {
    throw new FwknopError("FWK_ERR_CLIENT_OPTIONS", "[*] Expecting <proto>/<port> for -A arg.");
  }
  const port = spec.slice(slash + 1);
  if (withNatAccess && !validPort(port)) {
    throw fkoError(
      "FKO_ERROR_INVALID_DATA",
      `-A ${spec}`,
      `[*] Invalid port value '${port}' for -A arg.`,
    );
  }
}

export async function buildPacket(req: RunRequest, inp: BuildInputs): Promise<BuiltPacket> {
  const s = req.settings;
  let notice: string | undefined;
  let type: MessageTypeId = 1;
  let body: string;
  let natAccess: string | undefined;

  if (req.serverCmd !== undefined) {
    type = 0;
    body = `${inp.allowIp},${req.serverCmd}`;
  } else {
    if (s.access === undefined || s.access === "") {
      // C sends its default access string "none/0", which libfko refuses with this error.
      throw fkoError("FKO_ERROR_INVALID_SPA_ACCESS_MSG", "no -A proto/port given, e.g. -A tcp/22");
    }
    let access = s.access;
    const specs = access.split(",");
    const accessPort = specs[0]?.split("/")[1] ?? "";
    if (s.natLocal || s.natAccess !== undefined || s.natPort > 0 || s.natRandPort) {
      if (specs.length > 1) fail("[*] NAT for multiple ports/protocols not yet supported.");
      if (s.natPort > 0 || s.natRandPort) {
        checkNatAccessSpec(specs[0] ?? "", s.natAccess !== undefined);
      }
      const natPort = s.natRandPort ? portFromRandom(inp.randomValue()) : s.natPort;
      if (natPort > 0) access = `${specs[0]?.split("/")[0]}/${natPort}`;
      if (s.natLocal) {
        type = 5;
        natAccess = `${s.destination ?? ""},${accessPort}`;
      } else if (s.natAccess !== undefined) {
        type = 2;
        natAccess = natTarget(s.natAccess, accessPort);
      }
      if (s.natRandPort && natAccess !== undefined) {
        notice = `[+] Randomly assigned port '${natPort}' on: '${inp.allowIp},${access}' will grant access to: '${natAccess}'`;
      }
    }
    body = `${inp.allowIp},${access}`;
  }

  const message: SpaMessage = {
    randomValue: inp.randomValue(),
    username: inp.username,
    timestamp: inp.now + s.timeOffset,
    version: FKO_PROTOCOL_VERSION,
    messageType: type,
    message: body,
    ...(natAccess !== undefined ? { natAccess } : {}),
    ...(s.fwTimeout > 0 ? { clientTimeout: s.fwTimeout } : {}),
  };
  const keys: SpaKeys = {
    encKey: inp.encKey,
    encMode: inp.gpgSeal ? "Asymmetric" : s.encMode,
    ...(inp.hmacKey ? { hmacKey: inp.hmacKey, hmacType: s.hmacType } : {}),
  };
  const encoded = inp.gpgSeal
    ? await sealGpg(message, keys, s.digestType, inp.gpgSeal)
    : encodeSpa(message, keys, { digestType: s.digestType, salt: inp.salt });
  if (!encoded.ok) {
    throw fkoError(encoded.code, encoded.detail);
  }
  const dstPort = s.randPort ? portFromRandom(inp.randomValue()) : s.serverPort;
  return { message, keys, encoded: encoded.value, dstPort, ...(notice ? { notice } : {}) };
}

/** GPG mode: the codec's encoded message and digest, gpg's ciphertext, the HMAC over `hQ…`. */
async function sealGpg(
  message: SpaMessage,
  keys: SpaKeys,
  digestType: RunRequest["settings"]["digestType"],
  seal: GpgSeal,
): Promise<Result<EncodedSpa>> {
  const encoded = encodeMessage(message);
  if (!encoded.ok) return encoded;
  const digest = digestB64(digestType, encoded.value);
  const ciphertext = await seal(`${encoded.value}:${digest}`);
  const hmac = keys.hmacKey
    ? computeHmac(keys.hmacType ?? "sha256", keys.hmacKey, ciphertext)
    : undefined;
  return {
    ok: true,
    value: {
      wire: ciphertext.slice(2) + (hmac ?? ""),
      encoded: encoded.value,
      digest,
      ciphertext,
      ...(hmac !== undefined ? { hmac } : {}),
    },
  } as const;
}
