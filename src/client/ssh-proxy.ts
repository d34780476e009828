/**
 * `--ssh-proxy HOST:PORT`: an OpenSSH ProxyCommand. After the knock it waits until the hidden
 * port accepts a connection, then relays stdin/stdout to it, so `ssh host` just works with
 *   Host myserver
 *       ProxyCommand fwknop --ssh-proxy %h:%p -n myserver
 */
import { Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import { FwknopError } from "../errors.js";

export interface ProxyTarget {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port`; the port must be 1–65535. */
export function parseProxyTarget(spec: string): ProxyTarget {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(spec) ?? /^([^:]+):(\d+)$/.exec(spec);
  const port = Number(m?.[2]);
  if (!m?.[1] || !(port >= 1 && port <= 65535)) {
    throw new FwknopError(
      "FWK_ERR_CLIENT_USAGE",
      `--ssh-proxy expects HOST:PORT (e.g. %h:%p in ~/.ssh/config), got '${spec}'`,
    );
  }
  return { host: m[1], port };
}

function tryConnect(t: ProxyTarget, timeoutMs: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const sock = new Socket();
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(undefined);
    }, timeoutMs);
    sock.once("error", () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(undefined);
    });
    sock.connect(t.port, t.host, () => {
      clearTimeout(timer);
      sock.removeAllListeners("error");
      resolve(sock);
    });
  });
}

export interface WaitOptions {
  /** Give up after this long (the firewall rule may take a moment to appear). */
  totalMs: number;
  attemptMs: number;
  pauseMs: number;
}

export const DEFAULT_WAIT: WaitOptions = { totalMs: 15000, attemptMs: 1000, pauseMs: 250 };

/** Connects to the target, retrying until it answers or the time is up. */
export async function waitForPort(t: ProxyTarget, w: WaitOptions = DEFAULT_WAIT): Promise<Socket> {
  const deadline = Date.now() + w.totalMs;
  for (let attempt = 1; Date.now() < deadline && attempt <= 1000; attempt++) {
    const sock = await tryConnect(t, Math.min(w.attemptMs, Math.max(1, deadline - Date.now())));
    if (sock) return sock;
    await new Promise((r) => setTimeout(r, w.pauseMs));
  }
  throw new FwknopError(
    "FWK_ERR_CLIENT_SSH_PROXY",
    `[*] ${t.host} port ${t.port} did not accept a connection within ${w.totalMs / 1000} s after the SPA packet was sent`,
  );
}

/** Relays both directions until the service closes; resolves when the session is over. */
export function relay(sock: Socket, input: Readable, output: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      input.unpipe(sock);
      input.pause();
      resolve();
    };
    input.pipe(sock);
    sock.pipe(output, { end: false });
    sock.once("close", done);
    sock.once("error", () => sock.destroy());
  });
}
