/**
 * GPG mode on the client (spec §6): the `encoded:digest` plaintext is encrypted to the server's
 * key (and signed with ours) by the gpg binary — libfko does the same through gpgme — and the
 * binary OpenPGP message becomes unpadded base64. It must start with `hQ` (an old-format
 * session-key packet), because the wire drops those two characters and fwknopd puts them back.
 */

import { b64uEncode } from "../crypto/base64.js";
import { DEFAULT_GPG_EXE } from "../crypto/gpg.js";
import { FwknopError } from "../errors.js";
import { B64_GPG_PREFIX } from "../protocol/constants.js";
import { run } from "../sys/run.js";

export interface GpgSealOptions {
  recipient: string;
  signer?: string;
  homeDir?: string;
  exe?: string;
  /** Passphrase of the signing key; none with --gpg-no-signing-pw or --gpg-agent. */
  signingPw?: Buffer;
  /** Let gpg-agent supply the passphrase (no loopback pinentry). */
  agent: boolean;
}

function gpgError(msg: string): FwknopError {
  return new FwknopError("FWK_ERR_CLIENT_GPG", msg);
}

/** The base64 body of an ASCII-armored OpenPGP message (headers and CRC line dropped). */
export function dearmor(armored: string): Buffer {
  const lines = armored.split(/\r?\n/);
  const begin = lines.findIndex((l) => l.startsWith("-----BEGIN PGP MESSAGE-----"));
  if (begin < 0) throw gpgError("gpg produced no OpenPGP message");
  let i = begin + 1;
  while (i < lines.length && lines[i] !== "") i++;
  const body: string[] = [];
  for (i++; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l.startsWith("=") || l.startsWith("-----END")) break;
    body.push(l.trim());
  }
  return Buffer.from(body.join(""), "base64");
}

export function gpgArgv(o: GpgSealOptions): string[] {
  const argv = [o.exe ?? DEFAULT_GPG_EXE, "--batch", "--no-tty", "--yes", "--armor"];
  argv.push("--trust-model", "always");
  if (o.homeDir !== undefined) argv.push("--homedir", o.homeDir);
  argv.push("--encrypt", "--recipient", o.recipient);
  if (o.signer !== undefined) {
    argv.push("--sign", "--local-user", o.signer);
    if (!o.agent) {
      argv.push("--pinentry-mode", "loopback");
      argv.push(...(o.signingPw ? ["--passphrase-fd", "3"] : ["--passphrase", ""]));
    }
  }
  argv.push("--output", "-");
  return argv;
}

/** Encrypts (and signs) the plaintext; returns the unpadded base64 text, `hQ` included. */
export async function gpgSeal(plaintext: string, o: GpgSealOptions): Promise<string> {
  const r = await run(gpgArgv(o), {
    input: plaintext,
    timeoutMs: 30_000,
    ...(o.signer !== undefined && o.signingPw && !o.agent
      ? { extraInputs: [Buffer.concat([o.signingPw, Buffer.from("\n")])] }
      : {}),
  });
  if (r.code !== 0) {
    const why = r.stderr.trim().split("\n").slice(-2).join("; ");
    throw gpgError(`gpg could not encrypt the SPA message (status ${r.code}): ${why}`);
  }
  const text = b64uEncode(dearmor(r.stdout));
  if (!text.startsWith(B64_GPG_PREFIX)) {
    throw gpgError(
      `gpg output starts with '${text.slice(0, 2)}', not 'hQ'; fwknopd could not rebuild it`,
    );
  }
  return text;
}
