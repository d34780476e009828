import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { type TestContext, test } from "node:test";
import { FwknopError } from "../../src/errors.js";
import type { Candidate } from "../../src/server/intake/intake.js";
import { createUdpIntake } from "../../src/server/intake/udp.js";
import { run } from "../../src/sys/run.js";
import { recorder } from "../helpers/recording-logger.js";
import { EVENT_BOUND_MS, waitUntil } from "../helpers/wait.js";

async function send(
  host: string,
  port: number,
  payloads: Buffer[],
  type: "udp4" | "udp6" = "udp4",
) {
  const c = createSocket(type);
  await new Promise<void>((r) => c.bind(0, type === "udp4" ? "127.0.0.1" : "::1", () => r()));
  for (const p of payloads)
    await new Promise<void>((r, j) => c.send(p, port, host, (e) => (e ? j(e) : r())));
  const srcPort = c.address().port;
  c.close();
  return srcPort;
}

async function collect(got: Candidate[], n: number): Promise<void> {
  await waitUntil(`${n} datagrams`, () => got.length >= n, EVENT_BOUND_MS, 10).catch(() =>
    assert.fail(`expected ${n} datagrams, got ${got.length}`),
  );
}

function started(t: TestContext, host?: string) {
  const log = recorder();
  const intake = createUdpIntake({ port: 0, log, ...(host ? { host } : {}) });
  t.after(() => intake.stop());
  return { intake, log };
}

test("receives datagrams on a loopback port-0 socket as upstream-shaped candidates", async (t) => {
  const { intake, log } = started(t, "127.0.0.1");
  const got: Candidate[] = [];
  await intake.start((c) => void got.push(c));
  assert.ok(intake.port > 0);
  assert.equal(intake.name, `udp:${intake.port}`);
  assert.ok(
    log.lines.some((l) => /^info: UDP receive buffer is \d+\.\d MiB/.test(l)),
    log.lines.join("\n"),
  );
  const before = Date.now();
  const payload = Buffer.from("A".repeat(200));
  const srcPort = await send("127.0.0.1", intake.port, [payload]);
  await collect(got, 1);
  const c = got[0];
  assert.ok(c);
  assert.deepEqual(c.payload, payload);
  assert.deepEqual(
    { srcIp: c.srcIp, srcPort: c.srcPort, dstIp: c.dstIp, dstPort: c.dstPort, proto: c.proto },
    { srcIp: "127.0.0.1", srcPort, dstIp: "0.0.0.0", dstPort: intake.port, proto: 17 },
  );
  assert.ok(c.receivedAt >= before - 1000 && c.receivedAt <= Date.now());
});

test("datagrams over 1500 bytes are dropped and counted; 1500 passes", async (t) => {
  const { intake } = started(t, "127.0.0.1");
  const got: Candidate[] = [];
  await intake.start((c) => void got.push(c));
  await send("127.0.0.1", intake.port, [
    Buffer.alloc(1501, 65),
    Buffer.alloc(1500, 66),
    Buffer.alloc(9000, 67),
  ]);
  await collect(got, 1);
  await waitUntil("two oversized datagrams dropped", () => intake.stats.dropped >= 2);
  assert.deepEqual(intake.stats, { received: 1, dropped: 2 });
  assert.equal(intake.kernelDrops(), 0, "nothing lost in the kernel");
  assert.equal(got.length, 1);
  assert.equal(got[0]?.payload.length, 1500);
});

test("a throwing handler is logged and the intake keeps receiving", async (t) => {
  const { intake, log } = started(t, "127.0.0.1");
  const got: Candidate[] = [];
  await intake.start((c) => {
    got.push(c);
    if (got.length === 1) throw new Error("boom");
  });
  await send("127.0.0.1", intake.port, [Buffer.from("one"), Buffer.from("two")]);
  await collect(got, 2);
  assert.ok(log.lines.includes("error: Error handling a datagram from 127.0.0.1: boom"));
});

test("stop closes the socket: no more candidates and the port is free again", async (t) => {
  const { intake } = started(t, "127.0.0.1");
  const got: Candidate[] = [];
  await intake.start((c) => void got.push(c));
  const port = intake.port;
  await intake.stop();
  await send("127.0.0.1", port, [Buffer.from("late")]);
  // Nothing is listening: the kernel has nowhere to queue "late" (the port is free), so there
  // is no event to wait for; the fresh intake below proves the port was released.
  assert.equal(got.length, 0);
  const again = createUdpIntake({ port, host: "127.0.0.1", log: recorder() });
  await again.start(() => {});
  await again.stop();
});

test("a port in use is an FWK_ERR_INTAKE_BIND error naming the address", async (t) => {
  const { intake } = started(t, "127.0.0.1");
  await intake.start(() => {});
  const second = createUdpIntake({ port: intake.port, host: "127.0.0.1", log: recorder() });
  await assert.rejects(
    second.start(() => {}),
    (e: unknown) => {
      assert.ok(e instanceof FwknopError);
      assert.equal(e.code, "FWK_ERR_INTAKE_BIND");
      assert.match(
        e.message,
        new RegExp(`Cannot listen on UDP 127\\.0\\.0\\.1:${intake.port}: .*EADDRINUSE`),
      );
      return true;
    },
  );
});

test("an IPv6 host gives a dual-stack socket: IPv4 senders appear as plain dotted quads", async (t) => {
  const { intake } = started(t, "::");
  const got: Candidate[] = [];
  await intake.start((c) => void got.push(c));
  await send("127.0.0.1", intake.port, [Buffer.from("v4")]);
  await send("::1", intake.port, [Buffer.from("v6")], "udp6");
  await collect(got, 2);
  const byPayload = new Map(got.map((c) => [c.payload.toString(), c]));
  assert.equal(byPayload.get("v4")?.srcIp, "127.0.0.1");
  assert.equal(byPayload.get("v4")?.dstIp, "0.0.0.0");
  assert.equal(byPayload.get("v6")?.srcIp, "::1");
  assert.equal(byPayload.get("v6")?.dstIp, "::");
});

test("a knock from the real fwknop 2.6.10 client arrives as one candidate holding its wire string", async (t) => {
  if (!existsSync("/usr/bin/fwknop")) assert.fail("/usr/bin/fwknop (2.6.10) is not installed");
  const { intake } = started(t, "127.0.0.1");
  const got: Candidate[] = [];
  await intake.start((c) => void got.push(c));
  const r = await run(
    [
      "/usr/bin/fwknop",
      "-A",
      "tcp/22",
      "-a",
      "198.18.0.2",
      "-D",
      "127.0.0.1",
      "--server-port",
      String(intake.port),
      "--key-base64-rijndael",
      "w1W4r2LYeKHwOdCOw2cwC1n/pBzlSKfzy2L6svJ/7ZY=",
      "--key-base64-hmac",
      "cUHUkjiBV8VJXjzc+C176H3vsTR2LCpeoNanp6lwtsQqTg7JsVH2qb1BRdE5ARHwUFPXLHIm4YSN6VEAhsoKug==",
      "--use-hmac",
      "--no-save-args",
      "-v",
    ],
    { timeoutMs: 20_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const wire = /Final SPA Data: (\S+)/.exec(r.stdout + r.stderr)?.[1];
  assert.ok(wire, "the client printed its wire string");
  await collect(got, 1);
  assert.equal(got.length, 1);
  assert.equal(got[0]?.payload.toString("latin1"), wire);
  assert.equal(got[0]?.srcIp, "127.0.0.1");
});
