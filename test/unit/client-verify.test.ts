/** `--verify[=SECONDS]`: getopt's optional argument, the option's values, the ports it probes. */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { parseCli } from "../../src/client/cli.js";
import { tcpPortsToVerify, verifyAccess } from "../../src/client/verify.js";
import { FwknopError } from "../../src/errors.js";
import { getoptLong } from "../../src/sys/getopt.js";

const cli = (...argv: string[]) =>
  parseCli(["--no-rc-file", "-A", "tcp/22", "-a", "192.0.2.7", "-D", "x", ...argv], {
    home: "/nonexistent",
    notice: () => {},
  });

test("getopt: an optional argument only with '=', never the next word", () => {
  const specs = [{ long: "verify", id: "verify", takesArg: false, optionalArg: true }];
  const r = getoptLong(["--verify", "5", "--verify=7", "--ver"], specs, "fwknop");
  assert.ok(r.ok);
  assert.deepEqual(
    r.options.map((o) => o.value),
    [undefined, "7", undefined],
  );
  assert.deepEqual(r.operands, ["5"]);
});

test("getopt: an extension option never joins an upstream prefix's ambiguity", () => {
  const specs = [
    { long: "verbose", id: "verbose", takesArg: false },
    { long: "version", id: "version", takesArg: false },
    { long: "verify", id: "verify", takesArg: false, extension: true },
  ];
  const r = getoptLong(["--ver"], specs, "fwknop");
  assert.deepEqual(r, {
    ok: false,
    error: "fwknop: option '--ver' is ambiguous; possibilities: '--verbose' '--version'",
  });
  const v = getoptLong(["--veri"], specs, "fwknop");
  assert.ok(v.ok && v.options[0]?.id === "verify");
});

test("--verify defaults to 10 s, --verify=N takes 1..3600", () => {
  assert.equal(cli("--verify").request.verifySeconds, 10);
  assert.equal(cli("--verify=3").request.verifySeconds, 3);
  assert.equal(cli().request.verifySeconds, undefined);
  for (const bad of ["--verify=0", "--verify=x", "--verify=99999"])
    assert.throws(() => cli(bad), FwknopError, bad);
});

test("the TCP ports of -A are probed; UDP ones cannot be", () => {
  assert.deepEqual(tcpPortsToVerify("tcp/22,udp/53,tcp/443,tcp/22"), [22, 443]);
  assert.deepEqual(tcpPortsToVerify("udp/53"), []);
});

test("verifyAccess: open port reported, closed port is FWK_ERR_CLIENT_VERIFY", async () => {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  try {
    const ok = await verifyAccess({ host: "127.0.0.1", access: `tcp/${port}`, seconds: 5 });
    assert.match(ok, new RegExp(`^\\[\\+\\] --verify: 127\\.0\\.0\\.1 tcp/${port} open`));
  } finally {
    await new Promise((r) => server.close(r));
  }
  await assert.rejects(
    verifyAccess({ host: "127.0.0.1", access: `tcp/${port},udp/53`, seconds: 1 }),
    (e: unknown) =>
      e instanceof FwknopError &&
      e.code === "FWK_ERR_CLIENT_VERIFY" &&
      e.message.includes(`tcp/${port} accepted no connection within 1 s`),
  );
  await assert.rejects(
    verifyAccess({ host: "127.0.0.1", access: "udp/53", seconds: 1 }),
    /no TCP port in 'udp\/53' to probe/,
  );
});
