/** What a path is, without throwing: the existence checks config loading makes (stat()). */
import { type Stats, statSync } from "node:fs";

/**
 * stat() that answers "nothing there" for every failure, not only ENOENT: a name too long, a
 * file used as a directory or a path we may not search is, to a config check, a path that is
 * not the directory or file it wants (fwknop's "stat()/existence problem").
 */
function statQuietly(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

export function isDirectory(path: string): boolean {
  return statQuietly(path)?.isDirectory() === true;
}

export function isRegularFile(path: string): boolean {
  return statQuietly(path)?.isFile() === true;
}
