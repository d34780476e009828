/** Builds an access stanza with upstream defaults for pipeline and policy tests. */
import type { AccessStanza } from "../../src/config/access-stanza.js";
import { parseAddressList } from "../../src/config/address-list.js";

export function makeStanza(overrides: Partial<AccessStanza> = {}): AccessStanza {
  const any = parseAddressList("ANY");
  if (!any.ok) throw new Error("ANY must parse");
  return {
    index: 1,
    file: "access.conf",
    line: 1,
    source: any.value,
    key: Buffer.from("fwknoptest"),
    hmacType: "sha256",
    encMode: "CBC",
    fwAccessTimeout: 30,
    maxFwTimeout: 300,
    enableCmdExec: false,
    enableCmdSudoExec: false,
    requireSourceAddress: false,
    gpgAllowNoPw: false,
    gpgRequireSig: false,
    gpgDisableSig: false,
    gpgIgnoreSigVerifyError: false,
    forceMasquerade: false,
    disableDnat: false,
    forwardAll: false,
    ...overrides,
  };
}
