/**
 * gpgDecrypt() against the real gpg binary: a passphrase-protected key, hostile input (corrupt,
 * junk, signed but not encrypted, a compression bomb), a missing or hanging gpg, and the bound on
 * concurrent gpg processes. Every failure must come back as a Rejection, never a throw.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { type GpgDecryptOptions, gpgDecrypt } from "../../src/crypto/gpg.js";
import { run, runChecked } from "../../src/sys/run.js";

const GPG = "/usr/bin/gpg";
const PW = "correct horse";
const TEXT = "1234567890123456:cm9vdA:1795770000:3.0.0:1:MS4xLjEuMSx0Y3AvMjI:digest";
let base = "";
let home = "";
let opts: GpgDecryptOptions;

function gpg(args: string[], input: string | Buffer) {
  const argv = [GPG, "--homedir", home, "--batch", "--pinentry-mode", "loopback", ...args];
  return runChecked(argv, { input });
}

/** gpg output as bytes (run() returns text, which would mangle binary OpenPGP data). */
async function gpgArmored(args: string[], input: string | Buffer): Promise<Buffer> {
  const armored = (await gpg(["--armor", "--trust-model", "always", ...args], input)).stdout;
  const body = armored
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("-----") && !l.startsWith("=") && !l.includes(": "));
  return Buffer.from(body.join(""), "base64");
}

before(async () => {
  if (!existsSync(GPG)) assert.fail(`${GPG} is missing: apt-get install gnupg`);
  base = mkdtempSync("/tmp/fwgd-");
  home = `${base}/h`;
  mkdirSync(home, { mode: 0o700 });
  await gpg(
    ["--passphrase", PW, "--quick-gen-key", "s <s@e>", "rsa2048", "sign,encrypt", "never"],
    "",
  );
  opts = { exe: GPG, homeDir: home, passphrase: Buffer.from(PW), timeoutMs: 10_000 };
});

after(async () => {
  if (home) await run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"]);
  if (base) rmSync(base, { recursive: true, force: true });
});

test("wrong passphrase is refused, the right one decrypts and the signature is reported", async () => {
  const sealed = await gpgArmored(
    ["--passphrase", PW, "--encrypt", "--sign", "-r", "s@e", "-u", "s@e"],
    TEXT,
  );
  // gpg-agent caches a passphrase once used (key generation, signing): start afresh, and try
  // the wrong one first.
  await run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"]);
  const wrong = await gpgDecrypt(sealed, { ...opts, passphrase: Buffer.from("nope") });
  assert.equal(wrong.ok ? "ok" : wrong.code, "FKO_ERROR_GPGME_BAD_PASSPHRASE");
  const r = await gpgDecrypt(sealed, opts);
  assert.ok(r.ok, r.ok ? "" : `${r.code}: ${r.detail}`);
  assert.equal(r.value.plaintext.toString(), TEXT);
  assert.equal(r.value.signatures.length, 1);
  const [sig] = r.value.signatures;
  assert.equal(sig?.status, "good");
  assert.equal(sig?.valid, true, "own key: ultimate trust");
  assert.match(sig?.fingerprint ?? "", /^[0-9A-F]{40}$/);
});

test("corrupt, junk and signed-only input are Rejections", async () => {
  const sealed = await gpgArmored(["--encrypt", "-r", "s@e"], TEXT);
  const corrupt = Buffer.from(sealed);
  corrupt[corrupt.length - 30] = (corrupt[corrupt.length - 30] ?? 0) ^ 0xff;
  const junk = Buffer.concat([Buffer.from([0x85, 0x01, 0x0c]), randomBytes(700)]);
  const signedOnly = await gpgArmored(["--passphrase", PW, "--sign", "-u", "s@e"], TEXT);
  for (const [name, input] of [
    ["corrupt", corrupt],
    ["junk", junk],
    ["signed only", signedOnly],
    ["empty", Buffer.alloc(0)],
  ] as const) {
    const r = await gpgDecrypt(input, opts);
    assert.equal(r.ok ? "ok" : r.code, "FKO_ERROR_GPGME_DECRYPT_FAILED", name);
  }
});

test("a compression bomb yields at most --max-output bytes", async () => {
  const bomb = await gpgArmored(
    ["--encrypt", "-r", "s@e", "--compress-algo", "bzip2", "-z", "9"],
    Buffer.alloc(5_000_000),
  );
  assert.ok(bomb.length < 1500, `bomb is ${bomb.length} bytes`);
  const r = await gpgDecrypt(bomb, opts);
  assert.ok(!r.ok || r.value.plaintext.length <= 4096);
});

test("a missing gpg and a hanging gpg are Rejections", async () => {
  const missing = await gpgDecrypt(Buffer.from("x"), { ...opts, exe: `${base}/no-such-gpg` });
  assert.equal(missing.ok ? "ok" : missing.code, "FKO_ERROR_GPGME_BAD_GPG_EXE");
  const hang = `${base}/hang`;
  writeFileSync(hang, "#!/bin/sh\nexec sleep 5\n", { mode: 0o755 });
  const t0 = Date.now();
  const r = await gpgDecrypt(Buffer.from("x"), { ...opts, exe: hang, timeoutMs: 300 });
  assert.equal(r.ok ? "ok" : r.code, "FWK_ERR_GPG_TIMEOUT");
  assert.ok(Date.now() - t0 < 2000);
});

test("a flood: two gpg runs at a time, eight wait, the rest are dropped at once", async () => {
  const slow = `${base}/slow`;
  const log = `${base}/runs`;
  // Appends a line per start and per end, so the test can see how many ran at once.
  writeFileSync(slow, `#!/bin/sh\necho + >> ${log}\nsleep 0.15\necho - >> ${log}\n`, {
    mode: 0o755,
  });
  writeFileSync(log, "");
  const results = await Promise.all(
    Array.from({ length: 14 }, () => gpgDecrypt(Buffer.from("x"), { ...opts, exe: slow })),
  );
  const codes = results.map((r) => (r.ok ? "ok" : r.code));
  assert.equal(codes.filter((c) => c === "FWK_ERR_GPG_BUSY").length, 4, codes.join(" "));
  assert.equal(codes.filter((c) => c === "FKO_ERROR_GPGME_DECRYPT_FAILED").length, 10);
  let running = 0;
  let peak = 0;
  for (const ch of readFileSync(log, "utf8").split("\n")) {
    running += ch === "+" ? 1 : ch === "-" ? -1 : 0;
    peak = Math.max(peak, running);
  }
  assert.equal(peak, 2);
});
