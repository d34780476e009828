import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseAddressList } from "../../src/config/address-list.js";
import type { SpaMessage } from "../../src/protocol/spa.js";
import type { Candidate } from "../../src/server/intake/intake.js";
import { type PipelineContext, processCandidate } from "../../src/server/pipeline.js";
import type { ReplayCache, ReplayEntry } from "../../src/server/replay/replay-cache.js";
import { knockCandidate } from "../helpers/knock.js";
import { defaultPipelineContext } from "../helpers/pipeline-context.js";
import { makeStanza } from "../helpers/stanza.js";

const NOW = 1_700_000_000;
const KEY = Buffer.from("pipeline-key-0123456789");
const HMAC = Buffer.from("pipeline-hmac-key-0123456789");

function memoryReplay(): ReplayCache & { entries: Map<string, ReplayEntry> } {
  const entries = new Map<string, ReplayEntry>();
  return {
    entries,
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

function knock(over: Partial<SpaMessage> = {}, keys = { key: KEY, hmac: HMAC }): Candidate {
  return knockCandidate({ now: NOW, ...keys, over });
}

function context(over: Partial<PipelineContext> = {}): PipelineContext {
  return defaultPipelineContext({
    stanzas: [makeStanza({ key: KEY, hmacKey: HMAC })],
    replay: memoryReplay(),
    now: () => NOW,
    ...over,
  });
}

describe("processCandidate", () => {
  test("a valid knock is granted and its digest recorded; the same bytes again are a replay", async () => {
    const ctx = context();
    const c = knock();
    const first = await processCandidate(c, ctx);
    assert.ok(first.ok);
    assert.equal(first.grant.clientIp, "198.18.0.2");
    assert.equal(ctx.replay?.size, 1);
    const again = await processCandidate(c, ctx);
    assert.ok(!again.ok);
    assert.equal(again.code, "SPA_MSG_REPLAY");
    assert.match(again.detail, /^Replay detected from source IP: 198\.18\.0\.2/);
  });

  test("two copies processed concurrently: exactly one is granted", async () => {
    const ctx = context();
    const c = knock();
    const results = await Promise.all([processCandidate(c, ctx), processCandidate(c, ctx)]);
    assert.equal(results.filter((r) => r.ok).length, 1);
  });

  test("two identical junk packets in flight are both refused for what they are, not as a replay", async () => {
    const ctx = context();
    const junk = knock({}, { key: KEY, hmac: Buffer.from("another-hmac-key-xyz") });
    const results = await Promise.all([processCandidate(junk, ctx), processCandidate(junk, ctx)]);
    for (const r of results) {
      assert.ok(!r.ok);
      assert.equal(r.code, "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL");
    }
    assert.equal(ctx.replay?.size, 0);
  });

  test("of two copies in flight the second to authenticate is the replay", async () => {
    const ctx = context();
    const c = knock();
    const [a, b] = await Promise.all([processCandidate(c, ctx), processCandidate(c, ctx)]);
    assert.ok(a.ok);
    assert.ok(!b.ok);
    assert.equal(b.code, "SPA_MSG_REPLAY");
  });

  test("wrong HMAC key and wrong encryption key are refused with libfko codes", async () => {
    const badHmac = await processCandidate(
      knock({}, { key: KEY, hmac: Buffer.from("another-hmac-key-xyz") }),
      context(),
    );
    assert.ok(!badHmac.ok);
    assert.equal(badHmac.code, "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL");
    const badKey = await processCandidate(
      knock({}, { key: Buffer.from("another-enc-key"), hmac: HMAC }),
      context(),
    );
    assert.ok(!badKey.ok);
    assert.equal(badKey.code, "FKO_ERROR_DECRYPTION_FAILURE");
    assert.equal(badKey.authenticated, false);
  });

  test("an authentic but stale packet still burns its digest (upstream order)", async () => {
    const ctx = context();
    const r = await processCandidate(knock({ timestamp: NOW - 600 }), ctx);
    assert.ok(!r.ok);
    assert.equal(r.code, "SPA_MSG_TOO_OLD");
    assert.equal(r.authenticated, true);
    assert.equal(ctx.replay?.size, 1);
  });

  test("--test mode never records digests", async () => {
    const ctx = context({
      policy: {
        packetAging: true,
        maxPacketAge: 120,
        natForwarding: false,
        localNat: false,
        testMode: true,
      },
    });
    const r = await processCandidate(knock(), ctx);
    assert.ok(!r.ok);
    assert.equal(r.code, "FWK_ERR_SPA_TEST_MODE");
    assert.equal(ctx.replay?.size, 0);
  });

  test("first fully matching stanza wins; a policy refusal names the authenticating stanza's reason", async () => {
    const other = makeStanza({
      index: 1,
      key: Buffer.from("other-stanza-key"),
      hmacKey: Buffer.from("other-stanza-hmac"),
    });
    const restricted = makeStanza({
      index: 2,
      key: KEY,
      hmacKey: HMAC,
      restrictPorts: [{ proto: "tcp", port: 22 }],
    });
    const open = makeStanza({ index: 3, key: KEY, hmacKey: HMAC });
    const granted = await processCandidate(
      knock(),
      context({ stanzas: [other, restricted, open] }),
    );
    assert.ok(granted.ok);
    assert.equal(granted.grant.stanza.index, 3);
    const refused = await processCandidate(knock(), context({ stanzas: [other, restricted] }));
    assert.ok(!refused.ok);
    assert.equal(refused.code, "FWK_ERR_SPA_PORTS_DENIED");
    assert.deepEqual(
      refused.outcomes.map((o) => o.stanza),
      [1, 2],
    );
  });

  test("no stanza for the source address", async () => {
    const only = parseAddressList("192.0.2.0/24");
    assert.ok(only.ok);
    const r = await processCandidate(
      knock(),
      context({ stanzas: [makeStanza({ key: KEY, hmacKey: HMAC, source: only.value })] }),
    );
    assert.ok(!r.ok);
    assert.equal(r.code, "FWK_ERR_SPA_NO_SOURCE_MATCH");
  });

  test("the re-prefixed replay trick is dropped before crypto", async () => {
    const c = knock();
    const r = await processCandidate(
      { ...c, payload: Buffer.concat([Buffer.from("U2FsdGVkX1"), c.payload]) },
      context(),
    );
    assert.ok(!r.ok);
    assert.equal(r.code, "SPA_MSG_BAD_DATA");
  });

  test("junk that fails every stanza's HMAC never costs a replay lookup; without an HMAC the lookup comes first", async () => {
    const lookups: string[] = [];
    const counting = (): ReplayCache => {
      const inner = memoryReplay();
      const lookup = (d: string) => {
        lookups.push(d);
        return inner.lookup(d);
      };
      return { ...inner, lookup };
    };
    const junk = knock({}, { key: KEY, hmac: Buffer.from("another-hmac-key-xyz") });
    const refused = await processCandidate(junk, context({ replay: counting() }));
    assert.ok(!refused.ok);
    assert.equal(refused.code, "FKO_ERROR_INVALID_DATA_HMAC_COMPAREFAIL");
    assert.equal(lookups.length, 0, "no digest was looked up for junk");

    // A stanza that decrypts without an HMAC: the lookup stays in front of the crypto.
    const noHmac = context({ replay: counting(), stanzas: [makeStanza({ key: KEY })] });
    await processCandidate(
      knock({}, { key: Buffer.from("wrong-key-0123456789ab"), hmac: HMAC }),
      noHmac,
    );
    assert.ok(lookups.length > 0, "the digest was looked up before decryption");
  });

  test("a replay is refused as one after the HMAC verified, also under test mode", async () => {
    const ctx = context();
    const c = knock();
    assert.ok((await processCandidate(c, ctx)).ok);
    for (const testMode of [false, true]) {
      const again = await processCandidate(c, { ...ctx, policy: { ...ctx.policy, testMode } });
      assert.ok(!again.ok);
      assert.equal(again.code, "SPA_MSG_REPLAY");
    }
    assert.equal(ctx.replay?.size, 1);
  });
});
