/**
 * No input ever produces a stack trace, end to end: our fwknopd is started on every case of the
 * config corpus (and on start-up paths that used to crash, e.g. FWKNOP_RUN_DIR naming a regular
 * file) and must answer with exit 0 or 1 and one-line messages — never "internal error" or a
 * JavaScript stack. Runs use -D, or -t with an empty --pcap-file, so no
 * firewall is touched and no socket is opened.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { run } from "../../src/sys/run.js";

const FWKNOPD = fileURLToPath(new URL("../../../bin/fwknopd", import.meta.url));
const CORPUS = fileURLToPath(new URL("../../../test/corpus/config/", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "fwknop-nostack-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** A JavaScript stack frame or our last-resort handler's words. */
const STACK = /^\s+at .+[:(]\d+|internal error|Error: E[A-Z]+:/m;

/** A pcap file with a header and no packets: --pcap-file reads it and exits. */
function emptyPcap(path: string): void {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(1, 20);
  writeFileSync(path, h);
}

async function daemon(dir: string, extra: string[]): Promise<{ code: number; text: string }> {
  const r = await run(
    [
      process.execPath,
      FWKNOPD,
      ...["-c", join(dir, "fwknopd.conf"), "-a", join(dir, "access.conf")],
      ...["-d", join(dir, "digest.cache"), "-p", join(dir, "fwknopd.pid"), "-f", ...extra],
    ],
    { timeoutMs: 30_000 },
  );
  return { code: r.code, text: `${r.stdout}${r.stderr}` };
}

function materialise(files: Map<string, string>): string {
  const dir = mkdtempSync(join(work, "c-"));
  for (const [f, text] of files) {
    writeFileSync(join(dir, f), text.replaceAll("{dir}", dir), { mode: 0o600 });
  }
  return dir;
}

test("fwknopd on every config corpus case: exit 0/1, no stack trace", async () => {
  const cases = readdirSync(CORPUS, { withFileTypes: true }).filter((e) => e.isDirectory());
  assert.ok(cases.length >= 60, "config corpus missing");
  for (const c of cases) {
    const files = new Map<string, string>();
    for (const f of readdirSync(join(CORPUS, c.name))) {
      if (f !== "expect.json") files.set(f, readFileSync(join(CORPUS, c.name, f), "utf8"));
    }
    const dir = materialise(files);
    // -D parses both files as --exit-parse-config does, then also dumps what it parsed.
    const r = await daemon(dir, ["-D"]);
    assert.ok(r.code === 0 || r.code === 1, `${c.name}: exit ${r.code}\n${r.text}`);
    assert.doesNotMatch(r.text, STACK, c.name);
  }
});

test("FWKNOP_RUN_DIR that is a file, under a file, or missing: C's messages, no stack", async () => {
  const dir = materialise(new Map([["access.conf", "SOURCE ANY\nKEY testtest\n"]]));
  writeFileSync(join(dir, "plain"), "");
  emptyPcap(join(dir, "empty.pcap"));
  const runs: [runDir: string, code: number, phrase: RegExp][] = [
    [join(dir, "plain"), 1, /Specified Run directory: .*plain is NOT a directory/],
    [join(dir, "plain", "sub"), 1, /is NOT a directory/],
    [
      join(dir, "new", "deeper"),
      0,
      /Run directory: .*deeper does not exist\. Attempting to create it\.[\s\S]*Successfully created Run directory/,
    ],
  ];
  for (const [runDir, code, phrase] of runs) {
    writeFileSync(join(dir, "fwknopd.conf"), `FWKNOP_RUN_DIR ${runDir}\n`, { mode: 0o600 });
    const r = await daemon(dir, ["-t", "--pcap-file", join(dir, "empty.pcap")]);
    assert.equal(r.code, code, r.text);
    assert.match(r.text, phrase);
    assert.doesNotMatch(r.text, STACK);
  }
});
