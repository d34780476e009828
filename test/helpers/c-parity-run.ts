/**
 * Runs one parity situation with the real fwknop 2.6.10 binary and with ours, each in a fresh
 * directory that is also its HOME (so no ~/.fwknoprc or run file of the host is read or written).
 * Used by test/process/c-parity-*.test.ts and scripts/c-parity-table.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../src/sys/run.js";

export const C_BIN = { fwknop: "/usr/bin/fwknop", fwknopd: "/usr/sbin/fwknopd" } as const;
const OURS = {
  fwknop: fileURLToPath(new URL("../../../bin/fwknop", import.meta.url)),
  fwknopd: fileURLToPath(new URL("../../../bin/fwknopd", import.meta.url)),
} as const;

export interface ParityCase {
  /** Item of issue 10 the situation belongs to. */
  item: string;
  situation: string;
  program: "fwknop" | "fwknopd";
  /** `{dir}` stands for the run's directory. */
  args: string[];
  /** Files written into the directory first (mode 0600); text may use `{dir}`; "x/" is a directory. */
  files?: Record<string, string | Buffer>;
  stdin?: string;
  /** Exit status of both. */
  exit: number;
  /** 2.6.10's phrase: both outputs (stdout + stderr) must match it. */
  phrase: RegExp;
  /** Files both runs must leave with this content (e.g. a saved rc stanza). */
  after?: { file: string; has?: RegExp[]; hasNot?: RegExp[] };
}

export interface SideResult {
  code: number;
  output: string;
  after?: string;
}

/** `netns`: run inside that network namespace (for situations that change a firewall). */
export async function runSide(
  c: ParityCase,
  side: "c" | "ours",
  netns?: string,
): Promise<SideResult> {
  const dir = mkdtempSync(join(tmpdir(), `fwk-parity-${side}-`));
  try {
    for (const [name, content] of Object.entries(c.files ?? {})) {
      if (name.endsWith("/")) {
        mkdirSync(join(dir, name), { mode: 0o700 });
        continue;
      }
      const data = typeof content === "string" ? content.replaceAll("{dir}", dir) : content;
      writeFileSync(join(dir, name), data, { mode: 0o600 });
    }
    const bin = side === "c" ? [C_BIN[c.program]] : [process.execPath, OURS[c.program]];
    const r = await run([...bin, ...c.args.map((a) => a.replaceAll("{dir}", dir))], {
      env: { HOME: dir },
      cwd: dir,
      timeoutMs: 30_000,
      ...(c.stdin !== undefined ? { input: c.stdin } : {}),
      ...(netns !== undefined ? { netns } : {}),
    });
    const output = `${r.stdout}${r.stderr}`.replaceAll(dir, "{dir}");
    let after: string | undefined;
    if (c.after) {
      try {
        after = readFileSync(join(dir, c.after.file), "utf8");
      } catch {
        after = "";
      }
    }
    return { code: r.code, output, ...(after !== undefined ? { after } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What is wrong with one side's result, or undefined when it meets the case. */
export function mismatch(c: ParityCase, r: SideResult): string | undefined {
  if (r.code !== c.exit) return `exit ${r.code}, expected ${c.exit}`;
  if (!c.phrase.test(r.output)) return `no ${c.phrase} in output`;
  for (const re of c.after?.has ?? []) {
    if (!re.test(r.after ?? "")) return `${c.after?.file} lacks ${re}`;
  }
  for (const re of c.after?.hasNot ?? []) {
    if (re.test(r.after ?? "")) return `${c.after?.file} still has ${re}`;
  }
  return undefined;
}

/** Runs the case with 2.6.10 and with ours; throws with the failing side's output. */
export async function assertParity(c: ParityCase, netns?: string): Promise<void> {
  const bin = C_BIN[c.program];
  if (!existsSync(bin)) throw new Error(`${bin} (fwknop 2.6.10) is not installed`);
  for (const side of ["c", "ours"] as const) {
    const r = await runSide(c, side, netns);
    const wrong = mismatch(c, r);
    if (wrong !== undefined) {
      throw new Error(`${side === "c" ? "2.6.10" : "ours"}: ${wrong}\n${r.output}`);
    }
  }
}
