import assert from "node:assert/strict";
import { test } from "node:test";
import { CLIENT_OPTIONS } from "../../src/client/options.js";
import { getoptLong, type OptionSpec } from "../../src/sys/getopt.js";

const SPECS: OptionSpec[] = [
  { long: "access", short: "A", takesArg: true, id: "access" },
  { long: "test", short: "T", takesArg: false, id: "test" },
  { long: "verbose", short: "v", takesArg: false, id: "verbose" },
  { long: "version", short: "V", takesArg: false, id: "version" },
  { long: "spoof-source", short: "Q", takesArg: true, id: "spoof" },
  { long: "spoof-src", takesArg: true, id: "spoof" },
];

function ids(argv: string[]) {
  const r = getoptLong(argv, SPECS, "fwknop");
  assert.ok(r.ok, r.ok ? "" : r.error);
  return r.options.map((o) => (o.value === undefined ? o.id : `${o.id}=${o.value}`));
}

test("short options: clusters, attached and separate arguments", () => {
  assert.deepEqual(ids(["-vTv"]), ["verbose", "test", "verbose"]);
  assert.deepEqual(ids(["-Atcp/22"]), ["access=tcp/22"]);
  assert.deepEqual(ids(["-TA", "tcp/22"]), ["test", "access=tcp/22"]);
  assert.deepEqual(ids(["-A", "-T"]), ["access=-T"]);
});

test("long options: =value, next word, unambiguous prefixes, aliases", () => {
  assert.deepEqual(ids(["--access=tcp/1", "--access", "tcp/2"]), ["access=tcp/1", "access=tcp/2"]);
  assert.deepEqual(ids(["--acc", "x", "--te"]), ["access=x", "test"]);
  // Both spellings mean the same option, so the shared prefix is not ambiguous (as glibc).
  assert.deepEqual(ids(["--spoof-s", "1.2.3.4"]), ["spoof=1.2.3.4"]);
  assert.deepEqual(ids(["--verbose"]), ["verbose"]);
});

test("operands are kept aside and -- ends the options", () => {
  const r = getoptLong(["x", "-T", "--", "-v"], SPECS, "fwknop");
  assert.ok(r.ok);
  assert.deepEqual(
    r.options.map((o) => o.id),
    ["test"],
  );
  assert.deepEqual(r.operands, ["x", "-v"]);
});

test("errors use glibc's wording", () => {
  const err = (argv: string[]) => {
    const r = getoptLong(argv, SPECS, "fwknop");
    return r.ok ? "" : r.error;
  };
  assert.equal(err(["--bogus"]), "fwknop: unrecognized option '--bogus'");
  assert.equal(err(["-z"]), "fwknop: invalid option -- 'z'");
  assert.equal(err(["-A"]), "fwknop: option requires an argument -- 'A'");
  assert.equal(err(["--acc"]), "fwknop: option '--access' requires an argument");
  assert.equal(err(["--test=1"]), "fwknop: option '--test' doesn't allow an argument");
  assert.equal(
    err(["--ver"]),
    "fwknop: option '--ver' is ambiguous; possibilities: '--verbose' '--version'",
  );
});

test("the client table has upstream's short option letters and unique long names", () => {
  const shorts = CLIENT_OPTIONS.flatMap((o) => (o.short ? [o.short] : [])).sort();
  assert.equal(shorts.join(""), [..."aAbBCDEfgGhHkKlmMnNpPQrRsSTuUvVw"].sort().join(""));
  const longs = CLIENT_OPTIONS.map((o) => o.long);
  assert.equal(new Set(longs).size, longs.length);
  for (const name of ["key-base64-rijndael", "resolve-ip-http", "spoof-src", "fd", "stdin"]) {
    assert.ok(longs.includes(name), name);
  }
});
