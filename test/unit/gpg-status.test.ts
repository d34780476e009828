/**
 * The `[GNUPG:]` status-line parser, fed with what gpg 2.2.40 printed for real messages
 * (trimmed of KEY_CONSIDERED noise), and the gpg process limiter.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { gpgDecryptArgv, parseGpgStatus, RunLimiter } from "../../src/crypto/gpg.js";

const S = (...lines: string[]) => lines.map((l) => `[GNUPG:] ${l}\n`).join("");
const FPR_B = "F588467751A2D87FE55160EFFCDC37A96F2A7CF7";
const FPR_C = "8F9F94E7BE577C38C507A58001E8E2C84C0922DD";
const HEAD = S(
  "ENC_TO E2DB202025027C7D 1 0",
  "DECRYPTION_KEY F830BF3231DE191D8D428965E2DB202025027C7D F830BF3231DE191D8D428965E2DB202025027C7D u",
  "BEGIN_DECRYPTION",
  "DECRYPTION_INFO 2 9 0",
  "PLAINTEXT 62 1795773974 pt",
  "PLAINTEXT_LENGTH 39",
);
const TAIL = S("DECRYPTION_OKAY", "GOODMDC", "END_DECRYPTION");

test("encrypted and signed by a known key of undefined trust", () => {
  const r = parseGpgStatus(
    HEAD +
      S(
        "NEWSIG b@e",
        "SIG_ID IVMas+6h+qHu7HJnQLPyinU7+PA 2026-11-27 1795773974",
        "GOODSIG FCDC37A96F2A7CF7 b <b@e>",
        `VALIDSIG ${FPR_B} 2026-11-27 1795773974 0 4 0 1 10 00 ${FPR_B}`,
        "TRUST_UNDEFINED 0 pgp",
      ) +
      TAIL,
  );
  assert.deepEqual(r, {
    decrypted: true,
    signatures: [{ fingerprint: FPR_B, keyId: "FCDC37A96F2A7CF7", valid: false, status: "good" }],
  });
});

test("trust marginal or better makes the signature valid", () => {
  for (const [trust, valid] of [
    ["TRUST_NEVER", false],
    ["TRUST_MARGINAL", true],
    ["TRUST_FULLY", true],
    ["TRUST_ULTIMATE 0 pgp", true],
  ] as const) {
    const r = parseGpgStatus(
      HEAD + S("NEWSIG", "GOODSIG FCDC37A96F2A7CF7 b", `VALIDSIG ${FPR_B} x`, trust) + TAIL,
    );
    assert.equal(r.signatures[0]?.valid, valid, trust);
  }
});

test("a signer whose public key is missing: ERRSIG rc 9 with its fingerprint", () => {
  const r = parseGpgStatus(
    HEAD +
      S(
        "NEWSIG c@e",
        `ERRSIG 01E8E2C84C0922DD 1 10 00 1795773977 9 ${FPR_C}`,
        "NO_PUBKEY 01E8E2C84C0922DD",
      ) +
      TAIL,
  );
  assert.equal(r.decrypted, true);
  assert.deepEqual(r.signatures, [
    { fingerprint: FPR_C, keyId: "01E8E2C84C0922DD", valid: false, status: "missing-key" },
  ]);
});

test("bad, expired and revoked signatures; other ERRSIG codes are errors", () => {
  const r = parseGpgStatus(
    HEAD +
      S(
        "NEWSIG",
        "BADSIG AAAAAAAAAAAAAAAA x",
        "NEWSIG",
        "EXPKEYSIG BBBBBBBBBBBBBBBB y",
        `VALIDSIG ${FPR_B} x`,
        "TRUST_FULLY",
        "NEWSIG",
        "REVKEYSIG CCCCCCCCCCCCCCCC z",
        "ERRSIG DDDDDDDDDDDDDDDD 1 10 00 1795773977 4",
      ) +
      TAIL,
  );
  assert.deepEqual(
    r.signatures.map((s) => [s.status, s.keyId, s.fingerprint, s.valid]),
    [
      ["bad", "AAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAA", false],
      ["expired", "BBBBBBBBBBBBBBBB", FPR_B, true],
      ["revoked", "CCCCCCCCCCCCCCCC", "CCCCCCCCCCCCCCCC", false],
      ["error", "DDDDDDDDDDDDDDDD", "DDDDDDDDDDDDDDDD", false],
    ],
  );
});

test("unsigned: decrypted, no signatures", () => {
  assert.deepEqual(parseGpgStatus(HEAD + TAIL), { decrypted: true, signatures: [] });
});

test("a signed but unencrypted message is not a decryption", () => {
  const r = parseGpgStatus(
    S("PLAINTEXT 62 1 pt", "NEWSIG", "GOODSIG FCDC37A96F2A7CF7 b", `VALIDSIG ${FPR_B} x`),
  );
  assert.equal(r.decrypted, false);
  assert.equal(r.failure, undefined);
});

test("failures: wrong passphrase, no secret key, no OpenPGP data, algorithm, corrupt", () => {
  const cases: [string, string | undefined][] = [
    [
      S(
        "ENC_TO 62E4E1A9D7446DBC 1 0",
        "ERROR pkdecrypt_failed 67108875",
        "BEGIN_DECRYPTION",
        "DECRYPTION_FAILED",
        "END_DECRYPTION",
      ),
      "FKO_ERROR_GPGME_BAD_PASSPHRASE",
    ],
    [
      S("ENC_TO 62E4E1A9D7446DBC 1 0", "NO_SECKEY 62E4E1A9D7446DBC", "DECRYPTION_FAILED"),
      "FKO_ERROR_GPGME_DECRYPT_FAILED",
    ],
    [S("NODATA 3"), "FKO_ERROR_GPGME_DECRYPT_FAILED"],
    [S("ERROR decrypt.algorithm 33554437 99"), "FKO_ERROR_GPGME_DECRYPT_UNSUPPORTED_ALGORITHM"],
    // zlib failure: gpg dies after BEGIN_DECRYPTION and says nothing more.
    [S("ENC_TO E2DB202025027C7D 1 0", "BEGIN_DECRYPTION", "DECRYPTION_INFO 2 9 0"), undefined],
  ];
  for (const [text, code] of cases) {
    const r = parseGpgStatus(text);
    assert.equal(r.decrypted, false, text);
    assert.equal(r.failure?.code, code, text);
  }
  // DECRYPTION_FAILED wins over an earlier DECRYPTION_OKAY.
  assert.equal(parseGpgStatus(S("DECRYPTION_OKAY", "DECRYPTION_FAILED")).decrypted, false);
});

test("only lines that start with the status prefix count", () => {
  const r = parseGpgStatus(`gpg: [GNUPG:] DECRYPTION_OKAY\n x[GNUPG:] GOODSIG 1 x\n${S("NEWSIG")}`);
  assert.equal(r.decrypted, false);
  assert.deepEqual(r.signatures, [{ fingerprint: "", keyId: "", valid: false, status: "error" }]);
});

test("argv: no shell, status and passphrase on their own fds, bounded output", () => {
  const argv = gpgDecryptArgv({
    exe: "/usr/bin/gpg",
    homeDir: "/h",
    decryptId: "ABCD",
    timeoutMs: 1,
  });
  assert.equal(argv[0], "/usr/bin/gpg");
  for (const pair of [
    ["--homedir", "/h"],
    ["--status-fd", "2"],
    ["--log-file", "/dev/null"],
    ["--pinentry-mode", "loopback"],
    ["--passphrase-fd", "3"],
    ["--max-output", "4096"],
    ["--try-secret-key", "ABCD"],
  ]) {
    const i = argv.indexOf(pair[0] as string);
    assert.ok(i > 0 && argv[i + 1] === pair[1], `${pair.join(" ")} in ${argv.join(" ")}`);
  }
  assert.equal(argv.at(-1), "--decrypt");
  assert.ok(!gpgDecryptArgv({ exe: "g", timeoutMs: 1 }).includes("--homedir"));
});

test("RunLimiter: two run, the queue holds the next, the rest are refused", async () => {
  const l = new RunLimiter(2, 2);
  assert.equal(await l.acquire(), true);
  assert.equal(await l.acquire(), true);
  const order: number[] = [];
  const waiting = [l.acquire(), l.acquire()].map((p, i) =>
    p.then((v) => {
      order.push(i);
      return v;
    }),
  );
  assert.equal(await l.acquire(), false, "queue full");
  l.release();
  l.release();
  assert.deepEqual(await Promise.all(waiting), [true, true]);
  assert.deepEqual(order, [0, 1]);
  l.release();
  l.release();
  // Both slots are free again; a third caller waits.
  assert.equal(await l.acquire(), true);
  assert.equal(await l.acquire(), true);
  const third = l.acquire();
  const early = await Promise.race([third, new Promise((r) => setImmediate(() => r("waiting")))]);
  assert.equal(early, "waiting");
  l.release();
  assert.equal(await third, true);
});
