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
import { type KeyText, keyBytes, MAX_CLIENT_KEY_LEN } from "./settings.js";

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
      throw new FwknopError(
        "FWK_ERR_CLIENT_KEY",
        `Cannot read the key from fd ${fd}: ${(e as Error).message}`,
      );
    }
    if (n === 0 || b[0] === 0x0a || out.length > MAX_CLIENT_KEY_LEN) break;
    out.push(b[0] as number);
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

/**
 * The Rijndael key or the GPG signing passphrase: from its rc/command-line value (base64 form
 * checked), else --stdin, --fd, the key file, and last a prompt — the same order for both.
 */
async function secret(
  req: RunRequest,
  io: KeyIo,
  dest: string,
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
    return k;
  }
  if (req.keyFromStdin) return io.readFd(0);
  if (req.keyFd !== undefined) return io.readFd(req.keyFd);
  if (s.keyFile !== undefined) return readKeyFile(s.keyFile, dest);
  return io.prompt(prompt);
}

function encryptionKey(req: RunRequest, io: KeyIo, dest: string): Promise<Buffer> {
  return secret(req, io, dest, req.settings.key, "KEY_BASE64", "Enter encryption key: ");
}

/** GPG mode: the signing key's passphrase takes the key's place (none without a signer). */
async function signingPassphrase(req: RunRequest, io: KeyIo, dest: string): Promise<Buffer> {
  const s = req.settings;
  if (s.gpgSigner === undefined || s.gpgNoSigningPw || s.gpgAgent) return Buffer.alloc(0);
  return secret(
    req,
    io,
    dest,
    s.gpgSigningPw,
    "GPG_SIGNING_PW_BASE64",
    "Enter passphrase for signing: ",
  );
}

export async function gatherKeys(req: RunRequest, io: KeyIo): Promise<ClientKeys> {
  const s = req.settings;
  const dest = s.destination ?? "";
  let encKey = s.useGpg
    ? await signingPassphrase(req, io, dest)
    : await encryptionKey(req, io, dest);
  if (encKey.length === 0 && !s.useGpg) {
    throw new FwknopError("FWK_ERR_CLIENT_KEY", "[*] getpasswd() key error: empty encryption key.");
  }

  if (s.encMode === "legacy" && encKey.length > 16) {
    io.warn("[*] legacy encryption mode: the key is truncated to 16 bytes.");
    encKey = encKey.subarray(0, 16);
  }
  if (!s.useHmac) return { encKey };

  let hmacKey: Buffer | undefined;
  if (s.hmacKey) {
    hmacKey = keyBytes(s.hmacKey);
    if (!hmacKey)
      throw new FwknopError(
        "FWK_ERR_CLIENT_KEY",
        `HMAC_KEY_BASE64 value '${s.hmacKey.text}' doesn't look like base64-encoded data.`,
      );
  } else if (s.hmacKeyFile !== undefined) hmacKey = readKeyFile(s.hmacKeyFile, dest);
  else hmacKey = await io.prompt("Enter HMAC key: ");
  if (hmacKey.length === 0)
    throw new FwknopError("FWK_ERR_CLIENT_KEY", "[*] getpasswd() key error: empty HMAC key.");
  if (hmacKey.length > MAX_CLIENT_KEY_LEN)
    throw new FwknopError(
      "FWK_ERR_CLIENT_KEY",
      `HMAC key is ${hmacKey.length} bytes, at most ${MAX_CLIENT_KEY_LEN}`,
    );
  if (encKey.length > 0 && hmacKey.equals(encKey)) {
    throw new FwknopError(
      "FWK_ERR_CLIENT_KEY",
      "[*] The encryption passphrase and HMAC key should not be identical, no SPA packet sent. Exiting.",
    );
  }
  return { encKey, hmacKey };
}
