/**
 * Stand-ins for the daemon's edges, for code that drives the real Daemon in process (unit tests,
 * bench/knock-path.ts): an intake fed by hand, and a firewall backend that applies nothing but
 * keeps what it was asked to add, and when.
 */
import type { ChainKind, FirewallBackend, Rule } from "../../src/firewall/backend.js";
import type { Candidate, CandidateHandler, Intake } from "../../src/server/intake/intake.js";

/** An intake the caller feeds by hand. */
export class HandIntake implements Intake {
  readonly name = "hand";
  #handler: CandidateHandler | undefined;
  async start(onCandidate: CandidateHandler): Promise<void> {
    this.#handler = onCandidate;
  }
  async stop(): Promise<void> {}
  /** Hands `c` to the daemon; resolves when its processing has finished. */
  async feed(c: Candidate): Promise<void> {
    await this.#handler?.(c);
  }
}

export class RecordingBackend implements FirewallBackend {
  readonly name = "recording";
  added: Rule[] = [];
  /** performance.now() at the last apply(). */
  appliedAt = 0;
  async init(): Promise<void> {}
  async apply(add: readonly Rule[]): Promise<void> {
    this.appliedAt = performance.now();
    this.added.push(...add);
  }
  async listInstalled(): Promise<Rule[]> {
    return [];
  }
  async flush(): Promise<void> {}
  async listText(): Promise<string> {
    return "";
  }
  chainName(kind: ChainKind): string {
    return `FWKNOP_${kind.toUpperCase()}`;
  }
}
