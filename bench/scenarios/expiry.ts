/**
 * Scenario 4, expiry precision: with N other (long-lived, pre-inserted) grants active, a knock
 * asks for a 2 s client timeout; the prober polls the hidden port every 20 ms until it is
 * refused again. Lateness = close time − the expiry the daemon logged ("expires at <epoch>").
 * A grant still open after the deadline is recorded as "did not close within N s".
 * The same again with the daemon killed (SIGKILL) as soon as the grant is open: only a firewall
 * that expires access by itself (ipset and nftables timeouts) still closes it.
 */
import type { DaemonKind } from "../lib/daemon.js";
import { createBenchNet, probeIp, startProber } from "../lib/net.js";
import { type Measurement, type ScenarioContext, setNote } from "../lib/result.js";
import { accessFor, newKeys, startWithOthers } from "./common.js";

const LEVELS = [0, 1000, 10_000, 100_000];
const CLOSE_DEADLINE_S = 20;

type Outcome = { lateS: number } | { note: string };

async function once(kind: DaemonKind, others: number, kill9: boolean): Promise<Outcome> {
  const keys = newKeys();
  const net = await createBenchNet();
  try {
    const d = await startWithOthers({
      kind,
      net,
      others,
      access: accessFor(keys),
      readyTimeoutMs: 180_000,
    });
    const prober = await startProber(net.pair, keys);
    try {
      const ip = probeIp(0);
      const added = d.nextLine(
        new RegExp(`for ${ip.replaceAll(".", "\\.")} .*expires at (\\d+)`),
        90_000,
      );
      const open = await prober.ask({
        op: "knock",
        allowIp: ip,
        clientTimeout: 2,
        timeoutMs: 90_000,
      });
      const line = await added;
      const expiresAt = Number(/expires at (\d+)/.exec(line ?? "")?.[1]);
      if (!open.ok || !expiresAt)
        return { note: `grant did not open (${open.error ?? "no log line"})` };
      if (kill9) await d.kill9();
      const deadlineMs = expiresAt * 1000 + CLOSE_DEADLINE_S * 1000 - Date.now();
      const closed = await prober.ask<{ at: number }>({
        op: "closed",
        src: ip,
        timeoutMs: Math.max(1000, deadlineMs),
        everyMs: 20,
      });
      if (!closed.ok) return { note: `did not close within ${CLOSE_DEADLINE_S} s` };
      return { lateS: closed.at / 1000 - expiresAt };
    } finally {
      prober.close();
      await d.stop(30_000);
    }
  } finally {
    await net.cleanup();
  }
}

export async function expiry(ctx: ScenarioContext): Promise<Measurement[]> {
  const out: Measurement[] = [];
  const runs = (ctx.quick ? [0, 1000] : LEVELS).flatMap((others) => [
    { others, kill9: false },
    { others, kill9: true },
  ]);
  for (const { others, kill9 } of runs) {
    const m: Measurement = {
      scenario: "expiry",
      condition: `${others.toLocaleString("en-US")} other grants active${kill9 ? ", daemon killed (SIGKILL) once the grant is open" : ""}`,
      metric: "2 s grant closes late by",
      unit: "s",
      better: "lower",
      values: {},
      notes: {},
      ...(others === 100_000 ? { goal: { op: "<=" as const, value: 1 } } : {}),
    };
    for (const kind of ctx.kinds) {
      const r = await once(kind, others, kill9);
      ctx.log(
        `expiry ${kind} @${others}${kill9 ? " kill -9" : ""}: ${"lateS" in r ? `${r.lateS.toFixed(3)} s late` : r.note}`,
      );
      if ("lateS" in r) m.values[kind] = r.lateS;
      else setNote(m, kind, r.note);
    }
    out.push(m);
  }
  return out;
}
