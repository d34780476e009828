/**
 * Property: whatever --save-rc-stanza writes (names from the variable table, values free of the
 * characters that end an rc value), reading the file back yields exactly those variables, and
 * every other stanza is left as it was.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { RC_VARIABLES } from "../../src/client/settings.js";
import {
  classifyRcLine,
  findStanza,
  parseFwknoprc,
  updateFwknoprc,
} from "../../src/config/fwknoprc.js";

const name = fc.constantFrom(...RC_VARIABLES.map((v) => v.name));
const value = fc.stringMatching(/^[!-"$-:<-~]{1,20}$/);
const stanzaName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);

function entriesOf(text: string, stanza: string): [string, string][] {
  const st = findStanza(parseFwknoprc(text), stanza);
  return (st?.lines ?? []).flatMap((l) => (l.kind === "entry" ? [[l.name, l.value]] : [])) as [
    string,
    string,
  ][];
}

test("saved stanzas read back to the same variables; other stanzas stay intact", () => {
  fc.assert(
    fc.property(
      stanzaName,
      fc.uniqueArray(fc.tuple(name, value), { selector: (e) => e[0], maxLength: 8 }),
      fc.uniqueArray(fc.tuple(name, value), { selector: (e) => e[0], maxLength: 4 }),
      (stanza, entries, other) => {
        const otherName = `${stanza}-other`;
        const base = `# comment\n[${otherName}]\n${other.map(([n, v]) => `${n} ${v}`).join("\n")}\n`;
        const out = updateFwknoprc(base, {
          stanza,
          entries,
          replace: false,
          confirm: () => true,
          critical: new Set(),
        });
        assert.deepEqual(entriesOf(out, stanza), entries);
        assert.deepEqual(entriesOf(out, otherName), other);
        assert.equal(classifyRcLine(out.split("\n")[0] ?? "", 1).kind, "blank");
      },
    ),
    { numRuns: 200 },
  );
});
