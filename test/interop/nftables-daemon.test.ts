/**
 * End to end with FIREWALL_TYPE nftables: the real fwknop 2.6.10 client knocks on our fwknopd,
 * which opens a hidden port through its nftables table on a host whose input policy is a
 * default-drop `inet filter` table (with the one mark rule docs/firewall.md asks for).
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { runChecked } from "../../src/sys/run.js";
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

const PORT = 2222;
let pair: NetnsPair;
let service: ChildProcess;
let daemon: RunningDaemon;
const keys = randomKeys();

before(async () => {
  if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
  if (!existsSync(C_FWKNOP)) assert.fail(`the C client ${C_FWKNOP} is missing`);
  pair = await createNetnsPair("nftd");
  await defaultDropFilter(pair.server, true);
  service = await startHiddenService(pair.server, PORT);
  const cfg = writeConfigDir(
    { FIREWALL_TYPE: "nftables" },
    accessStanza(keys, { FW_ACCESS_TIMEOUT: "3" }),
  );
  daemon = await startDaemon(cfg, { netns: pair.server });
});

after(async () => {
  await daemon?.stop();
  service?.kill();
  await pair?.cleanup();
});

test("a C client knock opens the hidden port through nftables; it closes after the timeout", async () => {
  assert.equal(await canConnect(pair.client, pair.serverIp, PORT, 400), false, "closed at start");
  await knock(pair, keys, { port: PORT });
  await daemon.waitForLog(/Added access rule to FWKNOP_INPUT for 198\.18\.0\.2/);
  assert.equal(await canConnect(pair.client, pair.serverIp, PORT), true, "open after the knock");
  const set = await runChecked(["nft", "list", "set", "inet", "fwknop", "allow4"], {
    netns: pair.server,
  });
  assert.match(
    set.stdout,
    // A millisecond timeout (native nft syntax), e.g. `timeout 9s873ms`.
    /198\.18\.0\.2 \. tcp \. 2222 timeout (?:\d+(?:ms|[hms]))+ expires .* comment "_exp_\d+"/,
  );
  await daemon.waitForLog(/Removed rule from FWKNOP_INPUT/, 60_000);
  assert.equal(await canConnect(pair.client, pair.serverIp, PORT, 400), false, "closed again");
  // FLUSH_NFT_AT_EXIT defaults to Y: our table goes, the admin's stays.
  await daemon.stop();
  const tables = await runChecked(["nft", "list", "tables"], { netns: pair.server });
  assert.equal(tables.stdout.trim(), "table inet filter");
});
