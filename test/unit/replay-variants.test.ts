/**
 * Encoding variants of one packet are one packet for the replay cache (issue 9, item 4): on a
 * stanza without an HMAC, `W=`, `W==`, `W====`, a last character with other spare bits, or a
 * dangling extra character decrypt to the same packet and must be refused as replays, in
 * either order; digest.cache files written by fwknopd 2.6.10 still refuse their packets.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { canonicalWire, replayDigests } from "../../src/protocol/canonical-wire.js";
import { encodeSpa } from "../../src/protocol/spa.js";
import type { Candidate } from "../../src/server/intake/intake.js";
import { type PipelineContext, processCandidate } from "../../src/server/pipeline.js";
import { openFileReplayCache } from "../../src/server/replay/file-cache.js";
import type { ReplayCache, ReplayEntry } from "../../src/server/replay/replay-cache.js";
import { recorder } from "../helpers/recording-logger.js";
import { makeStanza } from "../helpers/stanza.js";

const NOW = 1_700_000_000;
const KEY = Buffer.from("variant-key-0123456789");
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function memoryReplay(): ReplayCache {
  const entries = new Map<string, ReplayEntry>();
  return {
    lookup: async (d) => entries.get(d),
    claim: async (e) => {
      const first = entries.get(e.digest);
      if (!first) entries.set(e.digest, e);
      return first;
    },
    get size() {
      return entries.size;
    },
    close: async () => {},
  };
}

/** A knock without an HMAC (a stanza with KEY only, as 2.6.10 allows). */
function wireWithoutHmac(message = "198.18.0.2,tcp/22"): string {
  const r = encodeSpa(
    {
      randomValue: String(randomBytes(8).readBigUInt64BE() % 10n ** 16n).padStart(16, "1"),
      username: "alice",
      timestamp: NOW,
      version: "3.0.0",
      messageType: 1,
      message,
    },
    { encKey: KEY, encMode: "CBC" },
    { digestType: "sha256", salt: randomBytes(8) },
  );
  assert.ok(r.ok);
  return r.value.wire;
}

function candidate(wire: string): Candidate {
  return {
    payload: Buffer.from(wire, "latin1"),
    srcIp: "198.18.0.2",
    srcPort: 40000,
    dstIp: "0.0.0.0",
    dstPort: 62201,
    proto: 17,
    receivedAt: NOW * 1000,
  };
}

function context(replay: ReplayCache): PipelineContext {
  return {
    stanzas: [makeStanza({ key: KEY })],
    replay,
    precheck: { http: false, anyUserAgent: false, xForwardedFor: false },
    policy: {
      packetAging: true,
      maxPacketAge: 120,
      natForwarding: false,
      localNat: false,
      testMode: false,
    },
    now: () => NOW,
  };
}

/** Variants the decoder reads as the same bytes. */
function variants(wire: string): string[] {
  const out = [`${wire}=`, `${wire}==`, `${wire}====`, `${wire}=AAAA`];
  const spare = (2 + wire.length) % 4; // 0: whole bytes; 2: 4 spare bits; 3: 2 spare bits
  if (spare === 0) out.push(`${wire}Q`);
  else {
    const last = ALPHABET.indexOf(wire.at(-1) ?? "A");
    out.push(wire.slice(0, -1) + ALPHABET[last ^ 1]);
  }
  return out;
}

test("every encoding variant of an accepted packet is a replay", async () => {
  for (let i = 0; i < 8; i++) {
    const wire = wireWithoutHmac(`198.18.0.2,tcp/${22 + i * 1111}`);
    const ctx = context(memoryReplay());
    assert.ok((await processCandidate(candidate(wire), ctx)).ok, "the packet itself");
    for (const v of variants(wire)) {
      assert.equal(canonicalWire(v), wire, `${v.slice(-6)} canonicalises to the packet`);
      const r = await processCandidate(candidate(v), ctx);
      assert.equal(r.ok ? "GRANTED" : r.code, "SPA_MSG_REPLAY", `variant ending ${v.slice(-6)}`);
    }
  }
});

test("a variant that arrives first makes the packet itself a replay", async () => {
  for (let i = 0; i < 4; i++) {
    const wire = wireWithoutHmac();
    const v = variants(wire)[i] ?? `${wire}=`;
    const ctx = context(memoryReplay());
    assert.ok((await processCandidate(candidate(v), ctx)).ok, "the variant is accepted once");
    const r = await processCandidate(candidate(wire), ctx);
    assert.equal(r.ok ? "GRANTED" : r.code, "SPA_MSG_REPLAY");
  }
});

test("property: a real packet's canonical digest is its exact digest (what 2.6.10 records)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 6 }),
      (ports) => {
        const wire = wireWithoutHmac(`198.18.0.2,${ports.map((p) => `tcp/${p}`).join(",")}`);
        const d = replayDigests(wire);
        assert.equal(d.canonical, d.exact);
      },
    ),
    { numRuns: 200 },
  );
});

test("a digest.cache written by fwknopd 2.6.10 still refuses the packet it recorded", async (t) => {
  const fixture = (name: string) =>
    fileURLToPath(new URL(`../../../test/vectors/${name}`, import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), "fwk-variants-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "digest.cache");
  copyFileSync(fixture("digest-cache-c2610.txt"), path);
  const cache = await openFileReplayCache({ path, log: recorder() });
  t.after(() => cache.close());
  const wire = readFileSync(fixture("digest-cache-c2610-packet.txt"), "latin1").trim();
  assert.equal(canonicalWire(wire), wire, "fwknop 2.6.10's packet is canonical");
  for (const w of [wire, `${wire}=`, `${wire}==`]) {
    const r = await processCandidate(candidate(w), context(cache));
    assert.equal(r.ok ? "GRANTED" : r.code, "SPA_MSG_REPLAY");
  }
});
