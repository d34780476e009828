/**
 * How the client words a libfko-level refusal: the C client prints `fko_errstr()` text, which
 * users and the upstream test suite grep for ("Invalid SPA access message format",
 * "Args contain invalid data: FKO_ERROR_…", "Invalid key length"). We print that text, our
 * detail, and the code.
 */
import { ERRORS, type ErrorCode, FwknopError } from "../errors.js";

export function fkoMessage(code: ErrorCode, detail: string): string {
  const text = ERRORS[code];
  const tail = text.includes(code) ? "" : ` [${code}]`;
  return `fwknop: ${text}${detail ? ` (${detail})` : ""}${tail}`;
}

export function fkoError(code: ErrorCode, detail: string, before?: string): FwknopError {
  return new FwknopError(code, `${before ? `${before}\n` : ""}${fkoMessage(code, detail)}`);
}

/**
 * A NAT host as the C client accepts it for -N: an IPv4-looking or DNS name of labels of
 * letters, digits and '-' (no empty label, no leading/trailing '-'), at most 70 characters.
 */
export function isValidNatHost(host: string): boolean {
  if (host.length === 0 || host.length > 70) return false;
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  return name
    .split(".")
    .every(
      (l) => l.length > 0 && l.length <= 63 && /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(l),
    );
}
