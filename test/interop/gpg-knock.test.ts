/**
 * GPG-encrypted knocks on our fwknopd (iptables in namespaces): the real C fwknop 2.6.10 client
 * encrypts to the server's key and signs with its own (HMAC on top) and the hidden port opens;
 * a packet signed by a key the stanza does not list, and an unsigned one, are refused with their
 * reasons; and our own client's GPG knock is accepted too.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { run, runChecked } from "../../src/sys/run.js";
import {
  C_FWKNOP,
  OUR_FWKNOP,
  OUR_FWKNOPD,
  type RunningDaemon,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import {
  canConnect,
  canUseNetns,
  createNetnsPair,
  hideServices,
  type NetnsPair,
  startHiddenService,
} from "../helpers/netns.js";

const PORT = 2222;
const GPG = "/usr/bin/gpg";
const HMAC = Buffer.from("gpg-knock-test-hmac-key-0123456789abcdef").toString("base64");

interface Key {
  fpr: string;
  /** Last 8 hex digits of the fingerprint: GPG_REMOTE_ID, and what the clients accept as a key name. */
  id: string;
}

function gpg(home: string, args: string[], input?: string) {
  const argv = [GPG, "--homedir", home, "--batch", "--pinentry-mode", "loopback", ...args];
  return runChecked(argv, input === undefined ? {} : { input });
}

/** A passphrase-less sign+encrypt key, as ecosystem.md §10 recommends for tests. */
async function makeKey(home: string, name: string): Promise<Key> {
  await gpg(
    home,
    ["--passphrase", "", "--quick-gen-key", `${name} <${name}@e>`, "rsa2048"].concat([
      "sign,encrypt",
      "never",
    ]),
  );
  const listing = (await gpg(home, ["--list-keys", "--with-colons", `${name}@e`])).stdout;
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(listing)?.[1];
  if (!fpr) throw new Error(`gpg made no key for ${name} in ${home}`);
  return { fpr, id: fpr.slice(-8) };
}

async function copyPublicKey(from: string, to: string, fpr: string): Promise<void> {
  const pub = (await gpg(from, ["--export", "--armor", fpr])).stdout;
  await gpg(to, ["--import"], pub);
}

describe("GPG knocks on our fwknopd (C client and ours, iptables, namespaces)", () => {
  let pair: NetnsPair;
  let daemon: RunningDaemon;
  let base = "";
  let clientHome = "";
  let serverHome = "";
  let server: Key;
  let client: Key;
  let stranger: Key;
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
    if (!existsSync(C_FWKNOP)) assert.fail(`${C_FWKNOP} is missing: apt-get install fwknop-client`);
    if (!existsSync(GPG)) assert.fail(`${GPG} is missing: apt-get install gnupg`);
    // Short paths: gpg-agent's socket path must stay under 108 bytes.
    base = mkdtempSync("/tmp/fwg-");
    cleanups.push(async () => rmSync(base, { recursive: true, force: true }));
    clientHome = `${base}/c`;
    serverHome = `${base}/s`;
    for (const home of [clientHome, serverHome]) {
      mkdirSync(home, { mode: 0o700 });
      cleanups.push(() => run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"]));
    }
    server = await makeKey(serverHome, "srv");
    // The client keyring holds two signing keys: the listed one and a stranger.
    client = await makeKey(clientHome, "cli");
    stranger = await makeKey(clientHome, "other");
    await copyPublicKey(serverHome, clientHome, server.fpr);
    for (const k of [client, stranger]) await copyPublicKey(clientHome, serverHome, k.fpr);
    // Both signers are valid on the server (ultimate owner trust), so the stranger is refused
    // by the signer lists, not by the signature check.
    await gpg(serverHome, ["--import-ownertrust"], `${client.fpr}:6:\n${stranger.fpr}:6:\n`);

    pair = await createNetnsPair("gpg");
    cleanups.push(() => pair.cleanup());
    const svc = await startHiddenService(pair.server, PORT);
    cleanups.push(async () => svc.kill());
    await hideServices(pair.server);
    const access = [
      "SOURCE ANY",
      `GPG_HOME_DIR ${serverHome}`,
      `GPG_DECRYPT_ID ${server.id}`,
      "GPG_ALLOW_NO_PW Y",
      `GPG_REMOTE_ID ${client.id}`,
      `GPG_FINGERPRINT_ID ${client.fpr}`,
      `HMAC_KEY_BASE64 ${HMAC}`,
      "FW_ACCESS_TIMEOUT 30",
      "",
    ].join("\n");
    daemon = await startDaemon(writeConfigDir({}, access), { netns: pair.server });
    cleanups.unshift(() => daemon.stop());
  });

  after(async () => {
    // The daemon stops first (its gpg runs end), then the agents, namespaces and files go.
    for (const c of cleanups) await c();
  });

  /** Knocks from the client namespace; `signer` undefined sends an unsigned packet. */
  async function gpgKnock(
    binary: string,
    port: number,
    signer: Key | undefined,
    hmac = HMAC,
  ): Promise<void> {
    const argv = [
      ...(binary === OUR_FWKNOP ? [process.execPath] : []),
      binary,
      ...["--no-rc-file", "--no-save-args", "-A", `tcp/${port}`, "-a", pair.clientIp],
      ...["-D", pair.serverIp, "--gpg-recipient-key", server.id, "--gpg-home-dir", clientHome],
      ...(signer ? ["--gpg-signer-key", signer.id, "--gpg-no-signing-pw"] : ["-g"]),
      ...["--key-base64-hmac", hmac, "--use-hmac"],
    ];
    const r = await run(argv, { netns: pair.client, env: { HOME: base }, timeoutMs: 20_000 });
    assert.equal(r.code, 0, `${argv.join(" ")} failed: ${r.stderr}${r.stdout}`);
  }

  /** Waits (bounded) for a log line after `from` matching `re`. */
  async function logAfter(from: number, re: RegExp, ms = 60_000): Promise<string> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const line = daemon
        .output()
        .slice(from)
        .split("\n")
        .find((l) => re.test(l));
      if (line) return line;
      await sleep(50);
    }
    assert.fail(`no log line matching ${re} within ${ms} ms:\n${daemon.output().slice(from)}`);
  }

  test("the C client's signed GPG knock (with HMAC) opens the hidden port", async () => {
    assert.equal(await canConnect(pair.client, pair.serverIp, PORT, 400), false, "not hidden");
    const from = daemon.output().length;
    await gpgKnock(C_FWKNOP, PORT, client);
    await logAfter(
      from,
      new RegExp(`Incoming SPA data signed by '${client.id}' \\(fingerprint '${client.fpr}'\\)`),
    );
    await logAfter(from, /Added access rule to FWKNOP_INPUT for 198\.18\.0\.2/);
    assert.equal(await canConnect(pair.client, pair.serverIp, PORT), true, "port did not open");
  });

  test("a packet signed by a key not in GPG_FINGERPRINT_ID / GPG_REMOTE_ID is refused", async () => {
    const from = daemon.output().length;
    await gpgKnock(C_FWKNOP, 2301, stranger);
    const line = await logAfter(from, /\[FWK_ERR_SPA_GPG_SIGNER_DENIED\]/);
    assert.match(line, new RegExp(`signed by: ${stranger.fpr}, but that fingerprint is not`));
    assert.doesNotMatch(daemon.output().slice(from), /Added access rule/);
  });

  test("an unsigned packet is refused when signatures are required", async () => {
    const from = daemon.output().length;
    await gpgKnock(C_FWKNOP, 2302, undefined);
    await logAfter(from, /\[FKO_ERROR_GPGME_NO_SIGNATURE\]/);
    assert.doesNotMatch(daemon.output().slice(from), /Added access rule/);
  });

  test("a wrong HMAC is refused before gpg runs", async () => {
    const from = daemon.output().length;
    await gpgKnock(C_FWKNOP, 2304, client, Buffer.from("some other HMAC key!").toString("base64"));
    await logAfter(from, /\[FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL\]/);
    assert.doesNotMatch(daemon.output().slice(from), /Incoming SPA data signed by/);
  });

  test("our own client's GPG knock (fwknop -g …) is accepted", async () => {
    const from = daemon.output().length;
    await gpgKnock(OUR_FWKNOP, 2303, client);
    await logAfter(from, new RegExp(`Incoming SPA data signed by '${client.id}'`));
    await logAfter(from, /Added access rule to FWKNOP_INPUT for 198\.18\.0\.2.*2303/);
  });

  test("fwknopd --explain tells the GPG stage: signer not listed, unsigned, and a good packet", async () => {
    const file = `${base}/gpg-knocks.txt`;
    for (const signer of [stranger, undefined, client]) {
      // Our client: in -T mode the C one tries to decrypt its own GPG packet and fails.
      const argv = [
        process.execPath,
        OUR_FWKNOP,
        ...["--no-rc-file", "--no-save-args", "-T", "-B", file, "-b"],
        ...["-A", "tcp/2305", "-a", pair.clientIp, "-D", pair.serverIp],
        ...["--gpg-recipient-key", server.id, "--gpg-home-dir", clientHome],
        ...(signer ? ["--gpg-signer-key", signer.id, "--gpg-no-signing-pw"] : ["-g"]),
        ...["--key-base64-hmac", HMAC, "--use-hmac"],
      ];
      const r = await run(argv, { env: { HOME: base }, timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
    }
    const cfg = daemon.cfg;
    const r = await run(
      [process.execPath, OUR_FWKNOPD, "--explain", file, "-c", cfg.confFile, "-a", cfg.accessFile],
      { netns: pair.server, env: { HOME: base }, timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const packets = r.stdout.split(/^packet \d+: /m).slice(1);
    assert.equal(packets.length, 3, r.stdout);
    assert.match(packets[0] ?? "", /outcome: refused at gpg: .*\[FWK_ERR_SPA_GPG_SIGNER_DENIED\]/);
    assert.match(packets[1] ?? "", /outcome: refused at gpg: .*\[FKO_ERROR_GPGME_NO_SIGNATURE\]/);
    assert.match(packets[2] ?? "", /gpg: decrypted and signature accepted/);
    assert.match(packets[2] ?? "", /outcome: GRANTED/);
  });
});
