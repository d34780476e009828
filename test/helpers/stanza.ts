/** Builds an access stanza with upstream defaults for pipeline and policy tests. */
import { STANZA_DEFAULTS } from "../../src/config/access-defaults.js";
import type { AccessStanza } from "../../src/config/access-stanza.js";
import { parseAddressList } from "../../src/config/address-list.js";

export function makeStanza(overrides: Partial<AccessStanza> = {}): AccessStanza {
  const any = parseAddressList("ANY");
  if (!any.ok) throw new Error("ANY must parse");
  return {
    ...STANZA_DEFAULTS,
    index: 1,
    file: "access.conf",
    line: 1,
    source: any.value,
    key: Buffer.from("fwknoptest"),
    ...overrides,
  };
}
