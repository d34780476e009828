/**
 * What our client puts on the wire, caught by local listeners on loopback: the UDP datagram
 * (IPv4 and IPv6 destinations, -S source port), the TCP payload, and the HTTP request directly
 * and through a proxy (-H). The payload must equal the -B saved packet data.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { run } from "../../src/sys/run.js";

const OUR_FWKNOP = fileURLToPath(new URL("../../../bin/fwknop", import.meta.url));
const BASE = ["--no-rc-file", "--no-save-args", "-A", "tcp/22", "-a", "1.2.3.4"];
const KEYS = ["--key-rijndael", "k", "--key-hmac", "h"];

async function knock(dir: string, args: readonly string[]): Promise<string> {
  const saved = join(dir, "packet");
  const r = await run([process.execPath, OUR_FWKNOP, ...BASE, ...KEYS, "-B", saved, ...args], {
    env: { HOME: dir },
    timeoutMs: 15_000,
  });
  assert.equal(r.code, 0, r.stderr);
  return readFileSync(saved, "utf8").trim();
}

function udpListener(type: "udp4" | "udp6", host: string) {
  const sock = createSocket(type);
  const got = new Promise<{ data: string; port: number }>((resolve) =>
    sock.once("message", (m, rinfo) => resolve({ data: m.toString("latin1"), port: rinfo.port })),
  );
  return new Promise<{ port: number; got: typeof got; close: () => void }>((resolve) =>
    sock.bind(0, host, () =>
      resolve({ port: sock.address().port, got, close: () => sock.close() }),
    ),
  );
}

function tcpListener(): Promise<{ server: Server; port: number; got: Promise<string> }> {
  let deliver: (s: string) => void = () => {};
  const got = new Promise<string>((resolve) => {
    deliver = resolve;
  });
  const server = createServer((sock) => {
    const chunks: Buffer[] = [];
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("end", () => {
      deliver(Buffer.concat(chunks).toString("latin1"));
      sock.end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === "object" && addr ? addr.port : 0, got });
    }),
  );
}

test("UDP: one datagram holding exactly the packet data, IPv4 and IPv6, -S source port", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "fwk-tx-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const v4 = await udpListener("udp4", "127.0.0.1");
  t.after(v4.close);
  const wire4 = await knock(dir, ["-D", "127.0.0.1", "-p", String(v4.port), "-S", "40123"]);
  const got4 = await v4.got;
  assert.equal(got4.data, wire4);
  assert.equal(got4.port, 40123);

  const v6 = await udpListener("udp6", "::1");
  t.after(v6.close);
  const wire6 = await knock(dir, ["-D", "::1", "-p", String(v6.port)]);
  assert.equal((await v6.got).data, wire6);
});

test("TCP: the packet data is written once on a connection", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "fwk-tx-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const l = await tcpListener();
  t.after(() => l.server.close());
  const wire = await knock(dir, ["-D", "127.0.0.1", "-p", String(l.port), "-P", "tcp"]);
  assert.equal(await l.got, wire);
});

test("HTTP: GET with URL-safe data and the Fwknop user agent, directly and via -H", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "fwk-tx-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const direct = await tcpListener();
  t.after(() => direct.server.close());
  const wire = await knock(dir, ["-D", "127.0.0.1", "-p", String(direct.port), "-P", "http"]);
  const data = wire.replaceAll("+", "-").replaceAll("/", "_");
  assert.equal(
    await direct.got,
    `GET /${data} HTTP/1.0\r\nUser-Agent: Fwknop/2.6.10\r\nAccept: */*\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
  );

  const proxy = await tcpListener();
  t.after(() => proxy.server.close());
  const args = ["-D", "spa.example", "-H", `http://127.0.0.1:${proxy.port}`, "-u", "Fwknop/x"];
  const wire2 = await knock(dir, args);
  const data2 = wire2.replaceAll("+", "-").replaceAll("/", "_");
  assert.equal(
    await proxy.got,
    `GET http://spa.example/${data2} HTTP/1.0\r\nUser-Agent: Fwknop/x\r\nAccept: */*\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
  );
});

test("keys from --stdin, --fd and a -G key file", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "fwk-tx-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const args = ["--no-rc-file", "--no-save-args", "-A", "tcp/22", "-a", "1.2.3.4", "-T", "-v"];
  const viaStdin = await run([process.execPath, OUR_FWKNOP, ...args, "-D", "h", "--stdin"], {
    input: "from-stdin\n",
    timeoutMs: 15_000,
  });
  assert.equal(viaStdin.code, 0, viaStdin.stderr);
  assert.match(viaStdin.stdout, /Dump of the Decoded Data/);
  const viaFd = await run([process.execPath, OUR_FWKNOP, ...args, "-D", "h", "--fd", "3"], {
    extraInputs: ["from-fd-3\n"],
    timeoutMs: 15_000,
  });
  assert.equal(viaFd.code, 0, viaFd.stderr);
  assert.match(viaFd.stdout, /Dump of the Decoded Data/);
  const keyFile = join(dir, "keys");
  writeFileSync(keyFile, "# keys\nother: nope\nh: from-file\n");
  const viaFile = await run([process.execPath, OUR_FWKNOP, ...args, "-D", "h", "-G", keyFile], {
    timeoutMs: 15_000,
  });
  assert.equal(viaFile.code, 0, viaFile.stderr);
  const missing = await run([process.execPath, OUR_FWKNOP, ...args, "-D", "x", "-G", keyFile], {
    timeoutMs: 15_000,
  });
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `Could not get key for IP: x from: ${keyFile}\n`);
});
