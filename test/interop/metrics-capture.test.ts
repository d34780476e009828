/**
 * Metrics in sniffing mode: our fwknopd captures with the real tcpdump in a namespace and
 * serves METRICS_LISTEN; each scrape asks tcpdump for its counters (SIGUSR1), which must leave
 * the capture running: after several scrapes a knock is still sniffed and granted.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
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
  canUseNetns,
  createNetnsPair,
  hideServices,
  type NetnsPair,
  vethDevice,
} from "../helpers/netns.js";
import { fetchInNetns } from "../helpers/prometheus.js";

const METRICS = "127.0.0.1:9731";

describe("metrics while sniffing with tcpdump", () => {
  let pair: NetnsPair;
  let daemon: RunningDaemon;
  const keys = randomKeys();

  before(async () => {
    if (!canUseNetns()) assert.fail("needs root and iproute2");
    if (!existsSync(C_FWKNOP)) assert.fail(`${C_FWKNOP} is missing`);
    pair = await createNetnsPair("mcap");
    await hideServices(pair.server);
    const conf = {
      ENABLE_UDP_SERVER: "N",
      PCAP_INTF: await vethDevice(pair.server),
      PCAP_FILTER: "udp port 62201",
      METRICS_LISTEN: METRICS,
    };
    daemon = await startDaemon(writeConfigDir(conf, accessStanza(keys)), {
      netns: pair.server,
      readyLog: /Capturing on \S+ with filter/,
    });
  });

  after(async () => {
    await daemon?.stop();
    await pair?.cleanup();
  });

  const scrape = () => fetchInNetns(pair.server, `http://${METRICS}/metrics`);

  test("capture drops are exported, and scraping leaves the capture running", async () => {
    for (let i = 0; i < 3; i++) {
      const text = await scrape();
      assert.match(text, /^fwknopd_capture_drops_total \d+$/m);
      assert.doesNotMatch(text, /fwknopd_udp_receive_drops_total/);
      await new Promise((r) => setTimeout(r, 1100));
    }
    await knock(pair, keys, { port: 22 });
    await daemon.waitForLog(/Added access rule to FWKNOP_INPUT for 198\.18\.0\.2/, 15_000);
    assert.doesNotMatch(daemon.output(), /Packet capture on .* ended/);
    assert.match(await scrape(), /^fwknopd_packets_total\{outcome="GRANTED"\} 1$/m);
  });
});
