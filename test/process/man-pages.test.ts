/**
 * The man pages (man/*.md → roff by scripts/man.sh with marked-man): each renders without a
 * single groff or man warning, and each documents every option and variable the programs
 * accept, read from the tables the programs themselves parse with. A new option or variable
 * without a line in its page fails here.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { CLIENT_OPTIONS } from "../../src/client/options.js";
import { RC_VARIABLES } from "../../src/client/settings.js";
import { ACCESS_VARIABLES } from "../../src/config/access-variables.js";
import { SERVER_VARIABLES } from "../../src/config/server-variables.js";
import { DAEMON_OPTIONS } from "../../src/server/options.js";
import { run } from "../../src/sys/run.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const PAGES = ["fwknopd.8", "fwknop.1", "fwknopd.conf.5", "access.conf.5"] as const;
type Page = (typeof PAGES)[number];

/** access.conf's names: the variable table plus SOURCE and the % directives, which the parser
 * handles before the table. */
function accessVariables(): string[] {
  return [
    "SOURCE",
    "%include",
    "%include_folder",
    "%include_keys",
    ...ACCESS_VARIABLES.map((v) => v.name),
  ];
}

async function renderAll(t: { after: (fn: () => void) => void }): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), "fwk-man-"));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const r = await run(["bash", join(ROOT, "scripts/man.sh"), out], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `scripts/man.sh failed: ${r.stderr}`);
  return out;
}

/** Plain text of a page: no hyphenation, lines long enough that no name is broken. */
async function plainText(file: string): Promise<string> {
  const r = await run(["groff", "-man", "-Tutf8", "-rHY=0", "-rLL=2000n", "-P-cbou", file], {
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** Names missing from `text`; a name counts only as a whole word (not inside a longer one). */
function missing(text: string, names: readonly string[]): string[] {
  return names.filter((n) => {
    const escaped = n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return !new RegExp(`(^|[^A-Za-z0-9_-])${escaped}(?![A-Za-z0-9_-])`, "m").test(text);
  });
}

function optionNames(table: readonly { long: string; short?: string }[]): string[] {
  return table.flatMap((o) => [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])]);
}

test("every man page renders silently with groff -ww and man -l", async (t) => {
  const dir = await renderAll(t);
  assert.deepEqual(readdirSync(dir).sort(), [...PAGES].sort());
  for (const page of PAGES) {
    const file = join(dir, page);
    const g = await run(["groff", "-man", "-ww", "-z", file], { timeoutMs: 60_000 });
    assert.equal(g.code, 0, `${page}: groff exit ${g.code}`);
    assert.equal(g.stderr, "", `${page}: groff warnings:\n${g.stderr}`);
    const m = await run(["man", "--warnings", "-l", file], {
      timeoutMs: 60_000,
      env: { ...process.env, MANPAGER: "cat", PAGER: "cat", MANWIDTH: "80" },
    });
    assert.equal(m.code, 0, `${page}: man exit ${m.code}`);
    assert.equal(m.stderr, "", `${page}: man warnings:\n${m.stderr}`);
    assert.match(m.stdout, /NAME/);
  }
});

test("the pages document every option and variable the programs accept", async (t) => {
  const dir = await renderAll(t);
  const text = {} as Record<Page, string>;
  for (const page of PAGES) text[page] = await plainText(join(dir, page));

  const access = accessVariables();

  const expectations: [Page, string, string[]][] = [
    ["fwknopd.8", "fwknopd option", optionNames(DAEMON_OPTIONS)],
    ["fwknop.1", "fwknop option", optionNames(CLIENT_OPTIONS)],
    ["fwknop.1", "~/.fwknoprc variable", RC_VARIABLES.map((v) => v.name)],
    ["fwknopd.conf.5", "fwknopd.conf variable", SERVER_VARIABLES.map((v) => v.name)],
    ["access.conf.5", "access.conf variable", access],
  ];
  for (const [page, what, names] of expectations) {
    assert.ok(names.length > 0);
    assert.deepEqual(missing(text[page], names), [], `${what}s missing from ${page}`);
  }
});

test("the coverage check notices a missing name", () => {
  assert.deepEqual(missing("* `--fw-list`: list", ["--fw-list", "--fw-list-all", "-f"]), [
    "--fw-list-all",
    "-f",
  ]);
});
