/**
 * Regenerates test/vectors/c-client-fixtures.json from the real fwknop 2.6.10 client:
 *   npx tsc -p . && node dist/scripts/capture-c-client-fixtures.js --write
 * Without --write it only prints the captures.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runCClients } from "../test/helpers/c-fwknop.js";
import { GOLDEN_SPECS } from "../test/vectors/c-client-specs.js";

async function main(): Promise<void> {
  const runs = await runCClients(GOLDEN_SPECS.map((g) => g.spec));
  const fixtures = GOLDEN_SPECS.map((g, i) => ({
    name: g.name,
    spec: g.spec,
    wire: runs[i]?.wire,
    dump: runs[i]?.dump,
  }));
  const text = `${JSON.stringify({ capturedWith: "fwknop 2.6.10 -T -v", fixtures }, null, 2)}\n`;
  if (!process.argv.includes("--write")) {
    process.stdout.write(text);
    return;
  }
  const out = fileURLToPath(new URL("../../test/vectors/c-client-fixtures.json", import.meta.url));
  writeFileSync(out, text);
  process.stdout.write(`wrote ${fixtures.length} fixtures to ${out}\n`);
}

await main();
