/**
 * GPG decryption on the server (spec §6): the gpg binary decrypts and verifies, and its
 * machine-readable `[GNUPG:]` status lines tell us what happened — libfko gets the same facts
 * from gpgme, which drives the same binary. Hostile input never throws: every failure is a
 * Rejection with a code.
 */
import { type ErrorCode, FwknopError, ok, type Result, reject } from "../errors.js";
import { run } from "../sys/run.js";

/** Debian's gpg, the path libfko was built with. */
export const DEFAULT_GPG_EXE = "/usr/bin/gpg";

export type SignatureStatus = "good" | "bad" | "expired" | "revoked" | "missing-key" | "error";

export interface GpgSignature {
  /** Fingerprint of the signing key (VALIDSIG, else ERRSIG's, else the long key ID). */
  fingerprint: string;
  /** 16-hex long key ID from the GOODSIG/BADSIG/ERRSIG… line. */
  keyId: string;
  /** Key validity is marginal or better (gpgme validity ≥ 3), as upstream requires. */
  valid: boolean;
  status: SignatureStatus;
}

export interface GpgDecrypted {
  plaintext: Buffer;
  signatures: GpgSignature[];
}

export interface GpgDecryptOptions {
  exe: string;
  /** GPG_HOME_DIR; without it gpg uses $GNUPGHOME or ~/.gnupg. */
  homeDir?: string;
  /** GPG_DECRYPT_ID: which secret key to try first (gpg still uses whichever key fits). */
  decryptId?: string;
  /** GPG_DECRYPT_PW bytes; undefined with GPG_ALLOW_NO_PW (an empty passphrase is sent). */
  passphrase?: Buffer;
  timeoutMs: number;
}

/** What the status lines of one `gpg --decrypt` run say. */
export interface GpgStatusSummary {
  /** DECRYPTION_OKAY without DECRYPTION_FAILED: the message was encrypted and decrypted intact. */
  decrypted: boolean;
  /** Why not, when `decrypted` is false and the lines say more than "failed". */
  failure?: { code: ErrorCode; detail: string };
  signatures: GpgSignature[];
}

const STATUS_PREFIX = "[GNUPG:] ";
/** libgpg-error code for a wrong passphrase (low 16 bits of the ERROR line's value). */
const GPG_ERR_BAD_PASSPHRASE = 11;
/** ERRSIG return code for "public key not found". */
const ERRSIG_NO_PUBKEY = "9";
/** SPA plaintexts are under 1500 bytes; the cap stops a compressed "zip bomb" early. */
const MAX_PLAINTEXT = 4096;

const RESULT_STATUS: Readonly<Record<string, SignatureStatus>> = {
  GOODSIG: "good",
  BADSIG: "bad",
  EXPSIG: "expired",
  EXPKEYSIG: "expired",
  REVKEYSIG: "revoked",
};

const VALID_TRUST = new Set(["TRUST_MARGINAL", "TRUST_FULLY", "TRUST_ULTIMATE"]);

/** Parses the status lines (other lines are ignored). Pure; exported for tests. */
export function parseGpgStatus(text: string): GpgStatusSummary {
  const signatures: GpgSignature[] = [];
  let okay = false;
  let failed = false;
  let failure: GpgStatusSummary["failure"];
  const noSeckey: string[] = [];
  // A result line (GOODSIG, ERRSIG, …) belongs to the newest signature unless that one already
  // has its result; NEWSIG always starts a new one.
  const open = (): GpgSignature => {
    const last = signatures.at(-1);
    if (last && last.keyId === "") return last;
    const sig: GpgSignature = { fingerprint: "", keyId: "", valid: false, status: "error" };
    signatures.push(sig);
    return sig;
  };
  for (const line of text.split("\n")) {
    if (!line.startsWith(STATUS_PREFIX)) continue;
    const [keyword = "", ...args] = line.slice(STATUS_PREFIX.length).trimEnd().split(" ");
    const current = signatures.at(-1);
    const resultStatus = RESULT_STATUS[keyword];
    if (resultStatus) {
      const sig = open();
      sig.status = resultStatus;
      sig.keyId = args[0] ?? "";
      sig.fingerprint ||= sig.keyId;
      continue;
    }
    switch (keyword) {
      case "NEWSIG":
        signatures.push({ fingerprint: "", keyId: "", valid: false, status: "error" });
        break;
      case "ERRSIG": {
        const sig = open();
        sig.keyId = args[0] ?? "";
        sig.status = args[5] === ERRSIG_NO_PUBKEY ? "missing-key" : "error";
        sig.fingerprint = args[6] ?? sig.keyId;
        break;
      }
      case "VALIDSIG":
        if (current && args[0]) current.fingerprint = args[0];
        break;
      case "TRUST_UNDEFINED":
      case "TRUST_NEVER":
      case "TRUST_MARGINAL":
      case "TRUST_FULLY":
      case "TRUST_ULTIMATE":
        if (current) current.valid = VALID_TRUST.has(keyword);
        break;
      case "DECRYPTION_OKAY":
        okay = true;
        break;
      case "DECRYPTION_FAILED":
        failed = true;
        break;
      case "NO_SECKEY":
        noSeckey.push(args[0] ?? "?");
        break;
      case "NODATA":
        failure ??= {
          code: "FKO_ERROR_GPGME_DECRYPT_FAILED",
          detail: "gpg found no OpenPGP data in the packet",
        };
        break;
      case "ERROR":
        if (
          args[0] === "pkdecrypt_failed" &&
          (Number(args[1]) & 0xffff) === GPG_ERR_BAD_PASSPHRASE
        ) {
          failure = { code: "FKO_ERROR_GPGME_BAD_PASSPHRASE", detail: "GPG_DECRYPT_PW is wrong" };
        } else if (args[0] === "decrypt.algorithm") {
          failure = {
            code: "FKO_ERROR_GPGME_DECRYPT_UNSUPPORTED_ALGORITHM",
            detail: `gpg cannot decrypt algorithm ${args.slice(1).join(" ")}`,
          };
        }
        break;
    }
  }
  if (!failure && noSeckey.length > 0) {
    failure = {
      code: "FKO_ERROR_GPGME_DECRYPT_FAILED",
      detail: `no secret key in GPG_HOME_DIR for ${noSeckey.join(", ")}`,
    };
  }
  const decrypted = okay && !failed;
  // A signed-only (unencrypted) message prints its text and a signature but never
  // DECRYPTION_OKAY: it is refused here, as gpgme's decrypt refuses it upstream.
  return decrypted || !failure ? { decrypted, signatures } : { decrypted, failure, signatures };
}

/**
 * Bounds concurrent gpg processes. Without an HMAC key anyone can send GPG-sized junk, and each
 * packet would cost a process plus an RSA decryption; with HMAC only authenticated packets get
 * here. Either way at most `maxRunning` gpg processes run and `maxWaiting` packets wait; the
 * rest are refused at once (FWK_ERR_GPG_BUSY) instead of piling up processes or memory.
 */
export class RunLimiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly maxRunning: number;
  private readonly maxWaiting: number;

  constructor(maxRunning: number, maxWaiting: number) {
    this.maxRunning = maxRunning;
    this.maxWaiting = maxWaiting;
  }

  /** Resolves true when a slot is ours (call release() after), false when the queue is full. */
  async acquire(): Promise<boolean> {
    if (this.running < this.maxRunning) {
      this.running++;
      return true;
    }
    if (this.waiting.length >= this.maxWaiting) return false;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return true;
  }

  /** Hands the slot straight to the next waiter, if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}

/** Two shared cores: two gpg runs at a time keep the daemon responsive; eight may wait. */
const limiter = new RunLimiter(2, 8);

export function gpgDecryptArgv(o: GpgDecryptOptions): string[] {
  return [
    o.exe,
    ...(o.homeDir !== undefined ? ["--homedir", o.homeDir] : []),
    ...["--batch", "--no-tty"],
    // gpg's log text would share fd 2 with the status lines, and it echoes sender-controlled
    // strings (issuer, file name); only status lines may reach the parser.
    ...["--log-file", "/dev/null", "--status-fd", "2"],
    ...["--pinentry-mode", "loopback", "--passphrase-fd", "3"],
    // A packet must never make the server fetch keys from the network.
    "--no-auto-key-retrieve",
    ...["--max-output", String(MAX_PLAINTEXT)],
    ...(o.decryptId !== undefined ? ["--try-secret-key", o.decryptId] : []),
    "--decrypt",
  ];
}

/** Decrypts (and verifies) one OpenPGP message with the gpg binary; never throws. */
export async function gpgDecrypt(
  ciphertext: Buffer,
  opts: GpgDecryptOptions,
): Promise<Result<GpgDecrypted>> {
  if (!(await limiter.acquire())) {
    return reject("FWK_ERR_GPG_BUSY", "too many GPG packets are being decrypted; dropped");
  }
  try {
    const r = await run(gpgDecryptArgv(opts), {
      input: ciphertext,
      // Upstream feeds the passphrase once; an empty line stands for GPG_ALLOW_NO_PW.
      extraInputs: [Buffer.concat([opts.passphrase ?? Buffer.alloc(0), Buffer.from("\n")])],
      timeoutMs: opts.timeoutMs,
    });
    const status = parseGpgStatus(r.stderr);
    if (!status.decrypted) {
      const why = status.failure ?? {
        code: "FKO_ERROR_GPGME_DECRYPT_FAILED" as const,
        detail: `gpg exited with status ${r.code} without decrypting the packet`,
      };
      return reject(why.code, why.detail);
    }
    // run() hands stdout over as UTF-8 text; an SPA plaintext is ASCII, and a non-ASCII one
    // is refused by the decoder either way.
    return ok({ plaintext: Buffer.from(r.stdout, "utf8"), signatures: status.signatures });
  } catch (e) {
    if (e instanceof FwknopError && e.code === "FWK_ERR_CMD_TIMEOUT") {
      return reject("FWK_ERR_GPG_TIMEOUT", e.message);
    }
    return reject("FKO_ERROR_GPGME_BAD_GPG_EXE", e instanceof Error ? e.message : String(e));
  } finally {
    limiter.release();
  }
}
