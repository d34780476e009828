/**
 * Our fwknop as a process: error lines and exit codes, ~/.fwknoprc handling (auto-creation,
 * permission warnings, bad lines, stanza save and reuse, round trips with the C client),
 * ~/.fwknop.run (--show-last, -l) and --key-gen output.
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseSpaDump } from "../../src/protocol/dump.js";
import { run } from "../../src/sys/run.js";

const OUR_FWKNOP = fileURLToPath(new URL("../../../bin/fwknop", import.meta.url));
const C_FWKNOP = "/usr/bin/fwknop";

function tempHome(t: { after: (fn: () => void) => void }): string {
  const home = mkdtempSync(join(tmpdir(), "fwk-cli-"));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

function ours(home: string, args: readonly string[], input = "") {
  return run([process.execPath, OUR_FWKNOP, ...args], {
    env: { HOME: home },
    input,
    timeoutMs: 15_000,
  });
}

function theirs(home: string, args: readonly string[]) {
  if (!existsSync(C_FWKNOP)) assert.fail(`${C_FWKNOP} (fwknop-client 2.6.10) is not installed`);
  return run([C_FWKNOP, ...args], { env: { HOME: home }, timeoutMs: 15_000 });
}

const KNOCK = ["-A", "tcp/22", "-a", "1.2.3.4", "--key-rijndael", "k", "-T"];

test("bad options: one error line, exit status 1", async (t) => {
  const home = tempHome(t);
  const cases: [string[], RegExp][] = [
    [["--bogus"], /^fwknop: unrecognized option '--bogus'$/],
    [["-z"], /^fwknop: invalid option -- 'z'$/],
    [["--ver"], /^fwknop: option '--ver' is ambiguous; possibilities: '--verbose' '--version'$/],
    [["-A"], /^fwknop: option requires an argument -- 'A'$/],
    [["--acc"], /^fwknop: option '--access' requires an argument$/],
    [["--test=1"], /^fwknop: option '--test' doesn't allow an argument$/],
    [[...KNOCK, "-p", "70000"], /^\[\*\] Value 70000 out of range \[\(0\)-\(65535\)\]$/],
    [[...KNOCK, "-m", "foo"], /^\* Invalid digest type: foo, use/],
    [[...KNOCK, "-M", "pcbc"], /^\* Invalid encryption mode: pcbc/],
    [[...KNOCK, "-f", "abc"], /^--fw-timeout must be within \[0-131072\]$/],
    [[...KNOCK, "-P", "sctp"], /^Unrecognized protocol: sctp/],
    [[...KNOCK, "--time-offset-plus", "abc"], /^Invalid time offset: 'abc'$/],
    [["-A", "tcp/22", "--key-rijndael", "k", "-T"], /^Must use one of \[-s\|-R\|-a\]/],
    [["-A", "tcp/22", "-a", "1.2.3.4.5", "--key-rijndael", "k", "-T"], /^Invalid allow IP/],
    [["-A", "tcp/22", "-a", "2001:db8::1::2", "--key-rijndael", "k", "-T"], /^Invalid allow IP/],
    [["-A", "tcp/22", "-a", "1.2.3.4", "--key-rijndael", "k"], /^Must use --destination/],
    [[...KNOCK, "-M", "legacy", "--key-hmac", "h"], /^Legacy encryption mode is incompatible/],
    [[...KNOCK, "--key-hmac", "k"], /should not be identical/],
    [[...KNOCK, "-Q", "1.1.1.1"], /^Must set -P <udpraw\|tcpraw\|icmp>/],
    [[...KNOCK, "-P", "udpraw", "-Q", "1.1.1"], /^Invalid spoof IP$/],
    [[...KNOCK, "-g"], /^Must specify --gpg-recipient-key when GPG is used\.$/],
    [["--no-rc-file", "--stanza-list"], /^Cannot list stanzas in --no-rc-file mode\.$/],
  ];
  for (const [args, re] of cases) {
    const r = await ours(home, ["--no-save-args", ...args]);
    assert.equal(r.code, 1, `${args.join(" ")} should fail`);
    const lines = r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("[*] Creating"));
    assert.equal(lines.length, 1, `${args.join(" ")}: expected one line, got:\n${r.stderr}`);
    assert.match(lines[0] as string, re, args.join(" "));
  }
});

test("rc file: created 0600 when missing, permission warning, bad lines are fatal", async (t) => {
  const home = tempHome(t);
  const rc = join(home, ".fwknoprc");
  const first = await ours(home, KNOCK);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /\[\*\] Creating initial rc file: .*\.fwknoprc\./);
  assert.equal(statSync(rc).mode & 0o777, 0o600);

  writeFileSync(rc, "[default]\nSPA_SERVER_PORT 1234\n");
  chmodSync(rc, 0o644);
  const warned = await ours(home, KNOCK);
  assert.equal(warned.code, 0);
  assert.match(warned.stderr, /permissions should only be user read\/write \(0600, -rw-------\)/);

  const bad: [string, RegExp][] = [
    ["[default]\nFOO bar\n", /^Parameter error in .*, line 2: var=FOO, val=bar$/],
    ["[default]\nFW_TIMEOUT 99999\n", /^Parameter error in .*, line 2: var=FW_TIMEOUT, val=99999$/],
    ["[default]\naccess tcp/22\n", /var=access/],
    ["[default]\nACCESS\n", /^\*Invalid entry in 'ACCESS'/],
  ];
  for (const [text, re] of bad) {
    writeFileSync(rc, text);
    chmodSync(rc, 0o600);
    const r = await ours(home, KNOCK);
    assert.equal(r.code, 1, text);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr.trim(), re);
  }
  // A broken stanza that is not in use does not matter, as upstream.
  writeFileSync(rc, "[default]\n[other]\nbogus line here\n", { mode: 0o600 });
  assert.equal((await ours(home, KNOCK)).code, 0);
  const missing = await ours(home, [...KNOCK, "-n", "nope"]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim(), "Named configuration stanza: [nope] was not found.");
});

test("--save-rc-stanza then -n rebuilds the same message; --stanza-list lists it", async (t) => {
  const home = tempHome(t);
  const args = [
    ...["-A", "tcp/22,udp/53", "-a", "10.1.2.3", "-D", "srv.example", "-p", "12345", "-P", "tcp"],
    ...["-m", "sha512", "--hmac-digest-type", "sha384", "-M", "cfb", "-f", "30"],
    ...["--key-rijndael", "secret", "--key-base64-hmac", "aG1hY2tleQ==", "-U", "bob"],
    ...["--time-offset-plus", "5m"],
  ];
  const saved = await ours(home, [...args, "-n", "mysrv", "--save-rc-stanza", "-T"]);
  assert.equal(saved.code, 0, saved.stderr);
  const rc = readFileSync(join(home, ".fwknoprc"), "utf8");
  assert.match(rc, /\n\[mysrv\]\nDIGEST_TYPE {17}SHA512\nSPA_SERVER_PROTO {12}tcp\n/);
  assert.match(rc, /\nTIME_OFFSET {17}300\n/);
  assert.match(rc, /\nHMAC_KEY_BASE64 {13}aG1hY2tleQ==\nUSE_HMAC {20}Y\n/);
  const reused = await ours(home, ["-n", "mysrv", "-T"]);
  assert.equal(reused.code, 0, reused.stderr);
  const a = parseSpaDump(saved.stdout);
  const b = parseSpaDump(reused.stdout);
  for (const k of [
    "Message Type",
    "Message String",
    "Client Timeout",
    "Digest Type",
    "HMAC Type",
  ]) {
    assert.equal(b.get(k), a.get(k), k);
  }
  assert.equal(b.get("Encryption Mode"), "3 (CFB)");
  assert.equal(b.get("Username"), "bob");
  const list = await ours(home, ["--stanza-list"]);
  assert.match(list.stdout, /The following stanzas are configured in .*\.fwknoprc :\n - mysrv\n$/);

  // Merging into the stanza keeps what the command line does not mention.
  const merged = await ours(home, ["-n", "mysrv", "-A", "tcp/2222", "--save-rc-stanza", "-T"]);
  assert.equal(merged.code, 0, merged.stderr);
  const b2 = parseSpaDump((await ours(home, ["-n", "mysrv", "-T"])).stdout);
  assert.equal(b2.get("Message String"), "10.1.2.3,tcp/2222");
  // A critical variable is only replaced after a "y" (or with --force-stanza).
  await ours(home, ["-n", "mysrv", "--key-rijndael", "other", "--save-rc-stanza", "-T"], "n\n");
  assert.match(readFileSync(join(home, ".fwknoprc"), "utf8"), /\nKEY {25}secret\n/);
  await ours(home, ["-n", "mysrv", "--key-rijndael", "other", "--save-rc-stanza", "-T"], "y\n");
  assert.match(readFileSync(join(home, ".fwknoprc"), "utf8"), /\nKEY {25}other\n/);
});

test("rc stanzas round-trip between the C client and ours", async (t) => {
  const home = tempHome(t);
  const args = [
    ...["-A", "tcp/22", "-a", "10.9.8.7", "-D", "127.0.0.1", "-m", "sha384", "-M", "ofb"],
    ...[
      "--key-rijndael",
      "rtkey",
      "--key-hmac",
      "rthmac",
      "--hmac-digest-type",
      "sha1",
      "-f",
      "45",
    ],
  ];
  const cSaved = await theirs(home, [...args, "-n", "fromc", "--save-rc-stanza", "-T"]);
  assert.equal(cSaved.code, 0, cSaved.stderr);
  const oSaved = await ours(home, [...args, "-n", "fromus", "--save-rc-stanza", "-T"]);
  assert.equal(oSaved.code, 0, oSaved.stderr);
  const want = parseSpaDump(cSaved.stdout);
  for (const [who, stanza] of [
    ["ours", "fromc"],
    ["C", "fromus"],
  ] as const) {
    const r =
      who === "ours"
        ? await ours(home, ["-n", stanza, "-T"])
        : await theirs(home, ["-n", stanza, "-T"]);
    assert.equal(r.code, 0, `${who} reading [${stanza}]: ${r.stderr}`);
    const got = parseSpaDump(r.stdout);
    for (const k of [
      "Message Type",
      "Message String",
      "Client Timeout",
      "Digest Type",
      "HMAC Type",
      "Encryption Mode",
    ]) {
      assert.equal(got.get(k), want.get(k), `${who} reading [${stanza}]: ${k}`);
    }
  }
});

test("~/.fwknop.run: saved on each run, --show-last prints it, -l re-runs it", async (t) => {
  const home = tempHome(t);
  const r = await ours(home, KNOCK);
  assert.equal(r.code, 0);
  assert.equal(readFileSync(join(home, ".fwknop.run"), "utf8"), `fwknop ${KNOCK.join(" ")} \n`);
  assert.equal(statSync(join(home, ".fwknop.run")).mode & 0o777, 0o600);
  const last = await ours(home, ["--show-last"]);
  assert.equal(last.stdout, `Last fwknop client command line: fwknop ${KNOCK.join(" ")} \n\n`);
  const again = await ours(home, ["-l"]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(parseSpaDump(again.stdout).get("Message String"), "1.2.3.4,tcp/22");
});

test("--key-gen prints upstream's two lines; -K writes them; SHA3 needs --hmac-key-len", async (t) => {
  const home = tempHome(t);
  const k = await ours(home, ["-k"]);
  assert.equal(k.code, 0);
  assert.match(
    k.stdout,
    /^KEY_BASE64: [A-Za-z0-9+/]{43}=\nHMAC_KEY_BASE64: [A-Za-z0-9+/]{86}==\n$/,
  );
  const sha512 = await ours(home, ["-k", "--hmac-digest-type", "sha512", "--key-len", "16"]);
  const m = /^KEY_BASE64: (\S+)\nHMAC_KEY_BASE64: (\S+)\n$/.exec(sha512.stdout);
  assert.equal(Buffer.from(m?.[1] ?? "", "base64").length, 16);
  assert.equal(Buffer.from(m?.[2] ?? "", "base64").length, 128);
  const file = join(home, "keys");
  const kf = await ours(home, ["-K", file]);
  assert.equal(kf.stdout, `[+] Wrote Rijndael and HMAC keys to: ${file}\n`);
  assert.match(readFileSync(file, "utf8"), /^KEY_BASE64: \S+\nHMAC_KEY_BASE64: \S+\n$/);
  const sha3 = await ours(home, ["-k", "--hmac-digest-type", "sha3_256"]);
  assert.equal(sha3.code, 1);
  assert.match(sha3.stderr, /FKO_ERROR_INVALID_DATA_FUNCS_GEN_HMACLEN_VALIDFAIL/);
  const saved = await ours(home, ["-k", "-n", "newsrv", "--save-rc-stanza"]);
  assert.equal(saved.code, 0, saved.stderr);
  const rc = readFileSync(join(home, ".fwknoprc"), "utf8");
  assert.match(rc, /\[newsrv\]\nKEY_BASE64 {18}\S+\nHMAC_KEY_BASE64 {13}\S+\nUSE_HMAC {20}Y\n/);
});

test("keys typed at the terminal prompts are read without echo", async (t) => {
  const home = tempHome(t);
  const cmd = `${process.execPath} ${OUR_FWKNOP} --no-rc-file -A tcp/22 -a 1.2.3.4 -T -v --use-hmac`;
  // script(1) gives the client a real terminal; the keys are typed well after the prompts
  // appear (a slow start would otherwise see them echoed before raw mode is on).
  const typed = "sleep 3; printf 'typed-enc\\r'; sleep 1; printf 'typed-hmac\\r'; sleep 1";
  const r = await run(["sh", "-c", `(${typed}) | script -qec "${cmd}" /dev/null`], {
    env: { HOME: home },
    timeoutMs: 20_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Enter encryption key: /);
  assert.match(r.stdout, /Enter HMAC key: /);
  assert.doesNotMatch(r.stdout, /typed-enc|typed-hmac/);
  assert.match(r.stdout, /Dump of the Decoded Data/);
});
