/**
 * -R / --resolve-url / --resolve-http-only: ask a web service for the client's external IPv4
 * address (spec §13.2). Upstream runs wget for HTTPS; we use Node's own HTTPS client, which
 * verifies the server certificate against the system CAs (plus NODE_EXTRA_CA_CERTS).
 */
import { FwknopError } from "../errors.js";
import { isValidIpv4Text } from "../protocol/fields.js";

export const DEFAULT_RESOLVE_URL = "https://www.cipherdyne.org/cgi-bin/myip";
export const DEFAULT_RESOLVE_HTTP_URL = "http://www.cipherdyne.org/cgi-bin/myip";

export interface ResolveOptions {
  url?: string;
  httpOnly: boolean;
  /** undefined sends no User-Agent header of ours (--use-wget-user-agent). */
  userAgent?: string;
  timeoutMs?: number;
  warn: (line: string) => void;
}

/** The first dotted-quad in a response body that is a valid IPv4 address. */
export function extractIpv4(body: string): string | undefined {
  for (const m of body.matchAll(/\d{1,3}(?:\.\d{1,3}){3}/g)) {
    if (isValidIpv4Text(m[0])) return m[0];
  }
  return undefined;
}

async function fetchText(
  url: URL,
  userAgent: string | undefined,
  timeoutMs: number,
): Promise<string> {
  // Loaded here, not at start-up: only -R needs HTTP, and node:https (TLS) is costly to load.
  const { get } =
    url.protocol === "https:" ? await import("node:https") : await import("node:http");
  return new Promise((resolve, reject) => {
    const req = get(
      url,
      { headers: userAgent ? { "User-Agent": userAgent } : {}, timeout: timeoutMs },
      (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          res.resume();
          reject(new FwknopError("FWK_ERR_CLIENT_RESOLVE", `HTTP status ${res.statusCode}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          // An address fits in a few bytes; refuse to buffer a large page.
          if (size > 65536)
            req.destroy(new FwknopError("FWK_ERR_CLIENT_RESOLVE", "response too large"));
          else chunks.push(c);
        });
        res.on("end", () => resolve(Buffer.concat(chunks).toString("latin1")));
        res.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(new FwknopError("FWK_ERR_CLIENT_RESOLVE", `no answer within ${timeoutMs} ms`)),
    );
    req.on("error", reject);
  });
}

export async function resolveExternalIp(o: ResolveOptions): Promise<string> {
  const text = o.url ?? (o.httpOnly ? DEFAULT_RESOLVE_HTTP_URL : DEFAULT_RESOLVE_URL);
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `${o.httpOnly ? "http" : "https"}://${text}`);
  } catch {
    throw new FwknopError("FWK_ERR_CLIENT_RESOLVE", `Error parsing resolve-url '${text}'`);
  }
  if (o.httpOnly && url.protocol === "https:") {
    throw new FwknopError(
      "FWK_ERR_CLIENT_RESOLVE",
      "[*] https is not supported for --resolve-http-only.",
    );
  }
  if (!o.httpOnly && url.protocol !== "https:") {
    o.warn(`[-] Warning: IP resolution URL '${text}' should begin with 'https://' in -R mode.`);
  }
  let body: string;
  try {
    body = await fetchText(url, o.userAgent, o.timeoutMs ?? 10000);
  } catch (e) {
    throw new FwknopError(
      "FWK_ERR_CLIENT_RESOLVE",
      `[-] Could not resolve IP via: '${url.href}': ${(e as Error).message}`,
    );
  }
  const ip = extractIpv4(body);
  if (!ip) {
    throw new FwknopError(
      "FWK_ERR_CLIENT_RESOLVE",
      `[-] Could not resolve IP via: '${url.href}': no IPv4 address in the response`,
    );
  }
  return ip;
}
