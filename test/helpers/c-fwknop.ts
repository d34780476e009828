/**
 * Drives the real fwknop 2.6.10 binaries for interop tests: builds `fwknop -T` command lines from
 * a combination of options, parses the "SPA Field Values" dump it prints, and locates fwknopd.
 * Every run uses a throw-away HOME and rc file so the host's own ~/.fwknoprc is never touched.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { b64Decode } from "../../src/crypto/base64.js";
import {
  type DigestName,
  hasTimeoutField,
  isMessageTypeId,
  parseDigestName,
  type SymmetricMode,
} from "../../src/protocol/constants.js";
import { type DecodedSpa, encodeSpa, type SpaKeys } from "../../src/protocol/spa.js";
import { run } from "../../src/sys/run.js";

export const C_FWKNOP = "/usr/bin/fwknop";
export const C_FWKNOPD = "/usr/sbin/fwknopd";

/** Why the C peer cannot be used here, or undefined when it can. */
export function missingCBinary(path: string): string | undefined {
  return existsSync(path) ? undefined : `${path} is not installed; this interop test needs it`;
}

/** One client invocation. Keys are text unless given as base64 (`encKeyB64`, `hmacKeyB64`). */
export interface CClientSpec {
  mode: SymmetricMode;
  digest: DigestName;
  hmac?: DigestName;
  encKey?: string;
  encKeyB64?: string;
  hmacKey?: string;
  hmacKeyB64?: string;
  user: string;
  allowIp: string;
  /** `-A` value, e.g. `tcp/22` or `tcp/22,udp/53`. */
  access: string;
  /** `-N host,port` (remote NAT) or, with natLocal, `--nat-local` (uses -D and the -A port). */
  nat?: string;
  natLocal?: boolean;
  /** `-f` client timeout. */
  timeout?: number;
  /** `-C` command (type 0). */
  command?: string;
  /** `-D` value (default 127.0.0.1); `--nat-local` also uses it as the NAT host. */
  server?: string;
}

export interface CClientRun {
  wire: string;
  /** The first "SPA Field Values" block: label → value (labels trimmed). */
  dump: Record<string, string>;
  stdout: string;
}

const MODE_ARG: Readonly<Record<SymmetricMode, string>> = {
  CBC: "cbc",
  ECB: "ecb",
  CFB: "cfb",
  OFB: "ofb",
  CTR: "ctr",
  legacy: "legacy",
};

export function clientArgv(spec: CClientSpec, rcFile: string): string[] {
  const a = ["-T", "-v", "--no-save-args", "--rc-file", rcFile];
  a.push("-D", spec.server ?? "127.0.0.1", "-U", spec.user, "-a", spec.allowIp);
  if (spec.command !== undefined) a.push("-C", spec.command);
  else a.push("-A", spec.access);
  a.push("-M", MODE_ARG[spec.mode], "-m", spec.digest);
  if (spec.encKeyB64 !== undefined) a.push("--key-base64-rijndael", spec.encKeyB64);
  else a.push("--key-rijndael", spec.encKey ?? "");
  if (spec.hmac) {
    a.push("--use-hmac", "--hmac-digest-type", spec.hmac);
    if (spec.hmacKeyB64 !== undefined) a.push("--key-base64-hmac", spec.hmacKeyB64);
    else a.push("--key-hmac", spec.hmacKey ?? "");
  }
  if (spec.timeout !== undefined) a.push("-f", String(spec.timeout));
  if (spec.natLocal) a.push("--nat-local");
  if (spec.nat !== undefined) a.push("-N", spec.nat);
  return a;
}

/** Parses the first `SPA Field Values:` block of `fwknop -T -v` output. */
export function parseFieldDump(stdout: string): Record<string, string> {
  const lines = stdout.split("\n");
  const start = lines.findIndex((l) => l.startsWith("SPA Field Values:"));
  const out: Record<string, string> = {};
  if (start < 0) return out;
  for (const line of lines.slice(start + 2)) {
    const m = /^\s*([A-Za-z ]+?): (.*)$/.exec(line);
    if (!m?.[1]) break;
    out[m[1]] = m[2] ?? "";
    if (m[1] === "Final SPA Data") break;
  }
  return out;
}

/** Runs `fwknop -T` once in a private HOME; throws if it printed no packet. */
export async function runCClient(spec: CClientSpec): Promise<CClientRun> {
  const home = mkdtempSync(join(tmpdir(), "fwk-cclient-"));
  try {
    const r = await run([C_FWKNOP, ...clientArgv(spec, join(home, "fwknoprc"))], {
      env: { HOME: home },
      timeoutMs: 20_000,
    });
    const dump = parseFieldDump(r.stdout);
    const wire = dump["Final SPA Data"];
    if (!wire) {
      throw new Error(`fwknop -T printed no packet (status ${r.code}): ${r.stderr}${r.stdout}`);
    }
    return { wire, dump, stdout: r.stdout };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** Runs many client invocations with a small concurrency limit (the machine has 2 cores). */
export async function runCClients(
  specs: readonly CClientSpec[],
  parallel = 4,
): Promise<CClientRun[]> {
  const out: CClientRun[] = new Array(specs.length);
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const i = next++;
      const spec = specs[i];
      if (spec) out[i] = await runCClient(spec);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

/** The keys a stanza would need to accept what `spec` produced. */
export function keysForSpec(spec: CClientSpec): SpaKeys {
  const encKey =
    spec.encKeyB64 !== undefined
      ? Buffer.from(spec.encKeyB64, "base64")
      : Buffer.from(spec.encKey ?? "", "utf8");
  const keys: SpaKeys = { encKey, encMode: spec.mode };
  if (spec.hmac) {
    keys.hmacType = spec.hmac;
    keys.hmacKey =
      spec.hmacKeyB64 !== undefined
        ? Buffer.from(spec.hmacKeyB64, "base64")
        : Buffer.from(spec.hmacKey ?? "", "utf8");
  }
  return keys;
}

/** The decoded fields the client's own dump promises, in our DecodedSpa shape. */
export function decodedFromDump(dump: Readonly<Record<string, string>>): DecodedSpa {
  const need = (k: string): string => {
    const v = dump[k];
    if (v === undefined) throw new Error(`dump has no "${k}" line`);
    return v;
  };
  const optional = (k: string): string | undefined => (need(k) === "<NULL>" ? undefined : need(k));
  const type = Number.parseInt(need("Message Type"), 10);
  const digestName = /\((\w+)\)/.exec(need("Digest Type"))?.[1]?.toLowerCase() ?? "";
  const digestType = parseDigestName(digestName);
  if (!isMessageTypeId(type) || !digestType) throw new Error("unparsable dump");
  const out: DecodedSpa = {
    randomValue: need("Random Value"),
    username: need("Username"),
    timestamp: Number(need("Timestamp")),
    version: need("FKO Version"),
    messageType: type,
    message: need("Message String"),
    digestType,
    digest: need("SPA Data Digest"),
    encoded: need("Encoded Data"),
  };
  const nat = optional("Nat Access");
  if (nat !== undefined) out.natAccess = nat;
  const auth = optional("Server Auth");
  if (auth !== undefined) out.serverAuth = auth;
  if (hasTimeoutField(type)) out.clientTimeout = Number(need("Client Timeout"));
  return out;
}

/**
 * Re-encodes a decoded C-client packet with our encoder, reusing the salt found in its
 * ciphertext: byte-exact agreement with the client's wire string proves the encoder, not just
 * the decoder.
 */
export function reencode(wire: string, decoded: DecodedSpa, keys: SpaKeys): string | undefined {
  const salt = b64Decode(`U2FsdGVkX1${wire}`)?.subarray(8, 16);
  if (salt?.length !== 8) return undefined;
  const { digestType, digest: _digest, encoded: _encoded, ...msg } = decoded;
  const r = encodeSpa(msg, keys, { digestType, salt, allowUndecryptable: true });
  return r.ok ? r.value.wire : undefined;
}
