/**
 * Syslog parity with fwknopd 2.6.10: both daemons run in the same namespaces with a private
 * /dev/log that is a test socket, receive the same knocks from the C client, and their syslog
 * lines are compared: the same priority for each kind of line, and every refusal in one line
 * that carries the source IP, the stanza and the code.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import {
  accessStanza,
  C_FWKNOP,
  C_FWKNOPD,
  type Keys,
  knock,
  OUR_FWKNOPD,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import { canUseNetns, createNetnsPair, type NetnsPair, sendUdp } from "../helpers/netns.js";
import {
  canCaptureSyslog,
  captureSyslog,
  type SyslogLine,
  withPrivateDevLog,
} from "../helpers/syslog-capture.js";

const PORT = 2222;

interface Knock {
  name: string;
  send: (pair: NetnsPair) => Promise<unknown>;
}

/** The same knocks for both daemons; each ends in one log line we wait for. */
function knocks(good: Keys): Knock[] {
  let validWire = "";
  const c = (pair: NetnsPair, keys: Keys, port = PORT, extra: string[] = []) =>
    knock(pair, keys, { port, extra });
  return [
    { name: "valid", send: async (p) => (validWire = await c(p, good)) },
    { name: "replayed", send: (p) => sendUdp(p.client, p.serverIp, 62201, validWire) },
    { name: "wrong key", send: (p) => c(p, randomKeys()) },
    { name: "wrong encryption key", send: (p) => c(p, { key: randomKeys().key, hmac: good.hmac }) },
    {
      name: "wrong HMAC type",
      send: (p) => c(p, good, PORT, ["--hmac-digest-type", "sha512"]),
    },
    { name: "stale", send: (p) => c(p, good, PORT, ["--time-offset-minus", "10m"]) },
    { name: "disallowed port", send: (p) => c(p, good, 2223) },
    { name: "junk", send: (p) => sendUdp(p.client, p.serverIp, 62201, "x".repeat(200)) },
  ];
}

/** What a line is, so lines of both daemons can be paired; undefined for start/stop chatter. */
function kind(msg: string): string | undefined {
  if (/^\(stanza #\d+\) SPA Packet from IP: \S+ received with access source match/.test(msg))
    return "source-match";
  if (/^\[[\d.]+\] \(stanza #\d+\) /.test(msg)) return "refusal";
  if (/^Replay detected from source IP/.test(msg)) return "replay";
  if (/^Added access rule to FWKNOP_INPUT/.test(msg)) return "added";
  if (/^Removed rule/.test(msg)) return "removed";
  return undefined;
}

/** Last line a knock produces, in either daemon. */
const KNOCK_DONE = /^\[[\d.]+\] \(stanza #\d+\) |^Added access rule|^Replay detected/;

interface Run {
  /** Per knock: the syslog lines it produced (grant removals left out). */
  perKnock: SyslogLine[][];
  all: SyslogLine[];
}

async function collect(binary: string, pair: NetnsPair, good: Keys): Promise<Run> {
  const cap = captureSyslog();
  try {
    const access = accessStanza(good, { OPEN_PORTS: `tcp/${PORT}`, FW_ACCESS_TIMEOUT: "2" });
    const d = await startDaemon(writeConfigDir({}, access), {
      binary,
      netns: pair.server,
      wrap: withPrivateDevLog(cap.path),
      args: ["--syslog-enable"],
    });
    const perKnock: SyslogLine[][] = [];
    try {
      for (const k of knocks(good)) {
        const since = cap.lines.length;
        await k.send(pair);
        await cap.waitFor(KNOCK_DONE, 15_000, since);
        perKnock.push(cap.lines.slice(since).filter((l) => kind(l.msg) !== "removed"));
      }
      // The valid knock's 2 s grant: both daemons log its removal.
      await cap.waitFor(/^Removed rule/, 20_000);
    } finally {
      await d.stop();
    }
    return { perKnock, all: [...cap.lines] };
  } finally {
    cap.close();
  }
}

/** Kind@severity of each per-packet line (start-up lines may arrive late; they are left out). */
const shape = (lines: readonly SyslogLine[]) =>
  lines.flatMap((l) => {
    const k = kind(l.msg);
    return k ? [`${k}@${l.severity}`] : [];
  });

describe("syslog lines of ours vs fwknopd 2.6.10 for the same knocks", () => {
  let pair: NetnsPair;
  let c: Run;
  let ours: Run;
  const good = randomKeys();
  const names = knocks(good).map((k) => k.name);

  before(async () => {
    if (!canUseNetns()) assert.fail("needs root and iproute2");
    if (!existsSync(C_FWKNOP) || !existsSync(C_FWKNOPD)) assert.fail("needs fwknop 2.6.10");
    if (!canCaptureSyslog()) assert.fail("needs the unix-dgram addon (optional dependency)");
    pair = await createNetnsPair("syslog");
    c = await collect(C_FWKNOPD, pair, good);
    ours = await collect(OUR_FWKNOPD, pair, good);
  });
  after(async () => pair?.cleanup());

  test("each knock: the same kinds of lines at the same priorities", () => {
    names.forEach((name, i) => {
      assert.deepEqual(
        shape(ours.perKnock[i] ?? []),
        shape(c.perKnock[i] ?? []),
        `${name}: ours ${JSON.stringify(ours.perKnock[i])} vs 2.6.10 ${JSON.stringify(c.perKnock[i])}`,
      );
    });
  });

  test("refusals are at LOG_WARNING, one line each, with source IP, stanza and code", () => {
    const expected: Record<string, string> = {
      replayed: "SPA_MSG_REPLAY",
      "wrong key": "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
      "wrong encryption key": "FKO_ERROR_DECRYPTION_FAILURE",
      "wrong HMAC type": "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
      stale: "SPA_MSG_TOO_OLD",
      "disallowed port": "FWK_ERR_SPA_PORTS_DENIED",
      junk: "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
    };
    names.forEach((name, i) => {
      const code = expected[name];
      if (!code) return;
      const refusals = (ours.perKnock[i] ?? []).filter((l) => l.severity <= 4);
      assert.equal(
        refusals.length,
        1,
        `${name}: one refusal line, got ${JSON.stringify(refusals)}`,
      );
      const line = refusals[0]?.msg ?? "";
      assert.equal(refusals[0]?.severity, 4, `${name}: LOG_WARNING`);
      assert.ok(line.includes(pair.clientIp), `${name}: source IP in ${line}`);
      assert.ok(line.endsWith(`[${code}]`), `${name}: code ${code} in ${line}`);
      if (name !== "replayed") assert.match(line, /\(stanza #1\)/, `${name}: stanza in ${line}`);
    });
  });

  test("grant added and removed at LOG_INFO in both", () => {
    for (const run of [c, ours]) {
      for (const k of ["added", "removed"]) {
        const l = run.all.find((x) => kind(x.msg) === k);
        assert.equal(l?.severity, 6, `${k}: ${JSON.stringify(run.all)}`);
      }
    }
  });
});
