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
}

export function loadAccessConfig(opts: AccessConfigOptions): AccessStanza[] {
  const info = opts.info ?? (() => {});
  const reader = new AccessReader({
    server: opts.server,
    accounts: systemAccounts(),
    warn: opts.warn ?? (() => {}),
    info,
  });
  const folder =
    opts.folder ?? (opts.file === undefined ? opts.server.get("ACCESS_FOLDER") : undefined);
  const file = opts.file ?? opts.server.get("ACCESS_FILE");
  if (folder !== undefined) reader.parseFolder(folder);
  else reader.parseFile(file);
  if (reader.stanzas.length === 0) {
    const what = folder !== undefined ? `access folder: '${folder}'` : `access file: '${file}'`;
    throw new FwknopError(
      "FWK_ERR_CONFIG_NO_STANZA",
      `${folder ?? file}: Could not find valid SOURCE stanza in ${what}`,
    );
  }
  return reader.stanzas.map((d, i) => finishStanza(d, i + 1, opts.server, info));
}
