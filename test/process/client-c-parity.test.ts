/**
 * The same command lines given to the C fwknop 2.6.10 client and to ours (both with -T) must
 * build packets with the same fields, apart from the random value and the timestamp. Our packet
 * is also decoded again with the stanza keys to prove the dump tells the truth about the wire.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseEncryptionMode } from "../../src/protocol/constants.js";
import { parseSpaDump } from "../../src/protocol/dump.js";
import { decodeSpa } from "../../src/protocol/spa.js";
import { run } from "../../src/sys/run.js";

const OUR_FWKNOP = fileURLToPath(new URL("../../../bin/fwknop", import.meta.url));
const C_FWKNOP = "/usr/bin/fwknop";

interface Case {
  args: string[];
  encKey: Buffer;
  hmacKey?: Buffer;
}

const K64 = Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");
const H64 = Buffer.from("hmac-key-for-parity-tests-000000").toString("base64");

const CASES: Case[] = [
  {
    args: ["-A", "tcp/22", "-a", "1.2.3.4", "--key-rijndael", "secret", "--key-hmac", "hmackey"],
    encKey: Buffer.from("secret"),
    hmacKey: Buffer.from("hmackey"),
  },
  {
    args: [
      ...["-A", "tcp/22,udp/53", "-a", "10.0.0.1", "-m", "sha512", "--hmac-digest-type", "sha384"],
      ...["-M", "cfb", "--key-base64-rijndael", K64, "--key-base64-hmac", H64, "-f", "30"],
      ...["-U", "bob"],
    ],
    encKey: Buffer.from(K64, "base64"),
    hmacKey: Buffer.from(H64, "base64"),
  },
  {
    args: ["-C", "echo hi", "-a", "1.2.3.4", "--key-rijndael", "k", "-f", "60"],
    encKey: Buffer.from("k"),
  },
  {
    args: [
      ...["-A", "tcp/22", "-a", "1.2.3.4", "-N", "10.0.0.5:80", "-f", "60", "-M", "ctr"],
      ...["--key-rijndael", "k", "-m", "sha1"],
    ],
    encKey: Buffer.from("k"),
  },
  {
    args: [
      ...["-A", "tcp/22", "-a", "1.2.3.4", "--nat-local", "--nat-port", "3333", "-M", "ofb"],
      ...["--key-rijndael", "k", "--key-hmac", "h", "--hmac-digest-type", "md5"],
    ],
    encKey: Buffer.from("k"),
    hmacKey: Buffer.from("h"),
  },
  {
    args: ["-A", "tcp/22", "-s", "-M", "legacy", "--key-rijndael", "short", "-m", "md5"],
    encKey: Buffer.from("short"),
  },
  {
    args: [
      ...["-A", "udp/500", "-a", "192.0.2.9", "--time-offset-minus", "2h", "-m", "sha3_256"],
      ...["--hmac-digest-type", "sha3_512", "--key-hmac", "x", "--key-rijndael", "y", "-M", "ecb"],
    ],
    encKey: Buffer.from("y"),
    hmacKey: Buffer.from("x"),
  },
];

/** Labels whose values depend on the random value, the timestamp or the salt. */
const VARYING = new Set([
  "Random Value",
  "Timestamp",
  "Encoded Data",
  "SPA Data Digest",
  "HMAC",
  "Final SPA Data",
]);

async function dumpOf(argv0: string[], args: string[], home: string): Promise<Map<string, string>> {
  const r = await run([...argv0, "-T", "-D", "127.0.0.1", "--rc-file", join(home, "rc"), ...args], {
    env: { HOME: home },
    timeoutMs: 15_000,
  });
  assert.equal(r.code, 0, `${argv0.join(" ")} ${args.join(" ")}: ${r.stderr}`);
  return parseSpaDump(r.stdout);
}

/** The encoded message without its random value (field 1) and timestamp (field 3). */
function stableFields(encoded: string | undefined): string {
  const f = (encoded ?? "").split(":");
  return [f[1], ...f.slice(3)].join(":");
}

test("C fwknop and ours build the same fields from the same command line", async (t) => {
  if (!existsSync(C_FWKNOP)) assert.fail(`${C_FWKNOP} (fwknop-client 2.6.10) is not installed`);
  const home = mkdtempSync(join(tmpdir(), "fwk-parity-"));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  writeFileSync(join(home, "rc"), "[default]\n", { mode: 0o600 });
  for (const c of CASES) {
    const theirs = await dumpOf([C_FWKNOP], c.args, home);
    const ours = await dumpOf([process.execPath, OUR_FWKNOP], c.args, home);
    const label = c.args.join(" ");
    assert.ok(theirs.size === 17, `C dump incomplete for ${label}`);
    for (const [k, v] of theirs) {
      if (!VARYING.has(k)) assert.equal(ours.get(k), v, `${k} differs for ${label}`);
    }
    assert.equal(
      stableFields(ours.get("Encoded Data")),
      stableFields(theirs.get("Encoded Data")),
      `encoded message differs for ${label}`,
    );
    const tsDiff = Number(ours.get("Timestamp")) - Number(theirs.get("Timestamp"));
    assert.ok(Math.abs(tsDiff) <= 5, `timestamps ${tsDiff} s apart for ${label}`);

    const mode = parseEncryptionMode(
      /\((\w+)\)/.exec(ours.get("Encryption Mode") ?? "")?.[1] ?? "",
    );
    assert.ok(mode);
    const hmacType = /\((\w+)\)/.exec(ours.get("HMAC Type") ?? "")?.[1]?.toLowerCase();
    const decoded = decodeSpa(ours.get("Final SPA Data") ?? "", {
      encKey: c.encKey,
      encMode: mode,
      ...(c.hmacKey && hmacType ? { hmacKey: c.hmacKey, hmacType: hmacType as "sha256" } : {}),
    });
    assert.ok(
      decoded.ok,
      `our wire does not decode for ${label}: ${decoded.ok ? "" : decoded.detail}`,
    );
    assert.equal(decoded.value.encoded, ours.get("Encoded Data"));
  }
});
