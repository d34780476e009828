import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { FwknopError } from "../../src/errors.js";
import {
  acquirePidFile,
  isFwknopdProcess,
  readRunningPid,
  releasePidFile,
} from "../../src/server/pid-file.js";

function pidPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "fwk-pid-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "fwknopd.pid");
}

/** A live process whose command line mentions fwknopd (or not), killed after the test. */
async function live(t: TestContext, name: string): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", name], {
    stdio: "ignore",
  });
  t.after(() => child.kill("SIGKILL"));
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  if (child.pid === undefined) assert.fail("child has no pid");
  return child as ChildProcess & { pid: number };
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
  await new Promise((r) => child.once("exit", r));
  return child.pid ?? assert.fail("no pid");
}

test("acquire writes '<pid>\\n' with mode 0600; release removes it", async (t) => {
  const path = pidPath(t);
  const lock = acquirePidFile(path);
  assert.equal(readFileSync(path, "utf8"), `${process.pid}\n`);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(acquirePidFile(path), lock, "our own PID file is ours again");
  releasePidFile(lock);
  assert.equal(existsSync(path), false);
});

test("a live fwknopd in the file refuses the start with the upstream message", async (t) => {
  const path = pidPath(t);
  const other = await live(t, "fwknopd");
  writeFileSync(path, `${other.pid}\n`);
  assert.equal(isFwknopdProcess(other.pid), true);
  assert.equal(readRunningPid(path), other.pid);
  assert.throws(
    () => acquirePidFile(path),
    (e: unknown) => {
      assert.ok(e instanceof FwknopError);
      assert.equal(e.code, "FWK_ERR_PID_RUNNING");
      assert.equal(e.message, `[*] An instance of fwknopd is already running: (PID=${other.pid}).`);
      return true;
    },
  );
  assert.equal(readFileSync(path, "utf8"), `${other.pid}\n`, "left untouched");
});

test("stale files are replaced: dead PID, recycled PID of another program, garbage", async (t) => {
  const path = pidPath(t);
  const notUs = await live(t, "sleepy-other-program");
  for (const content of [`${await deadPid()}\n`, `${notUs.pid}\n`, "garbage\n", "", "99999999\n"]) {
    writeFileSync(path, content);
    assert.equal(readRunningPid(path), undefined, JSON.stringify(content));
    const lock = acquirePidFile(path);
    assert.equal(readFileSync(path, "utf8"), `${process.pid}\n`);
    releasePidFile(lock);
  }
});

test("release leaves a PID file that a newer daemon rewrote", async (t) => {
  const path = pidPath(t);
  const lock = acquirePidFile(path);
  writeFileSync(path, "4242\n");
  releasePidFile(lock);
  assert.equal(readFileSync(path, "utf8"), "4242\n");
  writeFileSync(path, `${process.pid}\n`);
  releasePidFile(path);
  assert.equal(existsSync(path), false, "a path alone means this process");
});

test("no PID file means nothing running; an unwritable place is FWK_ERR_PID_FILE", async (t) => {
  const path = pidPath(t);
  assert.equal(readRunningPid(path), undefined);
  const bad = join(path, "..", "missing-dir", "fwknopd.pid");
  assert.throws(
    () => acquirePidFile(bad),
    (e: unknown) => {
      assert.ok(e instanceof FwknopError);
      assert.equal(e.code, "FWK_ERR_PID_FILE");
      assert.match(
        e.message,
        /^Error trying to open PID file: .*missing-dir\/fwknopd\.pid: ENOENT/,
      );
      return true;
    },
  );
});
