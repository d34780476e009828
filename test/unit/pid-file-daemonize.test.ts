/**
 * Background start: the parent re-runs a script detached and exits with the child's verdict;
 * the child takes the PID file. The script is written to a temp dir, named so that its
 * command line mentions fwknopd like the real daemon's does.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { isFwknopdProcess, readRunningPid } from "../../src/server/pid-file.js";
import { run } from "../../src/sys/run.js";

const daemonizeUrl = new URL("../../src/server/daemonize.js", import.meta.url).href;
const pidFileUrl = new URL("../../src/server/pid-file.js", import.meta.url).href;

function fixture(t: TestContext): { script: string; pidPath: string } {
  const dir = mkdtempSync(join(tmpdir(), "fwk-daemon-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, "fwknopd-fake.mjs");
  writeFileSync(
    script,
    `import { becomeDaemon } from ${JSON.stringify(daemonizeUrl)};
import { acquirePidFile } from ${JSON.stringify(pidFileUrl)};
const isChild = process.argv.includes("--__daemon-child");
const [mode, pidPath, timeout] = process.argv.slice(2);
const role = await becomeDaemon(isChild, { timeoutMs: Number(timeout ?? 10000) });
if (role.role === "parent") process.exit(role.exitCode);
if (mode === "fail") { role.ready.fail("access.conf:3: bad line"); process.exit(1); }
if (mode === "crash") process.exit(7);
if (mode === "stderr") {
  process.stderr.write("[*] An instance of fwknopd is already running: (PID=42). [FWK_ERR_PID_RUNNING]\\n");
  process.exit(1);
}
setInterval(() => {}, 1000);
if (mode === "ok") { acquirePidFile(pidPath); role.ready.signal(); }
`,
  );
  return { script, pidPath: join(dir, "fwknopd.pid") };
}

test("the parent exits 0 once the detached child is ready; the child runs on in its own session", async (t) => {
  const { script, pidPath } = fixture(t);
  const r = await run([process.execPath, script, "ok", pidPath], { timeoutMs: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, "");
  const pid = Number(readFileSync(pidPath, "utf8"));
  t.after(() => {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  });
  assert.ok(pid > 0 && pid !== process.pid);
  assert.equal(readRunningPid(pidPath), pid);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  assert.equal(Number(fields[3]), pid, "session leader (setsid)");
  for (const fd of [0, 1, 2]) assert.equal(readlinkSync(`/proc/${pid}/fd/${fd}`), "/dev/null");
  assert.match(
    readFileSync(`/proc/${pid}/cmdline`, "latin1"),
    /fwknopd-fake\.mjs\0ok\0.*\0--__daemon-child\0$/,
  );
});

test("a child that reports failure makes the parent exit 1 with its message", async (t) => {
  const { script, pidPath } = fixture(t);
  const r = await run([process.execPath, script, "fail", pidPath], { timeoutMs: 20_000 });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "access.conf:3: bad line\n");
});

test("a child that prints its start-up error and exits passes that error to the parent", async (t) => {
  const { script, pidPath } = fixture(t);
  const r = await run([process.execPath, script, "stderr", pidPath], { timeoutMs: 20_000 });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    "[*] An instance of fwknopd is already running: (PID=42). [FWK_ERR_PID_RUNNING]\n",
  );
});

test("a child that dies before reporting, or never reports, fails the start", async (t) => {
  const { script, pidPath } = fixture(t);
  const crash = await run([process.execPath, script, "crash", pidPath], { timeoutMs: 20_000 });
  assert.equal(crash.code, 1);
  assert.equal(crash.stderr, "fwknopd exited with status 7 before it was ready\n");

  const hang = await run([process.execPath, script, "hang", pidPath, "1500"], {
    timeoutMs: 20_000,
  });
  assert.equal(hang.code, 1);
  assert.match(hang.stderr, /did not report ready within 1500 ms; stopped it/);
  const pids = await run(["pgrep", "-f", script]);
  for (const p of pids.stdout.split("\n").filter(Boolean)) {
    assert.equal(isFwknopdProcess(Number(p)), false, `hung child ${p} was left running`);
  }
});
