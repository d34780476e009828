/**
 * The layering of src/ (test/helpers/structure.ts): the real tree passes, and each rule is shown
 * to fail on a small tree broken on purpose (generated into a temp dir).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkStructure, importsOf, MAX_LINES, type Violation } from "../helpers/structure.js";

const SRC = fileURLToPath(new URL("../../../src", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "fwk-structure-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A clean miniature of src/: every rule has something to look at, nothing breaks one. */
const CLEAN: Record<string, string> = {
  "errors.ts": "export const E = 1;\n",
  "sys/run.ts": 'import { spawn } from "node:child_process";\nexport const run = spawn;\n',
  "protocol/spa.ts":
    'import { E } from "../errors.js";\nimport { hmac } from "../crypto/hmac.js";\nexport const spa = E + hmac;\n',
  "crypto/hmac.ts": "export const hmac = 2;\n",
  "config/server-config.ts": 'import { spa } from "../protocol/spa.js";\nexport const cfg = spa;\n',
  "firewall/rule.ts": "export interface Rule { chain: string }\n",
  "firewall/settings.ts":
    'import type { ServerConfig } from "../config/server-config.js";\nexport type S = ServerConfig;\n',
  "firewall/backend.ts":
    'import type { Rule } from "./rule.js";\nexport interface FirewallBackend { apply(r: Rule[]): Promise<void> }\n',
  "firewall/iptables.ts":
    'import type { FirewallBackend } from "./backend.js";\nexport class Ipt { b?: FirewallBackend }\n',
  "firewall/iptables-dual-stack.ts":
    'import { Ipt } from "./iptables.js";\nexport class Dual extends Ipt {}\n',
  "firewall/nftables.ts":
    'import type { FirewallBackend } from "./backend.js";\nexport class Nft { b?: FirewallBackend }\n',
  "firewall/select.ts":
    'import { Dual } from "./iptables-dual-stack.js";\nimport { Nft } from "./nftables.js";\nexport const all = [Dual, Nft];\n',
  "server/intake/intake.ts": "export interface Intake { start(): Promise<void> }\n",
  "server/intake/udp.ts": 'import type { Intake } from "./intake.js";\nexport type U = Intake;\n',
  "server/main.ts":
    'import { all } from "../firewall/select.js";\nimport { run } from "../sys/run.js";\nexport const main = [all, run];\n',
};

let trees = 0;
/** CLEAN with some files replaced or added; returns the root. */
function tree(changes: Record<string, string>): string {
  const root = join(scratch, `tree-${trees++}`);
  for (const [file, text] of Object.entries({ ...CLEAN, ...changes })) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

function rules(vs: Violation[]): string[] {
  return vs.map((v) => `${v.rule}: ${v.detail}`);
}

describe("structure of src/", () => {
  test("src/ keeps every rule", () => {
    assert.deepEqual(rules(checkStructure(SRC)), []);
  });

  test("the clean miniature passes (so each broken one fails for its own reason)", () => {
    assert.deepEqual(rules(checkStructure(tree({}))), []);
  });

  test("an import cycle anywhere fails", () => {
    const broken = tree({
      "firewall/select.ts":
        'import { Dual } from "./iptables-dual-stack.js";\nimport { main } from "../server/main.js";\nexport const all = [Dual, main];\n',
    });
    assert.deepEqual(rules(checkStructure(broken)), ["cycle: firewall/select.ts → server/main.ts"]);
  });

  test("crypto/ importing protocol/ fails (one direction between them)", () => {
    const broken = tree({
      "protocol/constants.ts": "export const LIMIT = 1;\n",
      "crypto/hmac.ts":
        'import { LIMIT } from "../protocol/constants.js";\nexport const hmac = LIMIT;\n',
    });
    assert.deepEqual(rules(checkStructure(broken)), [
      "layer: crypto/hmac.ts imports protocol/constants.ts",
    ]);
  });

  test("a type-only import loop counts too", () => {
    const broken = tree({
      "server/intake/udp.ts":
        'import type { Intake } from "./intake.js";\nexport type U = Intake;\n',
      "server/intake/intake.ts":
        'import type { U } from "./udp.js";\nexport interface Intake { start(): Promise<U> }\n',
    });
    const found = rules(checkStructure(broken));
    assert.ok(
      found.includes("cycle: server/intake/intake.ts → server/intake/udp.ts"),
      found.join("\n"),
    );
  });

  test("node:child_process outside sys/ fails", () => {
    const broken = tree({
      "server/main.ts": 'import { spawn } from "node:child_process";\nexport const main = spawn;\n',
    });
    assert.deepEqual(rules(checkStructure(broken)), [
      "child-process: server/main.ts imports node:child_process",
    ]);
  });

  test("protocol/ or crypto/ importing config/, server/, client/ or firewall/ fails", () => {
    const broken = tree({
      "crypto/hmac.ts":
        'import type { Intake } from "../server/intake/intake.js";\nexport const hmac = 2;\nexport type X = Intake;\n',
    });
    assert.deepEqual(rules(checkStructure(broken)), [
      "layer: crypto/hmac.ts imports server/intake/intake.ts",
    ]);
  });

  test("a firewall backend importing another backend fails; a wrapper of its own family passes", () => {
    const broken = tree({
      "firewall/nftables.ts":
        'import { Ipt } from "./iptables.js";\nexport class Nft extends Ipt {}\n',
    });
    assert.deepEqual(rules(checkStructure(broken)), [
      "backend: firewall/nftables.ts (nftables) imports firewall/iptables.ts (iptables)",
    ]);
  });

  test("a seam's interface file importing an implementation fails", () => {
    const broken = tree({
      "firewall/backend.ts":
        'import type { Rule } from "./rule.js";\nimport { Nft } from "./nftables.js";\nexport interface FirewallBackend { apply(r: Rule[]): Promise<void> }\nexport const d = Nft;\n',
      "firewall/nftables.ts": "export class Nft {}\n",
    });
    assert.deepEqual(rules(checkStructure(broken)), [
      "seam: firewall/backend.ts (interface) imports firewall/nftables.ts",
    ]);
  });

  test(`a file over ${MAX_LINES} lines fails`, () => {
    const broken = tree({ "crypto/hmac.ts": "export const hmac = 2;\n".repeat(MAX_LINES + 1) });
    assert.deepEqual(rules(checkStructure(broken)), [
      `size: crypto/hmac.ts has ${MAX_LINES + 1} lines`,
    ]);
  });

  test("every kind of module specifier is read", () => {
    assert.deepEqual(
      importsOf(
        [
          'import a from "./a.js";',
          'import type { B } from "./b.js";',
          'import {\n  c,\n  d,\n} from "./cd.js";',
          'export { e } from "./e.js";',
          'export type * from "./f.js";',
          'import "./side.js";',
          'const g = await import("./g.js");',
        ].join("\n"),
      ).sort(),
      ["./a.js", "./b.js", "./cd.js", "./e.js", "./f.js", "./g.js", "./side.js"],
    );
  });
});
