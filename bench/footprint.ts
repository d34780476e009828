/**
 * Start-up and footprint of the programs as the .deb ships them, beside the bare runtime and
 * fwknop 2.6.10, in one run (root; about 5 minutes with the default 15 runs):
 *
 *   npm run deb && node dist/bench/footprint.js [--runs N] [--write-docs]
 *
 * - client: wall time of `fwknop -T` (build a packet, print it, no network), against the
 *   shipped runtime on an empty script and against the C client;
 * - daemon (UDP server mode, in a fresh network namespace of its own): time from start to the
 *   "Kicking off UDP server" line (the socket is bound), resident memory and thread count after
 *   idling, against the bare runtime (empty script; an idle timer for memory) and the C daemon.
 *
 * Ours runs through the package's own launchers (build/deb-root/usr/{bin,sbin}, with
 * /usr/lib/fwknop-ts pointed at the staging copy), so their flags are what is measured. Runs of
 * the candidates alternate (A B C A B C ...), medians are reported. --write-docs replaces the
 * "Start-up and footprint" section of docs/benchmarks.md (bench/run.ts keeps that section).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type LongLivedChild, startChild } from "../src/sys/child.js";
import { run, runChecked } from "../src/sys/run.js";
import { withFootprintSection } from "./lib/footprint-section.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const STAGE = join(REPO, "build/deb-root");
const C_FWKNOP = "/usr/bin/fwknop";
const C_FWKNOPD = "/usr/sbin/fwknopd";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "15" }, "write-docs": { type: "boolean" } },
});
const RUNS = Math.max(3, Number(values.runs));
/** Idle time before memory is read: V8 shrinks the heap some seconds after activity stops. */
const IDLE_MS = 12_000;
/** Other work on the machine when the run began: figures from a busy machine are slower. */
const LOAD_AT_START = loadavg()[0] ?? 0;

/** A launcher of the package, rewritten to use the staging tree instead of /usr/lib/fwknop-ts. */
function stagedLauncher(rel: string, work: string): string {
  const text = readFileSync(join(STAGE, rel), "utf8").replaceAll(
    "/usr/lib/fwknop-ts",
    join(STAGE, "usr/lib/fwknop-ts"),
  );
  const file = join(work, rel.replaceAll("/", "_"));
  writeFileSync(file, text, { mode: 0o755 });
  return file;
}

interface Started {
  child: LongLivedChild;
  /** ms from spawn to the first output line matching `ready` (without `ready`: to the exit). */
  ready: Promise<number>;
}

function start(argv: readonly string[], ready?: RegExp): Started {
  const t0 = process.hrtime.bigint();
  const child = startChild(argv, { pipes: { stdout: true, stderr: true } });
  let text = "";
  const readyP = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${argv.join(" ")}: not ready\n${text}`)),
      30_000,
    );
    const onData = (d: Buffer) => {
      text += d.toString();
      if (ready?.test(text)) {
        clearTimeout(timer);
        resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void child.exited.then(() => {
      clearTimeout(timer);
      if (!ready) resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      else reject(new Error(`${argv.join(" ")} exited before it was ready:\n${text}`));
    });
  });
  return { child, ready: readyP };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** VmRSS (MB) and thread count of a running process. */
function memory(pid: number): { rssMb: number; threads: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb / 1024, threads };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "fwk-footprint-"));
  const ns = `fwk-fp-${randomBytes(3).toString("hex")}`;
  try {
    const fwknop = stagedLauncher("usr/bin/fwknop", work);
    const fwknopd = stagedLauncher("usr/sbin/fwknopd", work);
    const node = join(STAGE, "usr/lib/fwknop-ts/node");
    const empty = join(work, "empty.js");
    writeFileSync(empty, "");
    const idle = join(work, "idle.js");
    writeFileSync(idle, "setInterval(() => {}, 1e9);\n");

    // Client: the same packet request for ours and C.
    const key = randomBytes(32).toString("base64");
    const hmac = randomBytes(64).toString("base64");
    const knock = ["-T", "-A", "tcp/22", "-a", "192.0.2.7", "-D", "192.0.2.1"];
    const keys = ["--key-base64-rijndael", key, "--key-base64-hmac", hmac, "--use-hmac"];
    const env = { HOME: work };
    Object.assign(process.env, env);
    const client: Record<string, string[]> = {
      bare: [node, empty],
      ours: [fwknop, ...knock, ...keys, "--no-save-args"],
      c: [C_FWKNOP, ...knock, ...keys, "--no-save-args"],
    };
    const wall: Record<string, number[]> = { bare: [], ours: [], c: [] };
    for (let i = 0; i < RUNS + 2; i++) {
      for (const [name, argv] of Object.entries(client)) {
        const ms = await start(argv).ready;
        if (i >= 2) wall[name]?.push(ms); // two warm-up rounds
      }
    }

    // Daemon: UDP server mode, in a network namespace of the bench's own (created once: making
    // one costs more than a daemon start). The bare runtime is timed through the same
    // `ip netns exec` for the ratio.
    const conf = join(work, "fwknopd.conf");
    const access = join(work, "access.conf");
    writeFileSync(
      conf,
      `ENABLE_UDP_SERVER Y;\nUDPSERV_PORT 62201;\nFWKNOP_RUN_DIR ${work}/run;\nACCESS_FILE ${access};\n`,
      { mode: 0o600 },
    );
    writeFileSync(access, `SOURCE ANY\nKEY_BASE64 ${key}\nHMAC_KEY_BASE64 ${hmac}\n`, {
      mode: 0o600,
    });
    const listen = join(work, "listen.js");
    writeFileSync(
      listen,
      'require("node:dgram").createSocket("udp6").bind(62201, () => console.error("listening"));\n',
    );
    const ready = /Kicking off UDP server|listening/;
    await runChecked(["ip", "netns", "add", ns]);
    const inNs = ["ip", "netns", "exec", ns];
    const daemons: Record<string, string[]> = {
      bareStart: [...inNs, node, empty],
      bareListen: [...inNs, node, listen],
      ours: [...inNs, fwknopd, "-f", "-c", conf, "-d", join(work, "digest.cache")],
      c: [...inNs, C_FWKNOPD, "-f", "-c", conf, "-d", join(work, "digest.c")],
    };
    const toListen: Record<string, number[]> = { bareStart: [], bareListen: [], ours: [], c: [] };
    const mem: Record<string, { rssMb: number; threads: number }[]> = {
      bareIdle: [],
      ours: [],
      c: [],
    };
    const dRuns = Math.max(3, Math.ceil(RUNS / 3));
    for (let i = 0; i < dRuns + 1; i++) {
      for (const [name, argv] of Object.entries(daemons)) {
        const s = start(argv, name === "bareStart" ? undefined : ready);
        const ms = await s.ready;
        if (i >= 1) toListen[name]?.push(ms);
        if (i >= 1 && (name === "ours" || name === "c")) {
          await sleep(IDLE_MS); // past V8's memory reducer, which shrinks the heap once idle
          mem[name]?.push(memory(s.child.pid as number));
        }
        await s.child.stop();
      }
      const b = start([node, idle]);
      await sleep(IDLE_MS);
      if (i >= 1) mem.bareIdle?.push(memory(b.child.pid as number));
      await b.child.stop();
    }

    const m = (xs: number[] | undefined) => median(xs ?? []);
    const rss = (k: string) => m(mem[k]?.map((x) => x.rssMb));
    const thr = (k: string) => m(mem[k]?.map((x) => x.threads));
    const r = {
      bareStart: m(wall.bare),
      clientOurs: m(wall.ours),
      clientC: m(wall.c),
      bareNsStart: m(toListen.bareStart),
      bareListen: m(toListen.bareListen),
      daemonOurs: m(toListen.ours),
      daemonC: m(toListen.c),
      bareRss: rss("bareIdle"),
      oursRss: rss("ours"),
      cRss: rss("c"),
      bareThreads: thr("bareIdle"),
      oursThreads: thr("ours"),
      cThreads: thr("c"),
    };
    const md = render(r);
    process.stdout.write(`${md}\n`);
    if (values["write-docs"]) writeSection(md);
  } finally {
    await run(["ip", "netns", "del", ns]);
    rmSync(work, { recursive: true, force: true });
  }
}

type Results = Record<
  | "bareStart"
  | "clientOurs"
  | "clientC"
  | "bareNsStart"
  | "bareListen"
  | "daemonOurs"
  | "daemonC"
  | "bareRss"
  | "oursRss"
  | "cRss"
  | "bareThreads"
  | "oursThreads"
  | "cThreads",
  number
>;

function render(r: Results): string {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const mb = (x: number) => `${x.toFixed(1)} MB`;
  const met = (ok: boolean) => (ok ? "met" : "**not met**");
  const startRatio = r.clientOurs / r.bareStart;
  const listenRatio = r.daemonOurs / r.bareNsStart;
  const rssOver = r.oursRss - r.bareRss;
  return [
    "## Start-up and footprint",
    "",
    `Measured by \`bench/footprint.ts\` on ${cpus().length} cores (load average ${LOAD_AT_START.toFixed(1)} ` +
      `at the start), ${new Date().toISOString().slice(0, 10)}, ` +
      `medians of ${RUNS} client runs and ${Math.max(3, Math.ceil(RUNS / 3))} daemon starts, ` +
      "alternating. Ours runs through the `.deb`'s launchers and runtime (Node " +
      `${process.versions.node}); bare = that runtime on an empty script.`,
    "",
    "| Figure | bare runtime | ours | ours ÷ bare | C 2.6.10 | ours ÷ C | Goal for ours |",
    "|---|---|---|---|---|---|---|",
    `| \`fwknop -T\` wall time | ${ms(r.bareStart)} | ${ms(r.clientOurs)} | ${startRatio.toFixed(2)} | ${ms(r.clientC)} | ${(r.clientOurs / r.clientC).toFixed(1)} | ≤ 1.5× bare: ${met(startRatio <= 1.5)} |`,
    `| fwknopd start to listening (UDP) | ${ms(r.bareNsStart)} (bind a UDP socket: ${ms(r.bareListen)}) | ${ms(r.daemonOurs)} | ${listenRatio.toFixed(2)} | ${ms(r.daemonC)} | ${(r.daemonOurs / r.daemonC).toFixed(1)} | ≤ 3× bare: ${met(listenRatio <= 3)} |`,
    `| fwknopd idle resident memory | ${mb(r.bareRss)} | ${mb(r.oursRss)} | +${mb(rssOver)} | ${mb(r.cRss)} | ${(r.oursRss / r.cRss).toFixed(1)} | ≤ bare + 10 MB: ${met(rssOver <= 10)} |`,
    `| fwknopd idle threads | ${r.bareThreads} | ${r.oursThreads} | | ${r.cThreads} | | |`,
    "",
    "How: wall time from spawn to exit (client) or to the daemon's `Kicking off UDP server` line",
    "(socket bound), as seen by the bench process; resident memory and threads from",
    "`/proc/<pid>/status` after 12 s idle (bare: an idle timer). Daemons run in a network",
    "namespace of the bench (firewall set-up runs for real), bare start-up for the daemon rows",
    "through the same `ip netns exec`. The launcher flags",
    "(`scripts/deb.sh`): daemon `UV_THREADPOOL_SIZE=2 --v8-pool-size=1 --max-semi-space-size=1`,",
    "client `--v8-pool-size=1`; both load one bundled file (`scripts/bundle.ts`).",
  ].join("\n");
}

function writeSection(md: string): void {
  const file = join(REPO, "docs/benchmarks.md");
  writeFileSync(file, withFootprintSection(readFileSync(file, "utf8"), md));
}

if (process.argv[1]?.endsWith("footprint.js")) {
  await main();
}
