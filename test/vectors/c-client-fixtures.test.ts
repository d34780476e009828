/**
 * Golden packets captured from the real fwknop 2.6.10 client (see c-client-specs.ts and scripts/capture-c-client-fixtures.ts):
 * each must decode with our codec to exactly the fields the client itself dumped.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { formatSpaDump } from "../../src/protocol/dump.js";
import { decodeSpa } from "../../src/protocol/spa.js";
import {
  type CClientSpec,
  decodedFromDump,
  keysForSpec,
  parseFieldDump,
  reencode,
} from "../helpers/c-fwknop.js";

interface Fixture {
  name: string;
  spec: CClientSpec;
  wire: string;
  dump: Record<string, string>;
}

const file = fileURLToPath(
  new URL("../../../test/vectors/c-client-fixtures.json", import.meta.url),
);
const { fixtures } = JSON.parse(readFileSync(file, "utf8")) as { fixtures: Fixture[] };

test("fixture file holds the captured set", () => {
  assert.ok(fixtures.length >= 20, `only ${fixtures.length} fixtures in ${file}`);
});

for (const f of fixtures) {
  test(`C client golden packet decodes: ${f.name}`, () => {
    const r = decodeSpa(f.wire, keysForSpec(f.spec));
    assert.ok(r.ok, r.ok ? "" : `${r.code}: ${r.detail}`);
    assert.deepEqual(r.value, decodedFromDump(f.dump));
    // Our dump of the same packet reads back as the client's own dump.
    const keys = keysForSpec(f.spec);
    const ours = formatSpaDump({
      ...r.value,
      encryptionType: "rijndael",
      encMode: keys.encMode,
      ...(keys.hmacType && { hmacType: keys.hmacType, hmac: f.dump.HMAC ?? "" }),
      finalData: f.wire,
    });
    assert.deepEqual(parseFieldDump(ours), f.dump);
    // With the packet's salt our encoder rebuilds the client's packet byte for byte.
    assert.equal(reencode(f.wire, r.value, keys), f.wire);
  });
}
