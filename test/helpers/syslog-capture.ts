/**
 * A stand-in for /dev/log: a unix datagram socket in a temp dir that keeps every syslog
 * datagram, and the command prefix that runs a program in a private mount namespace whose
 * /dev/log is that socket. The host's own /dev/log (if any) is never touched: the private
 * /dev is a tmpfs of symlinks to the real device nodes plus `log` pointing at our socket.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface SyslogLine {
  /** Syslog severity (0 emerg .. 7 debug). */
  severity: number;
  facility: number;
  /** `ident[pid]` as sent. */
  tag: string;
  /** The message after `ident[pid]: `. */
  msg: string;
}

export interface SyslogCapture {
  path: string;
  lines: SyslogLine[];
  /** Resolves with the first line (after index `since`) whose msg matches `re`. */
  waitFor(re: RegExp, timeoutMs?: number, since?: number): Promise<SyslogLine>;
  close(): void;
}

interface UnixDgramSocket {
  bind(path: string): void;
  on(event: "message", l: (buf: Buffer) => void): void;
  on(event: "error", l: (err: Error) => void): void;
  close(): void;
}

/** True when the optional unix-dgram addon (needed to receive datagrams) is installed. */
export function canCaptureSyslog(): boolean {
  return loadAddon() !== undefined;
}

function loadAddon(): { createSocket(t: "unix_dgram"): UnixDgramSocket } | undefined {
  try {
    return createRequire(import.meta.url)("unix-dgram");
  } catch {
    return undefined;
  }
}

/** Parses `<PRI>Mmm dd hh:mm:ss ident[pid]: msg`. */
export function parseSyslogDatagram(text: string): SyslogLine | undefined {
  const m = /^<(\d+)>(?:\w{3} [ \d]\d \d\d:\d\d:\d\d )?(\S+?): (.*)$/s.exec(text);
  if (!m) return undefined;
  const pri = Number(m[1]);
  return { severity: pri % 8, facility: pri >> 3, tag: m[2] ?? "", msg: (m[3] ?? "").trimEnd() };
}

/** Binds a unix datagram socket at `path`; every datagram goes to `onMessage`. */
export function bindDatagrams(path: string, onMessage: (text: string) => void): () => void {
  const addon = loadAddon();
  if (!addon) throw new Error("unix-dgram is not installed");
  const sock = addon.createSocket("unix_dgram");
  sock.on("error", () => {});
  sock.on("message", (buf) => onMessage(buf.toString()));
  sock.bind(path);
  return () => sock.close();
}

export function captureSyslog(): SyslogCapture {
  const dir = mkdtempSync(join(tmpdir(), "fwk-syslog-"));
  const path = join(dir, "log");
  const lines: SyslogLine[] = [];
  const waiters: { re: RegExp; since: number; resolve: (l: SyslogLine) => void }[] = [];
  const close = bindDatagrams(path, (text) => {
    const line = parseSyslogDatagram(text);
    if (!line) return;
    lines.push(line);
    for (const w of [...waiters]) {
      if (lines.length - 1 >= w.since && w.re.test(line.msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  return {
    path,
    lines,
    waitFor(re, timeoutMs = 15_000, since = 0) {
      const found = lines.slice(since).find((l) => re.test(l.msg));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const seen = lines.map((l) => `<${l.severity}> ${l.msg}`).join("\n");
          reject(new Error(`no syslog line matching ${re} within ${timeoutMs} ms; got:\n${seen}`));
        }, timeoutMs);
        waiters.push({
          re,
          since,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    close() {
      close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * argv prefix: run the rest of the command line in a private mount namespace where /dev/log
 * is `socketPath`. Works with `ip netns exec` after it (that keeps our /dev).
 */
export function withPrivateDevLog(socketPath: string): string[] {
  const script = [
    "set -e",
    'old="$FWK_OLD_DEV"',
    'mkdir -p "$old"',
    'mount --rbind /dev "$old"',
    "mount -t tmpfs -o mode=755 fwk-dev /dev",
    'for f in "$old"/* "$old"/.[!.]*; do [ -e "$f" ] || [ -L "$f" ] || continue; ln -s "$f" "/dev/$(basename "$f")"; done',
    'rm -f /dev/log; ln -s "$FWK_SYSLOG_SOCKET" /dev/log',
    'exec "$@"',
  ].join("\n");
  return [
    "env",
    `FWK_SYSLOG_SOCKET=${socketPath}`,
    `FWK_OLD_DEV=${dirname(socketPath)}/dev`,
    "unshare",
    "-m",
    "--propagation",
    "private",
    "sh",
    "-c",
    script,
    "sh",
  ];
}
