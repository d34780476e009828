/**
 * Foreground logging (`-f`): one plain line per message on stderr, exactly the text upstream
 * prints, so the harness strings operators wait for ("Kicking off UDP server ...") match.
 */
import { fstatSync } from "node:fs";
import type { LogSink } from "./logger.js";

export interface LineWriter {
  write(text: string): unknown;
}

/**
 * With `journaled`, each line carries a `<severity>` prefix, which journald turns into the
 * entry's priority (sd-daemon(3)); used when stderr is connected to the journal.
 */
export function createStderrSink(
  out: LineWriter = process.stderr,
  journaled = stderrIsJournal(),
): LogSink {
  // A closed stderr (the reader of a pipe went away) must not crash the daemon with an
  // unhandled 'error' event; there is nowhere left to report it anyway.
  if (out === process.stderr && process.stderr.listenerCount("error") === 0) {
    process.stderr.on("error", () => {});
  }
  return {
    write(severity, msg) {
      out.write(journaled ? prefixLines(severity, msg) : `${msg}\n`);
    },
    close: () => Promise.resolve(),
  };
}

function prefixLines(severity: number, msg: string): string {
  return msg
    .split("\n")
    .map((line) => `<${severity}>${line}\n`)
    .join("");
}

/**
 * systemd sets JOURNAL_STREAM to "<dev>:<inode>" of the stream it connected; it is only ours if
 * fd 2 is still that stream (a child's redirected stderr inherits the variable but not the fd).
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const want = env.JOURNAL_STREAM;
  if (!want) return false;
  try {
    const st = fstatSync(2);
    return want === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}
