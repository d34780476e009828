/**
 * A malformed port spec is a bad config line like any other (issue 9, item 8): fwknopd names
 * file:line, exits 1 and has not touched the firewall. fwknopd 2.6.10 loads all of these (it
 * reads `tcp/abc` as tcp/0 and `22x` as 22) and starts serving.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { run } from "../../src/sys/run.js";
import {
  accessStanza,
  daemonArgv,
  OUR_FWKNOPD,
  randomKeys,
  writeConfigDir,
} from "../helpers/daemon.js";
import { canUseNetns, createNetnsPair } from "../helpers/netns.js";

async function firewall(ns: string): Promise<string> {
  const ipt = await run(["iptables-save"], { netns: ns });
  const nft = await run(["nft", "list", "ruleset"], { netns: ns });
  // iptables-save stamps its output with the time; those comment lines are not rules.
  return ipt.stdout.replace(/^#.*\n/gm, "") + nft.stdout;
}

const CASES: [string, Record<string, string>, Record<string, string>, RegExp][] = [
  [
    "OPEN_PORTS tcp/abc",
    {},
    { OPEN_PORTS: "tcp/abc" },
    /access\.conf:\d+: Fatal invalid OPEN_PORTS in access stanza: Invalid port 'tcp\/abc'/,
  ],
  [
    "RESTRICT_PORTS tcp/22x",
    {},
    { RESTRICT_PORTS: "udp/53,tcp/22x" },
    /access\.conf:\d+: Fatal invalid RESTRICT_PORTS in access stanza: Invalid port 'tcp\/22x'/,
  ],
  [
    "FORCE_NAT with 22x",
    { ENABLE_IPT_FORWARDING: "Y" },
    { FORCE_NAT: "192.0.2.5 22x" },
    /access\.conf:\d+: Fatal: invalid FORCE_NAT arg/,
  ],
  [
    "UDPSERV_PORT 62201x",
    { UDPSERV_PORT: "62201x" },
    {},
    /fwknopd\.conf:\d+: var UDPSERV_PORT value '62201x' is not a port number/,
  ],
];

for (const [name, conf, stanza, error] of CASES) {
  test(`${name}: file:line, exit 1, firewall untouched`, async (t) => {
    if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns): run the suite as root");
    const pair = await createNetnsPair("badport");
    t.after(() => pair.cleanup());
    const cfg = writeConfigDir(conf, accessStanza(randomKeys(), stanza));
    const before = await firewall(pair.server);
    const r = await run(daemonArgv(OUR_FWKNOPD, cfg), { netns: pair.server, timeoutMs: 30_000 });
    assert.equal(r.code, 1, r.stderr);
    const errors = r.stderr.split("\n").filter((l) => error.test(l));
    assert.equal(errors.length, 1, r.stderr);
    assert.ok(errors[0]?.startsWith(join(cfg.dir)), `names the file: ${errors[0]}`);
    assert.equal(await firewall(pair.server), before, "the firewall was changed");
  });
}
