/**
 * A stand-in for systemd's NOTIFY_SOCKET: a unix datagram socket in a temp dir that keeps
 * every sd_notify message as its `KEY=value` lines.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bindDatagrams } from "./syslog-capture.js";

export interface NotifySocket {
  path: string;
  messages: string[][];
  /** Resolves with the index of the first message (from index `since`) containing `line`. */
  waitFor(line: RegExp, timeoutMs?: number, since?: number): Promise<number>;
  close(): void;
}

export function listenNotifySocket(): NotifySocket {
  const dir = mkdtempSync(join(tmpdir(), "fwk-notify-"));
  const path = join(dir, "notify");
  const messages: string[][] = [];
  const close = bindDatagrams(path, (text) => void messages.push(text.split("\n")));
  const find = (re: RegExp, since: number) =>
    messages.findIndex((m, i) => i >= since && m.some((l) => re.test(l)));
  return {
    path,
    messages,
    async waitFor(re, timeoutMs = 15_000, since = 0) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const i = find(re, since);
        if (i >= 0) return i;
        if (Date.now() > until)
          throw new Error(`no notify message with ${re}; got ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close() {
      close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
