/**
 * `fwknopd --explain` on a corpus of refused packets: for each rejection code the (Rijndael)
 * pipeline can produce, the explanation names that code and the stage that decided it, agrees
 * with the real pipeline, and the read-only replay cache is never written.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import type { AccessStanza } from "../../src/config/access-stanza.js";
import { parseAddressList } from "../../src/config/address-list.js";
import { encodeSpa, replayDigest, type SpaMessage, sealPlaintext } from "../../src/protocol/spa.js";
import { explainCandidate, formatExplanation, type Stage } from "../../src/server/explain.js";
import type { Candidate } from "../../src/server/intake/intake.js";
import { type PipelineContext, processCandidate } from "../../src/server/pipeline.js";
import type { ReplayCache, ReplayEntry } from "../../src/server/replay/replay-cache.js";
import { defaultPipelineContext } from "../helpers/pipeline-context.js";
import { makeStanza } from "../helpers/stanza.js";

const NOW = 1_700_000_000;
const KEY = Buffer.from("explain-key-0123456789");
const HMAC = Buffer.from("explain-hmac-key-0123456789");

/** A replay cache that knows some digests and records nothing (as --explain opens it). */
function readOnly(known: ReplayEntry[] = []): ReplayCache {
  const entries = new Map(known.map((e) => [e.digest, e]));
  return {
    lookup: async (d: string) => entries.get(d),
    claim: async (e: ReplayEntry) => entries.get(e.digest),
    get size() {
      return entries.size;
    },
    close: async () => {},
  };
}

function message(over: Partial<SpaMessage> = {}): SpaMessage {
  return {
    randomValue: "1234567890123456",
    username: "alice",
    timestamp: NOW,
    version: "3.0.0",
    messageType: 1,
    message: "198.18.0.2,tcp/22",
    ...over,
  };
}

interface Keys {
  key?: Buffer;
  hmac?: Buffer;
  mode?: "CBC" | "CFB";
  hmacType?: "sha256" | "sha512";
}

function wireOf(msg: SpaMessage, k: Keys = {}): string {
  const r = encodeSpa(
    msg,
    {
      encKey: k.key ?? KEY,
      encMode: k.mode ?? "CBC",
      hmacKey: k.hmac ?? HMAC,
      hmacType: k.hmacType ?? "sha256",
    },
    { digestType: "sha256", salt: randomBytes(8) },
  );
  assert.ok(r.ok, r.ok ? "" : r.detail);
  return r.value.wire;
}

function sealed(plaintext: string): string {
  const r = sealPlaintext(
    Buffer.from(plaintext),
    { encKey: KEY, encMode: "CBC", hmacKey: HMAC, hmacType: "sha256" },
    { salt: randomBytes(8) },
  );
  assert.ok(r.ok, r.ok ? "" : r.detail);
  return r.value.wire;
}

function candidate(payload: string | Buffer, srcIp = "198.18.0.2"): Candidate {
  return {
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload, "latin1"),
    srcIp,
    srcPort: 40000,
    dstIp: "0.0.0.0",
    dstPort: 62201,
    proto: 17,
    receivedAt: NOW * 1000,
  };
}

function context(stanza: Partial<AccessStanza> = {}, over: Partial<PipelineContext> = {}) {
  return defaultPipelineContext({
    stanzas: [makeStanza({ key: KEY, hmacKey: HMAC, ...stanza })],
    replay: readOnly(),
    now: () => NOW,
    ...over,
  });
}

const net = (text: string) => {
  const r = parseAddressList(text);
  assert.ok(r.ok);
  return r.value;
};

interface Case {
  code: string;
  stage: Stage;
  packet: () => Candidate;
  ctx?: () => PipelineContext;
  /** Words the likely cause must contain. */
  hint?: RegExp;
}

const valid = wireOf(message());

const CASES: Case[] = [
  { code: "SPA_MSG_LEN_TOO_SMALL", stage: "precheck", packet: () => candidate("short") },
  { code: "SPA_MSG_BAD_DATA", stage: "precheck", packet: () => candidate("A".repeat(1600)) },
  { code: "SPA_MSG_NOT_SPA_DATA", stage: "precheck", packet: () => candidate("!".repeat(200)) },
  {
    code: "SPA_MSG_HTTP_NOT_ENABLED",
    stage: "precheck",
    packet: () => candidate(`GET /${valid} HTTP/1.0\r\nUser-Agent: Fwknop/2.6.10\r\n\r\n`),
  },
  {
    code: "FWK_ERR_SPA_NO_SOURCE_MATCH",
    stage: "source",
    packet: () => candidate(valid),
    ctx: () => context({ source: net("192.0.2.0/24") }),
  },
  {
    code: "SPA_MSG_REPLAY",
    stage: "replay",
    packet: () => candidate(valid),
    ctx: () =>
      context(
        {},
        {
          replay: readOnly([
            {
              digest: replayDigest(valid),
              proto: 17,
              srcIp: "198.18.0.2",
              srcPort: 1,
              dstIp: "0.0.0.0",
              dstPort: 62201,
              time: NOW - 5,
            },
          ]),
        },
      ),
  },
  {
    code: "FWK_ERR_SPA_DEST_MISMATCH",
    stage: "destination",
    packet: () => candidate(valid),
    ctx: () => context({ destination: net("192.0.2.1") }),
  },
  {
    code: "FWK_ERR_SPA_STANZA_EXPIRED",
    stage: "stanza",
    packet: () => candidate(valid),
    ctx: () => context({ accessExpire: NOW - 10 }),
  },
  {
    code: "FWK_ERR_SPA_NO_DECRYPT_MODE",
    stage: "decrypt",
    packet: () => candidate(valid),
    ctx: () => {
      const { key: _none, ...keyless } = makeStanza({ hmacKey: HMAC });
      return context({}, { stanzas: [keyless] });
    },
  },
  {
    code: "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
    stage: "hmac",
    packet: () => candidate(wireOf(message(), { hmac: Buffer.from("another-hmac-key") })),
    hint: /HMAC key differs/,
  },
  {
    code: "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
    stage: "hmac",
    packet: () => candidate(wireOf(message(), { hmacType: "sha512" })),
    hint: /verifies as sha512/,
  },
  {
    code: "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL",
    stage: "hmac",
    packet: () =>
      candidate(wireOf(message(), { hmacType: "sha512", hmac: Buffer.from("another-hmac-key") })),
    // 86 characters fit sha512 here; whether 43 fits too depends on the block count.
    hint: /(fits sha512 or sha3_512, not sha256|another HMAC digest type whose length also fits this packet \(.*sha512)/,
  },
  {
    code: "FKO_ERROR_DECRYPTION_FAILURE",
    stage: "decrypt",
    packet: () => candidate(wireOf(message(), { key: Buffer.from("another-key") })),
    hint: /encryption key .* differs/,
  },
  {
    code: "FKO_ERROR_DECRYPTION_FAILURE",
    stage: "decrypt",
    packet: () => candidate(wireOf(message(), { mode: "CFB" })),
    hint: /decrypts the packet under CFB/,
  },
  {
    code: "FKO_ERROR_INVALID_DATA_DECODE_LT_MIN_FIELDS",
    stage: "decode",
    packet: () =>
      candidate(
        sealed(
          `1234567890123456:${Buffer.from("a".repeat(60)).toString("base64")}:1700000000:3.0.0`,
        ),
      ),
  },
  {
    code: "SPA_MSG_TOO_OLD",
    stage: "policy",
    packet: () => candidate(wireOf(message({ timestamp: NOW - 600 }))),
    hint: /clock skew of 600 s/,
  },
  {
    code: "FWK_ERR_SPA_SOURCE_REQUIRED",
    stage: "policy",
    packet: () => candidate(wireOf(message({ message: "0.0.0.0,tcp/22" }))),
    ctx: () => context({ requireSourceAddress: true }),
  },
  {
    code: "FWK_ERR_SPA_USERNAME_MISMATCH",
    stage: "policy",
    packet: () => candidate(valid),
    ctx: () => context({ requireUsername: "bob" }),
    hint: /username 'alice'/,
  },
  {
    code: "FWK_ERR_SPA_NAT_DISABLED",
    stage: "policy",
    packet: () => candidate(wireOf(message({ messageType: 2, natAccess: "192.0.2.9,22" }))),
  },
  {
    code: "FWK_ERR_SPA_CMD_NOT_ALLOWED",
    stage: "policy",
    packet: () => candidate(wireOf(message({ messageType: 0, message: "198.18.0.2,uptime" }))),
  },
  {
    code: "FWK_ERR_SPA_PORTS_DENIED",
    stage: "policy",
    packet: () => candidate(wireOf(message({ message: "198.18.0.2,tcp/23" }))),
    ctx: () => context({ openPorts: [{ proto: "tcp", port: 22 }] }),
    hint: /tcp\/23 is not in OPEN_PORTS \(tcp\/22\)/,
  },
  {
    code: "FWK_ERR_SPA_NAT_RESOLVE",
    stage: "nat",
    packet: () => candidate(wireOf(message({ messageType: 2, natAccess: "inside.example,22" }))),
    ctx: () =>
      context(
        {},
        {
          policy: { ...defaultPipelineContext({ stanzas: [] }).policy, natForwarding: true },
        },
      ),
  },
];

describe("--explain names the stage and code of every refusal", () => {
  for (const k of CASES) {
    test(`${k.code} at ${k.stage}${k.hint ? ` (${k.hint.source})` : ""}`, async () => {
      const ctx = k.ctx?.() ?? context();
      const c = k.packet();
      const real = await processCandidate(c, ctx);
      const e = await explainCandidate(c, { ctx, natDns: false });
      const text = formatExplanation("packet", e);
      assert.equal(e.outcome.granted, false, text);
      if (e.outcome.granted) return;
      if (k.code !== "FWK_ERR_SPA_NAT_RESOLVE") {
        assert.equal(real.ok ? "GRANTED" : real.code, k.code, "the pipeline itself agrees");
      }
      assert.equal(e.outcome.code, k.code, text);
      assert.equal(e.outcome.stage, k.stage, text);
      assert.match(text, new RegExp(`outcome: refused at ${k.stage}: .*\\[${k.code}\\]`));
      if (k.hint)
        assert.ok(
          e.hints.some((h) => k.hint?.test(h)),
          text,
        );
    });
  }

  test("a valid packet: every step shown, GRANTED", async () => {
    const ctx = context();
    const e = await explainCandidate(candidate(valid), { ctx, natDns: false });
    const text = formatExplanation("packet 1", e);
    assert.match(text, /precheck: ok/);
    assert.match(text, /replay: digest \S+ not seen/);
    assert.match(text, /hmac: HMAC sha256 matches/);
    assert.match(text, /decrypt: Rijndael CBC/);
    assert.match(text, /fields: user 'alice', timestamp 1700000000 \(0 s old\)/);
    assert.match(text, /outcome: GRANTED \(stanza #1 grants access: tcp\/22 for 198\.18\.0\.2/);
  });

  test("report lines are escaped: no forged lines, no terminal escapes", () => {
    const text = formatExplanation("packet 1", {
      steps: ["precheck: ok"],
      stanzas: [
        { stanza: 1, lines: ["stanza #1", "fields: user 'al\u001b[2Jice\npacket 2: forged'"] },
      ],
      after: [],
      outcome: { granted: false, code: "SPA_MSG_TOO_OLD", stage: "policy", detail: "old" },
      hints: [],
    });
    assert.ok(!text.includes("\u001b"), text);
    assert.match(text, /user 'al\\x1b\[2Jice\\npacket 2: forged'/);
    assert.equal(text.split("\n").filter((l) => l.startsWith("packet")).length, 1);
  });
});
