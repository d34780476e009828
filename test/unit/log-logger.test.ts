import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { createLogger } from "../../src/log/create-logger.js";
import { createStderrSink, stderrIsJournal } from "../../src/log/stderr-sink.js";
import { createSyslogSink, rfc3164Stamp } from "../../src/log/syslog-sink.js";
import { run } from "../../src/sys/run.js";
import { waitUntil } from "../helpers/wait.js";

function capture(): { write(s: string): void; text: () => string } {
  const parts: string[] = [];
  return { write: (s) => void parts.push(s), text: () => parts.join("") };
}

const base = { identity: "fwknopd", facility: "LOG_DAEMON", syslog: false } as const;

test("foreground: plain upstream lines on stderr; info shown, debug only with -v", async () => {
  const out = capture();
  const log = createLogger({ ...base, foreground: true, verbosity: 0, stderr: out });
  log.error("e");
  log.warn("w");
  log.notice("n");
  log.info("Kicking off UDP server to listen on port 62201.");
  log.debug("SPA Field Values: hidden");
  await log.close();
  assert.equal(out.text(), "e\nw\nn\nKicking off UDP server to listen on port 62201.\n");
  assert.equal(log.debugEnabled, false, "callers may skip building debug text");

  const verbose = capture();
  const v = createLogger({ ...base, foreground: true, verbosity: 1, stderr: verbose });
  v.debug("SPA Field Values: shown");
  assert.equal(v.debugEnabled, true);
  await v.close();
  assert.equal(verbose.text(), "SPA Field Values: shown\n");
});

test("stderr connected to the journal gets <severity> prefixes on every line", () => {
  const out = capture();
  const sink = createStderrSink(out, true);
  sink.write(4, "first\nsecond");
  assert.equal(out.text(), "<4>first\n<4>second\n");
  assert.equal(stderrIsJournal({}), false);
  assert.equal(stderrIsJournal({ JOURNAL_STREAM: "1:2" }), false);
});

test("an unknown SYSLOG_FACILITY falls back to LOG_DAEMON with a warning", async () => {
  const out = capture();
  const log = createLogger({
    ...base,
    facility: "LOG_KERN",
    foreground: true,
    verbosity: 0,
    stderr: out,
  });
  await log.close();
  assert.equal(out.text(), "Unknown SYSLOG_FACILITY 'LOG_KERN', using LOG_DAEMON.\n");
});

/** A unix datagram socket that collects what arrives (Node 20 cannot bind one; python can). */
async function syslogReceiver(t: TestContext): Promise<{ path: string; got: () => string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "fwk-log-"));
  const path = join(dir, "log.sock");
  const script = [
    "import socket, sys",
    "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
    "s.bind(sys.argv[1])",
    "print('ready', flush=True)",
    "s.settimeout(20)",
    "while True:",
    "    print(s.recv(65536).decode().replace(chr(10), '\\\\n'), flush=True)",
  ].join("\n");
  const child = spawn("python3", ["-c", script, path], { stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    child.once("error", (e) => reject(new Error(`python3 is needed for this test: ${e.message}`)));
    child.once("exit", (code) => reject(new Error(`receiver exited early (${code})`)));
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      const all = buf.split("\n");
      buf = all.pop() ?? "";
      for (const l of all) {
        if (l === "ready") resolve();
        else lines.push(l);
      }
    });
  });
  return { path, got: () => lines };
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  await waitUntil(what, cond);
}

test("syslog: RFC 3164 datagrams with identity, our PID and facility*8+severity", async (t) => {
  const rx = await syslogReceiver(t);
  const log = createLogger({
    foreground: false,
    syslog: false,
    identity: "fwknopd-test",
    facility: "LOG_LOCAL3",
    verbosity: 0,
    syslogSocket: rx.path,
  });
  log.info("Replay detected from source IP: 198.18.0.2");
  log.error("*Skipping invalid digest file entry in f at line 3.\n - garbage");
  log.debug("not at verbosity 0");
  await log.close();
  await waitFor(() => rx.got().length >= 2, "two datagrams");
  const stamp = String.raw`[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d`;
  const head = (pri: number) => `^<${pri}>${stamp} fwknopd-test\\[${process.pid}\\]: `;
  const [a, b] = rx.got();
  assert.match(
    a ?? "",
    new RegExp(`${head(19 * 8 + 6)}Replay detected from source IP: 198\\.18\\.0\\.2$`),
  );
  // One message, one entry: the receiver shows the datagram's newline as \n.
  assert.match(
    b ?? "",
    new RegExp(
      `${head(19 * 8 + 3)}\\*Skipping invalid digest file entry in f at line 3\\.\\\\n - garbage$`,
    ),
  );
  assert.equal(rx.got().length, 2);
});

test("--syslog-enable in the foreground logs to both; a missing socket is reported once on stderr", async (t) => {
  const rx = await syslogReceiver(t);
  const out = capture();
  const both = createLogger({
    ...base,
    foreground: true,
    syslog: true,
    verbosity: 0,
    stderr: out,
    syslogSocket: rx.path,
  });
  both.notice("Starting fwknopd");
  await both.close();
  await waitFor(() => rx.got().length >= 1, "a datagram");
  assert.match(rx.got()[0] ?? "", /^<29>.*fwknopd\[\d+\]: Starting fwknopd$/);
  assert.equal(out.text(), "Starting fwknopd\n");

  const out2 = capture();
  const missing = createLogger({
    ...base,
    foreground: true,
    syslog: true,
    verbosity: 0,
    stderr: out2,
    syslogSocket: join(tmpdir(), "fwk-no-such-dir", "log.sock"),
  });
  missing.info("one");
  missing.info("two");
  await missing.close();
  assert.match(
    out2.text(),
    /^one\n(syslog socket .*log\.sock does not exist|cannot send to syslog socket .*log\.sock: ENOENT)[^\n]*\ntwo\n$/,
  );
});

for (const transport of ["unix-dgram", "logger"] as const) {
  test(`syslog sink over ${transport}: one datagram per message, even a multi-line one, with our PID`, async (t) => {
    const rx = await syslogReceiver(t);
    const problems: string[] = [];
    const sink = createSyslogSink({
      identity: "fwknopd",
      facility: "LOG_LOCAL7",
      socketPath: rx.path,
      transport,
      onProblem: (m) => void problems.push(m),
    });
    sink.write(5, "Starting fwknopd\n - second line");
    sink.write(6, "next message");
    await waitFor(() => rx.got().length >= 2, "two datagrams");
    await sink.close();
    const pid = `fwknopd\\[${process.pid}\\]: `;
    // The datagram keeps the newline (shown as \n by the receiver); logger(1) writes #012.
    const nl = transport === "logger" ? "#012" : "\\\\n";
    assert.match(
      rx.got()[0] ?? "",
      new RegExp(
        `^<${23 * 8 + 5}>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d ${pid}Starting fwknopd${nl} - second line$`,
      ),
    );
    assert.match(rx.got()[1] ?? "", new RegExp(`^<190>.* ${pid}next message$`));
    assert.equal(rx.got().length, 2);
    assert.deepEqual(problems, []);
  });
}

test("rfc3164Stamp pads the day with a space like syslog(3)", () => {
  assert.equal(rfc3164Stamp(new Date(2026, 10, 7, 9, 5, 3)), "Nov  7 09:05:03");
  assert.equal(rfc3164Stamp(new Date(2026, 0, 17, 23, 59, 59)), "Jan 17 23:59:59");
});

test("a syslog logger that is never closed does not keep the process alive", async (t) => {
  const rx = await syslogReceiver(t);
  const sinkUrl = new URL("../../src/log/syslog-sink.js", import.meta.url).href;
  for (const transport of ["unix-dgram", "logger"]) {
    const code = [
      `const { createSyslogSink } = await import(${JSON.stringify(sinkUrl)});`,
      `const sink = createSyslogSink({ identity: "fwknopd", facility: "LOG_DAEMON",`,
      `  socketPath: ${JSON.stringify(rx.path)}, transport: ${JSON.stringify(transport)} });`,
      `sink.write(6, "exit test ${transport}");`,
    ].join("\n");
    const started = Date.now();
    const r = await run([process.execPath, "--input-type=module", "-e", code], {
      timeoutMs: 15_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started < 10_000);
  }
  await waitFor(() => rx.got().length >= 2, "both datagrams");
});

test("a closed stderr pipe does not crash a foreground logger", async () => {
  const loggerUrl = new URL("../../src/log/create-logger.js", import.meta.url).href;
  const code = [
    `const { createLogger } = await import(${JSON.stringify(loggerUrl)});`,
    `const log = createLogger({ foreground: true, syslog: false, identity: "fwknopd",`,
    `  facility: "LOG_DAEMON", verbosity: 0 });`,
    "for (let i = 0; i < 50; i++) { log.info('line ' + i); await new Promise((r) => setTimeout(r, 5)); }",
    "process.stdout.write('survived');",
  ].join("\n");
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr.destroy();
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const status = await new Promise<number | null>((r) => child.once("exit", r));
  assert.equal(status, 0);
  assert.equal(out, "survived");
});
