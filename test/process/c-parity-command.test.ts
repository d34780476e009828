/**
 * Parity table, SPA commands (issue 10 item 5): fwknopd 2.6.10 and ours get the same command
 * message from a capture file, for real (commands do not run in test mode), inside a network
 * namespace because a command stanza makes both daemons set up their firewall chains.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { assertParity } from "../helpers/c-parity-run.js";
import { commandCases } from "../helpers/c-parity-server-cases.js";
import { canUseNetns, createNetnsPair, type NetnsPair } from "../helpers/netns.js";

let pair: NetnsPair;
before(async () => {
  if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
  pair = await createNetnsPair("cmdparity");
});
after(() => pair?.cleanup());

describe("fwknopd SPA commands and --fw-list: 2.6.10 and ours", () => {
  for (const c of commandCases()) {
    test(`item ${c.item}: ${c.situation}`, () => assertParity(c, pair.server));
  }
});
