/**
 * Our `fwknop` against the real C fwknopd 2.6.10 in a network namespace (pcap mode on the veth,
 * TCP server and SPA-over-HTTP enabled, forwarding and local NAT enabled). One daemon carries a
 * SOURCE ANY stanza per case, each with its own keys, mode and HMAC type (plus one GPG stanza);
 * a stanza whose HMAC or decryption fails is skipped, so every knock lands in exactly its own
 * stanza. Each knock asks for its own port and must produce the matching iptables rule; the
 * first one also opens a real hidden service, checked with TCP connects before and after.
 * Also covered: -f, udp/tcp/http/raw transports, GPG, NAT and local NAT, the SSH ProxyCommand
 * helper carrying a TCP session, and an IPv6 destination.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { DigestName, SymmetricMode } from "../../src/protocol/constants.js";
import { run, runChecked } from "../../src/sys/run.js";
import {
  canConnect,
  canUseNetns,
  createNetnsPair,
  hideServices,
  type NetnsPair,
  startHiddenService,
} from "../helpers/netns.js";
import { EVENT_BOUND_MS, waitUntil } from "../helpers/wait.js";

const OUR_FWKNOP = fileURLToPath(new URL("../../../bin/fwknop", import.meta.url));
const C_FWKNOPD = "/usr/sbin/fwknopd";

interface Case {
  mode: SymmetricMode;
  digest: DigestName;
  hmac?: DigestName;
  key: string;
  hmacKey?: string;
}

/** Every mode, digest and HMAC type appears at least once. */
const CASES: Case[] = (
  [
    ["CBC", "sha256", "sha256"],
    ["ECB", "md5", "md5"],
    ["CFB", "sha1", "sha1"],
    ["OFB", "sha384", "sha384"],
    ["CTR", "sha512", "sha512"],
    ["CBC", "sha3_256", "sha3_256"],
    ["CFB", "sha3_512", "sha3_512"],
    ["legacy", "sha256", undefined],
    ["OFB", "md5", undefined],
  ] as const
).map(([mode, digest, hmac]) => ({
  mode,
  digest,
  ...(hmac ? { hmac, hmacKey: randomBytes(48).toString("base64") } : {}),
  key: randomBytes(mode === "legacy" ? 12 : 24).toString("base64"),
}));

function stanza(c: Case): string {
  const lines = [
    "SOURCE ANY",
    `KEY_BASE64 ${c.key}`,
    `ENCRYPTION_MODE ${c.mode}`,
    "FW_ACCESS_TIMEOUT 30",
  ];
  if (c.hmac && c.hmacKey) lines.push(`HMAC_KEY_BASE64 ${c.hmacKey}`, `HMAC_DIGEST_TYPE ${c.hmac}`);
  return `${lines.join("\n")}\n\n`;
}

function clientArgs(c: Case): string[] {
  const a = ["--no-rc-file", "--no-save-args", "-M", c.mode, "-m", c.digest];
  a.push("--key-base64-rijndael", c.key);
  if (c.hmac && c.hmacKey) a.push("--key-base64-hmac", c.hmacKey, "--hmac-digest-type", c.hmac);
  return a;
}

let pair: NetnsPair | undefined;
let daemon: ChildProcess | undefined;
let service: ChildProcess | undefined;
let dir = "";
let log = "";

interface GpgHomes {
  clientHome: string;
  serverHome: string;
  /** Last 8 hex digits of each key's fingerprint (what GPG_REMOTE_ID / -recipient take). */
  clientId: string;
  serverId: string;
}
let gpg: GpgHomes | undefined;
const GPG_HMAC = randomBytes(32).toString("base64");

/** Two throw-away keyrings: each side has its own key (no passphrase) and the other's public key. */
async function makeGpgHomes(base: string): Promise<GpgHomes> {
  const fprs: string[] = [];
  const homes = [join(base, "gc"), join(base, "gs")];
  for (const [i, home] of homes.entries()) {
    mkdirSync(home, { mode: 0o700 });
    const g = (...a: string[]) =>
      runChecked(["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", ...a]);
    await g(
      "--passphrase",
      "",
      "--quick-gen-key",
      `side${i} <s${i}@example.invalid>`,
      "rsa2048",
      "sign,encrypt",
      "never",
    );
    const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(
      (await g("--list-keys", "--with-colons")).stdout,
    )?.[1];
    if (!fpr) throw new Error(`no key made in ${home}`);
    fprs.push(fpr);
  }
  const [c, sv] = homes as [string, string];
  for (const [from, to] of [
    [c, sv],
    [sv, c],
  ] as const) {
    const pub = (await runChecked(["gpg", "--homedir", from, "--export", "--armor"])).stdout;
    await runChecked(["gpg", "--homedir", to, "--batch", "--import"], { input: pub });
  }
  // fwknopd wants a signature of at least marginal validity: the server trusts the client's key.
  await runChecked(["gpg", "--homedir", sv, "--batch", "--import-ownertrust"], {
    input: `${fprs[0]}:6:\n`,
  });
  const [cf, sf] = fprs as [string, string];
  return { clientHome: c, serverHome: sv, clientId: cf.slice(-8), serverId: sf.slice(-8) };
}

async function knock(args: readonly string[]): Promise<void> {
  if (!pair) throw new Error("no namespaces");
  const r = await run([process.execPath, OUR_FWKNOP, "-D", pair.serverIp, ...args], {
    netns: pair.client,
    env: { HOME: dir },
    timeoutMs: 15_000,
  });
  assert.equal(r.code, 0, `fwknop ${args.join(" ")} failed: ${r.stderr}${r.stdout}`);
}

/** Waits (bounded) until `iptables -S` of a chain shows a line matching `re`. */
async function waitForRule(chain: string, re: RegExp, table = "filter"): Promise<string> {
  if (!pair) throw new Error("no namespaces");
  const ns = pair.server;
  let last = "";
  let line: string | undefined;
  // A loaded machine (two shared cores) can delay pcap delivery and iptables: wait for the rule.
  await waitUntil(`a rule matching ${re} in ${table}/${chain}`, async () => {
    last = (await run(["iptables", "-t", table, "-S", chain], { netns: ns })).stdout;
    line = last.split("\n").find((l) => re.test(l));
    return line !== undefined;
  }).catch(() =>
    assert.fail(`no rule matching ${re} in ${table}/${chain}:\n${last}\nfwknopd log:\n${log}`),
  );
  return line ?? "";
}

before(async () => {
  if (!canUseNetns()) return;
  if (!existsSync(C_FWKNOPD)) return;
  pair = await createNetnsPair("clk");
  const vs = (
    await runChecked(["ip", "-n", pair.server, "-o", "link", "show", "type", "veth"])
  ).stdout
    .split(":")[1]
    ?.trim()
    .split("@")[0];
  dir = mkdtempSync(join(tmpdir(), "fwk-clk-"));
  writeFileSync(
    join(dir, "fwknopd.conf"),
    [
      `PCAP_INTF ${vs};`,
      "PCAP_FILTER udp port 62201 or tcp port 62201 or icmp;",
      "ENABLE_TCP_SERVER Y;",
      "ENABLE_SPA_OVER_HTTP Y;",
      "ENABLE_IPT_FORWARDING Y;",
      "ENABLE_IPT_LOCAL_NAT Y;",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  gpg = await makeGpgHomes(dir);
  const gpgStanza = [
    "SOURCE ANY",
    `GPG_HOME_DIR ${gpg.serverHome}`,
    `GPG_DECRYPT_ID ${gpg.serverId}`,
    "GPG_ALLOW_NO_PW Y",
    `GPG_REMOTE_ID ${gpg.clientId}`,
    `HMAC_KEY_BASE64 ${GPG_HMAC}`,
    "FW_ACCESS_TIMEOUT 30",
  ].join("\n");
  writeFileSync(join(dir, "access.conf"), `${CASES.map(stanza).join("")}${gpgStanza}\n`, {
    mode: 0o600,
  });
  await hideServices(pair.server);
  await runChecked(["iptables", "-A", "INPUT", "-p", "tcp", "--dport", "62201", "-j", "ACCEPT"], {
    netns: pair.server,
  });
  service = await startHiddenService(pair.server, 2222);
  daemon = spawn(
    "ip",
    [
      ...["netns", "exec", pair.server, C_FWKNOPD, "-f", "-v"],
      ...["-c", join(dir, "fwknopd.conf"), "-a", join(dir, "access.conf")],
      ...["-d", join(dir, "digest.cache"), "-p", join(dir, "fwknopd.pid"), "-r", dir],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const onData = (d: Buffer) => {
    log += d.toString();
  };
  daemon.stdout?.on("data", onData);
  daemon.stderr?.on("data", onData);
  // requirePeer() reports a daemon that never got there.
  await waitUntil("C fwknopd's main event loop", () => log.includes("main event loop")).catch(
    () => {},
  );
});

after(async () => {
  for (const home of gpg ? [gpg.clientHome, gpg.serverHome] : []) {
    await run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"]);
  }
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
    const exited = new Promise((r) => daemon?.once("exit", r));
    daemon.kill("SIGTERM");
    await exited;
  }
  service?.kill();
  await pair?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function requirePeer(): NetnsPair {
  if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns) - run the suite as root");
  if (!existsSync(C_FWKNOPD)) assert.fail(`${C_FWKNOPD} (fwknop-server 2.6.10) is not installed`);
  if (!pair || !log.includes("main event loop")) assert.fail(`C fwknopd did not start:\n${log}`);
  return pair;
}

test("knocks open the hidden port on C fwknopd: every mode, digest and HMAC type", async () => {
  const p = requirePeer();
  assert.equal(await canConnect(p.client, p.serverIp, 2222, 400), false, "service not hidden");
  for (const [i, c] of CASES.entries()) {
    const port = i === 0 ? 2222 : 3000 + i;
    await knock([...clientArgs(c), "-A", `tcp/${port}`, "-a", p.clientIp]);
    // The next knock goes out only once this one's rule is in: no pace to guess.
    await waitForRule("FWKNOP_INPUT", new RegExp(`-s ${p.clientIp}/32 .*--dport ${port} `));
  }
  assert.equal(await canConnect(p.client, p.serverIp, 2222), true, "knock did not open tcp/2222");
});

test("-f client timeout sets the rule's expiry", async () => {
  requirePeer();
  const c = CASES[0] as Case;
  const before = Math.floor(Date.now() / 1000);
  await knock([...clientArgs(c), "-A", "tcp/3101", "-s", "-f", "5"]);
  const rule = await waitForRule("FWKNOP_INPUT", /--dport 3101 /);
  const after = Math.ceil(Date.now() / 1000);
  const exp = Number(/_exp_(\d+)/.exec(rule)?.[1]);
  // 5 s after the moment the daemon made the rule, which lies between `before` and `after`
  // (not the default 30 s), however slow the machine is.
  assert.ok(
    exp >= before + 5 && exp <= after + 5,
    `expiry ${exp} is not 5 s after the grant (made between ${before} and ${after})`,
  );
});

test("-P tcp and -P http reach C fwknopd in pcap mode", async () => {
  const p = requirePeer();
  const c = CASES[2] as Case;
  await knock([...clientArgs(c), "-A", "tcp/3201", "-a", p.clientIp, "-P", "tcp"]);
  await waitForRule("FWKNOP_INPUT", /--dport 3201 /);
  await knock([...clientArgs(c), "-A", "tcp/3202", "-a", p.clientIp, "-P", "http"]);
  await waitForRule("FWKNOP_INPUT", /--dport 3202 /);
});

test("raw modes (udpraw, tcpraw, icmp echo reply and request) and -Q spoofing", async () => {
  const p = requirePeer();
  const c = CASES[3] as Case;
  const raw: [string, string[]][] = [
    ["3301", ["-P", "udpraw", "-Q", "198.18.0.77"]],
    ["3302", ["-P", "tcpraw", "-S", "40000"]],
    ["3303", ["-P", "icmp"]],
    ["3304", ["-P", "icmp", "--icmp-type", "8"]],
  ];
  for (const [port, extra] of raw) {
    await knock([...clientArgs(c), "-A", `tcp/${port}`, "-a", p.clientIp, ...extra]);
    await waitForRule("FWKNOP_INPUT", new RegExp(`--dport ${port} `));
  }
  assert.match(log, /SPA Packet from IP: 198\.18\.0\.77 /);
});

test("GPG mode (signed, with HMAC) opens a port on C fwknopd", async () => {
  const p = requirePeer();
  if (!gpg) assert.fail("gpg keyrings were not created");
  await knock([
    ...["--no-rc-file", "--no-save-args", "-A", "tcp/3401", "-a", p.clientIp],
    ...["--gpg-recipient-key", gpg.serverId, "--gpg-signer-key", gpg.clientId],
    ...["--gpg-home-dir", gpg.clientHome, "--gpg-no-signing-pw", "--key-base64-hmac", GPG_HMAC],
  ]);
  await waitForRule("FWKNOP_INPUT", /--dport 3401 /);
  assert.match(log, new RegExp(`Incoming SPA data signed by '${gpg.clientId}'`));
});

test("-N asks for NAT access and --nat-local for local NAT", async () => {
  const p = requirePeer();
  const c = CASES[4] as Case;
  await knock([...clientArgs(c), "-A", "tcp/8080", "-a", p.clientIp, "-N", "192.0.2.5:80"]);
  await waitForRule(
    "FWKNOP_PREROUTING",
    /--dport 8080 .*DNAT --to-destination 192\.0\.2\.5:80/,
    "nat",
  );
  await waitForRule("FWKNOP_FORWARD", /-d 192\.0\.2\.5\/32 .*--dport 80 |--dport 80 .*ACCEPT/);
  const args = [
    "-A",
    "tcp/2222",
    "-a",
    p.clientIp,
    "--nat-local",
    "--nat-port",
    "4444",
    "-f",
    "20",
  ];
  await knock([...clientArgs(c), ...args]);
  await waitForRule(
    "FWKNOP_PREROUTING",
    new RegExp(`--dport 4444 .*DNAT --to-destination ${p.serverIp.replaceAll(".", "\\.")}:2222`),
    "nat",
  );
});

/** An echo service in the server namespace: what the relay carries must come back unchanged. */
function startEcho(ns: string, port: number): Promise<ChildProcess> {
  const code = `require("net").createServer((s) => s.pipe(s)).listen(${port}, () => console.log("up"))`;
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", code], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (c) => reject(new Error(`echo service exited (${c})`)));
    child.stdout?.once("data", () => resolve(child));
  });
}

test("--ssh-proxy knocks, waits for the hidden port and relays a TCP session", async (t) => {
  const p = requirePeer();
  const echo = await startEcho(p.server, 2323);
  t.after(() => echo.kill());
  assert.equal(await canConnect(p.client, p.serverIp, 2323, 400), false, "echo port not hidden");
  const c = CASES[1] as Case;
  const child = spawn(
    "ip",
    [
      ...["netns", "exec", p.client, process.execPath, OUR_FWKNOP],
      ...[...clientArgs(c), "-a", p.clientIp, "--ssh-proxy", `${p.serverIp}:2323`],
    ],
    { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, HOME: dir } },
  );
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const lines = ["SSH-2.0-OpenSSH_9.2 first line\n", "second line, after the first came back\n"];
  child.stdin?.write(lines[0]);
  await waitUntil("the first line back", () => out === lines[0] || child.exitCode !== null).catch(
    () => {},
  );
  assert.equal(out, lines[0], `first line did not come back; stderr: ${err}`);
  child.stdin?.end(lines[1]);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill();
      resolve(null);
    }, EVENT_BOUND_MS);
    child.once("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(out, lines.join(""), `relay lost data; stderr: ${err}`);
  assert.equal(code, 0, `proxy exit status; stderr: ${err}`);
});

test("IPv6 destinations: the knock travels over IPv6 between the namespaces", async (t) => {
  const p = requirePeer();
  const dev = async (ns: string) =>
    (await runChecked(["ip", "-n", ns, "-o", "link", "show", "type", "veth"])).stdout
      .split(":")[1]
      ?.trim()
      .split("@")[0] ?? "";
  await runChecked([
    "ip",
    "-n",
    p.server,
    "addr",
    "add",
    "2001:db8::1/64",
    "dev",
    await dev(p.server),
    "nodad",
  ]);
  await runChecked([
    "ip",
    "-n",
    p.client,
    "addr",
    "add",
    "2001:db8::2/64",
    "dev",
    await dev(p.client),
    "nodad",
  ]);
  await runChecked(["ip6tables", "-A", "INPUT", "-p", "udp", "--dport", "5555", "-j", "ACCEPT"], {
    netns: p.server,
  });
  const code = `const s=require("dgram").createSocket("udp6");s.on("message",(m,r)=>{console.log(r.address+" "+m.toString("latin1"));process.exit(0)});s.bind(5555,"2001:db8::1",()=>console.log("up"))`;
  const listener = spawn("ip", ["netns", "exec", p.server, process.execPath, "-e", code], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.after(() => listener.kill());
  let out = "";
  listener.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  await waitUntil("the IPv6 listener", () => out.includes("up"));
  const saved = join(dir, "v6-packet");
  await run(
    [
      process.execPath,
      OUR_FWKNOP,
      "-D",
      "2001:db8::1",
      "-p",
      "5555",
      "-B",
      saved,
      ...clientArgs(CASES[0] as Case),
      "-A",
      "tcp/22",
      "-s",
    ],
    {
      netns: p.client,
      env: { HOME: dir },
      timeoutMs: 15_000,
    },
  );
  await waitUntil("the knock at the IPv6 listener", () => out.split("\n").length >= 3).catch(
    () => {},
  );
  const wire = readFileSync(saved, "utf8").trim();
  assert.ok(wire.length > 100, "no packet saved");
  assert.match(
    out,
    new RegExp(`^up\\n2001:db8::2 ${wire.replaceAll("+", "\\+").replaceAll("/", "\\/")}\\n`),
  );
});
