/**
 * The fwknop client run: options → (key generation | rc maintenance | build and send) → exit
 * status. All operator output goes through `ClientIo`, so process tests see what a user sees.
 */
import { randomBytes, randomInt } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import type { Readable, Writable } from "node:stream";
import { findStanza, parseFwknoprc, updateFwknoprc } from "../config/fwknoprc.js";
import { DEFAULT_GPG_EXE } from "../crypto/gpg.js";
import { formatKeyLines, generateKeyPair } from "../crypto/key-gen.js";
import { ERRORS, FwknopError } from "../errors.js";
import { formatSpaDump, type SpaDump } from "../protocol/dump.js";
import { isAllowIpv6, isValidIpv4Text } from "../protocol/fields.js";
import { decodeSpa, effectiveMessageType } from "../protocol/spa.js";
import { type BuiltPacket, buildPacket, type GpgSeal, portFromRandom } from "./build.js";
import { type ParsedCli, PROG, parseCli } from "./cli.js";
import { fkoError } from "./fko-message.js";
import { gpgSeal } from "./gpg-seal.js";
import { provisioningText, qrPayload } from "./key-provisioning.js";
import { gatherKeys, type KeyIo, readLineFromFd } from "./key-source.js";
import type { RunRequest } from "./options.js";
import { readClientFile } from "./read-file.js";
import { resolveExternalIp } from "./resolve-ip.js";
import { RC_VARIABLES } from "./settings.js";
import { parseProxyTarget, relay, waitForPort } from "./ssh-proxy.js";
import { DEFAULT_USER_AGENT, isRawMode, sendSpa } from "./transport.js";
import { usageText, VERSION_LINE } from "./usage.js";
import { verifyAccess } from "./verify.js";

export interface ClientIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  stdoutIsTty: boolean;
  keys: KeyIo;
  /** Asks an "Overwrite [N/y] ?" question; false unless the answer is y. */
  ask: (question: string) => boolean;
  stdin: Readable;
  stdout: Writable;
}

function fail(msg: string): never {
  throw new FwknopError("FWK_ERR_CLIENT_OPTIONS", msg);
}

function username(req: RunRequest, env: NodeJS.ProcessEnv): string {
  const name =
    req.settings.spoofUser ??
    env.SPOOF_USER ??
    env.LOGNAME ??
    (() => {
      try {
        return userInfo().username;
      } catch {
        return undefined;
      }
    })() ??
    env.USER ??
    "NO_USER";
  return Buffer.from(name, "utf8").subarray(0, 63).toString("utf8");
}

function randomValue(): string {
  let s = "";
  while (s.length < 16) s += String(randomInt(0, 1e8)).padStart(8, "0");
  return s.slice(0, 16);
}

/** Upstream's checks between option parsing and key handling (spec §13.2 "Validation"). */
function validate(req: RunRequest): void {
  const s = req.settings;
  if (s.destination === undefined && !req.test) {
    fail("Must use --destination unless --test mode is used");
  }
  if (!s.sourceIp && !s.resolveIp && s.allowIp === undefined) {
    fail("Must use one of [-s|-R|-a] to specify IP for SPA access.");
  }
  if (
    s.allowIp !== undefined &&
    !s.sourceIp &&
    !s.resolveIp &&
    !isValidIpv4Text(s.allowIp) &&
    !isAllowIpv6(s.allowIp)
  ) {
    fail("Invalid allow IP specified for SPA access");
  }
  if (
    req.verifySeconds !== undefined &&
    (req.sshProxy !== undefined || req.serverCmd !== undefined)
  ) {
    fail("--verify probes -A ports; --ssh-proxy already waits for its port, -C opens none");
  }
  if (s.spoofSource !== undefined && !isRawMode(s.proto)) {
    fail("Must set -P <udpraw|tcpraw|icmp> with a spoofed source IP");
  }
  if (req.httpProxy !== undefined && s.proto !== "http") {
    fail("Cannot set --http-proxy with a non-HTTP protocol.");
  }
  if (s.useGpg && s.gpgRecipient === undefined) {
    fail("Must specify --gpg-recipient-key when GPG is used.");
  }
  if (s.encMode === "Asymmetric" && !s.useGpg) {
    fail("Must specify GPG recipient/signing keys when Asymmetric encryption mode is used.");
  }
  if (s.encMode === "legacy" && s.useHmac) {
    fail("Legacy encryption mode is incompatible with HMAC usage.");
  }
  if (s.spoofSource !== undefined && !isValidIpv4Text(s.spoofSource)) {
    fail("Invalid spoof IP");
  }
}

/** The longest command line 2.6.10 saves to ~/.fwknop.run (measured against the C client). */
const MAX_ARGS_LINE = 1036;

function saveRunFile(cli: ParsedCli): void {
  const path = cli.paths.runFile;
  if (path === undefined || cli.request.settings.noSaveArgs) return;
  const line = [PROG, ...cli.argv].join(" ");
  // fwknop 2.6.10's limits: a longer command line is refused before anything is sent; the
  // saved line is cut to its 1024-byte buffer (1023 bytes and the NUL).
  if (Buffer.byteLength(line) > MAX_ARGS_LINE) fail("argument string too long, exiting.");
  try {
    writeFileSync(path, Buffer.from(`${line} \n`).subarray(0, 1023), { mode: 0o600 });
  } catch (e) {
    throw new FwknopError(
      "FWK_ERR_CLIENT_FILE",
      `Could not write ${path}: ${(e as Error).message}`,
    );
  }
}

/** Writes the command-line variables into the rc stanza through `<rc>.updated` + rename. */
function saveRcStanza(
  cli: ParsedCli,
  io: ClientIo,
  extra: readonly [string, string][] = [],
): string {
  const req = cli.request;
  const rc = cli.paths.rcFile;
  if (rc === undefined)
    throw new FwknopError("FWK_ERR_CLIENT_FILE", "No rc file to save to (use --rc-file)");
  const stanza = req.namedConfig ?? req.settings.destination;
  if (stanza === undefined) {
    throw new FwknopError(
      "FWK_ERR_CLIENT_OPTIONS",
      "--save-rc-stanza needs -n NAME (or -D HOST to name the stanza)",
    );
  }
  // Written in 2.6.10's variable order (its "Updating param (N)" index), extras included.
  const values = new Map<string, string>();
  for (const v of RC_VARIABLES) {
    if (!req.given.has(v.name)) continue;
    const value = v.write(req.settings);
    if (value !== undefined) values.set(v.name, value);
  }
  for (const [n, v] of extra) values.set(n, v);
  const entries = RC_VARIABLES.flatMap((v): [string, string][] => {
    const value = values.get(v.name);
    return value === undefined ? [] : [[v.name, value]];
  });
  const debug = req.settings.verbose > 1;
  const critical = new Set(RC_VARIABLES.filter((v) => v.critical).map((v) => v.name));
  const text = existsSync(rc) ? readFileSync(rc, "utf8") : "";
  const updated = updateFwknoprc(text, {
    stanza,
    entries,
    replace: req.forceStanza,
    critical,
    twins: KEY_TWINS,
    confirm: (name) => io.ask(`Variable '${name}' found in stanza '${stanza}'. Overwrite [N/y] ? `),
    onWrite: (name, value) => {
      if (!debug) return;
      const index = RC_VARIABLES.findIndex((v) => v.name === name);
      io.out(`add_single_var_to_rc() : Updating param (${index}) ${name} to ${value}\n`);
    },
  });
  const tmp = `${rc}.updated`;
  try {
    writeFileSync(tmp, updated, { mode: 0o600, flag: "wx" });
    renameSync(tmp, rc);
  } catch (e) {
    // As 2.6.10: a leftover temporary file (or any write failure) leaves the rc file as it
    // was, is reported, and the knock still goes out.
    const why =
      (e as NodeJS.ErrnoException).code === "EEXIST" ? "File exists" : (e as Error).message;
    io.err(`update_rc() : Unable to create temporary rc file: ${tmp}: ${why}\n`);
    return rc;
  }
  if (debug) {
    io.out(
      `update_rc() : ${findStanza(parseFwknoprc(text), stanza) ? "Updating" : "Inserting new"} ${stanza} stanza\n`,
    );
  }
  return rc;
}

/** Two spellings of one secret in the rc file; saving one replaces the other (after a yes). */
const KEY_TWINS: ReadonlyMap<string, string> = new Map([
  ["KEY", "KEY_BASE64"],
  ["KEY_BASE64", "KEY"],
  ["HMAC_KEY", "HMAC_KEY_BASE64"],
  ["HMAC_KEY_BASE64", "HMAC_KEY"],
  ["GPG_SIGNING_PW", "GPG_SIGNING_PW_BASE64"],
  ["GPG_SIGNING_PW_BASE64", "GPG_SIGNING_PW"],
]);

async function runKeyGen(cli: ParsedCli, io: ClientIo): Promise<number> {
  const req = cli.request;
  const generated = generateKeyPair(
    {
      hmacType: req.settings.hmacType,
      ...(req.keyLen !== undefined ? { keyLen: req.keyLen } : {}),
      ...(req.hmacKeyLen !== undefined ? { hmacKeyLen: req.hmacKeyLen } : {}),
    },
    randomBytes,
  );
  if (!generated.ok) {
    const { code, detail } = generated;
    throw new FwknopError(code, `fwknop: fko_key_gen: ${ERRORS[code]} (${detail})`);
  }
  const keys = generated.value;
  if (req.keyGenFile !== undefined) {
    try {
      writeFileSync(req.keyGenFile, formatKeyLines(keys), { mode: 0o600 });
    } catch (e) {
      throw new FwknopError(
        "FWK_ERR_CLIENT_FILE",
        `Unable to create key gen file: ${req.keyGenFile}: ${(e as Error).message}`,
      );
    }
    io.out(`[+] Wrote Rijndael and HMAC keys to: ${req.keyGenFile}\n`);
  } else if (!req.saveRcStanza) {
    // With --save-rc-stanza 2.6.10 writes the keys to the rc file only.
    io.out(formatKeyLines(keys));
  }
  if (req.saveRcStanza) {
    // The generated keys replace any key given on the command line.
    for (const v of ["KEY", "KEY_BASE64", "HMAC_KEY", "HMAC_KEY_BASE64"]) req.given.delete(v);
    const extra: [string, string][] = [
      ["KEY_BASE64", keys.key.toString("base64")],
      ["HMAC_KEY_BASE64", keys.hmacKey.toString("base64")],
    ];
    if (!req.given.has("USE_HMAC")) extra.push(["USE_HMAC", "Y"]);
    const rc = saveRcStanza(cli, io, extra);
    io.out(`[+] Wrote Rijndael and HMAC keys to rc file: ${rc}\n`);
  }
  if (io.stdoutIsTty) {
    // Loaded only here: the QR encoder is not part of any other invocation's start-up.
    const { drawQr } = await import("./keygen-qr.js");
    const drawing = drawQr(qrPayload(keys));
    io.out(provisioningText(keys, req.settings.hmacType, req.settings.encMode, drawing));
  }
  return 0;
}

function dumpOf(p: BuiltPacket, req: RunRequest): string {
  const dump = formatSpaDump({
    ...p.message,
    messageType: effectiveMessageType(p.message),
    clientTimeout: Math.max(0, req.settings.fwTimeout),
    digestType: req.settings.digestType,
    hmacType: p.keys.hmacKey ? req.settings.hmacType : undefined,
    encryptionType: req.settings.useGpg ? "gpg" : "rijndael",
    encMode: p.keys.encMode,
    encoded: p.encoded.encoded,
    digest: p.encoded.digest,
    hmac: p.encoded.hmac,
    finalData: p.encoded.wire,
    ...(req.settings.useGpg ? { gpg: gpgDumpFields(req) } : {}),
  });
  // The C client leaves a blank line after the dump.
  return `${dump}\n\n`;
}

function gpgDumpFields(req: RunRequest): NonNullable<SpaDump["gpg"]> {
  const s = req.settings;
  return {
    signer: s.gpgSigner,
    recipient: s.gpgRecipient ?? "",
    homeDir: s.gpgHomeDir,
    exe: s.gpgExe ?? DEFAULT_GPG_EXE,
  };
}

function gpgSealFor(req: RunRequest, signingPw: Buffer): GpgSeal {
  const s = req.settings;
  return (plaintext) =>
    gpgSeal(plaintext, {
      recipient: s.gpgRecipient ?? "",
      agent: s.gpgAgent,
      ...(s.gpgSigner !== undefined ? { signer: s.gpgSigner } : {}),
      ...(s.gpgHomeDir !== undefined ? { homeDir: s.gpgHomeDir } : {}),
      ...(s.gpgExe !== undefined ? { exe: s.gpgExe } : {}),
      ...(signingPw.length > 0 ? { signingPw } : {}),
    });
}

function generatingBlock(req: RunRequest, dstPort: number): string {
  const s = req.settings;
  const l = (k: string, v: string) => `${k.padStart(20)}: ${v}\n`;
  return `Generating SPA packet:\n${l("protocol", s.proto)}${l("source port", s.sourcePort > 0 ? String(s.sourcePort) : "<OS assigned>")}${l("destination port", String(dstPort))}${l("IP/host", s.destination ?? "")}`;
}

async function allowIpOf(req: RunRequest, io: ClientIo): Promise<string> {
  const s = req.settings;
  if (s.resolveIp && req.serverCmd === undefined) {
    const ip = await resolveExternalIp({
      ...(s.resolveUrl !== undefined ? { url: s.resolveUrl } : {}),
      httpOnly: s.resolveHttpOnly,
      ...(s.useWgetUserAgent ? {} : { userAgent: s.userAgent ?? DEFAULT_USER_AGENT }),
      warn: (l) => io.err(`${l}\n`),
    });
    if (s.verbose > 0)
      io.out(`[+] Resolved external IP (via '${s.resolveUrl ?? "default URL"}') as: ${ip}\n`);
    return ip;
  }
  if (s.sourceIp || (s.resolveIp && s.allowIp === undefined)) return "0.0.0.0";
  if (s.allowIp !== undefined && isAllowIpv6(s.allowIp)) {
    io.err(
      `[*] IPv6 allow IP ${s.allowIp}: only fwknop-ts servers accept it (fwknopd 2.6.10 refuses the packet)\n`,
    );
  }
  return s.allowIp ?? "0.0.0.0";
}

async function knockAndMaybeProxy(cli: ParsedCli, io: ClientIo): Promise<number> {
  const req = cli.request;
  const s = req.settings;
  const proxy = req.sshProxy !== undefined ? parseProxyTarget(req.sshProxy) : undefined;
  if (proxy) {
    s.destination ??= proxy.host;
    if (s.access === undefined && req.serverCmd === undefined) s.access = `tcp/${proxy.port}`;
  }
  validate(req);
  saveRunFile(cli);
  if (req.saveRcStanza) saveRcStanza(cli, io);

  const allowIp = await allowIpOf(req, io);
  const keys = await gatherKeys(req, io.keys);
  const packet = await buildPacket(req, {
    allowIp,
    username: username(req, io.env),
    now: Math.floor(Date.now() / 1000),
    randomValue,
    salt: randomBytes(8),
    encKey: keys.encKey,
    ...(keys.hmacKey ? { hmacKey: keys.hmacKey } : {}),
    ...(s.useGpg ? { gpgSeal: gpgSealFor(req, keys.encKey) } : {}),
  });
  if (packet.notice) io.out(`${packet.notice}\n`);
  // With --ssh-proxy stdout belongs to ssh: diagnostics go to stderr.
  const say = proxy ? io.err : io.out;
  if (req.test || s.verbose > 0) say(dumpOf(packet, req));

  if (req.savePacketFile !== undefined) {
    const line = `${packet.encoded.wire}\n`;
    try {
      if (req.savePacketAppend) appendFileSync(req.savePacketFile, line);
      else writeFileSync(req.savePacketFile, line);
    } catch (e) {
      throw new FwknopError(
        "FWK_ERR_CLIENT_FILE",
        `write_spa_packet_data: ${req.savePacketFile}: ${(e as Error).message}`,
      );
    }
  }

  if (s.verbose > 0) say(generatingBlock(req, packet.dstPort));
  if (req.test) {
    // 2.6.10 capitalises this one line differently on its HTTP path.
    say(`${s.proto === "http" ? "T" : "t"}est mode enabled, SPA packet not actually sent.\n`);
    if (s.verbose > 0) say("send_spa_packet: bytes sent: 0\n");
    // Decoding a GPG packet needs the server's secret key, which the client does not hold.
    if (s.verbose > 0 && !s.useGpg) {
      const decoded = decodeSpa(packet.encoded.wire, packet.keys);
      if (!decoded.ok) throw fkoError(decoded.code, decoded.detail);
      const d = decoded.value;
      say("\nDump of the Decoded Data\n");
      const dump = formatSpaDump({
        ...d,
        clientTimeout: d.clientTimeout ?? 0,
        hmacType: packet.keys.hmacKey ? s.hmacType : undefined,
        encryptionType: "rijndael",
        encMode: s.encMode,
        hmac: packet.encoded.hmac,
        finalData: packet.encoded.wire,
      });
      say(`${dump}\n\n`);
    }
    return 0;
  }
  const bytes = await notSentOnFailure(() =>
    sendSpa(packet.encoded.wire, {
      proto: s.proto,
      host: s.destination ?? "",
      port: packet.dstPort,
      sourcePort: s.sourcePort,
      ipv4Only: s.serverResolveIpv4,
      ...(s.userAgent !== undefined ? { userAgent: s.userAgent } : {}),
      ...(req.httpProxy !== undefined ? { httpProxy: req.httpProxy } : {}),
      ...(s.spoofSource !== undefined ? { spoofSource: s.spoofSource } : {}),
      rawSourcePort: portFromRandom(randomValue()),
      icmpType: req.icmpType,
      icmpCode: req.icmpCode,
    }),
  );
  if (s.verbose > 0) say(`send_spa_packet: bytes sent: ${bytes}\n`);
  if (req.verifySeconds !== undefined) {
    const seconds = req.verifySeconds;
    say(`${await verifyAccess({ host: s.destination ?? "", access: s.access ?? "", seconds })}\n`);
  }
  if (!proxy) return 0;
  const sock = await waitForPort(proxy);
  await relay(sock, io.stdin, io.stdout);
  return 0;
}

/** As 2.6.10: a failed send ends with "send_spa_packet: packet not sent." */
async function notSentOnFailure(send: () => Promise<number>): Promise<number> {
  try {
    return await send();
  } catch (e) {
    if (!(e instanceof FwknopError)) throw e;
    throw new FwknopError(e.code, `${e.message}\nsend_spa_packet: packet not sent.`);
  }
}

export async function runClient(argv: readonly string[], io: ClientIo): Promise<number> {
  try {
    const cli = parseCli(argv, {
      ...(io.env.HOME !== undefined ? { home: io.env.HOME } : {}),
      notice: (l) => io.err(`${l}\n`),
    });
    const req = cli.request;
    if (req.help) {
      io.out(usageText());
      return 0;
    }
    if (req.version) {
      io.out(`${VERSION_LINE}\n`);
      return 0;
    }
    if (req.showLast) {
      const path = cli.paths.runFile;
      if (path === undefined)
        throw new FwknopError(
          "FWK_ERR_CLIENT_FILE",
          "--show-last needs a home directory or -E FILE",
        );
      io.out(`Last fwknop client command line: ${readClientFile(path)}\n`);
      return 0;
    }
    if (req.stanzaList) {
      io.out(`The following stanzas are configured in ${cli.paths.rcFile ?? ""} :\n`);
      for (const st of cli.stanzas)
        if (st.name.toLowerCase() !== "default") io.out(` - ${st.name}\n`);
      return 0;
    }
    if (req.keyGen) return await runKeyGen(cli, io);
    return await knockAndMaybeProxy(cli, io);
  } catch (e) {
    if (e instanceof FwknopError) {
      io.err(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** Reads a y/N answer from stdin (EOF or anything but y/Y means no). */
export function askOnStdin(question: string, out: (t: string) => void): boolean {
  out(question);
  let yes = false;
  try {
    yes = readLineFromFd(0).toString("utf8").trim().toLowerCase() === "y";
  } catch {
    // end of input or no stdin: "no"
  }
  out("\n");
  return yes;
}
