import assert from "node:assert/strict";
import { test } from "node:test";
import { isDirectory, isRegularFile } from "../../src/sys/file-kind.js";

// Found by the CLI/config fuzz test: a 1,100-character GPG_HOME_DIR made stat() throw
// ENAMETOOLONG, which escaped config loading as a stack trace instead of a file:line refusal.
test("paths stat() cannot even look at are neither directories nor files", () => {
  const long = "a".repeat(1100);
  assert.equal(isDirectory(long), false);
  assert.equal(isRegularFile(long), false);
  assert.equal(isDirectory("/etc/passwd/x"), false); // ENOTDIR
  assert.equal(isDirectory("/etc"), true);
  assert.equal(isRegularFile("/etc/passwd"), true);
});
