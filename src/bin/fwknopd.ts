import { main } from "../server/main.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Open handles (timers, sockets) must not keep a finished command alive.
    setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(
      `fwknopd: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
