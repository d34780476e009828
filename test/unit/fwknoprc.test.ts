import assert from "node:assert/strict";
import { test } from "node:test";
import {
  classifyRcLine,
  findStanza,
  formatRcEntry,
  parseFwknoprc,
  updateFwknoprc,
} from "../../src/config/fwknoprc.js";

test("values end at the first space, tab, ';' or '#'; names may end with ':'", () => {
  assert.deepEqual(classifyRcLine("ACCESS tcp/22 # ssh", 1), {
    kind: "entry",
    line: 1,
    text: "ACCESS tcp/22 # ssh",
    name: "ACCESS",
    value: "tcp/22",
  });
  const l = classifyRcLine(" ACCESS:\ttcp/22;udp/53", 2);
  assert.equal(l.kind === "entry" && `${l.name}=${l.value}`, "ACCESS=tcp/22");
  assert.equal(classifyRcLine("KEY", 3).kind, "invalid");
  assert.equal(classifyRcLine("# KEY x", 4).kind, "blank");
  assert.equal(classifyRcLine("   ", 5).kind, "blank");
  const s = classifyRcLine("  [Srv1]  ", 6);
  assert.equal(s.kind === "stanza" && s.name, "Srv1");
});

test("stanzas are found case-insensitively and keep their own lines", () => {
  const st = parseFwknoprc("# c\n[default]\nDIGEST_TYPE sha1\n\n[Srv]\nACCESS tcp/22\nbad\n");
  assert.deepEqual(
    st.map((s) => s.name),
    ["default", "Srv"],
  );
  const srv = findStanza(st, "srv");
  assert.equal(srv?.lines.length, 2);
  assert.equal(srv?.lines[1]?.kind, "invalid");
});

test("upstream layout: name padded to 24 columns, then four spaces", () => {
  assert.equal(formatRcEntry("KEY", "x"), `KEY${" ".repeat(25)}x`);
});

const never = () => false;
const CRIT = new Set(["KEY"]);

test("a new stanza is appended; other lines and comments stay", () => {
  const text = "# mine\n[default]\nDIGEST_TYPE sha1\n";
  const out = updateFwknoprc(text, {
    stanza: "new",
    entries: [["ACCESS", "tcp/22"]],
    replace: false,
    confirm: never,
    critical: CRIT,
  });
  assert.equal(
    out,
    `# mine\n[default]\nDIGEST_TYPE sha1\n\n[new]\n${formatRcEntry("ACCESS", "tcp/22")}\n`,
  );
});

test("merging replaces given variables, keeps the rest, asks before critical ones", () => {
  const text = "[s]\n# note\nACCESS tcp/22\nKEY old\n\n[t]\nACCESS tcp/1\n";
  const asked: string[] = [];
  const out = updateFwknoprc(text, {
    stanza: "S",
    entries: [
      ["ACCESS", "udp/53"],
      ["KEY", "new"],
      ["FW_TIMEOUT", "30"],
    ],
    replace: false,
    confirm: (n) => {
      asked.push(n);
      return false;
    },
    critical: CRIT,
  });
  assert.deepEqual(asked, ["KEY"]);
  assert.equal(
    out,
    `[s]\n# note\n${formatRcEntry("ACCESS", "udp/53")}\nKEY old\n${formatRcEntry("FW_TIMEOUT", "30")}\n\n[t]\nACCESS tcp/1\n`,
  );
});

test("--force-stanza replaces the stanza's body only", () => {
  const text = "[s]\nACCESS tcp/22\nKEY old\n\n[t]\nACCESS tcp/1\n";
  const out = updateFwknoprc(text, {
    stanza: "s",
    entries: [["KEY", "new"]],
    replace: true,
    confirm: never,
    critical: CRIT,
  });
  assert.equal(out, `[s]\n${formatRcEntry("KEY", "new")}\n\n[t]\nACCESS tcp/1\n`);
});
