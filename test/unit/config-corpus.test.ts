/**
 * Runs every case of test/corpus/config through the loaders: each broken file must fail with its
 * one-line "file:line: message" (or load with the expected warning). See the corpus README.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadAccessConfig } from "../../src/config/access-config.js";
import { loadServerConfig } from "../../src/config/server-config.js";
import { ERRORS, FwknopError } from "../../src/errors.js";
import { FIREWALL_TYPES } from "../../src/firewall/backend-names.js";

// Compiled to dist/test/unit; the data stays in the source tree.
const CORPUS = fileURLToPath(new URL("../../../test/corpus/config/", import.meta.url));

interface Expectation {
  note: string;
  status: 0 | 1;
  code?: string;
  error?: string;
  warning?: string;
  upstreamStatus: number;
}

const work = mkdtempSync(join(tmpdir(), "fwknop-config-corpus-"));
after(() => rmSync(work, { recursive: true, force: true }));

function materialise(name: string): string {
  const target = mkdtempSync(join(work, `${name}-`));
  for (const file of readdirSync(join(CORPUS, name))) {
    if (file === "expect.json") continue;
    const text = readFileSync(join(CORPUS, name, file), "utf8").replaceAll("{dir}", target);
    writeFileSync(join(target, file), text, { mode: 0o600 });
  }
  return target;
}

function load(dir: string, warnings: string[]): void {
  const warn = (m: string) => warnings.push(m);
  const server = loadServerConfig({ configFile: join(dir, "fwknopd.conf"), warn });
  loadAccessConfig({ file: join(dir, "access.conf"), server, warn, info: () => {} });
}

const cases = readdirSync(CORPUS, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe("config bad-input corpus", () => {
  test("the corpus is there", () => {
    assert.ok(cases.length >= 60, `expected the corpus under ${CORPUS}, found ${cases.length}`);
  });

  for (const name of cases) {
    const expect = JSON.parse(
      readFileSync(join(CORPUS, name, "expect.json"), "utf8"),
    ) as Expectation;
    test(`${name}: ${expect.note}`, () => {
      const dir = materialise(name);
      const warnings: string[] = [];
      const sub = (s: string) =>
        s.replaceAll("{dir}", dir).replaceAll("{backends}", FIREWALL_TYPES.join(", "));
      if (expect.status === 0) {
        load(dir, warnings);
        if (expect.warning !== undefined)
          assert.ok(warnings.includes(sub(expect.warning)), warnings.join("\n"));
        return;
      }
      assert.ok(
        expect.error !== undefined && expect.code !== undefined,
        "fatal case needs error+code",
      );
      assert.throws(
        () => load(dir, warnings),
        (e: unknown) => {
          assert.ok(e instanceof FwknopError, `not a FwknopError: ${String(e)}`);
          assert.equal(e.message, sub(expect.error ?? ""));
          assert.equal(e.code, expect.code);
          assert.ok(e.code in ERRORS);
          assert.doesNotMatch(e.message, /\n/, "one line");
          // Names the file (and the line, where one line is at fault).
          assert.match(e.message, new RegExp(`^${dir.replaceAll(".", "\\.")}/[^: ]+(:\\d+)?: `));
          return true;
        },
      );
    });
  }
});
