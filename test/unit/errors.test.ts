/**
 * Parity between the error registry and docs/errors.md: every code in ERRORS has exactly one
 * `## CODE` section with some explanation, and every section names a code that exists.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ERRORS } from "../../src/errors.js";

const docsPath = fileURLToPath(new URL("../../../docs/errors.md", import.meta.url));
const docs = readFileSync(docsPath, "utf8");

/** `## CODE` headings with the text up to the next heading. */
function sections(md: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const parts = md.split(/^## /m).slice(1);
  for (const part of parts) {
    const nl = part.indexOf("\n");
    const heading = (nl < 0 ? part : part.slice(0, nl)).trim();
    const body = nl < 0 ? "" : part.slice(nl + 1).trim();
    out.set(heading, [...(out.get(heading) ?? []), body]);
  }
  return out;
}

const documented = sections(docs);
const codes = Object.keys(ERRORS);

test("every registry code is documented in docs/errors.md", () => {
  const missing = codes.filter((c) => !documented.has(c));
  assert.deepEqual(missing, [], `add a "## CODE" section to ${docsPath} for each of these`);
});

test("every docs/errors.md section names a registry code", () => {
  const unknown = [...documented.keys()].filter((h) => !(h in ERRORS));
  assert.deepEqual(unknown, [], "these headings match no code in src/errors.ts");
});

test("each code is documented once, with an explanation", () => {
  const bad = [...documented].filter(([, bodies]) => bodies.length !== 1 || !bodies[0]);
  assert.deepEqual(
    bad.map(([h]) => h),
    [],
    "duplicate or empty sections",
  );
});

test("registry messages are non-empty single lines", () => {
  for (const [code, message] of Object.entries(ERRORS)) {
    assert.match(code, /^[A-Z][A-Z0-9_]+$/);
    assert.ok(message.length > 0 && !message.includes("\n"), code);
  }
});
