/**
 * Expiry under wall-clock steps (issue 9, item 7). Deadlines are absolute `_exp_` wall times;
 * timers run on the monotonic clock. Here the two are separate fakes: `step()` moves only the
 * wall clock (an NTP step, an operator's `date -s`), `advance()` moves both and fires timers.
 * A step forward must not keep expired access open; a step backward must not close access
 * earlier (in real time) than granted, and closes it at the wall-clock deadline at the latest.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChainKind, FirewallBackend, Rule } from "../../src/firewall/backend.js";
import { ruleKey } from "../../src/firewall/rules.js";
import { silentLogger } from "../../src/log/logger.js";
import { GrantLedger } from "../../src/server/grants.js";
import { FakeTimers } from "../helpers/fake-timers.js";

const T0 = 1_800_000_000;

class MemoryBackend implements FirewallBackend {
  readonly name = "memory";
  installed: Rule[] = [];
  async init(): Promise<void> {}
  async apply(add: readonly Rule[], remove: readonly Rule[]): Promise<void> {
    const gone = new Set(remove.map((r) => ruleKey(r)));
    this.installed = this.installed.filter((r) => !gone.has(ruleKey(r))).concat(add);
  }
  async listInstalled(): Promise<Rule[]> {
    return [...this.installed];
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

const access = (expiresAt: number): Rule => ({
  chain: "input",
  proto: "tcp",
  src: "198.18.0.2",
  dst: "0.0.0.0/0",
  dport: 22,
  expiresAt,
});

function setup() {
  const clock = new FakeTimers(T0 * 1000);
  const backend = new MemoryBackend();
  const ledger = new GrantLedger(backend, {
    log: silentLogger,
    now: clock.now,
    timers: clock,
    sweepMs: 0,
  });
  return { clock, backend, ledger };
}

/** Advances in 100 ms steps until the rule is gone; returns the monotonic ms it took. */
async function closedAfter(
  clock: FakeTimers,
  backend: MemoryBackend,
  limitMs: number,
): Promise<number> {
  const start = clock.mono;
  while (backend.installed.length > 0 && clock.mono - start < limitMs) await clock.advance(100);
  return clock.mono - start;
}

test("a wall clock stepped forward past the deadline closes access within a second", async () => {
  const { clock, backend, ledger } = setup();
  await ledger.grant([access(T0 + 3600)]);
  await clock.advance(10_000);
  clock.step(2 * 3600 * 1000); // the deadline is now an hour in the past
  const took = await closedAfter(clock, backend, 3600_000);
  assert.ok(took <= 1100, `expired access stayed open ${took} ms after the clock step`);
  await ledger.stop();
});

test("a step forward short of the deadline closes at the wall-clock deadline, not before", async () => {
  const { clock, backend, ledger } = setup();
  await ledger.grant([access(T0 + 60)]);
  clock.step(20_000);
  // 40 s of real time remain to the wall-clock deadline: not earlier than the step allows.
  const took = await closedAfter(clock, backend, 120_000);
  assert.ok(took >= 40_000 && took <= 41_100, `closed after ${took} ms, expected ~40 s`);
  await ledger.stop();
});

test("a wall clock stepped backward never closes access early; it closes at the wall deadline", async () => {
  const { clock, backend, ledger } = setup();
  await ledger.grant([access(T0 + 60)]);
  clock.step(-300_000);
  const took = await closedAfter(clock, backend, 600_000);
  // Granted 60 s: never earlier than that in real time; at the (later) wall deadline at most.
  assert.ok(took >= 60_000, `closed after ${took} ms, before the 60 s granted`);
  assert.ok(took <= 361_100, `closed after ${took} ms, later than the wall-clock deadline`);
  await ledger.stop();
});
