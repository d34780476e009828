import assert from "node:assert/strict";
import { test } from "node:test";
import { startChild } from "../../src/sys/child.js";

test("a command that does not exist resolves exited with the error, never throws", async () => {
  const c = startChild(["/nonexistent/fwknop-no-such-tool"]);
  const exit = await c.exited;
  assert.equal((exit.error as NodeJS.ErrnoException | undefined)?.code, "ENOENT");
  assert.equal(c.running, false);
});

test("stop asks with a signal and kills after the grace period when the child ignores it", async () => {
  // The shell traps TERM, says so on stdout, and would sleep on: only SIGKILL ends it.
  const c = startChild(["sh", "-c", "trap '' TERM; echo up; while :; do sleep 1; done"], {
    pipes: { stdout: true },
  });
  await new Promise((resolve) => c.stdout?.once("data", resolve));
  const exit = await c.stop({ ask: "SIGTERM", graceMs: 200 });
  assert.equal(exit.signal, "SIGKILL");
  assert.equal(c.running, false);
});

test("stop by end of input: a tool that exits at EOF exits by itself", async () => {
  const c = startChild(["cat"], { pipes: { stdin: true, stdout: true } });
  let out = "";
  c.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  c.stdin?.write("hello\n");
  const exit = await c.stop({ ask: "end-stdin", graceMs: 30_000 });
  assert.deepEqual([exit.code, exit.signal, out], [0, null, "hello\n"]);
});
