/**
 * `--verify[=SECONDS]` (ours): after the knock, probe the requested TCP port(s) on the server
 * until each accepts a connection or the time is up, so a knock that opened nothing (dead
 * server, wrong key, clock skew, port not allowed) is an error instead of a silent exit 0.
 * The probe is --ssh-proxy's (waitForPort); the connection is closed at once.
 */

import { parsePortList } from "../config/port-list.js";
import { FwknopError } from "../errors.js";
import { waitForPort } from "./ssh-proxy.js";

export interface VerifyRequest {
  host: string;
  /** The -A access spec, e.g. `tcp/22,udp/53`. */
  access: string;
  seconds: number;
}

/** The TCP ports of an access spec; UDP cannot be probed without the service's protocol. */
export function tcpPortsToVerify(access: string): number[] {
  const list = parsePortList(access);
  if (!list.ok) return [];
  return [...new Set(list.value.filter((p) => p.proto === "tcp").map((p) => p.port))];
}

/** Resolves with a report line once every TCP port answers; throws FWK_ERR_CLIENT_VERIFY if not. */
export async function verifyAccess(v: VerifyRequest): Promise<string> {
  const ports = tcpPortsToVerify(v.access);
  if (ports.length === 0) {
    throw new FwknopError(
      "FWK_ERR_CLIENT_VERIFY",
      `[*] --verify: no TCP port in '${v.access}' to probe`,
    );
  }
  const started = Date.now();
  const wait = { totalMs: v.seconds * 1000, attemptMs: 1000, pauseMs: 250 };
  const results = await Promise.allSettled(
    ports.map(async (port) => (await waitForPort({ host: v.host, port }, wait)).destroy()),
  );
  const closed = ports.filter((_, i) => results[i]?.status === "rejected");
  if (closed.length > 0) {
    const which = closed.map((p) => `tcp/${p}`).join(", ");
    throw new FwknopError(
      "FWK_ERR_CLIENT_VERIFY",
      `[*] --verify: access did not open: ${v.host} ${which} accepted no connection within ${v.seconds} s of the knock (server down or not listening, wrong key or HMAC type, clock skew, or port not allowed)`,
    );
  }
  const list = ports.map((p) => `tcp/${p}`).join(", ");
  return `[+] --verify: ${v.host} ${list} open (${Date.now() - started} ms after the knock)`;
}
