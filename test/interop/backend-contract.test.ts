/**
 * The one backend contract: every firewall backend, driven through the grant ledger, is held to
 * the same behaviour — grant, refresh, expiry, adoption after a restart, flush, listing, and a
 * failing tool. Real iptables (chain and ipset mode), nft and firewalld run in throw-away
 * namespaces, where the hidden port must open and close for a real client; pf and ipfw run
 * against recording stand-ins that keep state (no BSD here), judged by that state.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FwknopError } from "../../src/errors.js";
import type { Rule } from "../../src/firewall/backend.js";
import { ruleKey } from "../../src/firewall/rules.js";
import { silentLogger } from "../../src/log/logger.js";
import { GrantLedger } from "../../src/server/grants.js";
import { cleanupSubjectFiles, contractSubjects } from "../helpers/backend-subjects.js";
import { missingFirewalld } from "../helpers/firewalld.js";
import { canUseNetns } from "../helpers/netns.js";
import { recorder } from "../helpers/recording-logger.js";
import { EVENT_BOUND_MS } from "../helpers/wait.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowSec = () => Math.floor(Date.now() / 1000);
const keysOf = (rules: readonly Rule[]) => rules.map((r) => `${ruleKey(r)}@${r.expiresAt}`).sort();

function access(src: string, port: number, expiresAt: number): Rule {
  return { chain: "input", proto: "tcp", src, dst: "0.0.0.0/0", dport: port, expiresAt };
}

/** Polls `check` every 100 ms until it holds or `boundMs` passes; returns whether it held. */
async function eventually(check: () => Promise<boolean>, boundMs: number): Promise<boolean> {
  const until = Date.now() + boundMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await sleep(100);
  }
}

after(cleanupSubjectFiles);

for (const s of contractSubjects()) {
  describe(`backend contract: ${s.name}`, () => {
    before(async () => {
      if (!canUseNetns()) assert.fail("the contract suite needs root and iproute2 (ip netns)");
      if (s.name.startsWith("firewalld")) {
        const missing = missingFirewalld();
        if (missing) assert.fail(missing);
      }
      await s.setup();
    });
    after(() => s.teardown());

    /** A fresh backend, initialised with flush, and a ledger on it; both cleaned up after `fn`. */
    async function withLedger(fn: (ledger: GrantLedger) => Promise<void>): Promise<void> {
      const b = s.backend();
      await b.init({ flush: true });
      const ledger = new GrantLedger(b, { log: silentLogger });
      try {
        await fn(ledger);
      } finally {
        await ledger.stop();
        await b.flush();
      }
    }

    // The firewall may apply a change a moment after the call returns (firewalld over D-Bus),
    // later still on a loaded machine: wait for the state wanted, with a generous bound.
    const reachable = async (want: boolean, why: string) => {
      const probe = s.reachable?.bind(s);
      if (!probe) return;
      const seen = await eventually(async () => (await probe()) === want, EVENT_BOUND_MS);
      assert.ok(seen, why);
    };

    test("grant: the port opens and the rule lists back; expiry: removed on time, port closed", async () => {
      await withLedger(async (ledger) => {
        await reachable(false, "closed before the grant");
        const r = access(s.clientIp, s.port, nowSec() + s.grantSeconds);
        await ledger.grant([r]);
        assert.equal(ledger.size, 1);
        await reachable(true, "open after the grant");
        assert.equal(await s.installed(r), true, "in the firewall");
        const listed = await s.backend().listInstalled();
        assert.deepEqual(
          listed.map((x) => [x.src, x.dport, x.expiresAt]),
          [[s.clientIp, s.port, r.expiresAt]],
        );
        assert.deepEqual(keysOf(listed), keysOf([r]));
        // Wait for the removal itself (generous bound for a loaded machine), then check it did
        // not come early.
        assert.equal(
          await eventually(async () => !(await s.installed(r)), EVENT_BOUND_MS),
          true,
          "removed at its expiry",
        );
        assert.ok(Date.now() >= r.expiresAt * 1000, "not removed before its expiry");
        await reachable(false, "closed after expiry");
        assert.equal(ledger.size, 0);
      });
    });

    test("refresh: a re-knock with a later expiry replaces the rule, never a second one", async () => {
      await withLedger(async (ledger) => {
        const first = access(s.clientIp, s.port, nowSec() + 30);
        await ledger.grant([first]);
        const later = { ...first, expiresAt: first.expiresAt + 60 };
        await ledger.grant([later]);
        await ledger.grant([first]); // an earlier expiry changes nothing
        assert.deepEqual(keysOf(await s.backend().listInstalled()), keysOf([later]));
        assert.equal(await s.installed(later), true);
        assert.equal(await s.installed(first), false);
        assert.equal(ledger.size, 1);
        await reachable(true, "still open");
      });
    });

    test("adoption after a restart keeps a live rule and removes an expired one", async () => {
      const first = s.backend();
      await first.init({ flush: true });
      const live = access(s.clientIp, s.port, nowSec() + 30);
      const stale = access("198.18.0.77", s.port, nowSec() - 5);
      // As a daemon that died left them.
      await (s.plant ? s.plant(first, [live, stale]) : first.apply([live, stale], []));
      const b = s.backend();
      await b.init({ flush: false });
      const ledger = new GrantLedger(b, { log: silentLogger });
      try {
        await ledger.adopt();
        assert.equal(ledger.size, 1);
        assert.equal(await s.installed(live), true, "live rule kept");
        assert.equal(await s.installed(stale), false, "expired rule removed");
        assert.deepEqual(keysOf(await b.listInstalled()), keysOf([live]));
        await reachable(true, "adopted access still open");
      } finally {
        await ledger.stop();
        await b.flush();
      }
    });

    if (s.closesByItself) {
      test("the firewall closes access at the expiry with no daemon left to remove it", async () => {
        const b = s.backend();
        await b.init({ flush: true });
        const r = access(s.clientIp, s.port, nowSec() + s.grantSeconds);
        await b.apply([r], []); // no ledger: as if the daemon was killed right after the grant
        await reachable(true, "open");
        assert.equal(
          await eventually(async () => !(await s.installed(r)), EVENT_BOUND_MS),
          true,
          "gone without us",
        );
        assert.ok(Date.now() >= r.expiresAt * 1000 - 1000, "kept until its timeout");
        assert.deepEqual(await b.listInstalled(), []);
        await reachable(false, "closed");
        await b.flush();
      });
    }

    test("listing: --fw-list text shows the grant with its _exp_ marker", async () => {
      await withLedger(async (ledger) => {
        const r = access(s.clientIp, s.port, nowSec() + 30);
        await ledger.grant([r]);
        const text = await s.backend().listText(false);
        assert.match(text, /^Listing /);
        assert.ok(text.includes(s.clientIp), text);
        assert.ok(text.includes(`_exp_${r.expiresAt}`), text);
      });
    });

    test("flush removes everything of ours; a second flush is not an error", async () => {
      const b = s.backend();
      await b.init({ flush: false });
      await b.apply([access(s.clientIp, s.port, nowSec() + 30)], []);
      await b.flush();
      await b.flush();
      assert.equal(await s.nothingLeft(), true);
      await reachable(false, "closed after flush");
    });

    test("a failing tool: the grant is refused with FWK_ERR_FW_APPLY, logged, and retried until it works", async () => {
      const log = recorder();
      const tool = s.failing(log);
      await tool.backend.init({ flush: true });
      const ledger = new GrantLedger(tool.backend, { log, retryMs: 200, maxRetryMs: 400 });
      const r = (s.failingRule ?? ((x: Rule) => x))(access(s.clientIp, s.port, nowSec() + 30));
      try {
        tool.fail(true);
        await assert.rejects(
          ledger.grant([r]),
          (e: unknown) => e instanceof FwknopError && e.code === "FWK_ERR_FW_APPLY",
        );
        assert.ok(
          log.lines.some((l) => /^error: Firewall update for 1 rule\(s\) failed: /.test(l)),
          log.lines.join("\n"),
        );
        assert.ok(log.lines.some((l) => /^warn: Retrying 1 firewall rule change\(s\)/.test(l)));
        assert.equal(await s.installed(r), false);
        tool.fail(false);
        assert.equal(await eventually(() => s.installed(r), 10_000), true, "applied by a retry");
        assert.equal(ledger.size, 1);
      } finally {
        tool.fail(false);
        await ledger.stop();
        await tool.backend.flush();
      }
    });
  });
}
