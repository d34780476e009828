/**
 * Parity table, server side (issue 10): config refusals, start-up paths and packet verdicts of
 * test/helpers/c-parity-server-cases.ts, run with the real fwknopd 2.6.10 and with ours. Packets
 * come from a capture file in test mode, so neither daemon opens a socket or touches a firewall.
 */
import { describe, test } from "node:test";
import { assertParity } from "../helpers/c-parity-run.js";
import { serverCases } from "../helpers/c-parity-server-cases.js";

describe("fwknopd: 2.6.10 and ours in the same situations", () => {
  for (const c of serverCases()) test(`item ${c.item}: ${c.situation}`, () => assertParity(c));
});
