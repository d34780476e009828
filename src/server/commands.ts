/**
 * SPA command messages (spec §11.5) and CMD_CYCLE_OPEN/CLOSE command cycles (§11.6).
 * Commands are split on whitespace and run without a shell, as upstream does: shell
 * metacharacters in a command are literal.
 */
import { escapeLogText } from "../log/escape.js";
import type { Logger } from "../log/logger.js";
import { run } from "../sys/run.js";
import type { CommandGrant, CycleGrant } from "./policy.js";
import type { Timers } from "./timers.js";

/**
 * fwknopd 2.6.10 splits a command into at most MAX_CMDLINE_ARGS - 2 = 28 words (its argv array
 * keeps room for the NULL); a longer one is refused and never run.
 */
const MAX_COMMAND_WORDS = 28;

/** The command's words, or undefined (with 2.6.10's two log lines) when there are too many. */
export function commandArgv(cmd: string, log: Logger): string[] | undefined {
  const argv = cmd.split(/\s+/).filter((w) => w !== "");
  if (argv.length <= MAX_COMMAND_WORDS) return argv;
  log.error(
    `[*] max command line args exceeded. (${argv.length} words, at most ${MAX_COMMAND_WORDS})`,
  );
  log.error(`Error converting cmd str to argv: '${escapeLogText(cmd)}'`);
  return undefined;
}

/** Upstream runs commands without a time limit; we give them a generous one. */
const COMMAND_TIMEOUT_MS = 5 * 60_000;

export interface CommandContext {
  log: Logger;
  sudoExe: string;
  /** Unix seconds. */
  now: () => number;
}

export async function runSpaCommand(grant: CommandGrant, ctx: CommandContext): Promise<boolean> {
  const s = grant.stanza;
  ctx.log.info(`Processing SPA Command message: command='${escapeLogText(grant.command)}'.`);
  const sudo: string[] = [];
  if (s.enableCmdSudoExec) {
    sudo.push(ctx.sudoExe);
    if (s.cmdSudoExecUser && !s.cmdSudoExecUser.startsWith("root"))
      sudo.push("-u", s.cmdSudoExecUser);
    if (s.cmdSudoExecGroup && !s.cmdSudoExecGroup.startsWith("root"))
      sudo.push("-g", s.cmdSudoExecGroup);
  }
  // The sudo prefix counts towards the word limit, as it does in 2.6.10.
  const argv = commandArgv([...sudo, grant.command].join(" "), ctx.log);
  if (argv === undefined) return false;
  // CMD_EXEC_USER / CMD_EXEC_GROUP were resolved to ids when access.conf was loaded.
  const identity = {
    ...(s.cmdExecUid !== undefined && s.cmdExecUid !== 0 ? { uid: s.cmdExecUid } : {}),
    ...(s.cmdExecGid !== undefined ? { gid: s.cmdExecGid } : {}),
  };
  ctx.log.info(`Running command '${escapeLogText(argv.join(" "))}'...`);
  try {
    const r = await run(argv, {
      timeoutMs: COMMAND_TIMEOUT_MS,
      cwd: "/",
      cleanEnv: true,
      ...identity,
    });
    ctx.log.info(`Command exited with status ${r.code}`);
    return r.code === 0;
  } catch (e) {
    ctx.log.error(
      `SPA command '${escapeLogText(grant.command)}' failed: ${escapeLogText((e as Error).message)}`,
    );
    return false;
  }
}

export interface CycleFacts {
  packetSrcIp: string;
  packetDstIp: string;
  /** SPA message timestamp. */
  timestamp: number;
  clientTimeout: number | undefined;
}

/** Replaces $IP, $SRC, $PKT_SRC, $DST, $PORT, $PROTO, $TIMEOUT, $CLIENT_TIMEOUT (§11.6). */
export function expandCycleCommand(template: string, grant: CycleGrant, facts: CycleFacts): string {
  const first = grant.ports[0];
  const timer =
    facts.clientTimeout !== undefined && facts.clientTimeout > 0
      ? facts.clientTimeout
      : (grant.stanza.cmdCycleTimer ?? 0);
  const values: [string, string][] = [
    // Longest names first so $PKT_SRC is not read as $P... and $CLIENT_TIMEOUT not as $C...
    ["CLIENT_TIMEOUT", String(timer)],
    ["PKT_SRC", facts.packetSrcIp],
    ["TIMEOUT", String(facts.timestamp + timer)],
    ["PROTO", first ? String(first.proto === "tcp" ? 6 : 17) : ""],
    ["PORT", first ? String(first.port) : ""],
    ["SRC", grant.clientIp],
    ["DST", facts.packetDstIp],
    ["IP", grant.clientIp],
  ];
  return template.replace(/\$([A-Z_]*)/g, (_m, name: string) => {
    for (const [key, value] of values)
      if (name.startsWith(key)) return value + name.slice(key.length);
    return name; // an unknown $NAME drops the '$', as upstream
  });
}

export interface CommandCyclesOptions extends CommandContext {
  /** Timer functions (default the global ones); tests inject fake ones. */
  timers?: Timers;
}

/** A pending close command keeps the process alive, as upstream's cycle list does. */
const globalTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Runs the open command now and schedules the close command (unless CMD_CYCLE_CLOSE is NONE).
 * One pending close per command text: a re-knock before the close ran moves its deadline (to
 * the later one) instead of scheduling the same close twice.
 */
export class CommandCycles {
  /** Scheduled close commands: command text → timer and deadline (Unix seconds). */
  private readonly pending = new Map<string, { handle: unknown; at: number }>();
  private readonly ctx: CommandContext;
  private readonly timers: Timers;
  constructor(opts: CommandCyclesOptions) {
    this.ctx = opts;
    this.timers = opts.timers ?? globalTimers;
  }

  async open(grant: CycleGrant, facts: CycleFacts): Promise<boolean> {
    const s = grant.stanza;
    const openCmd = expandCycleCommand(s.cmdCycleOpen ?? "", grant, facts);
    // 2.6.10's lines, with the client address and stanza number.
    const who = `[${facts.packetSrcIp}] (stanza #${s.index})`;
    this.ctx.log.info(`${who} Running CMD_CYCLE_OPEN command: ${openCmd}`);
    const ok = await this.exec(openCmd);
    const close = s.cmdCycleClose;
    if (close && close.toUpperCase() !== "NONE") {
      const delay =
        facts.clientTimeout !== undefined && facts.clientTimeout > 0
          ? facts.clientTimeout
          : (s.cmdCycleTimer ?? 0);
      const closeCmd = expandCycleCommand(close, grant, facts);
      this.ctx.log.info(`${who} Running CMD_CYCLE_CLOSE command in ${delay} seconds: ${closeCmd}`);
      this.scheduleClose(closeCmd, delay, who);
    }
    return ok;
  }

  private scheduleClose(cmd: string, delay: number, who: string): void {
    const at = this.ctx.now() + delay;
    const known = this.pending.get(cmd);
    if (known && known.at >= at) return;
    if (known) this.timers.clearTimeout(known.handle);
    const handle = this.timers.setTimeout(() => {
      this.pending.delete(cmd);
      this.ctx.log.info(`${who} Timer expired, running CMD_CYCLE_CLOSE command: ${cmd}`);
      void this.exec(cmd);
    }, delay * 1000);
    this.pending.set(cmd, { handle, at });
  }

  private async exec(cmd: string): Promise<boolean> {
    this.ctx.log.info(`Running command cycle command '${escapeLogText(cmd)}'`);
    const argv = commandArgv(cmd, this.ctx.log);
    if (argv === undefined) return false;
    try {
      const r = await run(argv, { timeoutMs: COMMAND_TIMEOUT_MS, cwd: "/", cleanEnv: true });
      return r.code === 0;
    } catch (e) {
      this.ctx.log.error(
        `Command cycle command '${escapeLogText(cmd)}' failed: ${escapeLogText((e as Error).message)}`,
      );
      return false;
    }
  }

  /** Runs every pending close command now (daemon exit: access must not outlive us). */
  async closeAll(): Promise<void> {
    const cmds = [...this.pending];
    this.pending.clear();
    for (const [cmd, { handle }] of cmds) {
      this.timers.clearTimeout(handle);
      await this.exec(cmd);
    }
  }
}
