import { defaultKeyIo } from "../client/key-source.js";
import { askOnStdin, runClient } from "../client/main.js";

const err = (t: string) => process.stderr.write(t);
runClient(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err,
  env: process.env,
  stdoutIsTty: process.stdout.isTTY === true,
  keys: { ...defaultKeyIo, warn: (l) => err(`${l}\n`) },
  ask: (q) => askOnStdin(q, err),
  // Getters: touching process.stdin builds a stream; only the SSH ProxyCommand relay needs one.
  get stdin() {
    return process.stdin;
  },
  get stdout() {
    return process.stdout;
  },
}).then(
  (code) => {
    process.exitCode = code;
    // Open handles (sockets, timers) must not keep a finished knock alive; flush stdout first.
    process.stdout.write("", () => process.exit(code));
  },
  (e: unknown) => {
    process.stderr.write(
      `fwknop: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exit(1);
  },
);
