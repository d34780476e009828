/**
 * Port lists — OPEN_PORTS / RESTRICT_PORTS in access.conf and the proto/port list of an SPA
 * message for a command cycle: comma-separated `tcp/N` or `udp/N` (protocol case-insensitive,
 * port 0-65535), whitespace allowed around each entry. Unlike fwknopd 2.6.10, which reads the
 * port with strtol and so takes `tcp/abc` as tcp/0 and `tcp/22x` as tcp/22 without a word, the
 * port must be decimal digits and nothing else: a typo is an error, never a different port.
 */
import { ok, type Result, reject } from "../errors.js";
import { isCSpace } from "./tokenizer.js";

export interface PortSpec {
  proto: "tcp" | "udp";
  port: number;
}

const MAX_PORT = 65535;

function parseEntry(raw: string): Result<PortSpec> {
  let start = 0;
  while (start < raw.length && isCSpace(raw[start])) start++;
  const entry = raw.slice(start);
  const slash = entry.indexOf("/");
  if (slash < 0) {
    // 2.6.10's words first: operators grep them.
    return reject(
      "FWK_ERR_CONFIG_PORTS",
      `Parse error on access port entry: ${entry} (not proto/port, e.g. tcp/22)`,
    );
  }
  const proto = entry.slice(0, slash).toLowerCase();
  const digits = entry.slice(slash + 1).trimEnd();
  const port = /^\d{1,5}$/.test(digits) ? Number(digits) : Number.NaN;
  if (!(port >= 0 && port <= MAX_PORT)) {
    return reject(
      "FWK_ERR_CONFIG_PORTS",
      `Invalid port '${entry}' in access request, must be in [0,${MAX_PORT}]`,
    );
  }
  if (proto !== "tcp" && proto !== "udp") {
    return reject(
      "FWK_ERR_CONFIG_PORTS",
      `Invalid protocol in access port entry: ${entry} (only tcp and udp)`,
    );
  }
  return ok({ proto, port });
}

export function parsePortList(text: string): Result<PortSpec[]> {
  const out: PortSpec[] = [];
  for (const raw of text.split(",")) {
    const parsed = parseEntry(raw);
    if (!parsed.ok) return parsed;
    out.push(parsed.value);
  }
  return ok(out);
}

/** `tcp/22` form of a spec, as fwknop writes it. */
export function formatPortSpec(spec: PortSpec): string {
  return `${spec.proto}/${spec.port}`;
}
