/**
 * Parity table, server side (issue 10): config refusals, start-up paths and packet verdicts of
 * test/helpers/c-parity-server-cases.ts, run with the real fwknopd 2.6.10 and with ours. Packets
 * come from a capture file in test mode, so neither daemon opens a socket or touches a firewall.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { C_BIN, mismatch, runSide } from "../helpers/c-parity-run.js";
import { serverCases } from "../helpers/c-parity-server-cases.js";

describe("fwknopd: 2.6.10 and ours in the same situations", () => {
  for (const c of serverCases()) {
    test(`item ${c.item}: ${c.situation}`, async () => {
      assert.ok(
        existsSync(C_BIN.fwknopd),
        `${C_BIN.fwknopd} (fwknop-server 2.6.10) is not installed`,
      );
      const theirs = await runSide(c, "c");
      assert.equal(mismatch(c, theirs), undefined, `2.6.10:\n${theirs.output}`);
      const ours = await runSide(c, "ours");
      assert.equal(mismatch(c, ours), undefined, `ours:\n${ours.output}`);
    });
  }
});
