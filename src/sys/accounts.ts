/**
 * User and group names → numeric ids from the local account databases (/etc/passwd,
 * /etc/group), as fwknopd's getpwnam()/getgrnam() would answer for CMD_EXEC_USER and friends.
 * Read once per lookup object; a missing database file means "no such name".
 */
import { readFileSync } from "node:fs";

export interface AccountIds {
  uid: number;
  gid: number;
}

export interface AccountLookup {
  user(name: string): AccountIds | undefined;
  /** A group's gid by name. */
  group(name: string): number | undefined;
}

/** name → ids from a colon-separated database file; `gidField` is the gid column. */
function readIdFile(path: string, gidField: number): Map<string, AccountIds> {
  const out = new Map<string, AccountIds>();
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    const f = line.split(":");
    const name = f[0];
    if (!name || f.length <= gidField) continue;
    out.set(name, { uid: Number(f[2]), gid: Number(f[gidField]) });
  }
  return out;
}

/** The host's accounts; /etc/group is read only when a group is first asked for. */
export function systemAccounts(): AccountLookup {
  const users = readIdFile("/etc/passwd", 3);
  let groups: Map<string, AccountIds> | undefined;
  return {
    user: (name) => users.get(name),
    group: (name) => {
      groups ??= readIdFile("/etc/group", 2);
      return groups.get(name)?.gid;
    },
  };
}
