/**
 * The optional `unix-dgram` addon: AF_UNIX datagram sockets, which node:dgram lacks (udp4/udp6
 * only). Used for /dev/log and for systemd's NOTIFY_SOCKET; callers fall back to a helper
 * program (logger(1), systemd-notify(1)) when it is not installed or did not build.
 */
import { createRequire } from "node:module";

/** The part of unix-dgram's API we use (it ships no type declarations). */
export interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb: (err?: Error) => void): void;
  on(event: "error", listener: (err: Error) => void): void;
  close(): void;
}
export interface UnixDgramModule {
  createSocket(type: "unix_dgram"): UnixDgramSocket;
}

/** The addon, or undefined when it is not installed or did not build. */
export function loadUnixDgram(): UnixDgramModule | undefined {
  try {
    return createRequire(import.meta.url)("unix-dgram") as UnixDgramModule;
  } catch {
    return undefined;
  }
}
