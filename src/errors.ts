/**
 * The one registry of stable error codes. Every rejection and every operator-facing failure
 * carries one of these codes; docs/errors.md documents each (a test keeps both in sync).
 *
 * Naming: libfko names (FKO_ERROR_*) for codec failures, fwknopd-style SPA_MSG_* verdicts for
 * pipeline rejections, FWK_ERR_<AREA>_<WHAT> for our own.
 *
 * Each area keeps its codes in its own block below; add new codes to your area's block.
 */
export const ERRORS = {
  // --- codec: wire format, crypto, HMAC (libfko names) ---

  // --- server pipeline verdicts (fwknopd names) ---

  // --- configuration ---

  // --- firewall ---

  // --- process and runtime ---
  FWK_ERR_CMD_FAILED: "An external command exited with a non-zero status",
  FWK_ERR_CMD_TIMEOUT: "An external command did not finish in time and was killed",
  FWK_ERR_CMD_SPAWN: "An external command could not be started",
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERRORS;

/** A per-packet or per-input refusal: a value, never thrown. */
export interface Rejection {
  readonly ok: false;
  readonly code: ErrorCode;
  /** What failed and with which value, for logs. */
  readonly detail: string;
}

export interface Accepted<T> {
  readonly ok: true;
  readonly value: T;
}

export type Result<T> = Accepted<T> | Rejection;

export function ok<T>(value: T): Accepted<T> {
  return { ok: true, value };
}

export function reject(code: ErrorCode, detail: string): Rejection {
  return { ok: false, code, detail };
}

/** Operator-facing failures (bad config, missing tool): thrown, reported once, then exit. */
export class FwknopError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FwknopError";
    this.code = code;
  }
}
