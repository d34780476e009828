/**
 * A bad METRICS_LISTEN stops fwknopd before any firewall change: a non-loopback address without
 * METRICS_ALLOW_REMOTE (file:line named) and a busy port (FWK_ERR_METRICS_BIND) both exit 1 and
 * leave the namespace's iptables without a FWKNOP chain.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { run } from "../../src/sys/run.js";
import {
  accessStanza,
  daemonArgv,
  OUR_FWKNOPD,
  randomKeys,
  writeConfigDir,
} from "../helpers/daemon.js";
import {
  canUseNetns,
  createNetnsPair,
  type NetnsPair,
  startHiddenService,
} from "../helpers/netns.js";

describe("METRICS_LISTEN problems stop fwknopd before the firewall", () => {
  let pair: NetnsPair;
  const stops: (() => unknown)[] = [];

  before(async () => {
    if (!canUseNetns()) assert.fail("needs root and iproute2");
    pair = await createNetnsPair("mconf");
  });
  after(async () => {
    for (const s of stops) s();
    await pair?.cleanup();
  });

  const start = (conf: Record<string, string>) => {
    const cfg = writeConfigDir(conf, accessStanza(randomKeys()));
    return run([process.execPath, ...daemonArgv(OUR_FWKNOPD, cfg)], {
      netns: pair.server,
      timeoutMs: 30_000,
    });
  };
  const noChains = async () => {
    const r = await run(["iptables-save"], { netns: pair.server });
    assert.doesNotMatch(r.stdout, /FWKNOP/);
  };

  test("a non-loopback address without METRICS_ALLOW_REMOTE", async () => {
    const r = await start({ METRICS_LISTEN: `${pair.serverIp}:9731` });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /fwknopd\.conf:\d+: METRICS_LISTEN '198\.18\.0\.1:9731' is not a loopback address; set METRICS_ALLOW_REMOTE Y .*\[FWK_ERR_CONFIG_VALUE\]/,
    );
    await noChains();
  });

  test("a port already taken", async () => {
    const holder = await startHiddenService(pair.server, 9731);
    stops.push(() => holder.kill());
    const r = await start({ METRICS_LISTEN: "127.0.0.1:9731" });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /Cannot serve metrics on 127\.0\.0\.1:9731: .*EADDRINUSE.*\[FWK_ERR_METRICS_BIND\]/,
    );
    await noChains();
  });
});
