/**
 * Renders the parity table of issue 10 as Markdown: every client and server situation of
 * test/helpers/c-parity-*-cases.ts run with fwknop/fwknopd 2.6.10 and with ours, showing the
 * exit status and the output line carrying 2.6.10's phrase on each side.
 *
 *   npx tsc -p . && node dist/scripts/c-parity-table.js > docs/parity.md
 *
 * (The SPA command situations need a network namespace; test/process/c-parity-command.test.ts
 * runs them.)
 */
import { CLIENT_CASES } from "../test/helpers/c-parity-client-cases.js";
import { type ParityCase, runSide, type SideResult } from "../test/helpers/c-parity-run.js";
import { serverCases } from "../test/helpers/c-parity-server-cases.js";

/** The output line where the phrase starts (or the first line), shortened for a table cell. */
function evidence(c: ParityCase, r: SideResult): string {
  const m = c.phrase.exec(r.output);
  let line = r.output.split("\n").find((l) => l.trim() !== "") ?? "";
  if (m && m[0].trim() !== "") {
    const start = r.output.lastIndexOf("\n", m.index + (m[0].length - m[0].trimStart().length)) + 1;
    line = r.output.slice(start).split("\n")[0] ?? line;
  }
  const short = line.length > 110 ? `${line.slice(0, 107)}...` : line;
  return `exit ${r.code}: \`${short.replaceAll("|", "\\|").replaceAll("`", "'")}\``;
}

async function main(): Promise<void> {
  const rows: string[] = [
    "| Item | Program | Situation | fwknop 2.6.10 | fwknop-ts |",
    "|---|---|---|---|---|",
  ];
  for (const c of [...CLIENT_CASES, ...serverCases()]) {
    const theirs = await runSide(c, "c");
    const ours = await runSide(c, "ours");
    rows.push(
      `| ${c.item} | ${c.program} | ${c.situation.replaceAll("|", "\\|")} | ${evidence(c, theirs)} | ${evidence(c, ours)} |`,
    );
  }
  process.stdout.write(`${rows.join("\n")}\n`);
}

await main();
