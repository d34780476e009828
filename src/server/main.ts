/**
 * fwknopd: from parsed options to the requested action (spec §13.1 start-up order):
 * options → config → -K/-S/-R → logging → --fw-list, --fw-flush → access.conf → -D →
 * --exit-parse-config → daemonize/PID → digest cache → firewall init → capture.
 */

import type { RunningCluster } from "../cluster/cluster.js";
import { type ClusterSettings, clusterSettings } from "../cluster/settings.js";
import { type AccessStanza, loadAccessConfig } from "../config/access-config.js";
import { loadServerConfig, type ServerConfig } from "../config/server-config.js";
import { ERRORS, FwknopError } from "../errors.js";
import type { FirewallBackend } from "../firewall/backend.js";
import { backendSettingsFromConfig, createFirewallBackend } from "../firewall/select.js";
import type { FirewallSettings } from "../firewall/settings.js";
import { createLogger } from "../log/create-logger.js";
import type { Logger } from "../log/logger.js";
import { VERSION } from "../version.js";
import { controlRunningDaemon } from "./control.js";
import { Daemon } from "./daemon.js";
import { fileSettings, flushSettings, loggingSettings } from "./daemon-settings.js";
import { becomeDaemon, type DaemonReady } from "./daemonize.js";
import { dumpConfig } from "./dump-config.js";
import { runExplain } from "./explain-main.js";
import { GrantLedger } from "./grants.js";
import { createIntakeFromConfig } from "./intake/select.js";
import { runKeyGen } from "./key-gen-action.js";
import { checkLocale } from "./locale-check.js";
import { systemdNotify } from "./notify.js";
import { startObservability } from "./observability.js";
import { checkCommandLinePaths, type DaemonOptions, parseDaemonArgs, USAGE } from "./options.js";
import { acquirePidFile, releasePidFile } from "./pid-file.js";
import { openFileReplayCache } from "./replay/file-cache.js";
import { ensureRunDir } from "./run-dir.js";
import { installSignalHandlers } from "./signals.js";

export async function main(argv: readonly string[]): Promise<number> {
  let opts: DaemonOptions;
  try {
    opts = parseDaemonArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\nTry 'fwknopd --help' for more information.\n`);
    return 1;
  }
  try {
    return await dispatch(opts);
  } catch (e) {
    if (e instanceof FwknopError) {
      process.stderr.write(`${e.message} [${e.code}]\n`);
      return 1;
    }
    throw e;
  }
}

async function dispatch(opts: DaemonOptions): Promise<number> {
  switch (opts.action) {
    case "help":
      process.stdout.write(USAGE.replace("VERSION", VERSION));
      return 0;
    case "key-gen":
      return runKeyGen(opts.keyGen);
    case "dump-err-codes":
      for (const [code, text] of Object.entries(ERRORS))
        process.stdout.write(`err code: ${code}, err string: '${text}'\n`);
      return 0;
    default:
      break;
  }

  checkCommandLinePaths(opts);
  const bootWarnings: string[] = [];
  const config = loadServerConfig({
    configFile: opts.configFile,
    overrideFiles: opts.overrideFiles,
    cli: opts.cli,
    warn: (m) => bootWarnings.push(m),
  });

  if (opts.action === "version") {
    process.stdout.write(
      `fwknopd server ${VERSION} (fwknop-ts), compiled for firewall bin: ${config.get("FIREWALL_EXE")}\n`,
    );
    return 0;
  }
  if (opts.action === "kill" || opts.action === "status" || opts.action === "restart") {
    return controlRunningDaemon(opts.action, fileSettings(config).pidFile);
  }

  const logging = loggingSettings(config);
  const log = createLogger({
    foreground: opts.foreground,
    syslog: !opts.foreground || opts.syslogEnable,
    ...logging,
    verbosity: opts.verbose + logging.verbosity,
  });
  try {
    for (const w of bootWarnings) log.warn(w);
    await checkLocale(config.get("LOCALE"), log);
    return await runAction(opts, config, log);
  } finally {
    await log.close();
  }
}

async function runAction(opts: DaemonOptions, config: ServerConfig, log: Logger): Promise<number> {
  const backend = () => makeBackend(config, backendSettingsFromConfig(config), opts, log);
  // The config loader already refused a relative FWKNOP_RUN_DIR (with its file:line).
  ensureRunDir(fileSettings(config).runDir, log);

  if (opts.action === "fw-list" || opts.action === "fw-list-all") {
    process.stdout.write(await backend().listText(opts.action === "fw-list-all"));
    return 0;
  }
  if (opts.action === "fw-flush") {
    process.stderr.write("Deleting any existing firewall rules...\n");
    await backend().flush();
    return 0;
  }

  const stanzas = loadAccessConfig(accessOptions(config, log));
  // Checked here so a bad cluster setting stops us before any firewall change.
  const cluster = clusterSettings(config);
  if (opts.action === "dump-config") {
    process.stdout.write(dumpConfig(config, stanzas, opts.asGiven));
    return 0;
  }
  if (opts.action === "explain") {
    const out = (t: string) => void process.stdout.write(t);
    return runExplain(opts.explainFile ?? "-", config, stanzas, log, out);
  }
  if (opts.exitParseConfig) {
    log.info("Configs parsed, exiting.");
    return 0;
  }
  // At -v -v 2.6.10 logs the -D dump (config settings, then each access stanza) at start-up.
  if (opts.verbose + loggingSettings(config).verbosity >= 2) {
    for (const line of dumpConfig(config, stanzas).split("\n")) log.debug(line);
  }

  const { pidFile } = fileSettings(config);
  // Without -f we re-spawn detached; the parent returns once the child reports ready.
  let ready: DaemonReady | undefined;
  if (!opts.foreground) {
    const outcome = await becomeDaemon(opts.daemonChild);
    if (outcome.role === "parent") return outcome.exitCode;
    ready = outcome.ready;
    // As a daemon: don't keep the start directory busy (upstream chdir("/")s too).
    process.chdir("/");
  }

  const pid = pidFile;
  acquirePidFile(pid);
  // 2.6.10's start-up lines.
  log.debug(`[+] Writing my PID (${process.pid}) to the lock file: ${pid}`);
  log.info("Starting fwknopd");
  try {
    return await serve(opts, config, stanzas, log, ready, cluster);
  } finally {
    releasePidFile(pid);
  }
}

async function serve(
  opts: DaemonOptions,
  config: ServerConfig,
  initialStanzas: AccessStanza[],
  log: Logger,
  ready: DaemonReady | undefined,
  clusterConfig: ClusterSettings | undefined,
): Promise<number> {
  const now = () => Math.floor(Date.now() / 1000);
  const files = fileSettings(config);
  const replay =
    files.digestFile !== undefined
      ? await openFileReplayCache({ path: files.digestFile, rotate: opts.rotateDigestCache, log })
      : undefined;
  if (opts.exitParseDigestCache) {
    log.info("Digest cache parsed, exiting.");
    await replay?.close();
    return 0;
  }

  // Loaded only when configured: a standalone gateway never loads the Redis client.
  const cluster: RunningCluster | undefined = clusterConfig
    ? await (await import("../cluster/cluster.js")).startCluster(clusterConfig, log)
    : undefined;

  // Before any firewall change: a bad METRICS_LISTEN or a busy port stops us here.
  const observers = await startObservability(config, log);
  // Upstream leaves the firewall alone in --test mode and when every stanza is a command cycle.
  const needsFirewall = !opts.testMode && initialStanzas.some((s) => s.cmdCycleOpen === undefined);
  const firewall = needsFirewall ? await startFirewall(config, opts, log) : undefined;

  const { intake, startLine, setupLines, ended } = createIntakeFromConfig(config, {
    log,
    udpServerForced: opts.cli.ENABLE_UDP_SERVER !== undefined,
  });
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const daemon = new Daemon({
    config,
    stanzas: initialStanzas,
    log,
    intake,
    replay,
    cluster,
    firewall,
    testMode: opts.testMode,
    packetLimit: opts.packetLimit,
    onLimit: () => {
      log.info(`* Incoming packet count limit of ${opts.packetLimit} reached`);
      log.info(`Packet count limit (${opts.packetLimit}) reached. Exiting...`);
      finish(0);
    },
    now,
  });
  observers.attach({ firewall, replay, intake, outcomes: () => daemon.outcomeCounts() });
  // Handlers go in before the intake starts, so a signal at any moment gets a clean exit.
  const systemd = systemdNotify({ log, status: () => daemon.countsSummary() });
  let stopping = false;
  const reload = () => {
    // A reload that arrives while stopping would race the shutdown; it is ignored.
    if (stopping) return;
    log.info("Got SIGHUP. Re-reading configs.");
    systemd.reloading();
    try {
      const fresh = loadServerConfig({
        configFile: opts.configFile,
        overrideFiles: opts.overrideFiles,
        cli: opts.cli,
        warn: (m) => log.warn(m),
      });
      const stanzas = loadAccessConfig(accessOptions(fresh, log));
      daemon.reload(fresh, stanzas, firewall ? backendSettingsFromConfig(fresh) : undefined);
      log.info(`Configs re-read: ${stanzas.length} access stanza(s); active grants kept.`);
    } catch (e) {
      log.error(`Reload failed, keeping the running configuration: ${(e as Error).message}`);
    }
    systemd.ready();
  };
  const removeSignalHandlers = installSignalHandlers({
    stop: (sig) => {
      log.info(`Got ${sig}. Exiting...`);
      finish(0);
    },
    reload,
    // Rejections are counted by code.
    counts: () => {
      log.info(daemon.countsSummary());
      if (cluster) log.info(cluster.summary());
    },
  });

  await daemon.start();
  if (firewall) cluster?.startFanout((req, expiresAt) => daemon.applyClusterGrant(req, expiresAt));
  // Logged once the intake really listens: scripts wait for this line.
  for (const line of setupLines) log.info(line);
  log.info(startLine);
  // A capture that ends by itself (end of --pcap-file, interface gone) ends the daemon.
  void ended.then((e) => {
    log[e.level](e.message);
    finish(e.code);
  });
  ready?.signal();
  systemd.ready();

  const code = await finished;
  stopping = true;
  systemd.stopping();
  log.info("Gracefully leaving the fwknopd event loop.");
  await daemon.stop();
  await cluster?.stop();
  log.info(daemon.countsSummary());
  if (firewall) {
    await firewall.ledger.stop();
    if (flushSettings(config).atExit) await firewall.backend.flush();
  }
  await replay?.close();
  await observers.close();
  await systemd.close();
  removeSignalHandlers();
  log.info("Shutting Down fwknopd.");
  return code;
}

interface RunningFirewall {
  backend: FirewallBackend;
  ledger: GrantLedger;
}

function makeBackend(
  config: ServerConfig,
  settings: FirewallSettings,
  opts: DaemonOptions,
  log: Logger,
): FirewallBackend {
  return createFirewallBackend(config.firewallType, settings, {
    log,
    noCheckSupport: opts.noIptCheckSupport,
  });
}

/** Chains/sets in place, then either a clean slate or the live grants adopted. */
async function startFirewall(
  config: ServerConfig,
  opts: DaemonOptions,
  log: Logger,
): Promise<RunningFirewall> {
  const settings = backendSettingsFromConfig(config);
  const backend = makeBackend(config, settings, opts, log);
  const flush = flushSettings(config).atInit;
  await backend.init({ flush });
  const ledger = new GrantLedger(backend, { log, settings });
  if (!flush) await ledger.adopt();
  return { backend, ledger };
}

function accessOptions(config: ServerConfig, log: Logger) {
  return {
    ...fileSettings(config).access,
    server: config,
    warn: (m: string) => log.warn(m),
    info: (m: string) => log.info(m),
    debug: (m: string) => log.debug(m),
  };
}
