/**
 * LOG_FORMAT json: one JSON object per event with stable field names, on stderr and on syslog
 * (one datagram per event, at the event's priority); the text format stays the plain line.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadServerConfig } from "../../src/config/server-config.js";
import { createLogger } from "../../src/log/create-logger.js";
import { type LogEvent, logEvent } from "../../src/log/event.js";
import { logFormat } from "../../src/server/daemon-settings.js";
import { canCaptureSyslog, captureSyslog } from "../helpers/syslog-capture.js";

function capture(): { write(s: string): void; lines: () => string[] } {
  const parts: string[] = [];
  return {
    write: (s) => void parts.push(s),
    lines: () => parts.join("").split("\n").filter(Boolean),
  };
}

const base = { identity: "fwknopd", facility: "LOG_DAEMON", syslog: false, foreground: true };

const refused: LogEvent = {
  level: "warn",
  event: "spa.refused",
  message:
    "[198.18.0.2] (stanza #1) Non-corresponding HMAC [FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL]",
  code: "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
  srcIp: "198.18.0.2",
  stanza: 1,
};
const added: LogEvent = {
  level: "info",
  event: "grant.added",
  message: "Added access rule to FWKNOP_INPUT for 198.18.0.2 -> 0.0.0.0/0 tcp/22, expires at 99",
  srcIp: "198.18.0.2",
  ports: "tcp/22",
  expiry: 99,
  grantId: "input|tcp|198.18.0.2",
};

test("json: one parsable object per event and per plain line, with the stable fields", async () => {
  const out = capture();
  const log = createLogger({ ...base, verbosity: 1, format: "json", stderr: out });
  logEvent(log, refused);
  logEvent(log, { ...added, messageType: 1 });
  log.info("Kicking off UDP server to listen on port 62201.");
  log.debug("SPA Field Values:\n  Random Value: 1234\n  Username: \u001b[31mroot");
  await log.close();
  const lines = out.lines();
  assert.equal(lines.length, 4, "a multi-line message is still one line");
  const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const o of objs) {
    assert.match(String(o.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(typeof o.message, "string");
  }
  assert.deepEqual(
    { ...objs[0], time: "t" },
    {
      time: "t",
      level: "warn",
      event: "spa.refused",
      code: "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
      srcIp: "198.18.0.2",
      stanza: 1,
      message: refused.message,
    },
  );
  assert.deepEqual(
    [objs[1]?.event, objs[1]?.ports, objs[1]?.expiry, objs[1]?.grantId, objs[1]?.messageType],
    ["grant.added", "tcp/22", 99, "input|tcp|198.18.0.2", 1],
  );
  assert.deepEqual([objs[2]?.event, objs[2]?.level], ["log", "info"]);
  assert.ok(String(objs[3]?.message).endsWith("Username: \u001b[31mroot"));
  assert.ok(!lines[3]?.includes("\u001b"), "control characters are escaped in the JSON text");
});

test("text (the default): events print exactly their message line", async () => {
  const out = capture();
  const log = createLogger({ ...base, verbosity: 0, stderr: out });
  logEvent(log, refused);
  logEvent(log, { ...added, level: "debug" });
  await log.close();
  assert.deepEqual(out.lines(), [refused.message]);
});

test("json to syslog: one datagram per event at the event's priority", async (t) => {
  if (!canCaptureSyslog()) {
    t.skip("the optional unix-dgram addon is not installed");
    return;
  }
  const cap = captureSyslog();
  try {
    const log = createLogger({
      ...base,
      foreground: false,
      verbosity: 0,
      format: "json",
      syslogSocket: cap.path,
    });
    logEvent(log, refused);
    logEvent(log, added);
    await cap.waitFor(/"grant\.added"/, 10_000);
    await log.close();
    assert.deepEqual(
      cap.lines.map((l) => [l.severity, (JSON.parse(l.msg) as { event: string }).event]),
      [
        [4, "spa.refused"],
        [6, "grant.added"],
      ],
    );
  } finally {
    cap.close();
  }
});

test("LOG_FORMAT: text by default, json, anything else names file:line", () => {
  const dir = mkdtempSync(join(tmpdir(), "fwk-logfmt-"));
  try {
    const load = (text: string) => {
      const configFile = join(dir, "fwknopd.conf");
      writeFileSync(configFile, text, { mode: 0o600 });
      return loadServerConfig({ configFile });
    };
    assert.equal(logFormat(load("VERBOSE 0\n")), "text");
    assert.equal(logFormat(load("LOG_FORMAT JSON\n")), "json");
    assert.throws(
      () => logFormat(load("\nLOG_FORMAT yaml\n")),
      /fwknopd\.conf:2: Invalid LOG_FORMAT 'yaml' \(text or json\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
