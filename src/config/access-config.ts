/**
 * access.conf loading (fwknopd's access.c): read the access file or folder into stanza drafts
 * (access-include.ts, variables in access-variables.ts, per-stanza checks in
 * access-validate.ts), then finish every stanza with its lists and defaults
 * (access-defaults.ts). Fatal problems throw FwknopError with "file:line: what is wrong"; the
 * same texts as upstream where an operator may grep for them.
 */
import { FwknopError } from "../errors.js";
import { systemAccounts } from "../sys/accounts.js";
import { finishStanza } from "./access-defaults.js";
import { AccessReader } from "./access-include.js";
import type { AccessStanza } from "./access-stanza.js";
import type { ServerConfig } from "./server-config.js";

export type { AccessStanza } from "./access-stanza.js";
export { parseAccessExpire } from "./access-variables.js";

export interface AccessConfigOptions {
  /** access.conf path; ignored when `folder` is given. Defaults from the server config. */
  file?: string | undefined;
  /** --access-folder / ACCESS_FOLDER: every *.conf file in it instead of the access file. */
  folder?: string | undefined;
  server: ServerConfig;
  warn?: ((msg: string) => void) | undefined;
  info?: ((msg: string) => void) | undefined;
  /** 2.6.10's -v lines (files opened, include directives); off when absent. */
  debug?: ((msg: string) => void) | undefined;
}

/**
 * The access file or folder named by -a/--access-folder (or fwknopd.conf) cannot be read: the
 * loader's reason plus 2.6.10's summary line, which operators grep for.
 */
function topLevel(folder: string | undefined, file: string, parse: () => void): void {
  try {
    parse();
  } catch (e) {
    const missing =
      e instanceof FwknopError &&
      (e.code === "FWK_ERR_CONFIG_FILE_MISSING" || e.code === "FWK_ERR_CONFIG_FILE_TYPE");
    const top = folder ?? file;
    if (!missing || !e.message.includes(`'${top}'`) || /^[^ ]+:\d+: /.test(e.message)) throw e;
    const summary =
      folder !== undefined
        ? `Invalid access folder directory '${folder}' could not lstat(), does not exist, or too large?`
        : `Invalid access.conf file path '${file}'`;
    throw new FwknopError(e.code, `${e.message} ${summary}`);
  }
}

export function loadAccessConfig(opts: AccessConfigOptions): AccessStanza[] {
  const info = opts.info ?? (() => {});
  const reader = new AccessReader({
    server: opts.server,
    accounts: systemAccounts(),
    warn: opts.warn ?? (() => {}),
    info,
    ...(opts.debug ? { debug: opts.debug } : {}),
  });
  opts.debug?.("Initialize access stanzas");
  const folder =
    opts.folder ?? (opts.file === undefined ? opts.server.get("ACCESS_FOLDER") : undefined);
  const file = opts.file ?? opts.server.get("ACCESS_FILE");
  topLevel(folder, file, () => {
    if (folder !== undefined) reader.parseFolder(folder);
    else reader.parseFile(file);
  });
  if (reader.stanzas.length === 0) {
    // 2.6.10's wording for each case (a folder gets its "could not find any" line).
    const why =
      folder !== undefined
        ? `Fatal, could not find any valid access.conf stanzas in access folder: '${folder}'`
        : `Could not find valid SOURCE stanza in access file: '${file}'`;
    throw new FwknopError("FWK_ERR_CONFIG_NO_STANZA", `${folder ?? file}: ${why}`);
  }
  return reader.stanzas.map((d, i) => finishStanza(d, i + 1, opts.server, info));
}
