import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseCInt, tokenizeConfig } from "../../src/config/tokenizer.js";

function pairs(text: string, stripNameColon = false): [string, string][] {
  return tokenizeConfig(text, "f.conf", { stripNameColon }).map((l) => [l.name, l.value]);
}

describe("tokenizeConfig", () => {
  test("name, value up to ';', CR or LF; file and line kept", () => {
    const lines = tokenizeConfig(
      "PCAP_INTF  eth0;\r\n\nPCAP_FILTER\tudp port 62201 ;x\n",
      "a.conf",
    );
    assert.deepEqual(lines, [
      { name: "PCAP_INTF", value: "eth0", file: "a.conf", line: 1 },
      { name: "PCAP_FILTER", value: "udp port 62201", file: "a.conf", line: 3 },
    ]);
  });

  test("only the first character makes a comment", () => {
    assert.deepEqual(pairs("# c\n; c\n\r\n  # indented\nA b\n"), [
      ["#", "indented"],
      ["A", "b"],
    ]);
  });

  test("leading whitespace before the name is skipped", () => {
    assert.deepEqual(pairs("   SOURCE   ANY\n\tKEY x\n"), [
      ["SOURCE", "ANY"],
      ["KEY", "x"],
    ]);
  });

  test("trailing whitespace is trimmed (2.6.11), inner spaces kept", () => {
    assert.deepEqual(pairs("KEY a b c  \t\n"), [["KEY", "a b c"]]);
  });

  test("a name without a value is reported, not returned", () => {
    const invalid: [number, string][] = [];
    const lines = tokenizeConfig("KEY\nHMAC_KEY ;x\nKEY;\nOK v\n", "f", {
      onInvalid: (line, raw) => invalid.push([line, raw]),
    });
    assert.deepEqual(
      lines.map((l) => l.name),
      ["OK"],
    );
    assert.deepEqual(invalid, [
      [1, "KEY"],
      [2, "HMAC_KEY ;x"],
      [3, "KEY;"],
    ]);
  });

  test("whitespace-only lines are skipped silently", () => {
    const invalid: number[] = [];
    const lines = tokenizeConfig("   \n\t\nA b\n", "f", { onInvalid: (l) => invalid.push(l) });
    assert.equal(lines.length, 1);
    assert.deepEqual(invalid, []);
  });

  test("stripNameColon cuts the name at its last ':'", () => {
    assert.deepEqual(pairs("SOURCE: ANY\nA:B:C x\n", true), [
      ["SOURCE", "ANY"],
      ["A:B", "x"],
    ]);
    assert.deepEqual(pairs("SOURCE: ANY\n"), [["SOURCE:", "ANY"]]);
  });

  test("text after a NUL byte is ignored, as in a C string", () => {
    assert.deepEqual(pairs("KEY abc\0def\n\0KEY x\n"), [["KEY", "abc"]]);
  });

  test("a last line without newline counts", () => {
    assert.deepEqual(pairs("A 1\nB 2"), [
      ["A", "1"],
      ["B", "2"],
    ]);
  });

  test("property: NAME <ws> value; round-trips", () => {
    const word = fc.stringMatching(/^[A-Z_]{1,20}$/);
    const value = fc.stringMatching(/^[!-:<-~]([ !-:<-~]{0,30}[!-:<-~])?$/);
    const ws = fc.stringMatching(/^[ \t]{1,4}$/);
    fc.assert(
      fc.property(word, ws, value, fc.boolean(), (name, sep, val, semi) => {
        const text = `${name}${sep}${val}${semi ? ";" : ""}  \n`;
        assert.deepEqual(pairs(text), [[name, val]]);
      }),
      { numRuns: 300 },
    );
  });

  test("property: never throws and never returns an empty name or value", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        for (const l of tokenizeConfig(text, "f")) {
          assert.ok(l.name.length > 0 && l.value.length > 0);
          assert.doesNotMatch(l.value, /[;\r\n]|\s$/);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("parseCInt (strtol)", () => {
  test("decimal with sign and leading whitespace", () => {
    assert.deepEqual(parseCInt("42"), { value: 42, trailing: false });
    assert.deepEqual(parseCInt("  -7"), { value: -7, trailing: false });
    assert.deepEqual(parseCInt("+12"), { value: 12, trailing: false });
  });

  test("trailing text ignored but flagged; no digits is 0", () => {
    assert.deepEqual(parseCInt("12x"), { value: 12, trailing: true });
    assert.deepEqual(parseCInt("0x10"), { value: 0, trailing: true });
    assert.deepEqual(parseCInt("abc"), { value: 0, trailing: true });
    assert.deepEqual(parseCInt(""), { value: 0, trailing: false });
  });
});
