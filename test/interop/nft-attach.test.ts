/**
 * NFT_ATTACH end to end: on a default-drop `inet filter` ruleset with no manual edit, our fwknopd
 * inserts its tagged mark-accept line at the top of the admin's input chain, so the C client's
 * knock opens the hidden port; when the admin reloads their table with `nft -f` while the grant is
 * live, the line is back within one second and the grant still works; exit (FLUSH_NFT_AT_EXIT Y)
 * takes the line away again and leaves the admin's table as they wrote it.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { ATTACH_TAG } from "../../src/firewall/nft-attach.js";
import { run, runChecked } from "../../src/sys/run.js";
import {
  accessStanza,
  C_FWKNOP,
  knock,
  type RunningDaemon,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../helpers/daemon.js";
import {
  canConnect,
  canUseNetns,
  createNetnsPair,
  type NetnsPair,
  startHiddenService,
} from "../helpers/netns.js";
import { defaultDropFilter } from "../helpers/nft.js";
import { EVENT_BOUND_MS } from "../helpers/wait.js";

const PORT = 2222;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let pair: NetnsPair;
let service: ChildProcess;
let daemon: RunningDaemon;
const keys = randomKeys();

/** The admin's table as a file reload writes it: replaced as a whole, other tables untouched. */
const RELOAD = `table inet filter
delete table inet filter
table inet filter {
  chain input {
    type filter hook input priority filter; policy drop;
    iif lo accept
    ct state established,related accept
    udp dport 62201 accept
  }
}
`;

async function inputChain(): Promise<string> {
  return (
    await runChecked(["nft", "list", "chain", "inet", "filter", "input"], { netns: pair.server })
  ).stdout;
}

before(async () => {
  if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
  if (!existsSync(C_FWKNOP)) assert.fail(`the C client ${C_FWKNOP} is missing`);
  pair = await createNetnsPair("nfta");
  await defaultDropFilter(pair.server, false); // no mark line: nobody edits the admin's table
  service = await startHiddenService(pair.server, PORT);
  const cfg = writeConfigDir(
    { FIREWALL_TYPE: "nftables", NFT_ATTACH: "inet, filter, input" },
    accessStanza(keys, { FW_ACCESS_TIMEOUT: "30" }),
  );
  daemon = await startDaemon(cfg, { netns: pair.server });
});

after(async () => {
  await daemon?.stop();
  service?.kill();
  await pair?.cleanup();
});

test("NFT_ATTACH: the knock opens a default-drop host; a reload of the admin's table loses the line for under a second", async (t) => {
  const first = (await inputChain())
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  // `table … {`, `chain input {`, the hook line, then our rule, first in the chain.
  const hook = first.findIndex((l) => l.startsWith("type filter hook input"));
  assert.equal(
    first[hook + 1],
    `meta mark & 0x20000000 == 0x20000000 accept comment "${ATTACH_TAG}"`,
  );
  assert.equal(
    await canConnect(pair.client, pair.serverIp, PORT, 400),
    false,
    "closed before the knock",
  );
  await knock(pair, keys, { port: PORT });
  await daemon.waitForLog(/Added access rule to FWKNOP_INPUT for 198\.18\.0\.2/);
  assert.equal(await canConnect(pair.client, pair.serverIp, PORT), true, "open after the knock");

  const since = daemon.output().length;
  await runChecked(["nft", "-f", "-"], { netns: pair.server, input: RELOAD });
  const reloadedAt = Date.now();
  // Wait for the event (the line back in the chain). The 1 s goal is measured and reported, not
  // asserted: a machine whose cores are busy may take longer, and that is not a bug.
  let backAt = 0;
  while (Date.now() - reloadedAt <= EVENT_BOUND_MS) {
    if ((await inputChain()).includes(ATTACH_TAG)) {
      backAt = Date.now();
      break;
    }
    await sleep(20);
  }
  assert.ok(
    backAt > 0,
    `line not back within ${EVENT_BOUND_MS} ms of the reload; log:\n${daemon.output().slice(since)}`,
  );
  t.diagnostic(`line back ${backAt - reloadedAt} ms after the reload returned`);
  await daemon.waitForLog(/NFT_ATTACH: inserted/, EVENT_BOUND_MS, since);
  assert.equal(
    await canConnect(pair.client, pair.serverIp, PORT),
    true,
    "the live grant works again",
  );

  await daemon.stop();
  const after = await inputChain();
  assert.doesNotMatch(after, new RegExp(ATTACH_TAG), "removed at exit (FLUSH_NFT_AT_EXIT Y)");
  const tables = await run(["nft", "list", "tables"], { netns: pair.server });
  assert.equal(tables.stdout.trim(), "table inet filter");
});
