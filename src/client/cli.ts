/**
 * From argv to a RunRequest, in upstream's order: parse the command line, apply the options that
 * choose files and stanzas, read ~/.fwknoprc ([default], then the -n stanza), then apply the
 * remaining options so the command line wins. Every refusal is one error line.
 */
import { closeSync, constants, lstatSync, openSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { findStanza, parseFwknoprc, type RcStanza } from "../config/fwknoprc.js";
import { FwknopError } from "../errors.js";
import { getoptLong, type ParsedOption } from "../sys/getopt.js";
import { CLIENT_OPTIONS, clientOption, newRunRequest, type RunRequest } from "./options.js";
import { RC_TEMPLATE } from "./rc-template.js";
import { readClientFile } from "./read-file.js";
import { defaultSettings, findRcVariable } from "./settings.js";

export const PROG = "fwknop";

export interface CliEnv {
  /** $HOME; undefined falls back to the password database. */
  home?: string;
  /** Lines for the operator (warnings, notices), written to stderr by the caller. */
  notice: (line: string) => void;
}

export interface ResolvedPaths {
  rcFile?: string;
  runFile?: string;
}

export interface ParsedCli {
  request: RunRequest;
  paths: ResolvedPaths;
  /** The argv actually used (after -l replaced it). */
  argv: readonly string[];
  stanzas: RcStanza[];
}

function usageError(msg: string): FwknopError {
  return new FwknopError("FWK_ERR_CLIENT_USAGE", msg);
}

function parseArgv(argv: readonly string[]): ParsedOption[] {
  const r = getoptLong(argv, CLIENT_OPTIONS, PROG);
  if (!r.ok) throw usageError(r.error);
  return r.options;
}

function applyAll(req: RunRequest, opts: readonly ParsedOption[], early: boolean): void {
  for (const o of opts) {
    const spec = clientOption(o.id);
    if (!spec || Boolean(spec.early) !== early) continue;
    const err = spec.apply(req, o.value ?? "", o.spelling);
    if (err !== undefined) throw usageError(err);
    if (early) continue;
    if (spec.rcVar) req.given.add(spec.rcVar);
    for (const v of spec.alsoSets ?? []) req.given.add(v);
  }
}

/** Upstream's permission checks on the rc file: warnings only. */
export function rcFileWarnings(path: string): string[] {
  const st = lstatSync(path);
  const out: string[] = [];
  if (!st.isFile() && !st.isSymbolicLink()) {
    out.push(`[-] file: ${path} is not a regular file or symbolic link.`);
  }
  if ((st.mode & 0o777) !== 0o600) {
    out.push(`[-] file: ${path} permissions should only be user read/write (0600, -rw-------)`);
  }
  const euid = process.geteuid?.();
  if (euid !== undefined && st.uid !== euid) {
    out.push(`[-] file: ${path} not owned by current effective user id`);
  }
  return out;
}

/** C's strerror() text for the stat failures an rc path meets. */
const STRERROR: Readonly<Record<string, string>> = {
  ENAMETOOLONG: "File name too long",
  EACCES: "Permission denied",
  ENOTDIR: "Not a directory",
  ELOOP: "Too many levels of symbolic links",
};

/** True when the rc file does not exist; other stat failures are fatal with C's wording. */
function rcFileMissing(path: string): boolean {
  try {
    lstatSync(path);
    return false;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (code === "ENOENT") return true;
    throw new FwknopError(
      "FWK_ERR_CLIENT_FILE",
      `[-] stat() against file: ${path} returned: ${STRERROR[code] ?? (e as Error).message}`,
    );
  }
}

/** Creates the commented starter rc file (0600, never overwriting), as upstream does. */
function createRcTemplate(path: string, notice: (l: string) => void): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    throw new FwknopError(
      "FWK_ERR_CLIENT_FILE",
      `Unable to create initial rc file: ${path}: ${(e as Error).message}`,
    );
  }
  notice(`[*] Creating initial rc file: ${path}.`);
  try {
    writeSync(fd, RC_TEMPLATE);
  } finally {
    closeSync(fd);
  }
}

/** Applies one stanza's lines; the first bad line is fatal with upstream's wording. */
function applyStanza(
  req: RunRequest,
  stanza: RcStanza,
  file: string,
  trace?: (line: string) => void,
): void {
  for (const l of stanza.lines) {
    if (l.kind === "invalid") {
      throw new FwknopError(
        "FWK_ERR_CLIENT_RC_FILE",
        `*Invalid entry in '${l.text}' (${file}, line ${l.line})`,
      );
    }
    if (l.kind !== "entry") continue;
    trace?.(`parse_rc_param() : Parsing variable ${l.name}...`);
    const taken = findRcVariable(l.name)?.read(req.settings, l.value) ?? false;
    if (taken !== true) {
      const why = typeof taken === "string" ? `${taken}\n` : "";
      throw new FwknopError(
        "FWK_ERR_CLIENT_RC_FILE",
        `${why}Parameter error in ${file}, line ${l.line}: var=${l.name}, val=${l.value}`,
      );
    }
  }
}

const MAX_SAVED_ARGS = 27;

/** The permission warnings for the -l file (none when it cannot be read: that error follows). */
function savedArgsWarnings(path: string): string[] {
  try {
    return rcFileWarnings(path);
  } catch {
    return [];
  }
}

/** The last saved command line as argv (program name dropped). */
export function readRunFile(path: string): string[] {
  return readClientFile(path)
    .split(/[ \t\r\n]+/)
    .filter((w) => w !== "")
    .slice(1);
}

export function parseCli(argv: readonly string[], env: CliEnv): ParsedCli {
  let args = argv;
  let opts = parseArgv(args);
  const req = newRunRequest(defaultSettings());
  applyAll(req, opts, true);

  const paths: ResolvedPaths = {};
  const home = req.noHomeDir ? undefined : (env.home ?? homedir());
  if (req.noHomeDir && !req.noRcFile && req.rcFile === undefined && !req.help && !req.version) {
    throw usageError("--no-home-dir needs --rc-file (or --no-rc-file)");
  }
  if (req.rcFile !== undefined) paths.rcFile = req.rcFile;
  else if (home !== undefined) paths.rcFile = join(home, ".fwknoprc");
  if (req.saveArgsFile !== undefined) paths.runFile = req.saveArgsFile;
  else if (home !== undefined) paths.runFile = join(home, ".fwknop.run");

  if (req.help || req.version || req.showLast)
    return { request: req, paths, argv: args, stanzas: [] };

  if (req.lastCmd) {
    if (paths.runFile === undefined) throw usageError("-l needs a home directory or -E FILE");
    // The saved line replaces the command line; options typed along with -l still apply last.
    const rest = argv.filter((a) => a !== "-l" && a !== "--last-cmd");
    for (const w of savedArgsWarnings(paths.runFile)) env.notice(w);
    const saved = readRunFile(paths.runFile);
    // 2.6.10 keeps the saved line in an argv of MAX_CMDLINE_ARGS (30) slots, program name
    // included and one slot for the NULL: 28 options and values at most.
    if (saved.length > MAX_SAVED_ARGS) {
      throw usageError(
        `[*] max command line args exceeded (${saved.length} in ${paths.runFile}, at most ${MAX_SAVED_ARGS}).`,
      );
    }
    args = [...saved, ...rest];
    env.notice(`Executing: ${PROG} ${args.join(" ")}`);
    opts = parseArgv(args);
    applyAll(req, opts, true);
  }

  if (req.noRcFile) {
    if (req.saveRcStanza) throw usageError("Cannot save an rc stanza in --no-rc-file mode.");
    if (req.namedConfig !== undefined)
      throw usageError("Cannot set stanza name in --no-rc-file mode.");
    if (req.stanzaList) throw usageError("Cannot list stanzas in --no-rc-file mode.");
  }

  let stanzas: RcStanza[] = [];
  const rc = paths.rcFile;
  if (!req.noRcFile && rc !== undefined) {
    const missing = rcFileMissing(rc);
    if (missing && req.stanzaList) {
      throw new FwknopError(
        "FWK_ERR_CLIENT_FILE",
        `Unable to open rc file: ${rc}: No such file or directory`,
      );
    }
    if (missing) createRcTemplate(rc, env.notice);
    for (const w of rcFileWarnings(rc)) env.notice(w);
    stanzas = parseFwknoprc(readClientFile(rc, "config file"));
    if (!req.stanzaList) {
      // 2.6.10 names each stanza it reads at -v -v (the command line's count decides).
      // (Not for a file just created from the template: 2.6.10 does not read that one.)
      const debug = !missing && opts.filter((o) => o.id === "verbose").length > 1;
      const apply = (st: RcStanza) => {
        if (debug) env.notice(`process_rc_section() : Parsing section '${st.name}' ...`);
        applyStanza(req, st, rc, debug ? env.notice : undefined);
      };
      const def = findStanza(stanzas, "default");
      if (def) apply(def);
      if (req.namedConfig !== undefined && req.namedConfig.toLowerCase() !== "default") {
        const named = findStanza(stanzas, req.namedConfig);
        if (named) apply(named);
        else if (!req.saveRcStanza) {
          throw new FwknopError(
            "FWK_ERR_CLIENT_STANZA",
            `Named configuration stanza: [${req.namedConfig}] was not found.`,
          );
        }
      }
    }
  }
  applyAll(req, opts, false);
  return { request: req, paths, argv: args, stanzas };
}
