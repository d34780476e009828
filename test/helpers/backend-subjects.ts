/**
 * The subjects of the backend contract suite (test/interop/backend-contract.test.ts): every
 * firewall backend with what the suite needs to judge it independently of the backend's own
 * listing — a way to ask the firewall (or the stand-in's state) whether a rule is there, whether
 * the hidden port answers, and a copy of the tool that can be made to fail.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FirewallBackend, Rule } from "../../src/firewall/backend.js";
import {
  DEFAULT_FIREWALLD_SETTINGS,
  type FirewalldBackendSettings,
} from "../../src/firewall/firewalld-commands.js";
import { DEFAULT_IPFW_SETTINGS } from "../../src/firewall/ipfw-rules.js";
import { DEFAULT_PF_SETTINGS } from "../../src/firewall/pf-rules.js";
import { ruleArgs } from "../../src/firewall/rules.js";
import { createFirewallBackend } from "../../src/firewall/select.js";
import {
  DEFAULT_CHAIN_SPECS,
  defaultFirewallSettings,
  type FirewallSettings,
} from "../../src/firewall/settings.js";
import type { Logger } from "../../src/log/logger.js";
import { silentLogger } from "../../src/log/logger.js";
import { run, runChecked } from "../../src/sys/run.js";
import { FIREWALL_CMD, startFirewalld, type TestFirewalld } from "./firewalld.js";
import {
  canConnect,
  createNetnsPair,
  hideServices,
  type NetnsPair,
  startHiddenService,
} from "./netns.js";
import { defaultDropFilter, nftSettings } from "./nft.js";
import { createPfctl, createStandin, type Standin } from "./standins.js";

export interface Subject {
  name: string;
  /** Address the grants are for (the client namespace's, or a documentation address). */
  clientIp: string;
  port: number;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A backend instance as a fresh daemon would build it; `log` collects its lines. */
  backend(log?: Logger): FirewallBackend;
  /** Does the firewall hold this rule (identity and expiry)? Asked of the tool, not the backend. */
  installed(r: Rule): Promise<boolean>;
  /** Does the hidden port answer the client? Undefined for stand-ins (no packets flow). */
  reachable?(): Promise<boolean>;
  /** Nothing of ours is left in the firewall. */
  nothingLeft(): Promise<boolean>;
  /** Leave a rule behind as a daemon that died would have (default: backend.apply). */
  plant?(b: FirewallBackend, rules: Rule[]): Promise<void>;
  /** Lifetime of the grant the expiry scenario watches (slow tools need a little longer). */
  grantSeconds: number;
  /** Whether the firewall itself closes access at the expiry (no daemon needed). */
  closesByItself: boolean;
  /** A backend whose tool fails until `fail(false)`. */
  failing(log: Logger): { backend: FirewallBackend; fail(on: boolean): void };
  /** The rule the failing-tool scenario grants (default: plain access). */
  failingRule?(r: Rule): Rule;
}

const PORT = 2222;
const tmpDirs: string[] = [];

/** Wrappers for real tools that fail while a flag file exists, then hand over to the real tool. */
function failableTools(tools: Record<string, string>): {
  dir: string;
  fail(on: boolean): void;
  killRunning(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), "fwknop-failing-"));
  tmpDirs.push(dir);
  const flag = join(dir, "FAIL");
  const pids = join(dir, "pids");
  for (const [name, real] of Object.entries(tools)) {
    // exec keeps the pid: a long-lived tool started through the wrapper is listed in `pids`.
    writeFileSync(
      join(dir, name),
      `#!/bin/sh\nif [ -e "${flag}" ]; then echo "${name}: simulated failure" >&2; exit 4; fi\necho $$ >> "${pids}"\nexec ${real} "$@"\n`,
      { mode: 0o755 },
    );
  }
  return {
    dir,
    fail: (on) => (on ? writeFileSync(flag, "") : rmSync(flag, { force: true })),
    /** Kill the tools this wrapper started that still run (a long-lived one fails from now on). */
    killRunning: () => {
      if (!existsSync(pids)) return;
      for (const pid of readFileSync(pids, "utf8").split("\n").filter(Boolean).map(Number)) {
        const cmdline = join("/proc", String(pid), "cmdline");
        if (!existsSync(cmdline)) continue;
        const argv0 = readFileSync(cmdline, "utf8").split("\0")[0];
        if (!Object.values(tools).includes(argv0 ?? "")) continue; // gone, pid reused
        process.kill(pid, "SIGKILL");
      }
      rmSync(pids, { force: true });
    },
  };
}

export function cleanupSubjectFiles(): void {
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A namespace pair with a hidden TCP service in the server namespace. */
abstract class NetnsSubject {
  pair!: NetnsPair;
  // Kernel-timed sets expire on their own: under load (both cores busy), several seconds can pass
  // before the first connect, so the grant must outlast them.
  grantSeconds = 8;
  service: ChildProcess | undefined;
  readonly port: number = PORT;
  get clientIp(): string {
    return this.pair?.clientIp ?? "198.18.0.2";
  }
  async startPair(tag: string): Promise<void> {
    this.pair = await createNetnsPair(tag);
  }
  async startService(port = this.port): Promise<void> {
    this.service = await startHiddenService(this.pair.server, port);
  }
  async teardown(): Promise<void> {
    this.service?.kill();
    await this.pair?.cleanup();
  }
  reachable(): Promise<boolean> {
    return canConnect(this.pair.client, this.pair.serverIp, this.port);
  }
}

class IptablesSubject extends NetnsSubject implements Subject {
  readonly closesByItself: boolean;
  readonly ipset: boolean;
  constructor(ipset: boolean) {
    super();
    this.ipset = ipset;
    this.closesByItself = ipset;
  }
  get name() {
    return this.ipset ? "iptables (ENABLE_IPT_IPSET)" : "iptables (upstream chain mode)";
  }
  async setup() {
    await this.startPair(this.ipset ? "cis" : "cic");
    await hideServices(this.pair.server);
    await this.startService();
  }
  settings(over: Partial<FirewallSettings> = {}): FirewallSettings {
    return { ...defaultFirewallSettings(), ipset: this.ipset, ...over };
  }
  backend(log: Logger = silentLogger) {
    return createFirewallBackend("iptables", this.settings(), { log, netns: this.pair.server });
  }
  async installed(r: Rule) {
    const inSet = this.ipset && !r.src?.includes("/");
    const argv = inSet
      ? ["ipset", "test", "FWKNOP_INPUT", `${r.src},${r.proto}:${r.dport}`]
      : ["iptables", "-C", "FWKNOP_INPUT", ...ruleArgs(r, DEFAULT_CHAIN_SPECS.input)];
    if ((await run(argv, { netns: this.pair.server })).code !== 0) return false;
    if (!inSet) return true;
    // ipset test ignores the comment: check the entry's _exp_ marker too.
    const list = await run(["ipset", "list", "FWKNOP_INPUT"], { netns: this.pair.server });
    return list.stdout.includes(`comment "_exp_${r.expiresAt}"`);
  }
  async nothingLeft() {
    const save = await runChecked(["iptables-save"], { netns: this.pair.server });
    const sets = await run(["ipset", "list", "-n"], { netns: this.pair.server });
    return !/FWKNOP/.test(save.stdout) && !/FWKNOP/.test(sets.stdout);
  }
  failing(log: Logger) {
    const tools = failableTools({
      iptables: "/usr/sbin/iptables",
      "iptables-restore": "/usr/sbin/iptables-restore",
    });
    const backend = createFirewallBackend(
      "iptables",
      this.settings({ exe: join(tools.dir, "iptables") }),
      { log, netns: this.pair.server },
    );
    return { backend, fail: tools.fail };
  }
  // In ipset mode a host grant is a set entry (ipset, not FIREWALL_EXE); a network stays a rule.
  failingRule = (r: Rule): Rule => (this.ipset ? { ...r, src: "198.18.0.0/24" } : r);
}

class NftSubject extends NetnsSubject implements Subject {
  readonly name = "nftables";
  readonly closesByItself = true;
  async setup() {
    await this.startPair("cnft");
    await defaultDropFilter(this.pair.server, true);
    await this.startService();
  }
  backend(log: Logger = silentLogger) {
    return createFirewallBackend("nftables", nftSettings(), { log, netns: this.pair.server });
  }
  async installed(r: Rule) {
    const set = await run(["nft", "list", "set", "inet", "fwknop", "allow4"], {
      netns: this.pair.server,
    });
    return new RegExp(
      `${r.src?.replaceAll(".", "\\.")} \\. ${r.proto} \\. ${r.dport} timeout [^}]*comment "_exp_${r.expiresAt}"`,
    ).test(set.stdout);
  }
  async nothingLeft() {
    const tables = await runChecked(["nft", "list", "tables"], { netns: this.pair.server });
    return !/fwknop/.test(tables.stdout);
  }
  /** A long kernel timeout with an _exp_ in the past: the daemon, not the kernel, must remove it. */
  async plant(b: FirewallBackend, rules: Rule[]) {
    const now = Math.floor(Date.now() / 1000);
    await b.apply(
      rules.map((r) => (r.expiresAt <= now ? { ...r, expiresAt: now + 60 } : r)),
      [],
    );
    for (const r of rules.filter((x) => x.expiresAt <= now)) {
      const elem = `${r.src} . ${r.proto} . ${r.dport}`;
      const nft = (...a: string[]) => runChecked(["nft", ...a], { netns: this.pair.server });
      await nft("delete", "element", "inet", "fwknop", "allow4", `{ ${elem} }`);
      await nft(
        "add",
        "element",
        "inet",
        "fwknop",
        "allow4",
        `{ ${elem} timeout 60s comment "_exp_${r.expiresAt}" }`,
      );
    }
  }
  failing(log: Logger) {
    const tools = failableTools({ nft: "/usr/sbin/nft" });
    const backend = createFirewallBackend(
      "nftables",
      nftSettings({ exe: join(tools.dir, "nft") }),
      {
        log,
        netns: this.pair.server,
      },
    );
    // The backend keeps one nft running: failing means that one dies and new ones fail.
    const fail = (on: boolean) => {
      tools.fail(on);
      if (on) tools.killRunning();
    };
    return { backend, fail };
  }
}

/**
 * A real firewalld in the server namespace. Rich mode: the port is hidden by the zone (public
 * does not list it). Passthrough mode: the zone lists the port but a direct REJECT rule hides it.
 */
class FirewalldSubject extends NetnsSubject implements Subject {
  fwd: TestFirewalld | undefined;
  readonly closesByItself: boolean;
  readonly port: number;
  readonly mode: "rich" | "passthrough";
  constructor(mode: "rich" | "passthrough") {
    super();
    this.mode = mode;
    this.closesByItself = mode === "rich";
    // firewall-cmd is a Python program talking D-Bus: ≈ 0.2 s a call, more under load.
    this.grantSeconds = 12;
    this.port = mode === "rich" ? PORT : PORT + 1;
  }
  get name() {
    return `firewalld (${this.mode === "rich" ? "rich rules, port hidden by the zone" : "2.6.10 passthrough, port hidden by a direct REJECT"})`;
  }
  async setup() {
    await this.startPair(this.mode === "rich" ? "cfwr" : "cfwp");
    this.fwd = await startFirewalld(this.pair.server);
    if (this.mode === "passthrough") {
      await this.fwd.cmd(`--add-port=${this.port}/tcp`);
      await this.fwd.cmd(
        "--direct",
        "--add-rule",
        "ipv4",
        "filter",
        "INPUT",
        "0",
        "-p",
        "tcp",
        "--dport",
        String(this.port),
        "-j",
        "REJECT",
      );
    }
    await this.startService();
  }
  async teardown() {
    await this.fwd?.stop();
    await super.teardown();
  }
  settings(exe = FIREWALL_CMD): FirewalldBackendSettings {
    return {
      ...defaultFirewallSettings(),
      exe,
      firewalld: { ...DEFAULT_FIREWALLD_SETTINGS, mode: this.mode },
    };
  }
  backend(log: Logger = silentLogger) {
    return createFirewallBackend("firewalld", this.settings(), { log, netns: this.pair.server });
  }
  async installed(r: Rule) {
    if (this.mode === "rich") {
      const rules = await run([FIREWALL_CMD, "--list-rich-rules"], { netns: this.pair.server });
      return rules.stdout
        .split("\n")
        .some(
          (l) =>
            l.includes(`source address="${r.src}"`) &&
            l.includes(`port port="${r.dport}"`) &&
            l.includes(`_exp_${r.expiresAt} `),
        );
    }
    const argv = [
      FIREWALL_CMD,
      "--direct",
      "--passthrough",
      "ipv4",
      "-C",
      "FWKNOP_INPUT",
      "-t",
      "filter",
      ...ruleArgs(r, DEFAULT_CHAIN_SPECS.input),
    ];
    return (await run(argv, { netns: this.pair.server })).code === 0;
  }
  async nothingLeft() {
    const rich = await run([FIREWALL_CMD, "--list-rich-rules"], { netns: this.pair.server });
    const direct = await run(["iptables-save"], { netns: this.pair.server });
    return !/_exp_/.test(rich.stdout) && !/FWKNOP/.test(direct.stdout);
  }
  failing(log: Logger) {
    const tools = failableTools({ "firewall-cmd": FIREWALL_CMD });
    const backend = createFirewallBackend(
      "firewalld",
      this.settings(join(tools.dir, "firewall-cmd")),
      {
        log,
        netns: this.pair.server,
      },
    );
    // The backend keeps one nft running: failing means that one dies and new ones fail.
    const fail = (on: boolean) => {
      tools.fail(on);
      if (on) tools.killRunning();
    };
    return { backend, fail };
  }
}

/** Stand-ins keep state in a file; there is no network, so no reachability check. */
abstract class StandinSubject {
  readonly clientIp = "198.18.0.2";
  // Every stand-in call starts node (≈ 50 ms, more under load); ipfw needs several per batch.
  readonly grantSeconds = 6;
  readonly port = PORT;
  readonly closesByItself = false;
  tool!: Standin;
  abstract make(): Standin;
  async setup() {
    this.tool = this.make();
  }
  async teardown() {
    this.tool?.cleanup();
  }
  failing(log: Logger) {
    const fail = (on: boolean) => this.tool.failWith(on ? "simulated failure" : undefined);
    return { backend: this.build(this.tool.exe, log), fail };
  }
  backend(log: Logger = silentLogger) {
    return this.build(this.tool.exe, log);
  }
  abstract build(exe: string, log: Logger): FirewallBackend;
}

class PfSubject extends StandinSubject implements Subject {
  readonly name = "pf (recording stand-in for pfctl)";
  make = () => createPfctl();
  build(exe: string, log: Logger) {
    return createFirewallBackend(
      "pf",
      { ...defaultFirewallSettings(), exe, pf: { ...DEFAULT_PF_SETTINGS } },
      { log },
    );
  }
  #lines(): string[] {
    return this.tool.read<{ anchors: Record<string, string[]> }>().anchors.fwknop ?? [];
  }
  async installed(r: Rule) {
    return this.#lines().some(
      (l) =>
        l.includes(`from ${r.src} `) &&
        l.includes(`port = ${r.dport} `) &&
        l.includes(`"_exp_${r.expiresAt}"`),
    );
  }
  async nothingLeft() {
    return this.#lines().length === 0;
  }
}

class IpfwSubject extends StandinSubject implements Subject {
  readonly name = "ipfw (recording stand-in for ipfw)";
  make = () => createStandin("ipfw");
  build(exe: string, log: Logger) {
    return createFirewallBackend(
      "ipfw",
      { ...defaultFirewallSettings(), exe, ipfw: { ...DEFAULT_IPFW_SETTINGS } },
      { log },
    );
  }
  #rules() {
    try {
      return this.tool.read<{ rules: { num: number; set: number; body: string }[] }>().rules;
    } catch {
      return [];
    }
  }
  async installed(r: Rule) {
    return this.#rules().some(
      (x) =>
        x.set === DEFAULT_IPFW_SETTINGS.activeSet &&
        x.body.includes(`from ${r.src} `) &&
        x.body.includes(`dst-port ${r.dport} `) &&
        x.body.endsWith(`_exp_${r.expiresAt}`),
    );
  }
  async nothingLeft() {
    return this.#rules().length === 0;
  }
}

/** Every backend, in the order the suite runs them. */
export function contractSubjects(): Subject[] {
  return [
    new IptablesSubject(false),
    new IptablesSubject(true),
    new NftSubject(),
    new FirewalldSubject("rich"),
    new FirewalldSubject("passthrough"),
    new PfSubject(),
    new IpfwSubject(),
  ];
}
