/**
 * A throw-away cluster site: N gateway namespaces, a client namespace and a Redis namespace, all
 * on one bridge (which lives in a hub namespace of its own). Addresses from 192.0.2.0/24:
 * gateways .1, .2, .3 …, the client .10, Redis .20. Nothing leaves the machine.
 */
import { randomBytes } from "node:crypto";
import { runChecked } from "../../src/sys/run.js";
import { addNetns, deleteNetns } from "./netns.js";

export interface Host {
  ns: string;
  ip: string;
}

export interface ClusterNet {
  gateways: Host[];
  client: Host;
  redis: Host;
  cleanup(): Promise<void>;
}

export async function createClusterNet(tag: string, gatewayCount = 3): Promise<ClusterNet> {
  const id = randomBytes(3).toString("hex");
  const hub = `fwk-${tag}-${id}-hub`;
  await addNetns(hub);
  await runChecked(["ip", "-n", hub, "link", "add", "br0", "type", "bridge"]);
  await runChecked(["ip", "-n", hub, "link", "set", "br0", "up"]);
  const made: string[] = [hub];
  const host = async (name: string, octet: number): Promise<Host> => {
    const ns = `fwk-${tag}-${id}-${name}`;
    await addNetns(ns);
    made.push(ns);
    const [inner, outer] = [`e${id}${name}`.slice(0, 15), `h${id}${name}`.slice(0, 15)];
    await runChecked([
      "ip",
      "link",
      "add",
      inner,
      "netns",
      ns,
      "type",
      "veth",
      "peer",
      "name",
      outer,
      "netns",
      hub,
    ]);
    await runChecked(["ip", "-n", hub, "link", "set", outer, "master", "br0", "up"]);
    const ip = `192.0.2.${octet}`;
    await runChecked(["ip", "-n", ns, "addr", "add", `${ip}/24`, "dev", inner]);
    await runChecked(["ip", "-n", ns, "link", "set", inner, "up"]);
    return { ns, ip };
  };
  const gateways: Host[] = [];
  for (let i = 0; i < gatewayCount; i++) gateways.push(await host(`g${i + 1}`, i + 1));
  const client = await host("c", 10);
  const redis = await host("r", 20);
  return {
    gateways,
    client,
    redis,
    async cleanup() {
      for (const ns of made.reverse()) await deleteNetns(ns);
    },
  };
}
