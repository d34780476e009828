/**
 * Parity table, client side (issue 10): every situation of test/helpers/c-parity-client-cases.ts
 * is run with the real fwknop 2.6.10 and with ours; both must exit alike, print 2.6.10's phrase
 * and leave the same rc/args file contents. A case that 2.6.10 itself no longer meets fails too,
 * so the table cannot drift from the binary it describes.
 */
import { describe, test } from "node:test";
import { CLIENT_CASES } from "../helpers/c-parity-client-cases.js";
import { assertParity } from "../helpers/c-parity-run.js";

describe("fwknop: 2.6.10 and ours in the same situations", () => {
  for (const c of CLIENT_CASES) test(`item ${c.item}: ${c.situation}`, () => assertParity(c));
});
