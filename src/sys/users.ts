/**
 * Looks up system users in /etc/passwd (Node has no getpwnam). Used to run SPA commands as
 * CMD_EXEC_USER / CMD_EXEC_GROUP, which upstream also resolves as user names.
 */
import { readFileSync } from "node:fs";

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

export function lookupUser(name: string, passwdFile = "/etc/passwd"): SystemUser | undefined {
  for (const line of readFileSync(passwdFile, "utf8").split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user === name && uid !== undefined && gid !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  return undefined;
}
