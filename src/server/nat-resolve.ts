/**
 * The NAT step of the packet path (spec §8 step 16): an access grant whose NAT target names a
 * host gets that host's IPv4 address (ENABLE_NAT_DNS), or becomes a refusal with
 * FWK_ERR_SPA_NAT_RESOLVE. It runs before the decision is recorded, so a NAT knock that fails
 * here is counted as refused, never as granted.
 */
import { lookup } from "node:dns/promises";
import { isIPv4 } from "node:net";
import type { Decision } from "./pipeline.js";

export interface NatResolveOptions {
  /** ENABLE_NAT_DNS. */
  dns: boolean;
  /** Host name → IPv4 address (default: the system resolver); throws when there is none. */
  resolve?: (host: string) => Promise<string>;
}

const systemResolve = async (host: string) => (await lookup(host, { family: 4 })).address;

/** The decision with the NAT host resolved to an IPv4 address, or a refusal saying why not. */
export async function resolveNatStep(d: Decision, opts: NatResolveOptions): Promise<Decision> {
  if (!d.ok || d.grant.kind !== "access" || !d.grant.nat || isIPv4(d.grant.nat.host)) return d;
  const { host, port } = d.grant.nat;
  const refuse = (detail: string): Decision => ({
    ok: false,
    code: "FWK_ERR_SPA_NAT_RESOLVE",
    detail,
    authenticated: true,
    message: d.message,
    outcomes: d.outcomes,
  });
  if (!opts.dns) {
    return refuse(`Invalid NAT IP in SPA message; resolving the hostname '${host}' is disabled`);
  }
  const valid = host.length <= 254 && host.split(".").every((l) => /^[A-Za-z0-9-]{1,63}$/.test(l));
  if (!valid) return refuse(`Invalid Hostname in NAT SPA message: '${host}'`);
  try {
    const ip = await (opts.resolve ?? systemResolve)(host);
    return { ...d, grant: { ...d.grant, nat: { host: ip, port } } };
  } catch {
    return refuse(`Unable to resolve Hostname in NAT SPA message: '${host}'`);
  }
}
