/**
 * fwknopd's signals (spec §12.3): SIGTERM/SIGINT stop, SIGHUP reloads, SIGUSR1 logs the packet
 * counts (ours; upstream ignores it), SIGUSR2 is ignored. Installed before the intake starts so
 * a signal at any moment gets a clean exit; removal takes off exactly the listeners installed
 * here, never someone else's.
 */

export interface SignalActions {
  stop(signal: "SIGTERM" | "SIGINT"): void;
  reload(): void;
  counts(): void;
}

/** Installs the handlers; the returned function removes them again. */
export function installSignalHandlers(actions: SignalActions): () => void {
  const handlers: [NodeJS.Signals, () => void][] = [
    ["SIGTERM", () => actions.stop("SIGTERM")],
    ["SIGINT", () => actions.stop("SIGINT")],
    ["SIGHUP", () => actions.reload()],
    ["SIGUSR1", () => actions.counts()],
    ["SIGUSR2", () => {}],
  ];
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
