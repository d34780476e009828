/**
 * Where the client's keys come from (spec §4.7, §5, §13.4), in upstream's order: the key given
 * as an option or rc variable, --stdin / --fd, a key file (-G, --get-hmac-key), else a prompt on
 * the terminal with echo off.
 */
import { openSync, readSync, writeSync } from "node:fs";
import { ReadStream } from "node:tty";
import { FwknopError } from "../errors.js";
import type { RunRequest } from "./options.js";
import { readClientFile } from "./read-file.js";
import { type KeyText, keyBytes, keyLengthError, MAX_CLIENT_KEY_LEN } from "./settings.js";

/** Key files: `<destination>: <key>` lines; the last line for the destination wins. */
export function keyFromFile(text: string, destination: string): string | undefined {
  let found: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/^[ \t=]+/, "");
    const c = line[0];
    if (c === undefined || c === "#" || c === ";" || c === "\r") continue;
    if (!line.startsWith(`${destination}:`)) continue;
    found = line.slice(destination.length + 1).replace(/^[ \t=]+/, "");
  }
  return found;
}

function readKeyFile(path: string, destination: string): Buffer {
  const key = keyFromFile(readClientFile(path, "config file"), destination);
  if (key === undefined) {
    throw new FwknopError(
      "FWK_ERR_CLIENT_KEY",
      `Could not get key for IP: ${destination} from: ${path}`,
    );
  }
  return Buffer.from(key, "utf8");
}

/** C's wording when the key descriptor is not open (or was closed after the first key). */
const BAD_FD_MESSAGE =
  "getpasswd() - Unable to create a stream from the file descriptor : Bad file descriptor\n[*] getpasswd() key error.";

/** One line (without its newline) from a file descriptor, read byte by byte so nothing after it is consumed. */
export function readLineFromFd(fd: number): Buffer {
  const out: number[] = [];
  const b = Buffer.alloc(1);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  // A non-blocking descriptor answers EAGAIN until data comes: wait up to 10 s for it.
  for (let waits = 0; waits < 1000; ) {
    let n: number;
    try {
      n = readSync(fd, b, 0, 1, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") {
        Atomics.wait(pause, 0, 0, 10);
        waits++;
        continue;
      }
      const badFd = (e as NodeJS.ErrnoException).code === "EBADF";
      throw new FwknopError(
        "FWK_ERR_CLIENT_KEY",
        badFd ? BAD_FD_MESSAGE : `Cannot read the key from fd ${fd}: ${(e as Error).message}`,
      );
    }
    if (n === 0 || b[0] === 0x0a) break;
    out.push(b[0] as number);
    // C keeps at most MAX_KEY_LEN characters of a key line; stopping also bounds endless input.
    if (out.length >= MAX_CLIENT_KEY_LEN) break;
  }
  if (out.at(-1) === 0x0d) out.pop();
  return Buffer.from(out);
}

/** Prompts on the controlling terminal with echo off; backspace and Ctrl-U edit, Ctrl-C aborts. */
export async function promptSecret(prompt: string): Promise<Buffer> {
  let fd: number;
  try {
    fd = openSync("/dev/tty", "r+");
  } catch {
    throw new FwknopError(
      "FWK_ERR_CLIENT_KEY",
      `${prompt.replace(/: $/, "")}: no terminal to prompt on; give the key with an option, an rc variable, --stdin, --fd or a key file`,
    );
  }
  const input = new ReadStream(fd);
  input.setRawMode(true);
  const write = (s: string) => {
    try {
      writeSync(fd, s);
    } catch {
      // the prompt is a courtesy; reading still works
    }
  };
  write(prompt);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const chars: number[] = [];
      input.on("data", (chunk: Buffer) => {
        for (const c of chunk) {
          if (c === 0x0d || c === 0x0a) return resolve(Buffer.from(chars));
          if (c === 0x03)
            return reject(new FwknopError("FWK_ERR_CLIENT_KEY", "Aborted at the key prompt"));
          if (c === 0x7f || c === 0x08) chars.pop();
          else if (c === 0x15) chars.length = 0;
          else if (chars.length < MAX_CLIENT_KEY_LEN - 1) chars.push(c);
        }
      });
    });
  } finally {
    write("\n");
    input.setRawMode(false);
    input.destroy();
  }
}

export interface ClientKeys {
  encKey: Buffer;
  hmacKey?: Buffer;
}

export interface KeyIo {
  /** Reads one key line from a file descriptor (0 for --stdin). */
  readFd: (fd: number) => Buffer;
  prompt: (text: string) => Promise<Buffer>;
  warn: (line: string) => void;
}

export const defaultKeyIo: KeyIo = { readFd: readLineFromFd, prompt: promptSecret, warn: () => {} };

/** The descriptor a key is read from (--stdin is fd 0), if any. */
function keyFdOf(req: RunRequest): number | undefined {
  return req.keyFromStdin ? 0 : req.keyFd;
}

/**
 * One read from the key descriptor per run: the C client closes the descriptor after the first
 * key, so a second key wanted from it fails with C's getpasswd() wording.
 */
function fdReader(io: KeyIo): (fd: number) => Buffer {
  let used = false;
  return (fd) => {
    if (used) {
      throw new FwknopError("FWK_ERR_CLIENT_KEY", BAD_FD_MESSAGE);
    }
    used = true;
    return io.readFd(fd);
  };
}

/** What every key lookup of one run shares. */
interface KeyLookup {
  req: RunRequest;
  io: KeyIo;
  /** Reads the key descriptor (once per run, see fdReader). */
  readFd: (fd: number) => Buffer;
  /** -D, for key files. */
  dest: string;
}

/**
 * The Rijndael key or the GPG signing passphrase: from its rc/command-line value (base64 form
 * checked), else --stdin, --fd, the key file, and last a prompt — the same order for both.
 */
async function secret(
  { req, io, readFd, dest }: KeyLookup,
  given: KeyText | undefined,
  base64Name: string,
  prompt: string,
): Promise<Buffer> {
  const s = req.settings;
  if (given) {
    const k = keyBytes(given);
    if (!k) {
      throw new FwknopError(
        "FWK_ERR_CLIENT_KEY",
        `${base64Name} value '${given.text}' doesn't look like base64-encoded data.`,
      );
    }
    const tooLong = keyLengthError("enc", given, k);
    if (tooLong) throw new FwknopError("FWK_ERR_CLIENT_KEY", tooLong);
    return k;
  }
  const fd = keyFdOf(req);
  if (fd !== undefined) return readFd(fd);
  if (s.keyFile !== undefined) return readKeyFile(s.keyFile, dest);
  return io.prompt(prompt);
}

/** GPG mode: the signing key's passphrase takes the key's place (none without a signer). */
async function signingPassphrase(k: KeyLookup): Promise<Buffer> {
  const s = k.req.settings;
  if (s.gpgSigner === undefined || s.gpgNoSigningPw || s.gpgAgent) return Buffer.alloc(0);
  const prompt = "Enter passphrase for signing: ";
  return secret(k, s.gpgSigningPw, "GPG_SIGNING_PW_BASE64", prompt);
}

/** The HMAC key: its value, else the HMAC key file, else --stdin/--fd, else a prompt (C's order). */
async function hmacSecret({ req, io, readFd, dest }: KeyLookup): Promise<Buffer> {
  const s = req.settings;
  if (s.hmacKey) {
    const k = keyBytes(s.hmacKey);
    if (!k)
      throw new FwknopError(
        "FWK_ERR_CLIENT_KEY",
        `HMAC_KEY_BASE64 value '${s.hmacKey.text}' doesn't look like base64-encoded data.`,
      );
    const tooLong = keyLengthError("hmac", s.hmacKey, k);
    if (tooLong) throw new FwknopError("FWK_ERR_CLIENT_KEY", tooLong);
    return k;
  }
  if (s.hmacKeyFile !== undefined) {
    const k = readKeyFile(s.hmacKeyFile, dest);
    if (k.length > MAX_CLIENT_KEY_LEN) {
      throw new FwknopError(
        "FWK_ERR_CLIENT_KEY",
        `[*] Invalid HMAC key length: '${k.length}', must be in [0,${MAX_CLIENT_KEY_LEN}]`,
      );
    }
    return k;
  }
  const fd = keyFdOf(req);
  if (fd !== undefined) return readFd(fd);
  return io.prompt("Enter HMAC key: ");
}

export async function gatherKeys(req: RunRequest, io: KeyIo): Promise<ClientKeys> {
  const s = req.settings;
  const lookup: KeyLookup = { req, io, readFd: fdReader(io), dest: s.destination ?? "" };
  let encKey = s.useGpg
    ? await signingPassphrase(lookup)
    : await secret(lookup, s.key, "KEY_BASE64", "Enter encryption key: ");
  if (encKey.length === 0 && !s.useGpg) {
    throw new FwknopError("FWK_ERR_CLIENT_KEY", "[*] getpasswd() key error: empty encryption key.");
  }

  if (s.encMode === "legacy" && encKey.length > 16) {
    // 2.6.10's three lines.
    io.warn(
      "WARNING: Encryption key in '-M legacy' mode must be <= 16 bytes\nlong - truncating before sending SPA packet. Upgrading remote\nfwknopd is recommended.",
    );
    encKey = encKey.subarray(0, 16);
  }
  if (!s.useHmac) return { encKey };

  const hmacKey = await hmacSecret(lookup);
  // An empty line on --fd/--stdin is taken as the (empty) HMAC key, as 2.6.10 takes it.
  const fromFd =
    s.hmacKey === undefined && s.hmacKeyFile === undefined && keyFdOf(req) !== undefined;
  if (hmacKey.length === 0 && !fromFd)
    throw new FwknopError("FWK_ERR_CLIENT_KEY", "[*] getpasswd() key error: empty HMAC key.");
  if (encKey.length > 0 && hmacKey.equals(encKey)) {
    throw new FwknopError(
      "FWK_ERR_CLIENT_KEY",
      "[*] The encryption passphrase and HMAC key should not be identical, no SPA packet sent. Exiting.",
    );
  }
  return { encKey, hmacKey };
}
