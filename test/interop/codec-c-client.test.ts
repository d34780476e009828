/**
 * Live interop, C client → our decoder: `fwknop -T` (2.6.10) builds a packet for every
 * combination of the 6 Rijndael modes × 7 inner digests × (no HMAC + 7 HMAC types); our
 * decodeSpa must accept each wire string and return exactly the fields the client dumped, and our
 * encodeSpa, given those fields and the packet's salt, must rebuild the same wire string.
 * The client refuses legacy mode with an HMAC, so those 49 combinations are checked as refusals.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DIGEST_NAMES, type DigestName, SYMMETRIC_MODES } from "../../src/protocol/constants.js";
import { decodeSpa } from "../../src/protocol/spa.js";
import { run } from "../../src/sys/run.js";
import {
  C_FWKNOP,
  type CClientSpec,
  clientArgv,
  decodedFromDump,
  keysForSpec,
  missingCBinary,
  reencode,
  runCClients,
} from "../helpers/c-fwknop.js";

/** Message shapes rotated across the matrix so every type meets every mode somewhere. */
const SHAPES: ReadonlyArray<Partial<CClientSpec>> = [
  {},
  { timeout: 300 },
  { nat: "10.1.2.3,8080" },
  { nat: "10.1.2.3,2222", timeout: 90 },
  { natLocal: true },
  { natLocal: true, timeout: 30 },
  { command: "echo hello" },
  { access: "tcp/22,udp/1194,tcp/65535" },
];

function matrix(): { name: string; spec: CClientSpec }[] {
  const out: { name: string; spec: CClientSpec }[] = [];
  let i = 0;
  for (const mode of SYMMETRIC_MODES) {
    for (const digest of DIGEST_NAMES) {
      for (const hmac of [undefined, ...DIGEST_NAMES] as (DigestName | undefined)[]) {
        if (mode === "legacy" && hmac) continue;
        const shape = SHAPES[i++ % SHAPES.length];
        const spec: CClientSpec = {
          mode,
          digest,
          user: `user${i}`,
          allowIp: "198.51.100.9",
          access: "tcp/22",
          encKey: `matrix-key-${i}`,
          ...shape,
        };
        if (hmac) {
          spec.hmac = hmac;
          spec.hmacKey = `matrix-hmac-key-${i}`;
        }
        out.push({ name: `${mode}/${digest}/${hmac ?? "no-hmac"}`, spec });
      }
    }
  }
  return out;
}

test("C client → decodeSpa across modes × digests × HMAC types", async () => {
  const missing = missingCBinary(C_FWKNOP);
  if (missing) assert.fail(missing);
  const cases = matrix();
  assert.equal(cases.length, 6 * 7 + 5 * 7 * 7);
  const runs = await runCClients(cases.map((c) => c.spec));
  const failures: string[] = [];
  for (const [i, c] of cases.entries()) {
    const got = runs[i];
    const r = got && decodeSpa(got.wire, keysForSpec(c.spec));
    if (!got || !r) failures.push(`${c.name}: no run`);
    else if (!r.ok) failures.push(`${c.name}: ${r.code} ${r.detail}`);
    else {
      try {
        assert.deepEqual(r.value, decodedFromDump(got.dump));
        assert.equal(reencode(got.wire, r.value, keysForSpec(c.spec)), got.wire, "re-encoded");
      } catch (e) {
        failures.push(`${c.name}: ${(e as Error).message}`);
      }
    }
  }
  assert.deepEqual(failures, []);
});

test("C client refuses legacy mode with HMAC (so that corner needs no decoder)", async () => {
  const missing = missingCBinary(C_FWKNOP);
  if (missing) assert.fail(missing);
  const home = mkdtempSync(join(tmpdir(), "fwk-cclient-"));
  try {
    const spec: CClientSpec = {
      mode: "legacy",
      digest: "sha256",
      hmac: "sha256",
      encKey: "k",
      hmacKey: "h",
      user: "u",
      allowIp: "198.51.100.9",
      access: "tcp/22",
    };
    const r = await run([C_FWKNOP, ...clientArgv(spec, join(home, "rc"))], { env: { HOME: home } });
    assert.match(r.stdout + r.stderr, /Legacy encryption mode is incompatible with HMAC/);
    assert.doesNotMatch(r.stdout, /Final SPA Data/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
