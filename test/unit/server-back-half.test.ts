/**
 * The back half of the packet path: the NAT step yields a Decision, the decision is recorded
 * once when final, the dispatch stage hands grants to their owner, command cycles dedupe.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadServerConfig } from "../../src/config/server-config.js";
import { silentLogger } from "../../src/log/logger.js";
import type { SpaMessage } from "../../src/protocol/spa.js";
import { CommandCycles } from "../../src/server/commands.js";
import { Daemon, pipelineContext } from "../../src/server/daemon.js";
import { GrantLedger } from "../../src/server/grants.js";
import type { Candidate } from "../../src/server/intake/intake.js";
import { resolveNatStep } from "../../src/server/nat-resolve.js";
import type { Decision } from "../../src/server/pipeline.js";
import type { CycleGrant } from "../../src/server/policy.js";
import type { Timers } from "../../src/server/timers.js";
import { HandIntake, RecordingBackend } from "../helpers/daemon-doubles.js";
import { knockCandidate } from "../helpers/knock.js";
import { recorder } from "../helpers/recording-logger.js";
import { makeStanza } from "../helpers/stanza.js";

const NOW = 1_700_000_000;
const KEY = Buffer.from("back-half-key-0123456789");
const HMAC = Buffer.from("back-half-hmac-key-0123456789");
const dir = mkdtempSync(join(tmpdir(), "fwk-back-half-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function knock(over: Partial<SpaMessage>): Candidate {
  return knockCandidate({ now: NOW, key: KEY, hmac: HMAC, over, dstIp: "198.18.0.1" });
}

async function daemonFor(conf: string) {
  const path = join(dir, `fwknopd-${randomBytes(4).toString("hex")}.conf`);
  writeFileSync(path, `ENABLE_DIGEST_PERSISTENCE N\n${conf}`, { mode: 0o600 });
  const config = loadServerConfig({ configFile: path, warn: () => {} });
  const log = recorder();
  const backend = new RecordingBackend();
  const ledger = new GrantLedger(backend, { log, now: () => NOW * 1000, sweepMs: 0 });
  const intake = new HandIntake();
  const daemon = new Daemon({
    config,
    stanzas: [makeStanza({ key: KEY, hmacKey: HMAC })],
    log,
    intake,
    replay: undefined,
    firewall: { backend, ledger },
    testMode: false,
    packetLimit: 0,
    onLimit: () => {},
    now: () => NOW,
  });
  await daemon.start();
  return { daemon, intake, backend, ledger, log };
}

describe("the NAT step", () => {
  const granted = (host: string): Decision => ({
    ok: true,
    grant: {
      kind: "access",
      stanza: makeStanza(),
      clientIp: "198.18.0.2",
      timeout: 30,
      messageType: 2,
      username: "alice",
      ports: [{ proto: "tcp", port: 22 }],
      nat: { host, port: 22 },
    },
    message: {
      randomValue: "1".repeat(16),
      username: "alice",
      timestamp: NOW,
      version: "3.0.0",
      messageType: 2,
      message: "198.18.0.2,tcp/22",
      natAccess: `${host},22`,
    } as Extract<Decision, { ok: true }>["message"],
    encryption: "rijndael",
    wire: "x",
    outcomes: [],
  });

  test("an IPv4 NAT host passes unchanged; a name is resolved to its address", async () => {
    const d = granted("192.0.2.9");
    assert.equal(await resolveNatStep(d, { dns: false }), d);
    const r = await resolveNatStep(granted("db.example"), {
      dns: true,
      resolve: async () => "192.0.2.10",
    });
    assert.ok(r.ok && r.grant.kind === "access");
    assert.deepEqual(r.grant.nat, { host: "192.0.2.10", port: 22 });
  });

  test("an unresolvable, invalid or disallowed host is a refusal with its code", async () => {
    const cases: [string, boolean, RegExp][] = [
      ["db.example", false, /resolving the hostname 'db\.example' is disabled/],
      ["bad_host!", true, /Invalid Hostname in NAT SPA message: 'bad_host!'/],
      ["db.example", true, /Unable to resolve Hostname in NAT SPA message: 'db\.example'/],
    ];
    for (const [host, dns, detail] of cases) {
      const r = await resolveNatStep(granted(host), {
        dns,
        resolve: async () => {
          throw new Error("NXDOMAIN");
        },
      });
      assert.ok(!r.ok);
      assert.equal(r.code, "FWK_ERR_SPA_NAT_RESOLVE");
      assert.equal(r.authenticated, true);
      assert.match(r.detail, detail);
    }
  });
});

describe("Daemon: one decision per packet, recorded when final", () => {
  test("a NAT knock whose host cannot be resolved is counted as refused, never as granted", async () => {
    const { daemon, intake, backend, log } = await daemonFor(
      "ENABLE_IPT_FORWARDING Y\nENABLE_NAT_DNS N\n",
    );
    await intake.feed(knock({ messageType: 2, natAccess: "db.example,22" }));
    assert.match(daemon.countsSummary(), /FWK_ERR_SPA_NAT_RESOLVE=1/);
    assert.doesNotMatch(daemon.countsSummary(), /GRANTED/);
    assert.equal(backend.added.length, 0);
    assert.ok(log.lines.some((l) => /^warn: .*is disabled \[FWK_ERR_SPA_NAT_RESOLVE\]$/.test(l)));
    await daemon.stop();
  });

  test("an access grant goes to the ledger, which builds and commits its rules", async () => {
    const { daemon, intake, backend, ledger } = await daemonFor("");
    await intake.feed(knock({}));
    assert.match(daemon.countsSummary(), /GRANTED=1/);
    assert.deepEqual(
      backend.added.map((r) => [r.chain, r.src, r.dport, r.expiresAt]),
      [["input", "198.18.0.2", 22, NOW + 30]],
    );
    await daemon.stop();
    await ledger.stop();
  });

  test("the accepted line is logged once the firewall answered the batch, before its Added line", async () => {
    const { daemon, intake, backend, ledger, log } = await daemonFor("");
    let linesAtApply: string[] = [];
    const apply = backend.apply.bind(backend);
    backend.apply = async (add) => {
      linesAtApply = [...log.lines];
      return apply(add);
    };
    await intake.feed(knock({}));
    const accepted = log.lines.findIndex((l) =>
      / received with access source match; message: /.test(l),
    );
    const added = log.lines.findIndex((l) => /^info: Added access rule to FWKNOP_INPUT /.test(l));
    assert.ok(accepted >= 0 && added > accepted, log.lines.join("\n"));
    assert.ok(
      !linesAtApply.some((l) => l.includes("received with access source match")),
      "nothing written while the batch was on its way to the firewall",
    );
    await daemon.stop();
    await ledger.stop();
  });
});

test("without -v the pipeline gets no debug sink, so it builds no field dump per packet", () => {
  const configFile = join(dir, "quiet.conf");
  writeFileSync(configFile, "", { mode: 0o600 });
  const parts = { config: loadServerConfig({ configFile, warn: () => {} }) };
  const quiet = pipelineContext(
    { ...parts, stanzas: [], replay: undefined, log: silentLogger, testMode: false },
    () => NOW,
  );
  assert.equal(quiet.debug, undefined);
  const verbose = pipelineContext(
    { ...parts, stanzas: [], replay: undefined, log: recorder(), testMode: false },
    () => NOW,
  );
  assert.equal(typeof verbose.debug, "function");
});

describe("CommandCycles", () => {
  test("a re-knock before the close ran moves the pending close instead of adding one", async () => {
    let now = NOW;
    const timers: Timers & { live: Map<number, number> } = {
      live: new Map(),
      setTimeout(_fn, ms) {
        const id = this.live.size + 1 + Math.random();
        this.live.set(id, ms);
        return id;
      },
      clearTimeout(h) {
        this.live.delete(h as number);
      },
    };
    const cycles = new CommandCycles({
      log: recorder(),
      sudoExe: "/usr/bin/sudo",
      now: () => now,
      timers,
    });
    const grant: CycleGrant = {
      kind: "cmd-cycle",
      stanza: makeStanza({ cmdCycleOpen: "true", cmdCycleClose: "true $IP", cmdCycleTimer: 60 }),
      clientIp: "198.18.0.2",
      timeout: 60,
      messageType: 1,
      username: "alice",
      ports: [{ proto: "tcp", port: 22 }],
    };
    const facts = {
      packetSrcIp: "198.18.0.2",
      packetDstIp: "198.18.0.1",
      timestamp: NOW,
      clientTimeout: undefined,
    };
    await cycles.open(grant, facts);
    now += 10;
    await cycles.open(grant, facts);
    assert.deepEqual([...timers.live.values()], [60_000]);
    await cycles.closeAll();
    assert.equal(timers.live.size, 0);
  });
});
