/**
 * Commands run on a client's behalf (issue 9, items 3, 5 and 6), through our real fwknopd in a
 * namespace: a command cycle is bound by OPEN_PORTS like a rule, no command runs in -t mode,
 * SPA commands and cycles get an empty environment (a secret in the daemon's does not reach
 * them), and a newline in a command message cannot forge a log line.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { encodeSpa } from "../../src/protocol/spa.js";
import {
  accessStanza,
  type Keys,
  type RunningDaemon,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import { canUseNetns, createNetnsPair, type NetnsPair, sendUdp } from "../helpers/netns.js";

const SECRET_NAME = "FWKNOP_TEST_SECRET_ISSUE9";

/** A knock built with our encoder: message type 0 (command) or 1 (access), any message text. */
function knockWire(keys: Keys, messageType: 0 | 1, message: string): string {
  const r = encodeSpa(
    {
      randomValue: String(randomBytes(8).readBigUInt64BE() % 10n ** 16n).padStart(16, "0"),
      username: "tester",
      timestamp: Math.floor(Date.now() / 1000),
      version: "3.0.0",
      messageType,
      message,
    },
    {
      encKey: Buffer.from(keys.key, "base64"),
      encMode: "CBC",
      hmacKey: Buffer.from(keys.hmac, "base64"),
      hmacType: "sha256",
    },
    { digestType: "sha256", salt: randomBytes(8) },
  );
  if (!r.ok) throw new Error(`cannot encode: ${r.code} ${r.detail}`);
  return r.value.wire;
}

async function setup(t: TestContext, tag: string) {
  if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
  const pair = await createNetnsPair(tag);
  t.after(() => pair.cleanup());
  const dir = mkdtempSync(join(tmpdir(), "fwk-cmdsafe-"));
  chmodSync(dir, 0o777);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { pair, dir };
}

/** Sends and waits for the line that settles this packet (`re`), counted from now. */
async function sendAndWait(
  pair: NetnsPair,
  d: RunningDaemon,
  wire: string,
  re: RegExp,
): Promise<string> {
  const since = d.output().length;
  await sendUdp(pair.client, pair.serverIp, 62201, wire);
  return d.waitForLog(re, 60_000, since);
}

test("cycles obey OPEN_PORTS; commands and cycles get an empty environment; packet text is escaped in the log", async (t) => {
  const { pair, dir } = await setup(t, "cmdsafe");
  const cycleKeys = randomKeys();
  const execKeys = randomKeys();
  const access =
    accessStanza(cycleKeys, {
      CMD_CYCLE_OPEN: `/bin/sh -c env>${dir}/cycle-env-$PORT`,
      CMD_CYCLE_CLOSE: "NONE",
      OPEN_PORTS: "tcp/22",
    }) + accessStanza(execKeys, { ENABLE_CMD_EXEC: "Y" });
  process.env[SECRET_NAME] = "do-not-leak";
  t.after(() => {
    delete process.env[SECRET_NAME];
  });
  const d = await startDaemon(writeConfigDir({}, access), { netns: pair.server });
  t.after(() => d.stop());

  // Item 3: the cycle stanza allows tcp/22 only.
  const denied = await sendAndWait(
    pair,
    d,
    knockWire(cycleKeys, 1, "198.18.0.2,tcp/3306"),
    /FWK_ERR_SPA_PORTS_DENIED|Running command cycle command/,
  );
  assert.match(denied, /FWK_ERR_SPA_PORTS_DENIED/);
  assert.equal(existsSync(join(dir, "cycle-env-3306")), false, "no cycle for tcp/3306");

  // Item 5: the cycle that is allowed runs without the daemon's environment.
  await sendAndWait(pair, d, knockWire(cycleKeys, 1, "198.18.0.2,tcp/22"), /Running command cycle/);
  const envFile = join(dir, "cycle-env-22");
  for (let i = 0; i < 200 && !existsSync(envFile); i++) await new Promise((r) => setTimeout(r, 50));
  const cycleEnv = readFileSync(envFile, "utf8");
  assert.doesNotMatch(cycleEnv, new RegExp(SECRET_NAME), "the secret reached the cycle command");
  assert.match(d.output(), /Running command cycle command '\/bin\/sh -c env>/);

  await sendAndWait(
    pair,
    d,
    knockWire(execKeys, 0, `198.18.0.2,/bin/sh -c env>${dir}/cmd-env`),
    /Command exited with status/,
  );
  const cmdEnv = readFileSync(join(dir, "cmd-env"), "utf8");
  assert.doesNotMatch(cmdEnv, new RegExp(SECRET_NAME), "the secret reached the SPA command");

  // Item 6: a command message to the cycle stanza carrying a forged log line.
  const forged = "Added access rule to FWKNOP_INPUT for 6.6.6.6, tcp/22 expires at 1";
  await sendAndWait(
    pair,
    d,
    knockWire(cycleKeys, 0, `198.18.0.2,x\n${forged}\x1b[2J`),
    /command cycle needs a proto\/port list/,
  );
  const lines = d.output().split("\n");
  assert.ok(
    lines.every((l) => !l.startsWith("Added access rule to FWKNOP_INPUT for 6.6.6.6")),
    "a packet forged a log line",
  );
  assert.ok(
    lines.some((l) => l.includes(`x\\n${forged}\\x1b[2J`)),
    "the packet text is logged escaped",
  );
  assert.ok(!d.output().includes("\u001b"), "no terminal escape reaches the log");
});

test("-t test mode runs no command cycle and no SPA command", async (t) => {
  const { pair, dir } = await setup(t, "cmdtest");
  const cycleKeys = randomKeys();
  const execKeys = randomKeys();
  const access =
    accessStanza(cycleKeys, {
      CMD_CYCLE_OPEN: `touch ${dir}/cycle-ran`,
      CMD_CYCLE_CLOSE: `touch ${dir}/close-ran`,
      CMD_CYCLE_TIMER: "1",
    }) + accessStanza(execKeys, { ENABLE_CMD_EXEC: "Y" });
  const d = await startDaemon(writeConfigDir({}, access), { netns: pair.server, args: ["-t"] });
  t.after(() => d.stop());
  await sendAndWait(
    pair,
    d,
    knockWire(cycleKeys, 1, "198.18.0.2,tcp/22"),
    /FWK_ERR_SPA_TEST_MODE|Running command cycle/,
  );
  await sendAndWait(
    pair,
    d,
    knockWire(execKeys, 0, `198.18.0.2,touch ${dir}/cmd-ran`),
    /FWK_ERR_SPA_TEST_MODE|Running command/,
  );
  await d.stop();
  assert.doesNotMatch(d.output(), /Running command/);
  assert.equal(existsSync(join(dir, "cycle-ran")), false, "the cycle ran in -t mode");
  assert.equal(existsSync(join(dir, "close-ran")), false, "the close command ran in -t mode");
  assert.equal(existsSync(join(dir, "cmd-ran")), false, "the SPA command ran in -t mode");
});
