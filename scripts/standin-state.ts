/**
 * Shared plumbing of the recording stand-ins for BSD firewall tools (pfctl-standin.ts,
 * ipfw-standin.ts), which let the pf and ipfw backends run end to end on Linux: state lives in a
 * JSON file named by `--state <file>` (the first two arguments; the tests' wrapper script passes
 * them), every call is appended to `<file>.log`, and `FAIL` in `<file>.fail` makes every call
 * fail as a broken tool would. They touch no real firewall.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

export interface StandinCall<S> {
  args: string[];
  state: S;
  save(): void;
}

/** Parse `--state FILE args...`, record the call, load the state (or `initial`). */
export function standinCall<S>(argv: readonly string[], initial: () => S): StandinCall<S> {
  const [flag, file, ...args] = argv;
  if (flag !== "--state" || file === undefined) {
    process.stderr.write("usage: <standin> --state FILE ARGS...\n");
    process.exit(64);
  }
  appendFileSync(`${file}.log`, `${args.join(" ")}\n`);
  if (existsSync(`${file}.fail`)) {
    process.stderr.write(`${readFileSync(`${file}.fail`, "utf8").trim()}\n`);
    process.exit(1);
  }
  const state = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as S) : initial();
  return { args, state, save: () => writeFileSync(file, JSON.stringify(state)) };
}

/** Everything the caller wrote to stdin. */
export function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch {
    return "";
  }
}

export function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}
