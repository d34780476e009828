/**
 * `fwknopd --explain` as an operator runs it, inside a network namespace: wire strings from a
 * file or stdin and a pcap capture are explained against the real -c/-a files; the digest cache
 * (fwknopd 2.6.10's own, holding a replayed packet) keeps its bytes and mtime, and the firewall
 * (iptables and nft rulesets of the namespace) is exactly as before.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { appendFileSync, copyFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { encodeSpa, replayDigest } from "../../src/protocol/spa.js";
import { run } from "../../src/sys/run.js";
import { accessStanza, OUR_FWKNOPD, randomKeys, writeConfigDir } from "../helpers/daemon.js";
import { canUseNetns, createNetnsPair, type NetnsPair } from "../helpers/netns.js";
import { pcapFile } from "../helpers/pcap-writer.js";

const vector = (name: string) =>
  fileURLToPath(new URL(`../../../test/vectors/${name}`, import.meta.url));

describe("fwknopd --explain (read only)", () => {
  let pair: NetnsPair;
  const keys = randomKeys();
  const cfg = writeConfigDir(
    { ENABLE_DIGEST_PERSISTENCE: "Y" },
    accessStanza(keys, { OPEN_PORTS: "tcp/22" }),
  );
  const now = Math.floor(Date.now() / 1000);
  const wire = (message: string, timestamp = now) => {
    const r = encodeSpa(
      {
        randomValue: "1234567890123456",
        username: "alice",
        timestamp,
        version: "3.0.0",
        messageType: 1,
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
    assert.ok(r.ok);
    return r.value.wire;
  };
  const granted = wire("198.18.0.2,tcp/22");
  // Accepted before (its digest is added to the cache below): authenticates, then is a replay.
  const replayedWire = wire("198.18.0.2,tcp/22");
  const lines = [
    "# comment lines and blank lines are skipped",
    "",
    `198.18.0.2 ${granted}`,
    wire("198.18.0.2,tcp/23"),
    replayedWire,
    // Recorded by fwknopd 2.6.10 under other keys: known digest, but the HMAC decides.
    readFileSync(vector("digest-cache-c2610-packet.txt"), "utf8").trim(),
  ].join("\n");

  const firewall = async () => {
    const ipt = await run(["iptables-save"], { netns: pair.server });
    const nft = await run(["nft", "list", "ruleset"], { netns: pair.server });
    return `${ipt.stdout.replace(/^#.*$/gm, "")}\n${nft.stdout}`;
  };
  const explain = (file: string, input?: string) =>
    run(
      [
        process.execPath,
        OUR_FWKNOPD,
        "--explain",
        file,
        ...["-c", cfg.confFile, "-a", cfg.accessFile, "-d", cfg.digestFile],
      ],
      { netns: pair.server, ...(input === undefined ? {} : { input }), timeoutMs: 60_000 },
    );

  before(async () => {
    if (!canUseNetns()) assert.fail("needs root and iproute2");
    pair = await createNetnsPair("explain");
    await run(["mkdir", "-p", cfg.runDir]);
    copyFileSync(vector("digest-cache-c2610.txt"), cfg.digestFile);
    appendFileSync(
      cfg.digestFile,
      `${replayDigest(replayedWire)} 17 198.18.0.2 40000 0.0.0.0 62201 ${now - 10}\n`,
    );
  });
  after(async () => pair?.cleanup());

  test("wire strings from a file: walk, outcome and cause; nothing written", async () => {
    const file = join(cfg.dir, "knocks.txt");
    writeFileSync(file, lines);
    const digestBefore = readFileSync(cfg.digestFile);
    const mtimeBefore = statSync(cfg.digestFile).mtimeMs;
    const fwBefore = await firewall();
    const r = await explain(file);
    assert.equal(r.code, 0, r.stderr);
    const packets = r.stdout.split(/^packet \d+: /m).slice(1);
    assert.equal(packets.length, 4, r.stdout);
    assert.match(packets[0] ?? "", /^198\.18\.0\.2 -> /);
    assert.match(
      packets[0] ?? "",
      /outcome: GRANTED \(stanza #1 grants access: tcp\/22 for 198\.18\.0\.2/,
    );
    assert.match(packets[1] ?? "", /outcome: refused at policy: .*\[FWK_ERR_SPA_PORTS_DENIED\]/);
    assert.match(packets[1] ?? "", /likely cause: port tcp\/23 is not in OPEN_PORTS \(tcp\/22\)/);
    assert.match(
      packets[2] ?? "",
      /replay: digest \S+ was recorded .* from 198\.18\.0\.2; looked up once .* -> SPA_MSG_REPLAY/,
    );
    assert.match(packets[2] ?? "", /outcome: refused at replay: .*\[SPA_MSG_REPLAY\]/);
    assert.match(packets[3] ?? "", /replay: digest \S+ was recorded .* the HMAC did not verify/);
    assert.match(
      packets[3] ?? "",
      /outcome: refused at hmac: .*\[FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL\]/,
    );

    // Explaining the granted packet twice: still not a replay, because nothing was recorded.
    const again = await explain(file);
    assert.match(again.stdout.split(/^packet \d+: /m)[1] ?? "", /outcome: GRANTED/);
    assert.deepEqual(readFileSync(cfg.digestFile), digestBefore, "digest cache bytes unchanged");
    assert.equal(statSync(cfg.digestFile).mtimeMs, mtimeBefore, "digest cache not touched");
    assert.equal(await firewall(), fwBefore, "firewall unchanged");
    assert.doesNotMatch(fwBefore, /FWKNOP/);
  });

  test("stdin (-) and a pcap capture, judged at its capture time", async () => {
    const fromStdin = await explain("-", `${granted}\n`);
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.match(fromStdin.stdout, /^packet 1: 127\.0\.0\.1 -> 0\.0\.0\.0 udp\/62201/m);
    assert.match(fromStdin.stdout, /outcome: GRANTED/);

    const old = now - 3600;
    const pcap = join(cfg.dir, "capture.pcap");
    writeFileSync(
      pcap,
      pcapFile([
        {
          srcIp: "198.18.0.7",
          dstIp: "198.18.0.1",
          srcPort: 40000,
          dstPort: 62201,
          payload: Buffer.from(wire("198.18.0.7,tcp/22", old)),
          time: old + 2,
        },
      ]),
    );
    const r = await explain(pcap);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^packet 1: 198\.18\.0\.7 -> 198\.18\.0\.1 udp\/62201/m);
    assert.match(r.stdout, /timestamp \d+ \(2 s old\)/);
    assert.match(r.stdout, /outcome: GRANTED/);
  });

  test("an unreadable input is one error line and exit status 1", async () => {
    const r = await explain(join(cfg.dir, "missing.txt"));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--explain: cannot read .*missing\.txt.* \[FWK_ERR_EXPLAIN_INPUT\]/);
  });
});
