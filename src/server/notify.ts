/**
 * systemd's notify protocol (sd_notify(3)) for `Type=notify` units: READY=1 once the intake
 * listens and the firewall is initialised, STATUS= with active grants and packet counts,
 * WATCHDOG=1 every half WATCHDOG_USEC (from the event loop, so a stuck loop gets us restarted),
 * RELOADING=1 around SIGHUP, STOPPING=1 at shutdown. Without NOTIFY_SOCKET everything is a no-op.
 *
 * Datagrams go out through the optional unix-dgram addon; without it (or for an abstract
 * socket, `@name`, which the addon cannot address) through systemd-notify(1), which needs
 * `NotifyAccess=all` in the unit because the sender is then our child.
 */
import type { Logger } from "../log/logger.js";
import { run } from "../sys/run.js";
import { loadUnixDgram } from "../sys/unix-dgram.js";

export interface NotifyOptions {
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** Default "auto": unix-dgram when installed and the socket is a path, else systemd-notify. */
  transport?: "auto" | "unix-dgram" | "systemd-notify";
  /** The STATUS= text, read for each status update. */
  status: () => string;
  /** Milliseconds between STATUS= updates when no watchdog sets the pace (default 10 s). */
  statusEveryMs?: number;
}

export interface SystemdNotify {
  ready(): void;
  reloading(): void;
  stopping(): void;
  /** Stops the timers; queued messages are still delivered. */
  close(): Promise<void>;
}

type Send = (lines: readonly string[]) => void;

export function systemdNotify(opts: NotifyOptions): SystemdNotify {
  const env = opts.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  if (!socket) {
    return { ready() {}, reloading() {}, stopping() {}, close: () => Promise.resolve() };
  }
  let problemReported = false;
  const problem = (msg: string) => {
    if (!problemReported) opts.log.warn(`systemd notification failed: ${msg}`);
    problemReported = true;
  };
  const { send, drain } = sender(socket, opts.transport ?? "auto", problem);
  const status = () => `STATUS=${opts.status().replace(/\n/g, " ")}`;

  const watchdogMs = watchdogInterval(env);
  const timer = setInterval(
    () => send(watchdogMs ? ["WATCHDOG=1", status()] : [status()]),
    watchdogMs ?? opts.statusEveryMs ?? 10_000,
  );
  timer.unref();
  return {
    ready: () => send(["READY=1", status()]),
    reloading: () =>
      send([
        "RELOADING=1",
        // systemd 253+ pairs RELOADING=1 with the monotonic time (sd_notify(3)).
        `MONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`,
        "STATUS=Re-reading configuration",
      ]),
    stopping: () => send(["STOPPING=1", "STATUS=Shutting down"]),
    close() {
      clearInterval(timer);
      return drain();
    },
  };
}

/** Half of WATCHDOG_USEC in ms (sd_watchdog_enabled(3)); undefined when not for us. */
export function watchdogInterval(env: NodeJS.ProcessEnv): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== process.pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

function sender(
  socket: string,
  transport: NonNullable<NotifyOptions["transport"]>,
  problem: (msg: string) => void,
): { send: Send; drain: () => Promise<void> } {
  const addon =
    transport === "systemd-notify" || socket.startsWith("@") ? undefined : loadUnixDgram();
  if (addon) {
    return {
      send(lines) {
        const buf = Buffer.from(lines.join("\n"));
        try {
          const s = addon.createSocket("unix_dgram");
          s.on("error", () => {});
          s.send(buf, 0, buf.length, socket, (err) => {
            if (err) problem(`${socket}: ${err.message}`);
          });
          s.close();
        } catch (e) {
          problem((e as Error).message);
        }
      },
      drain: () => Promise.resolve(),
    };
  }
  if (transport === "unix-dgram") throw new Error("the unix-dgram package is not installed");
  // One systemd-notify at a time, so READY=1 is never overtaken by a later STATUS=.
  let chain = Promise.resolve();
  return {
    send(lines) {
      chain = chain.then(async () => {
        const r = await run(["systemd-notify", `--pid=${process.pid}`, ...lines], {
          env: { NOTIFY_SOCKET: socket },
          timeoutMs: 5000,
        }).catch((e: unknown) => ({ code: -1, stderr: (e as Error).message }));
        if (r.code !== 0) problem(`systemd-notify exited with ${r.code}: ${r.stderr.trim()}`);
      });
    },
    drain: () => chain,
  };
}
