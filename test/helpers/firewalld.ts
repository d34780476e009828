/**
 * A real firewalld (Debian's 1.3, nftables backend) for tests: it runs inside a test network
 * namespace, on a private D-Bus system bus started here (its own dbus-daemon, socket in a temp
 * directory), with a private copy of /etc/firewalld as its system config. The host's bus and
 * firewall are never touched: firewall-cmd and fwknopd reach this instance because
 * DBUS_SYSTEM_BUS_ADDRESS points at the private bus (set in this test process, inherited by
 * every child) and because they run in the same namespace.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/sys/run.js";

export const FIREWALL_CMD = "/usr/bin/firewall-cmd";
const FIREWALLD = "/usr/sbin/firewalld";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TestFirewalld {
  ns: string;
  /** The private bus address (also put into process.env.DBUS_SYSTEM_BUS_ADDRESS). */
  bus: string;
  /** firewall-cmd with these arguments inside the namespace; throws on a non-zero exit. */
  cmd(...args: string[]): Promise<string>;
  /** Everything firewalld logged. */
  log(): string;
  stop(): Promise<void>;
}

/** Why firewalld cannot run here, or undefined when it can. */
export function missingFirewalld(): string | undefined {
  for (const f of [FIREWALLD, FIREWALL_CMD, "/usr/bin/dbus-daemon"]) {
    if (!existsSync(f)) return `${f} is missing (Debian packages firewalld and dbus)`;
  }
  return undefined;
}

function busConfig(socket: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;
}

async function waitFor(what: string, bound: number, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + bound;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`${what} not ready within ${bound} ms`);
}

export async function startFirewalld(ns: string): Promise<TestFirewalld> {
  const dir = mkdtempSync(join(tmpdir(), "fwknop-firewalld-"));
  const socket = join(dir, "system_bus_socket");
  const bus = `unix:path=${socket}`;
  writeFileSync(join(dir, "bus.conf"), busConfig(socket));
  cpSync("/etc/firewalld", join(dir, "etc"), { recursive: true });
  const children: ChildProcess[] = [];
  let text = "";
  const keep = (p: ChildProcess) => {
    children.push(p);
    p.stdout?.on("data", (d: Buffer) => {
      text += d.toString();
    });
    p.stderr?.on("data", (d: Buffer) => {
      text += d.toString();
    });
    return p;
  };
  const stop = async () => {
    for (const p of children.reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const gone = new Promise((r) => p.once("exit", r));
      p.kill("SIGTERM");
      await Promise.race([gone, sleep(10_000)]);
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    keep(
      spawn("dbus-daemon", ["--nofork", `--config-file=${join(dir, "bus.conf")}`], {
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    await waitFor("dbus-daemon", 60_000, async () => existsSync(socket));
    process.env.DBUS_SYSTEM_BUS_ADDRESS = bus;
    keep(
      spawn(
        "ip",
        [
          "netns",
          "exec",
          ns,
          FIREWALLD,
          "--nofork",
          "--nopid",
          "--system-config",
          join(dir, "etc"),
          "--log-target",
          "console",
        ],
        {
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: bus },
        },
      ),
    );
    await waitFor(
      "firewalld",
      60_000,
      async () => (await run([FIREWALL_CMD, "--state"], { netns: ns })).code === 0,
    );
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}; firewalld said:\n${text}`);
  }
  return {
    ns,
    bus,
    log: () => text,
    stop,
    async cmd(...args) {
      const r = await run([FIREWALL_CMD, ...args], { netns: ns });
      if (r.code !== 0) throw new Error(`firewall-cmd ${args.join(" ")}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    },
  };
}
