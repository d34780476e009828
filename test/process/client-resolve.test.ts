/**
 * -R / --resolve-url against a local HTTPS server with a throw-away self-signed certificate
 * (trusted through NODE_EXTRA_CA_CERTS), --resolve-http-only against plain HTTP, and refusal of
 * an untrusted certificate. The resolved address must end up as the message's allow-IP.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseSpaDump } from "../../src/protocol/dump.js";
import { run } from "../../src/sys/run.js";

const OUR_FWKNOP = fileURLToPath(new URL("../../../bin/fwknop", import.meta.url));
const KNOCK = ["--no-rc-file", "--no-save-args", "-A", "tcp/22", "--key-rijndael", "k", "-T"];

function answer(agents: string[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    agents.push(req.headers["user-agent"] ?? "");
    res.end("Your IP is 198.51.100.77\n");
  };
}

function listen(server: ReturnType<typeof createHttpServer>): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

test("-R with --resolve-url uses the address a local HTTPS service reports", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "fwk-resolve-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  const gen = await run([
    ...["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"],
    ...["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
    ...["-keyout", key, "-out", cert],
  ]);
  if (gen.code !== 0) assert.fail(`openssl could not make a test certificate: ${gen.stderr}`);
  const agents: string[] = [];
  const https = createHttpsServer(
    { key: readFileSync(key), cert: readFileSync(cert) },
    answer(agents),
  );
  const port = await listen(https);
  t.after(() => https.close());
  const url = `https://127.0.0.1:${port}/cgi-bin/myip`;

  const r = await run([process.execPath, OUR_FWKNOP, ...KNOCK, "-R", "--resolve-url", url], {
    env: { HOME: dir, NODE_EXTRA_CA_CERTS: cert },
    timeoutMs: 15_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(parseSpaDump(r.stdout).get("Message String"), "198.51.100.77,tcp/22");
  assert.equal(agents[0], "Fwknop/2.6.10");

  const untrusted = await run([process.execPath, OUR_FWKNOP, ...KNOCK, "--resolve-url", url], {
    env: { HOME: dir },
    timeoutMs: 15_000,
  });
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /^\[-\] Could not resolve IP via: 'https:\/\/127\.0\.0\.1:/);
});

test("--resolve-http-only resolves over plain HTTP and refuses an https URL", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "fwk-resolve-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const agents: string[] = [];
  const http = createHttpServer(answer(agents));
  const port = await listen(http);
  t.after(() => http.close());
  const args = [...KNOCK, "--resolve-http-only", "-u", "Fwknop/test"];
  const r = await run(
    [process.execPath, OUR_FWKNOP, ...args, "--resolve-url", `http://127.0.0.1:${port}/`],
    { env: { HOME: dir }, timeoutMs: 15_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(parseSpaDump(r.stdout).get("Message String"), "198.51.100.77,tcp/22");
  assert.equal(agents[0], "Fwknop/test");
  const refused = await run(
    [process.execPath, OUR_FWKNOP, ...args, "--resolve-url", `https://127.0.0.1:${port}/`],
    { env: { HOME: dir }, timeoutMs: 15_000 },
  );
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, "[*] https is not supported for --resolve-http-only.\n");
});
