/**
 * Reading access.conf files into stanza drafts: SOURCE lines open stanzas, %include /
 * %include_folder walk other files (bounded depth, loops refused), %include_keys reads the key
 * variables of the current stanza from a key file. Each variable goes to the table in
 * access-variables.ts; each stanza is checked when it ends (access-validate.ts).
 */
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { FwknopError } from "../errors.js";
import type { AccountLookup } from "../sys/accounts.js";
import { isRegularFile } from "../sys/file-kind.js";
import { failAt, newDraft, type StanzaDraft } from "./access-stanza.js";
import { checkStanza } from "./access-validate.js";
import { accessVariable, type VariableContext } from "./access-variables.js";
import { readConfigText, type ServerConfig } from "./server-config.js";
import { type ConfigLine, tokenizeConfig } from "./tokenizer.js";

/** fwknopd's MAX_DEPTH: a root file may include a file that includes one more. */
const MAX_INCLUDE_DEPTH = 3;
/** Bound for %include_folder nesting, which upstream does not limit at all. */
const MAX_FOLDER_DEPTH = 8;

export interface AccessReaderEnv {
  server: ServerConfig;
  accounts: AccountLookup;
  warn: (msg: string) => void;
  info: (msg: string) => void;
  /** 2.6.10's -v lines: files opened, directives processed. */
  debug?: (msg: string) => void;
}

export class AccessReader {
  readonly stanzas: StanzaDraft[] = [];
  private depth = 0;
  private readonly open: string[] = [];
  private readonly env: AccessReaderEnv;

  constructor(env: AccessReaderEnv) {
    this.env = env;
  }

  parseFile(path: string, ref?: string): void {
    const key = resolve(path);
    if (this.open.includes(key)) {
      // 2.6.10 has no loop check and stops at its depth limit; we say both.
      failAt(
        "FWK_ERR_CONFIG_INCLUDE",
        ref ?? path,
        `Refusing to go deeper than ${MAX_INCLUDE_DEPTH} levels. Lost in Limbo: '${path}' (include loop: '${path}' is already being read)`,
      );
    }
    const { text, encoding } = readConfigText(path, "Access file", this.env.warn, ref);
    this.env.debug?.(`Opened access file: ${path}`);
    const invalid: { line: number; raw: string }[] = [];
    const lines = tokenizeConfig(text, path, {
      stripNameColon: true,
      onInvalid: (line, raw) => invalid.push({ line, raw }),
    });
    const badEntry = (bad: { line: number; raw: string }): never =>
      failAt(
        "FWK_ERR_CONFIG_ENTRY",
        `${path}:${bad.line}`,
        `Invalid access file entry (a name without a value): '${bad.raw}'`,
      );
    this.depth++;
    this.open.push(key);
    let cur: StanzaDraft | undefined;
    for (const entry of lines) {
      const bad = invalid[0];
      if (bad && bad.line < entry.line) badEntry(bad);
      cur = this.apply(entry, cur, encoding);
    }
    const bad = invalid[0];
    if (bad) badEntry(bad);
    if (cur) this.close(cur);
    this.open.pop();
    this.depth--;
  }

  parseFolder(dir: string, ref?: string): void {
    const folder = dir.length > 1 && dir.endsWith("/") ? dir.slice(0, -1) : dir;
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      failAt(
        "FWK_ERR_CONFIG_FILE_MISSING",
        ref ?? folder,
        `Access folder: '${folder}' could not be opened.`,
      );
    }
    if (this.depth >= MAX_FOLDER_DEPTH) {
      failAt("FWK_ERR_CONFIG_INCLUDE", ref ?? folder, `Refusing to go deeper into '${folder}'`);
    }
    // Upstream takes readdir order; we sort so the stanza order does not depend on the filesystem.
    for (const name of names.sort()) {
      const dot = name.lastIndexOf(".");
      if (dot < 0 || !name.slice(dot).startsWith(".conf")) continue;
      const path = join(folder, name);
      if (!isRegularFile(path)) continue;
      this.parseFile(path, ref);
    }
  }

  /** One line of an access file; returns the stanza that later lines of this file belong to. */
  private apply(
    { name, value, file, line }: ConfigLine,
    cur: StanzaDraft | undefined,
    encoding: BufferEncoding,
  ): StanzaDraft | undefined {
    const where = `${file}:${line}`;
    if (name === "%include") {
      if (this.depth >= MAX_INCLUDE_DEPTH) {
        failAt(
          "FWK_ERR_CONFIG_INCLUDE",
          where,
          `Refusing to go deeper than ${MAX_INCLUDE_DEPTH} levels. Lost in Limbo: '${file}'`,
        );
      }
      this.env.debug?.(`[+] Processing include directive for file: '${value}'`);
      this.parseFile(value, where);
      return cur;
    }
    if (name === "%include_folder") {
      this.env.debug?.(`[+] Processing include_folder directive for: '${value}'`);
      this.parseFolder(value, where);
      return cur;
    }
    if (name === "SOURCE") {
      if (cur) this.close(cur);
      const next = newDraft(file, line, value);
      this.stanzas.push(next);
      return next;
    }
    if (!cur) {
      this.env.warn(`${where}: '${name}' before the first SOURCE line is ignored`);
      return cur;
    }
    if (name === "%include_keys") {
      this.includeKeys(cur, value, where);
      const problem = checkStanza(cur, this.env.info);
      if (problem) {
        this.env.warn(
          `${where}: ${problem.msg}; data error in included keyfile '${value}', skipping stanza.`,
        );
        this.stanzas.splice(this.stanzas.indexOf(cur), 1);
        return undefined;
      }
      return cur;
    }
    const variable = accessVariable(name);
    if (variable) cur.written[name.toUpperCase()] = value;
    if (variable) variable.set(cur, value, this.context(name, where, encoding));
    else this.env.warn(`Ignoring unknown access parameter: '${name}' in ${where}`);
    return cur;
  }

  private context(name: string, where: string, encoding: BufferEncoding): VariableContext {
    const { server, accounts, warn } = this.env;
    return { name, where, encoding, server, accounts, warn };
  }

  private includeKeys(d: StanzaDraft, path: string, where: string): void {
    const { warn, info } = this.env;
    this.env.debug?.(`[+] Processing include_keys directive for: '${path}'`);
    info(`Including key file: '${path}'`);
    let text: string;
    let encoding: BufferEncoding;
    try {
      ({ text, encoding } = readConfigText(path, "Key file", warn, where));
    } catch (e) {
      // Upstream carries on; the stanza check that follows decides whether the stanza survives.
      warn(e instanceof Error ? e.message : String(e));
      return;
    }
    // Upstream stops reading a key file at its first bad line and keeps what it read so far;
    // the stanza check that follows decides whether the stanza survives.
    let firstBad = Number.POSITIVE_INFINITY;
    const lines = tokenizeConfig(text, path, {
      stripNameColon: true,
      onInvalid: (line, raw) => {
        if (line >= firstBad) return;
        firstBad = line;
        warn(`${path}:${line}: Invalid access file entry (a name without a value): '${raw}'`);
      },
    });
    for (const l of lines) {
      if (l.line > firstBad) break;
      const variable = accessVariable(l.name);
      if (!variable?.keyFile) {
        info(`${path}:${l.line}: Ignoring invalid entry: '${l.name}'`);
        continue;
      }
      try {
        d.written[l.name.toUpperCase()] = l.value;
        variable.set(d, l.value, this.context(l.name, `${path}:${l.line}`, encoding));
      } catch (e) {
        if (!(e instanceof FwknopError)) throw e;
        warn(e.message);
        break;
      }
    }
  }

  /** End of a stanza (next SOURCE or end of its file): an unusable stanza is fatal. */
  private close(d: StanzaDraft): void {
    const problem = checkStanza(d, this.env.info);
    if (problem) failAt(problem.code, `${d.file}:${d.line}`, problem.msg);
  }
}
