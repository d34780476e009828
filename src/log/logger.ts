/**
 * The logging seam. Every module that reports something takes a `Logger`; the daemon builds
 * one that writes to stderr (foreground) and/or syslog. Levels map 1:1 to syslog priorities.
 */
export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  notice(msg: string): void;
  info(msg: string): void;
  /** Detail shown with -v (e.g. the SPA field dump). */
  debug(msg: string): void;
  /**
   * False when debug lines are dropped, so a caller can skip building costly ones (the field
   * dump of every authenticated packet); absent means they may be kept.
   */
  readonly debugEnabled?: boolean;
}

/** Where formatted messages go (stderr, syslog); `severity` is a syslog severity. */
export interface LogSink {
  write(severity: number, msg: string): void;
  close(): Promise<void>;
}

/** A logger that drops everything: for tests and for tools that stay silent. */
export const silentLogger: Logger = {
  debugEnabled: false,
  error() {},
  warn() {},
  notice() {},
  info() {},
  debug() {},
};
