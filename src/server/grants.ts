/**
 * The grant ledger: the one owner of active access. It knows every rule it opened and when that
 * rule expires, merges a re-knock into the existing rule (refreshing its expiry, never a
 * duplicate), removes rules when their deadline passes (one timer on the nearest deadline, from a
 * min-heap, instead of re-listing chains every loop), and sends changes to the firewall in
 * batches: everything that becomes due while a batch is in flight goes out in the next one.
 *
 * State per rule identity (ruleKey): `desired` (what should be in the firewall) and `installed`
 * (what we believe is there). A batch is the difference for the keys marked dirty. A failed batch
 * never loses knowledge: we re-read the firewall, split the batch to isolate the failing rules,
 * and keep retrying those (with backoff) until they are applied or no longer wanted.
 */

import { FwknopError } from "../errors.js";
import type { FirewallBackend, Rule } from "../firewall/backend.js";
import { type GrantRequest, ruleKey, rulesForGrant } from "../firewall/rules.js";
import type { FirewallSettings } from "../firewall/settings.js";
import { defaultFirewallSettings } from "../firewall/settings.js";
import type { Logger } from "../log/logger.js";
import { DeadlineHeap } from "./deadline-heap.js";
import { batchTimer, logRuleAdded, logRuleRemoved } from "./grant-events.js";
import { realTimers, type Timers } from "./timers.js";

export type { Timers as LedgerTimers } from "./timers.js";

export interface GrantLedgerOptions {
  log: Logger;
  /** Unix time in milliseconds (default Date.now). */
  now?: () => number;
  /** Timer functions (default the global ones); tests inject fake ones. */
  timers?: Timers;
  /** What grantAccess() builds rules from (default: upstream's, only FWKNOP_INPUT). */
  settings?: FirewallSettings;
  /** First retry delay after a failed batch, doubled per consecutive failure (default 1 s). */
  retryMs?: number;
  /** Upper bound of the retry delay (default 30 s). */
  maxRetryMs?: number;
  /**
   * Re-read the firewall this often to honour `_exp_` on rules added behind our back, and to
   * forget rules someone removed (default 60 s; 0 = only at adopt()).
   */
  sweepMs?: number;
  /**
   * The expiry timer wakes at least this often to re-read the wall clock (default 1 s; 0 = only
   * at the deadline). Deadlines are absolute `_exp_` wall times while timers run on the
   * monotonic clock: without this, a clock stepped forward by an hour would keep an expired
   * grant open until its timer fired. A step backward only delays closing to the (now later)
   * wall-clock deadline.
   */
  clockCheckMs?: number;
}

interface Slot {
  desired: Rule | undefined;
  installed: Rule[];
}

interface Waiter {
  keys: Set<string>;
  resolve: () => void;
  reject: (e: unknown) => void;
  /** Called once, as soon as the firewall answered the first batch holding one of `keys`. */
  answered?: (() => void) | undefined;
}

/** Longest delay setTimeout accepts; later deadlines re-arm when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class GrantLedger {
  readonly #backend: FirewallBackend;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #timers: Timers;
  #settings: FirewallSettings;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #sweepMs: number;
  readonly #clockCheckMs: number;
  #sweepTimer: unknown;

  readonly #slots = new Map<string, Slot>();
  readonly #dirty = new Set<string>();
  readonly #inflight = new Set<string>();
  readonly #deadlines = new DeadlineHeap();
  #waiters: Waiter[] = [];
  #sweepWaiters: Waiter[] = [];
  #active = 0;

  #expiryTimer: unknown;
  #expiryDue = Number.POSITIVE_INFINITY;
  #retryTimer: unknown;
  readonly #retryKeys = new Set<string>();
  #retryDelay: number;
  #flushQueued = false;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(backend: FirewallBackend, opts: GrantLedgerOptions) {
    this.#backend = backend;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
    this.#timers = opts.timers ?? realTimers;
    this.#settings = opts.settings ?? defaultFirewallSettings();
    this.#retryMs = opts.retryMs ?? 1000;
    this.#maxRetryMs = opts.maxRetryMs ?? 30_000;
    this.#retryDelay = this.#retryMs;
    this.#sweepMs = opts.sweepMs ?? 60_000;
    this.#clockCheckMs = opts.clockCheckMs ?? 1000;
    this.#armSweep();
  }

  /** Number of rules currently granted (wanted open). */
  get size(): number {
    return this.#active;
  }

  /** Reload: later grants are built from these settings; open rules stay as they are. */
  useSettings(settings: FirewallSettings): void {
    this.#settings = settings;
  }

  /**
   * Open (or extend) the rules one access grant needs, built here from the firewall settings.
   * They expire `req.timeout` seconds from now, or at `expiresAt` (Unix seconds) when given:
   * a cluster grant closes at the same second on every gateway.
   */
  grantAccess(req: GrantRequest, expiresAt?: number, answered?: () => void): Promise<void> {
    const start =
      expiresAt === undefined ? Math.floor(this.#now() / 1000) : expiresAt - req.timeout;
    return this.grant(rulesForGrant(req, this.#settings, start), answered);
  }

  /**
   * Open (or extend) these rules. Resolves once they are in the firewall; rejects with the
   * backend's error if they could not be applied (the ledger keeps retrying until they expire).
   * `answered` runs when the firewall has answered the batch that carried them, before that
   * batch's own log lines; not at all when nothing had to change (the promise then resolves).
   */
  grant(rules: readonly Rule[], answered?: () => void): Promise<void> {
    if (this.#stopped)
      return Promise.reject(new FwknopError("FWK_ERR_FW_APPLY", "grant ledger is stopped"));
    const keys = new Set<string>();
    for (const rule of rules) {
      const key = ruleKey(rule);
      const slot = this.#slot(key);
      if (slot.desired === undefined || rule.expiresAt > slot.desired.expiresAt) {
        this.#setDesired(slot, rule);
        this.#deadlines.push(rule.expiresAt, key);
        this.#dirty.add(key);
      }
      if (this.#pending(key)) keys.add(key);
    }
    this.#armExpiry();
    if (keys.size === 0) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => {
      this.#waiters.push({ keys, resolve, reject, answered });
    });
    this.#queueFlush();
    return done;
  }

  /**
   * Take over what the firewall already holds (start or reload without flush): live rules are
   * scheduled for removal at their `_exp_` time, expired ones and duplicates are removed now.
   * The periodic sweep does the same (upstream's deep sweep honours `_exp_` on rules it did not
   * create); it runs between batches, never during one.
   */
  async adopt(): Promise<void> {
    const swept = new Promise<void>((resolve, reject) => {
      this.#sweepWaiters.push({ keys: new Set(), resolve, reject });
    });
    this.#queueFlush();
    await swept;
    await this.#drain();
  }

  /** Cancel timers and let the batch in flight finish. The firewall is left as it is. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#expiryTimer !== undefined) this.#timers.clearTimeout(this.#expiryTimer);
    if (this.#retryTimer !== undefined) this.#timers.clearTimeout(this.#retryTimer);
    if (this.#sweepTimer !== undefined) this.#timers.clearTimeout(this.#sweepTimer);
    this.#expiryTimer = undefined;
    this.#retryTimer = undefined;
    this.#sweepTimer = undefined;
    await this.#running;
    for (const w of this.#sweepWaiters)
      w.reject(new FwknopError("FWK_ERR_FW_APPLY", "grant ledger stopped"));
    this.#sweepWaiters = [];
    for (const w of this.#waiters)
      w.reject(new FwknopError("FWK_ERR_FW_APPLY", "grant ledger stopped"));
    this.#waiters = [];
  }

  /** Make our belief match what the firewall lists, adopting live rules we did not know. */
  async #reconcile(): Promise<void> {
    const listed = new Map<string, Rule[]>();
    for (const rule of await this.#backend.listInstalled()) {
      const key = ruleKey(rule);
      const list = listed.get(key) ?? [];
      list.push(rule);
      listed.set(key, list);
    }
    const nowSec = this.#now() / 1000;
    let adopted = 0;
    let stale = 0;
    const keys = new Set([...listed.keys(), ...this.#slots.keys()]);
    for (const key of keys) {
      const slot = this.#slot(key);
      const rules = listed.get(key) ?? [];
      slot.installed = rules;
      const desired = slot.desired;
      // Someone removed our rule (e.g. iptables -F): the access is gone, as with upstream.
      if (desired && !this.#pending(key) && !rules.some((r) => r.expiresAt === desired.expiresAt)) {
        this.#setDesired(slot, undefined);
      }
      const best = rules.reduce<Rule | undefined>(
        (a, r) => (a && a.expiresAt >= r.expiresAt ? a : r),
        undefined,
      );
      if (best && best.expiresAt > nowSec && best.expiresAt > (slot.desired?.expiresAt ?? 0)) {
        this.#setDesired(slot, best);
        this.#deadlines.push(best.expiresAt, key);
        adopted++;
      }
      const extra = rules.filter((r) => r.expiresAt !== slot.desired?.expiresAt).length;
      stale += extra;
      if (extra > 0) this.#dirty.add(key);
      if (!slot.desired && rules.length === 0 && !this.#dirty.has(key)) this.#slots.delete(key);
    }
    if (adopted > 0 || stale > 0) {
      this.#log.info(
        `Adopted ${adopted} live firewall rule(s); ${stale} expired or duplicate rule(s) to remove`,
      );
    }
    this.#armExpiry();
  }

  /** A change for this key is queued, in flight, or waiting for its retry. */
  #pending(key: string): boolean {
    return this.#dirty.has(key) || this.#inflight.has(key) || this.#retryKeys.has(key);
  }

  #slot(key: string): Slot {
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { desired: undefined, installed: [] };
      this.#slots.set(key, slot);
    }
    return slot;
  }

  #setDesired(slot: Slot, rule: Rule | undefined): void {
    if (slot.desired === undefined && rule !== undefined) this.#active++;
    if (slot.desired !== undefined && rule === undefined) this.#active--;
    slot.desired = rule;
  }

  #queueFlush(): void {
    if (this.#flushQueued || this.#running !== undefined || this.#stopped) return;
    this.#flushQueued = true;
    // Nothing is in flight (checked above), so the batch starts as soon as the grant's own code
    // has run (a microtask), not a turn of the event loop later: a lone knock does not wait.
    // Grants decided in the same run of microtasks still join it, and whatever arrives while it
    // is in flight goes out together in the next batch, so a burst is still batched.
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#running = this.#loop().finally(() => {
        this.#running = undefined;
        // Work marked dirty while the loop was finishing would otherwise wait for the next event.
        if (this.#dirty.size > 0 || this.#sweepWaiters.length > 0) this.#queueFlush();
      });
    });
  }

  /** Wait until nothing is queued or in flight. */
  async #drain(): Promise<void> {
    while (this.#flushQueued || this.#running !== undefined) {
      await (this.#running ?? new Promise<void>((r) => setImmediate(r)));
    }
  }

  async #loop(): Promise<void> {
    while ((this.#dirty.size > 0 || this.#sweepWaiters.length > 0) && !this.#stopped) {
      if (this.#sweepWaiters.length > 0) {
        const waiters = this.#sweepWaiters;
        this.#sweepWaiters = [];
        try {
          await this.#reconcile();
          for (const w of waiters) w.resolve();
        } catch (e) {
          for (const w of waiters) w.reject(e);
        }
        continue;
      }
      const keys = [...this.#dirty];
      this.#dirty.clear();
      for (const k of keys) this.#inflight.add(k);
      const failed = await this.#applyKeys(keys);
      for (const k of keys) this.#inflight.delete(k);
      this.#settleWaiters(failed);
      if (failed.size > 0) this.#scheduleRetry([...failed.keys()]);
      else this.#retryDelay = this.#retryMs;
    }
  }

  /** Apply the changes for these keys; returns the keys that could not be applied, with why. */
  async #applyKeys(keys: readonly string[]): Promise<Map<string, unknown>> {
    const plan = keys.map((key) => ({ key, ...this.#diff(key) }));
    const add = plan.flatMap((p) => (p.add ? [p.add] : []));
    const remove = plan.flatMap((p) => p.remove);
    if (add.length === 0 && remove.length === 0) {
      for (const p of plan) this.#committed(p.key, p.target);
      return new Map();
    }
    const report = batchTimer(add.length + remove.length);
    try {
      await this.#backend.apply(add, remove);
    } catch (e) {
      report(false);
      this.#answered(keys);
      return this.#recover(keys, e);
    }
    report(true);
    this.#answered(keys);
    for (const p of plan) this.#committed(p.key, p.target);
    for (const r of add) logRuleAdded(this.#log, this.#backend, r);
    for (const r of remove) logRuleRemoved(this.#log, this.#backend, r, add);
    return new Map();
  }

  /** After a failed batch: re-read what is installed, then bisect to isolate the failing rules. */
  async #recover(keys: readonly string[], error: unknown): Promise<Map<string, unknown>> {
    this.#log.error(
      `Firewall update for ${keys.length} rule(s) failed: ${(error as Error).message ?? error}`,
    );
    try {
      await this.#resync(keys);
    } catch (e) {
      this.#log.error(`Cannot re-read installed rules: ${(e as Error).message ?? e}`);
      return new Map(keys.map((k) => [k, error]));
    }
    if (keys.length === 1) {
      const key = keys[0] as string;
      const { add, remove } = this.#diff(key);
      // The re-read shows the change is already in place: nothing failed after all.
      if (!add && remove.length === 0) {
        this.#committed(key, this.#slots.get(key)?.desired);
        return new Map();
      }
      return new Map([[key, error]]);
    }
    const half = Math.ceil(keys.length / 2);
    const first = await this.#applyKeys(keys.slice(0, half));
    const second = await this.#applyKeys(keys.slice(half));
    return new Map([...first, ...second]);
  }

  /** Replace our belief about these keys with what the firewall lists. */
  async #resync(keys: readonly string[]): Promise<void> {
    const wanted = new Set(keys);
    const listed = new Map<string, Rule[]>();
    for (const rule of await this.#backend.listInstalled()) {
      const key = ruleKey(rule);
      if (!wanted.has(key)) continue;
      const list = listed.get(key) ?? [];
      list.push(rule);
      listed.set(key, list);
    }
    for (const key of keys) this.#slot(key).installed = listed.get(key) ?? [];
  }

  #diff(key: string): { add: Rule | undefined; remove: Rule[]; target: Rule | undefined } {
    const slot = this.#slot(key);
    const target = slot.desired;
    const keep = target && slot.installed.find((r) => r.expiresAt === target.expiresAt);
    return {
      add: target && !keep ? target : undefined,
      remove: slot.installed.filter((r) => r !== keep),
      target,
    };
  }

  #committed(key: string, target: Rule | undefined): void {
    const slot = this.#slots.get(key);
    if (!slot) return;
    slot.installed = target ? [target] : [];
    if (slot.desired === undefined && !this.#dirty.has(key)) this.#slots.delete(key);
  }

  /** The firewall answered a batch for these keys: tell the waiters that asked to know. */
  #answered(keys: readonly string[]): void {
    for (const w of this.#waiters) {
      if (!w.answered || !keys.some((k) => w.keys.has(k))) continue;
      const answered = w.answered;
      w.answered = undefined;
      answered();
    }
  }

  #settleWaiters(failed: Map<string, unknown>): void {
    const pending: Waiter[] = [];
    for (const w of this.#waiters) {
      const failure = [...w.keys].find((k) => failed.has(k));
      if (failure !== undefined) w.reject(failed.get(failure));
      else if ([...w.keys].some((k) => this.#pending(k))) pending.push(w);
      else w.resolve();
    }
    this.#waiters = pending;
  }

  #scheduleRetry(keys: readonly string[]): void {
    for (const k of keys) this.#retryKeys.add(k);
    if (this.#retryTimer !== undefined || this.#stopped) return;
    const delay = this.#retryDelay;
    this.#retryDelay = Math.min(this.#maxRetryMs, this.#retryDelay * 2);
    this.#log.warn(`Retrying ${this.#retryKeys.size} firewall rule change(s) in ${delay} ms`);
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = undefined;
      for (const k of this.#retryKeys) if (this.#slots.has(k)) this.#dirty.add(k);
      this.#retryKeys.clear();
      this.#queueFlush();
    }, delay);
  }

  #armSweep(): void {
    if (this.#sweepMs <= 0 || this.#stopped) return;
    this.#sweepTimer = this.#timers.setTimeout(() => {
      this.#sweepTimer = undefined;
      this.adopt()
        .catch((e) => this.#log.error(`Firewall sweep failed: ${(e as Error).message ?? e}`))
        .finally(() => this.#armSweep());
    }, this.#sweepMs);
  }

  /** (Re)arm the one expiry timer for the nearest live deadline. */
  #armExpiry(): void {
    if (this.#stopped) return;
    while (true) {
      const top = this.#deadlines.peek();
      if (!top) break;
      if (this.#slots.get(top.key)?.desired?.expiresAt === top.at) break;
      this.#deadlines.pop(); // stale: refreshed or already removed
    }
    const top = this.#deadlines.peek();
    const due = top ? top.at * 1000 : Number.POSITIVE_INFINITY;
    if (due === this.#expiryDue && this.#expiryTimer !== undefined) return;
    if (this.#expiryTimer !== undefined) this.#timers.clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.#expiryDue = due;
    if (!top) return;
    const cap = this.#clockCheckMs > 0 ? this.#clockCheckMs : MAX_TIMER_MS;
    const delay = Math.min(MAX_TIMER_MS, cap, Math.max(0, due - this.#now()));
    this.#expiryTimer = this.#timers.setTimeout(() => this.#expire(), delay);
  }

  #expire(): void {
    this.#expiryTimer = undefined;
    this.#expiryDue = Number.POSITIVE_INFINITY;
    const nowSec = this.#now() / 1000;
    let due = 0;
    for (let top = this.#deadlines.peek(); top && top.at <= nowSec; top = this.#deadlines.peek()) {
      this.#deadlines.pop();
      const slot = this.#slots.get(top.key);
      if (slot?.desired?.expiresAt !== top.at) continue;
      this.#setDesired(slot, undefined);
      this.#dirty.add(top.key);
      due++;
    }
    if (due > 0) this.#queueFlush();
    this.#armExpiry();
  }
}
