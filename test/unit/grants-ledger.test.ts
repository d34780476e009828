import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ChainKind, FirewallBackend, Rule } from "../../src/firewall/backend.js";
import { ruleKey } from "../../src/firewall/rules.js";
import type { Logger } from "../../src/log/logger.js";
import { ruleAddedChannel, ruleRemovedChannel } from "../../src/server/grant-events.js";
import { GrantLedger } from "../../src/server/grants.js";
import { FakeTimers, settle } from "../helpers/fake-timers.js";

const T0 = 1_800_000_000; // Unix seconds

class FakeBackend implements FirewallBackend {
  readonly name = "fake";
  installed: Rule[] = [];
  calls: { add: Rule[]; remove: Rule[] }[] = [];
  failNext = 0;
  /** Rules the "kernel" refuses (e.g. an address iptables rejects). */
  poison: (r: Rule) => boolean = () => false;
  listCalls = 0;
  async init(): Promise<void> {}
  async apply(add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    this.calls.push({ add: [...add], remove: [...remove] });
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("iptables-restore exited with status 4");
    }
    if (add.some(this.poison)) throw new Error("iptables-restore exited with status 2");
    for (const r of remove) {
      const i = this.installed.findIndex(
        (x) => ruleKey(x) === ruleKey(r) && x.expiresAt === r.expiresAt,
      );
      if (i < 0)
        throw new Error("iptables-restore: Bad rule (does a matching rule exist in that chain?)");
    }
    // Atomic like one iptables-restore COMMIT: only now change state.
    for (const r of remove) {
      const i = this.installed.findIndex(
        (x) => ruleKey(x) === ruleKey(r) && x.expiresAt === r.expiresAt,
      );
      this.installed.splice(i, 1);
    }
    this.installed.push(...add.map((r) => ({ ...r })));
  }
  async listInstalled(): Promise<Rule[]> {
    this.listCalls++;
    return this.installed.map((r) => ({ ...r }));
  }
  async flush(): Promise<void> {
    this.installed = [];
  }
  async listText(): Promise<string> {
    return "";
  }
  chainName(kind: ChainKind): string {
    return `FWKNOP_${kind.toUpperCase()}`;
  }
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (m: string) => lines.push(`${level}: ${m}`);
  return {
    lines,
    error: push("error"),
    warn: push("warn"),
    notice: push("notice"),
    info: push("info"),
    debug: push("debug"),
  };
}

function rule(src: string, port: number, expiresAt: number, extra: Partial<Rule> = {}): Rule {
  return { chain: "input", proto: "tcp", src, dst: "0.0.0.0/0", dport: port, expiresAt, ...extra };
}

function setup() {
  const clock = new FakeTimers(T0 * 1000);
  const backend = new FakeBackend();
  const log = recordingLogger();
  // clockCheckMs 0: these tests follow the one deadline timer (grants-clock-step.test.ts the cap).
  const ledger = new GrantLedger(backend, {
    log,
    now: clock.now,
    timers: clock,
    sweepMs: 0,
    clockCheckMs: 0,
  });
  return { clock, backend, log, ledger };
}

describe("GrantLedger", () => {
  test("a grant is applied in one batch and logged with upstream's phrase", async () => {
    const { backend, log, ledger } = setup();
    const note = { kind: "access", clientIp: "198.18.0.2", dst: "0.0.0.0/0", spec: "tcp/22" };
    await ledger.grant([rule("198.18.0.2", 22, T0 + 30, { note })]);
    assert.equal(backend.calls.length, 1);
    assert.equal(backend.installed.length, 1);
    assert.equal(ledger.size, 1);
    assert.ok(
      log.lines.includes(
        `info: Added access rule to FWKNOP_INPUT for 198.18.0.2 -> 0.0.0.0/0 tcp/22, expires at ${T0 + 30}`,
      ),
      log.lines.join("\n"),
    );
  });

  test("answered runs once, when the firewall answered the grant's batch, before its log lines", async () => {
    const { backend, log, ledger } = setup();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const apply = backend.apply.bind(backend);
    let sent = 0;
    backend.apply = async (add, remove) => {
      sent++;
      await gate;
      return apply(add, remove);
    };
    const order: string[] = [];
    const answered = () => order.push(`answered after ${log.lines.length} line(s)`);
    const granted = ledger.grant([rule("198.18.0.2", 22, T0 + 30)], answered);
    await settle();
    assert.equal(sent, 1, "the batch is with the firewall");
    assert.deepEqual(order, [], "not before the firewall answered");
    release();
    await granted;
    assert.deepEqual(order, ["answered after 0 line(s)"]);
    assert.equal(log.lines.length, 1, log.lines.join("\n"));
    // Nothing to change: the promise resolves and answered is not called.
    await ledger.grant([rule("198.18.0.2", 22, T0 + 30)], answered);
    assert.equal(order.length, 1);
  });

  test("answered runs before a failed batch's error line, and only once over its retries", async () => {
    const { clock, backend, log, ledger } = setup();
    backend.failNext = 2;
    let calls = 0;
    let linesAtAnswer = -1;
    const granted = ledger.grant([rule("198.18.0.2", 22, T0 + 30)], () => {
      calls++;
      linesAtAnswer = log.lines.length;
    });
    await assert.rejects(granted, /status 4/);
    assert.equal(calls, 1);
    assert.equal(linesAtAnswer, 0, "before the 'Firewall update ... failed' line");
    await clock.advance(1000);
    await clock.advance(2000);
    assert.equal(backend.installed.length, 1, "retried until it succeeded");
    assert.equal(calls, 1);
  });

  test("every rule put in or taken out is published on diagnostics_channel", async () => {
    const { clock, ledger } = setup();
    const seen: string[] = [];
    const onAdd = (m: unknown) => seen.push(`+${(m as { chain: string }).chain}`);
    const onRemove = (m: unknown) => seen.push(`-${(m as { rule: Rule }).rule.src}`);
    ruleAddedChannel.subscribe(onAdd);
    ruleRemovedChannel.subscribe(onRemove);
    try {
      await ledger.grant([rule("198.18.0.2", 22, T0 + 5)]);
      await clock.advance(5_000);
    } finally {
      ruleAddedChannel.unsubscribe(onAdd);
      ruleRemovedChannel.unsubscribe(onRemove);
    }
    assert.deepEqual(seen, ["+FWKNOP_INPUT", "-198.18.0.2"]);
  });

  test("grants decided in the same turn go out in one backend.apply", async () => {
    const { backend, ledger } = setup();
    await Promise.all([
      ledger.grant([rule("198.18.0.2", 22, T0 + 30)]),
      ledger.grant([rule("198.18.0.3", 22, T0 + 30), rule("198.18.0.3", 443, T0 + 30)]),
      ledger.grant([rule("198.18.0.4", 22, T0 + 30)]),
    ]);
    assert.equal(backend.calls.length, 1);
    assert.equal(backend.calls[0]?.add.length, 4);
    assert.equal(ledger.size, 4);
  });

  test("grants arriving while a batch is in flight are coalesced into the next one", async () => {
    const { backend, ledger } = setup();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const realApply = backend.apply.bind(backend);
    backend.apply = async (add, remove) => {
      if (backend.calls.length === 0) await gate;
      return realApply(add, remove);
    };
    const first = ledger.grant([rule("198.18.0.2", 22, T0 + 30)]);
    await settle();
    const later = Array.from({ length: 50 }, (_, i) =>
      ledger.grant([rule(`198.18.1.${i}`, 22, T0 + 30)]),
    );
    release();
    await Promise.all([first, ...later]);
    assert.deepEqual(
      backend.calls.map((c) => c.add.length),
      [1, 50],
    );
  });

  test("a re-knock refreshes the expiry: old rule out, new rule in, same batch, never a duplicate", async () => {
    const { backend, ledger } = setup();
    await ledger.grant([rule("198.18.0.2", 22, T0 + 30)]);
    await ledger.grant([rule("198.18.0.2", 22, T0 + 60)]);
    assert.equal(backend.calls.length, 2);
    const second = backend.calls[1];
    assert.deepEqual(
      second?.add.map((r) => r.expiresAt),
      [T0 + 60],
    );
    assert.deepEqual(
      second?.remove.map((r) => r.expiresAt),
      [T0 + 30],
    );
    assert.equal(backend.installed.length, 1);
    assert.equal(ledger.size, 1);
    // Same or earlier expiry: already covered, no firewall call at all.
    await ledger.grant([rule("198.18.0.2", 22, T0 + 60)]);
    await ledger.grant([rule("198.18.0.2", 22, T0 + 45)]);
    assert.equal(backend.calls.length, 2);
  });

  test("expiry follows the nearest deadline with a single timer", async () => {
    const { clock, backend, log, ledger } = setup();
    await ledger.grant([rule("198.18.0.30", 22, T0 + 30)]);
    await ledger.grant([rule("198.18.0.10", 22, T0 + 10)]);
    await ledger.grant([rule("198.18.0.20", 22, T0 + 20)]);
    assert.deepEqual(clock.pending, [10_000], "one timer, armed for the nearest deadline");
    const removedOrder = () => backend.calls.flatMap((c) => c.remove.map((r) => r.src));
    await clock.advance(9_999);
    assert.deepEqual(removedOrder(), []);
    await clock.advance(1);
    assert.deepEqual(removedOrder(), ["198.18.0.10"]);
    assert.deepEqual(clock.pending, [10_000]);
    await clock.advance(20_000);
    assert.deepEqual(removedOrder(), ["198.18.0.10", "198.18.0.20", "198.18.0.30"]);
    assert.equal(backend.installed.length, 0);
    assert.equal(ledger.size, 0);
    assert.deepEqual(clock.pending, []);
    assert.ok(
      log.lines.some((l) =>
        l.startsWith("info: Removed rule from FWKNOP_INPUT with expire time of"),
      ),
    );
  });

  test("a refreshed grant is not removed at its old deadline", async () => {
    const { clock, backend, ledger } = setup();
    await ledger.grant([rule("198.18.0.2", 22, T0 + 10)]);
    await ledger.grant([rule("198.18.0.2", 22, T0 + 40)]);
    await clock.advance(15_000);
    assert.equal(backend.installed.length, 1);
    assert.equal(ledger.size, 1);
    await clock.advance(25_000);
    assert.equal(backend.installed.length, 0);
  });

  test("rules expiring in the same second are removed in one batch", async () => {
    const { clock, backend, ledger } = setup();
    await ledger.grant(Array.from({ length: 100 }, (_, i) => rule(`198.18.2.${i}`, 22, T0 + 5)));
    await clock.advance(5_000);
    assert.equal(backend.calls.length, 2);
    assert.equal(backend.calls[1]?.remove.length, 100);
  });

  test("adopt keeps live rules (removing them on time) and removes expired ones and duplicates now", async () => {
    const { clock, backend, log, ledger } = setup();
    backend.installed = [
      rule("198.18.0.2", 22, T0 + 20), // live
      rule("198.18.0.3", 22, T0 - 5), // expired
      rule("198.18.0.4", 22, T0 + 10), // live, with an older duplicate (upstream re-knock)
      rule("198.18.0.4", 22, T0 + 3),
    ];
    await ledger.adopt();
    assert.equal(ledger.size, 2);
    assert.deepEqual(
      backend.installed.map((r) => [r.src, r.expiresAt]),
      [
        ["198.18.0.2", T0 + 20],
        ["198.18.0.4", T0 + 10],
      ],
    );
    assert.ok(log.lines.some((l) => l.includes("Adopted 2 live firewall rule(s)")));
    await clock.advance(10_000);
    assert.deepEqual(
      backend.installed.map((r) => r.src),
      ["198.18.0.2"],
    );
    // A re-knock for an adopted rule replaces it rather than duplicating it.
    await ledger.grant([rule("198.18.0.2", 22, T0 + 100)]);
    assert.deepEqual(
      backend.installed.map((r) => r.expiresAt),
      [T0 + 100],
    );
  });

  test("a failed batch is logged, the grant rejected, and the change retried until it succeeds", async () => {
    const { clock, backend, log, ledger } = setup();
    backend.failNext = 1;
    await assert.rejects(ledger.grant([rule("198.18.0.2", 22, T0 + 30)]), /status 4/);
    assert.equal(backend.installed.length, 0);
    assert.ok(log.lines.some((l) => l.startsWith("error: Firewall update for 1 rule(s) failed")));
    assert.equal(ledger.size, 1, "the ledger still wants the rule");
    await clock.advance(1_000);
    assert.equal(backend.installed.length, 1, "retried after the backoff");
  });

  test("a re-knock while the first grant awaits its retry waits for that retry", async () => {
    const { clock, backend, ledger } = setup();
    backend.failNext = 1;
    await assert.rejects(ledger.grant([rule("198.18.0.2", 22, T0 + 30)]));
    let settled = false;
    const again = ledger.grant([rule("198.18.0.2", 22, T0 + 30)]).then(() => {
      settled = true;
    });
    await settle();
    assert.equal(settled, false, "not reported open while the rule is not installed");
    await clock.advance(1_000);
    await again;
    assert.equal(backend.installed.length, 1);
  });

  test("a removal that fails is retried: the ledger never forgets an installed rule", async () => {
    const { clock, backend, ledger } = setup();
    await ledger.grant([rule("198.18.0.2", 22, T0 + 5)]);
    backend.failNext = 2; // the expiry batch fails, and so does the first retry
    await clock.advance(5_000);
    assert.equal(backend.installed.length, 1, "removal failed");
    await clock.advance(1_000); // first retry fails too (failNext was 2)
    await clock.advance(2_000); // backoff doubled; this one succeeds
    assert.equal(backend.installed.length, 0);
    assert.equal(ledger.size, 0);
  });

  test("one rule the firewall refuses does not block the others in its batch", async () => {
    const { backend, ledger } = setup();
    backend.poison = (r) => r.src === "198.18.0.66";
    const results = await Promise.allSettled([
      ledger.grant([rule("198.18.0.1", 22, T0 + 30)]),
      ledger.grant([rule("198.18.0.66", 22, T0 + 30)]),
      ledger.grant([rule("198.18.0.3", 22, T0 + 30)]),
      ledger.grant([rule("198.18.0.4", 22, T0 + 30)]),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "rejected", "fulfilled", "fulfilled"],
    );
    assert.deepEqual(backend.installed.map((r) => r.src).sort(), [
      "198.18.0.1",
      "198.18.0.3",
      "198.18.0.4",
    ]);
  });

  test("recovery re-reads the firewall: a rule someone else already removed counts as removed", async () => {
    const { clock, backend, ledger } = setup();
    await ledger.grant([rule("198.18.0.2", 22, T0 + 5)]);
    backend.installed = []; // e.g. an operator ran iptables -F FWKNOP_INPUT
    await clock.advance(5_000);
    assert.equal(ledger.size, 0);
    assert.ok(backend.listCalls >= 1);
    assert.deepEqual(clock.pending, [], "nothing left to retry");
  });

  test("the periodic sweep honours _exp_ on rules added behind our back and forgets removed ones", async () => {
    const clock = new FakeTimers(T0 * 1000);
    const backend = new FakeBackend();
    const ledger = new GrantLedger(backend, {
      log: recordingLogger(),
      now: clock.now,
      timers: clock,
      sweepMs: 60_000,
    });
    await ledger.grant([rule("198.18.0.2", 22, T0 + 600)]);
    // An operator (or a second daemon) adds rules with _exp_ comments; another removes ours.
    backend.installed = [rule("198.18.0.8", 22, T0 + 90), rule("198.18.0.9", 22, T0 + 30)];
    await clock.advance(60_000);
    assert.equal(ledger.size, 1, "ours forgotten, the live foreign rule adopted");
    assert.deepEqual(
      backend.installed.map((r) => r.src),
      ["198.18.0.8"],
      "the foreign rule that expired during the minute is removed at the sweep",
    );
    await clock.advance(30_000);
    assert.deepEqual(backend.installed, [], "the adopted rule is removed at its own deadline");
    await ledger.stop();
    assert.deepEqual(clock.pending, []);
  });

  test("stop cancels the timers and rejects later grants; the firewall is left alone", async () => {
    const { clock, backend, ledger } = setup();
    await ledger.grant([rule("198.18.0.2", 22, T0 + 5)]);
    await ledger.stop();
    assert.deepEqual(clock.pending, []);
    await clock.advance(10_000);
    assert.equal(backend.installed.length, 1);
    await assert.rejects(ledger.grant([rule("198.18.0.3", 22, T0 + 5)]), /stopped/);
  });
});
