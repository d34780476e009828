/** What each scenario measures, per daemon, in a shape the report can tabulate. */
import type { DaemonKind } from "./daemon.js";

export interface Measurement {
  /** Scenario id, e.g. "throughput". */
  scenario: string;
  /** Row label, e.g. "10,000 grants active". */
  condition: string;
  metric: string;
  unit: string;
  better: "higher" | "lower";
  /** undefined = not measured (daemon not run, or the figure does not exist, see note). */
  values: Partial<Record<DaemonKind, number>>;
  /** Per-daemon remark printed instead of / beside the value (e.g. "did not close within 20 s"). */
  notes?: Partial<Record<DaemonKind, string>>;
  /** Goal for ours, in the same unit, e.g. "≥ 2000". */
  goal?: { op: ">=" | "<="; value: number };
}

export interface ScenarioContext {
  kinds: DaemonKind[];
  /** Fewer steps and samples, for a smoke run. */
  quick: boolean;
  log(msg: string): void;
}

export type Scenario = (ctx: ScenarioContext) => Promise<Measurement[]>;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function setNote(m: Measurement, kind: DaemonKind, text: string): void {
  m.notes = { ...m.notes, [kind]: text };
}
