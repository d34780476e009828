/**
 * Throw-away test hosts: two network namespaces joined by a veth pair.
 * Addresses come from the benchmarking range 198.18.0.0/15, so nothing leaves the machine.
 * Names are unique per process, so parallel tests never share a namespace.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { run, runChecked } from "../../src/sys/run.js";

export interface NetnsPair {
  /** Namespace that runs the daemon under test. */
  server: string;
  /** Namespace that knocks. */
  client: string;
  serverIp: string;
  clientIp: string;
  /** Deletes both namespaces (and with them the veth pair and every rule inside). */
  cleanup(): Promise<void>;
}

const live = new Set<string>();
process.on("exit", () => {
  for (const ns of live) {
    try {
      execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
});

/** Deletes a namespace; one that would not go stays listed, so the exit hook tries again. */
async function deleteNetns(ns: string): Promise<void> {
  if ((await run(["ip", "netns", "del", ns])).code === 0) live.delete(ns);
}

/** True when this process may create namespaces (root with iproute2). */
export function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync("ip", ["netns", "list"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export async function createNetnsPair(tag: string): Promise<NetnsPair> {
  const id = randomBytes(3).toString("hex");
  const server = `fwk-${tag}-${id}-s`;
  const client = `fwk-${tag}-${id}-c`;
  const serverIp = "198.18.0.1";
  const clientIp = "198.18.0.2";
  const vs = `vs${id}`;
  const vc = `vc${id}`;
  for (const ns of [server, client]) {
    await runChecked(["ip", "netns", "add", ns]);
    live.add(ns);
    await runChecked(["ip", "-n", ns, "link", "set", "lo", "up"]);
  }
  await runChecked([
    "ip",
    "link",
    "add",
    vs,
    "netns",
    server,
    "type",
    "veth",
    "peer",
    "name",
    vc,
    "netns",
    client,
  ]);
  await runChecked(["ip", "-n", server, "addr", "add", `${serverIp}/24`, "dev", vs]);
  await runChecked(["ip", "-n", client, "addr", "add", `${clientIp}/24`, "dev", vc]);
  await runChecked(["ip", "-n", server, "link", "set", vs, "up"]);
  await runChecked(["ip", "-n", client, "link", "set", vc, "up"]);
  return {
    server,
    client,
    serverIp,
    clientIp,
    async cleanup() {
      for (const ns of [server, client]) await deleteNetns(ns);
    },
  };
}

/** The (first) veth device inside `ns`. */
export async function vethDevice(ns: string): Promise<string> {
  const dev = (await runChecked(["ip", "-n", ns, "-o", "link", "show", "type", "veth"])).stdout
    .split(":")[1]
    ?.trim()
    .split("@")[0];
  if (!dev) throw new Error(`no veth device in ${ns}`);
  return dev;
}

/** Adds more source addresses (e.g. 198.18.1.0/24 hosts) to the client side of a pair. */
export async function addClientAddresses(pair: NetnsPair, cidrs: readonly string[]): Promise<void> {
  const dev = await vethDevice(pair.client);
  for (const cidr of cidrs)
    await runChecked(["ip", "-n", pair.client, "addr", "add", cidr, "dev", dev]);
}

/** IPv6 documentation addresses of a pair (2001:db8::/32), see addIpv6(). */
export const SERVER_IP6 = "2001:db8::1";
export const CLIENT_IP6 = "2001:db8::2";

/**
 * Gives the veth pair IPv6 addresses (SERVER_IP6, CLIENT_IP6 in 2001:db8::/64). `nodad` skips
 * duplicate address detection, so the addresses are usable at once instead of after ~1 s.
 */
export async function addIpv6(pair: NetnsPair): Promise<{ serverIp6: string; clientIp6: string }> {
  for (const [ns, ip] of [
    [pair.server, SERVER_IP6],
    [pair.client, CLIENT_IP6],
  ] as const) {
    await runChecked([
      "ip",
      "-n",
      ns,
      "addr",
      "add",
      `${ip}/64`,
      "dev",
      await vethDevice(ns),
      "nodad",
    ]);
  }
  return { serverIp6: SERVER_IP6, clientIp6: CLIENT_IP6 };
}

/**
 * hideServices() for IPv6 (ip6tables): established, loopback, neighbour discovery (without it
 * the client cannot even resolve the server's link address) and the SPA UDP port; drop the rest.
 */
export async function hideServices6(ns: string, spaPort = 62201): Promise<void> {
  const ipt = (...a: string[]) => runChecked(["ip6tables", ...a], { netns: ns });
  await ipt("-A", "INPUT", "-i", "lo", "-j", "ACCEPT");
  await ipt("-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT");
  for (const type of ["neighbour-solicitation", "neighbour-advertisement"])
    await ipt("-A", "INPUT", "-p", "ipv6-icmp", "--icmpv6-type", type, "-j", "ACCEPT");
  await ipt("-A", "INPUT", "-p", "udp", "--dport", String(spaPort), "-j", "ACCEPT");
  await ipt("-P", "INPUT", "DROP");
}

/**
 * Default-drop policy in the server namespace, as an SPA host has it: only established
 * traffic, loopback and the SPA UDP port get in; everything else (the hidden service) is dropped.
 */
export async function hideServices(ns: string, spaPort = 62201): Promise<void> {
  const ipt = (...a: string[]) => runChecked(["iptables", ...a], { netns: ns });
  await ipt("-A", "INPUT", "-i", "lo", "-j", "ACCEPT");
  await ipt("-A", "INPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT");
  await ipt("-A", "INPUT", "-p", "udp", "--dport", String(spaPort), "-j", "ACCEPT");
  await ipt("-P", "INPUT", "DROP");
}

// A CLI, so it lives outside dist/test (node --test runs every file there).
const tcpHelper = fileURLToPath(new URL("../../scripts/tcp-tool.js", import.meta.url));

/** Starts a TCP service in `ns` that greets each connection; resolves once it listens. */
export async function startHiddenService(ns: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    "ip",
    ["netns", "exec", ns, process.execPath, tcpHelper, "listen", String(port)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`hidden service exited early (${code})`)));
    child.stdout?.once("data", () => resolve());
  });
  return child;
}

/** One TCP connect from `ns`; true if the three-way handshake completed within timeoutMs. */
export async function canConnect(
  ns: string,
  host: string,
  port: number,
  // An upper bound for a handshake that should succeed, generous for a loaded machine; a
  // dropped SYN costs the whole wait, so "closed" checks may pass a shorter one.
  timeoutMs = 2000,
): Promise<boolean> {
  const r = await run(
    [process.execPath, tcpHelper, "connect", host, String(port), String(timeoutMs)],
    {
      netns: ns,
      timeoutMs: timeoutMs + 10_000,
    },
  );
  return r.code === 0;
}

/** Sends one UDP datagram from `ns` (e.g. a captured SPA packet, to test replay protection). */
export async function sendUdp(ns: string, host: string, port: number, text: string): Promise<void> {
  await runChecked([process.execPath, tcpHelper, "udp-send", host, String(port), text], {
    netns: ns,
  });
}

export interface InsideHost {
  ns: string;
  ip: string;
  cleanup(): Promise<void>;
}

/**
 * A third host behind the server (198.18.1.2, routed through the server's 198.18.1.1), for
 * NAT tests: the server forwards, with a default-drop FORWARD policy of its own.
 */
export async function addInsideHost(pair: NetnsPair): Promise<InsideHost> {
  const id = randomBytes(3).toString("hex");
  const ns = `${pair.server.slice(0, -2)}-i${id}`;
  await runChecked(["ip", "netns", "add", ns]);
  live.add(ns);
  await runChecked(["ip", "-n", ns, "link", "set", "lo", "up"]);
  const [vg, vi] = [`vg${id}`, `vi${id}`];
  await runChecked([
    "ip",
    "link",
    "add",
    vg,
    "netns",
    pair.server,
    "type",
    "veth",
    "peer",
    "name",
    vi,
    "netns",
    ns,
  ]);
  await runChecked(["ip", "-n", pair.server, "addr", "add", "198.18.1.1/24", "dev", vg]);
  await runChecked(["ip", "-n", ns, "addr", "add", "198.18.1.2/24", "dev", vi]);
  await runChecked(["ip", "-n", pair.server, "link", "set", vg, "up"]);
  await runChecked(["ip", "-n", ns, "link", "set", vi, "up"]);
  await runChecked(["ip", "-n", ns, "route", "add", "default", "via", "198.18.1.1"]);
  await runChecked(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], { netns: pair.server });
  const ipt = (...a: string[]) => runChecked(["iptables", ...a], { netns: pair.server });
  await ipt("-A", "FORWARD", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT");
  await ipt("-P", "FORWARD", "DROP");
  return {
    ns,
    ip: "198.18.1.2",
    async cleanup() {
      await deleteNetns(ns);
    },
  };
}
