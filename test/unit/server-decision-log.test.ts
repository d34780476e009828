/**
 * DecisionLog: every decision counted; refusal lines through a per-second rate limit whose
 * suppressed lines are summarised, never lost silently; noise at debug level only. The
 * windows follow the packets' receive times.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DecisionLog } from "../../src/server/decision-log.js";
import type { Decision } from "../../src/server/pipeline.js";
import { udpCandidate } from "../helpers/candidate.js";
import { recorder } from "../helpers/recording-logger.js";

const candidate = udpCandidate();

const hmacFailure: Decision = {
  ok: false,
  code: "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
  detail: "Non-corresponding HMAC",
  authenticated: false,
  outcomes: [
    {
      stanza: 1,
      code: "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
      detail: "Non-corresponding HMAC",
    },
  ],
};

const junk: Decision = {
  ok: false,
  code: "SPA_MSG_NOT_SPA_DATA",
  detail: "payload contains characters outside base64",
  authenticated: false,
  outcomes: [],
};

test("refusal lines beyond the per-second limit are counted and summarised", () => {
  const log = recorder();
  const decisions = new DecisionLog({ log, perSecond: 3, summaryMs: 3_600_000 });
  try {
    for (let i = 0; i < 10; i++) decisions.record(candidate, hmacFailure);
    const refused = () =>
      log.lines.filter((l) => l.includes("[FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL]"));
    assert.equal(refused().length, 3);
    assert.match(refused()[0] ?? "", /^warn: \[198\.18\.0\.9\] \(stanza #1\) /);
    assert.equal(decisions.counts.get("FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL"), 10);

    decisions.flushSummary();
    assert.ok(
      log.lines.includes(
        "warn: Rate limit: 7 rejected-packet log lines suppressed (FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL=7)",
      ),
      log.lines.join("\n"),
    );
    // A packet received a second later opens a new window; nothing suppressed, no summary.
    decisions.record({ ...candidate, receivedAt: candidate.receivedAt + 1000 }, hmacFailure);
    assert.equal(refused().length, 4);
    const before = log.lines.length;
    decisions.flushSummary();
    assert.equal(log.lines.length, before);
  } finally {
    decisions.close();
  }
});

test("junk that never looked like SPA is counted and logged at debug level, outside the limit", () => {
  const log = recorder();
  const decisions = new DecisionLog({ log, perSecond: 1, summaryMs: 3_600_000 });
  try {
    for (let i = 0; i < 5; i++) decisions.record(candidate, junk);
    assert.equal(decisions.counts.get("SPA_MSG_NOT_SPA_DATA"), 5);
    assert.equal(
      log.lines.filter((l) => l.startsWith("debug: Dropped packet from 198.18.0.9")).length,
      5,
    );
    // The limit was not used up by the noise.
    decisions.record(candidate, hmacFailure);
    assert.equal(log.lines.filter((l) => l.startsWith("warn:")).length, 1);
  } finally {
    decisions.close();
  }
});

test("a receive time that steps back (a capture file) starts a new window", () => {
  const log = recorder();
  const decisions = new DecisionLog({ log, perSecond: 1, summaryMs: 3_600_000 });
  try {
    decisions.record(candidate, hmacFailure);
    decisions.record({ ...candidate, receivedAt: candidate.receivedAt - 5000 }, hmacFailure);
    assert.equal(log.lines.filter((l) => l.startsWith("warn:")).length, 2);
  } finally {
    decisions.close();
  }
});
