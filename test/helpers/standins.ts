/**
 * Recording stand-ins for pfctl and ipfw (scripts/pfctl-standin.ts, scripts/ipfw-standin.ts) as
 * executables a backend or fwknopd can be pointed at with FIREWALL_EXE: a wrapper script in a
 * temp directory that runs the stand-in with its own state file. Tests read the state and the
 * call log, and can make the tool fail.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export type StandinKind = "pfctl" | "ipfw";

export interface Standin {
  /** The executable to use as FIREWALL_EXE. */
  exe: string;
  state: string;
  /** Every call so far, one argv (joined by blanks) per entry. */
  calls(): string[];
  /** The stand-in's state (pf: { linked, anchors }; ipfw: { rules, disabled, dynamic }). */
  read<T>(): T;
  /** Make every later call fail with this stderr text (undefined: work again). */
  failWith(message: string | undefined): void;
  cleanup(): void;
}

export function createStandin(kind: StandinKind, initial?: unknown): Standin {
  const dir = mkdtempSync(join(tmpdir(), `fwknop-${kind}-`));
  const script = fileURLToPath(new URL(`../../scripts/${kind}-standin.js`, import.meta.url));
  const state = join(dir, "state.json");
  const exe = join(dir, kind);
  writeFileSync(
    exe,
    `#!/bin/sh\nexec "${process.execPath}" "${script}" --state "${state}" "$@"\n`,
    {
      mode: 0o755,
    },
  );
  if (initial !== undefined) writeFileSync(state, JSON.stringify(initial));
  return {
    exe,
    state,
    calls: () =>
      existsSync(`${state}.log`)
        ? readFileSync(`${state}.log`, "utf8")
            .split("\n")
            .filter((l) => l !== "")
        : [],
    read: <T>() => JSON.parse(readFileSync(state, "utf8")) as T,
    failWith: (message) => {
      if (message === undefined) rmSync(`${state}.fail`, { force: true });
      else writeFileSync(`${state}.fail`, message);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A pfctl stand-in whose main ruleset links the anchor (what `anchor "fwknop"` in pf.conf does). */
export function createPfctl(anchor = "fwknop"): Standin {
  return createStandin("pfctl", { linked: [anchor], anchors: {} });
}
