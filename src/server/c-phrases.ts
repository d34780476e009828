/**
 * How fwknopd 2.6.10 words a per-stanza refusal, so log filters written for it keep matching:
 * a libfko failure while decoding a packet is "Error creating fko context: <fko_errstr>". Our
 * own detail follows in parentheses.
 */
import { ERRORS, type ErrorCode } from "../errors.js";

export function stanzaOutcomeText(code: ErrorCode, detail: string): string {
  if (!code.startsWith("FKO_ERROR_")) return detail;
  const text = ERRORS[code];
  return text === detail
    ? `Error creating fko context: ${text}`
    : `Error creating fko context: ${text} (${detail})`;
}
