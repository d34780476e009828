/**
 * Live interop, our encoder → C fwknopd 2.6.10: one packet per combination of 6 modes ×
 * 7 inner digests × (no HMAC + 7 HMAC types), each from its own source address with its own
 * SOURCE stanza (keys, ENCRYPTION_MODE, HMAC_DIGEST_TYPE), all written into one pcap file that
 * fwknopd reads once in --test mode. Every packet must be decoded by fwknopd to our encoded text
 * and reach the "--test mode enabled" point. The daemon runs inside a throw-away namespace.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DIGEST_NAMES, type DigestName, SYMMETRIC_MODES } from "../../src/protocol/constants.js";
import { encodeSpa, type SpaKeys, type SpaMessage } from "../../src/protocol/spa.js";
import { run } from "../../src/sys/run.js";
import { C_FWKNOPD, missingCBinary } from "../helpers/c-fwknop.js";
import { canUseNetns, createNetnsPair } from "../helpers/netns.js";
import { pcapFile } from "../helpers/pcap-writer.js";

interface Case {
  name: string;
  srcIp: string;
  msg: SpaMessage;
  keys: SpaKeys;
  digest: DigestName;
}

const SERVER_IP = "198.18.0.1";

/** Message shapes rotated across the matrix: plain, timeout, NAT, NAT + timeout, multi-port. */
function shape(
  i: number,
  srcIp: string,
): Pick<SpaMessage, "messageType" | "message"> & Partial<SpaMessage> {
  switch (i % 5) {
    case 1:
      return { messageType: 3, message: `${srcIp},tcp/22`, clientTimeout: 60 };
    case 2:
      return { messageType: 2, message: `${srcIp},tcp/8080`, natAccess: "192.168.10.2,80" };
    case 3:
      return {
        messageType: 4,
        message: `${srcIp},tcp/2222`,
        natAccess: "192.168.10.3,22",
        clientTimeout: 30,
      };
    case 4:
      return { messageType: 1, message: `${srcIp},tcp/22,udp/53,tcp/443` };
    default:
      return { messageType: 1, message: `${srcIp},tcp/22` };
  }
}

function buildCases(now: number): Case[] {
  const out: Case[] = [];
  let i = 0;
  for (const mode of SYMMETRIC_MODES) {
    for (const digest of DIGEST_NAMES) {
      for (const hmac of [undefined, ...DIGEST_NAMES] as (DigestName | undefined)[]) {
        const srcIp = `198.18.${1 + Math.floor(i / 200)}.${1 + (i % 200)}`;
        const keys: SpaKeys = { encKey: Buffer.from(`interop-key-${i}`), encMode: mode };
        if (hmac) {
          keys.hmacKey = Buffer.from(`interop-hmac-${i}-${"x".repeat(i % 40)}`);
          keys.hmacType = hmac;
        }
        const msg: SpaMessage = {
          randomValue: String(1_000_000_000_000_000 + i * 7919).slice(0, 16),
          username: `knocker${i}`,
          timestamp: now,
          version: "3.0.0",
          ...shape(i, srcIp),
        };
        out.push({ name: `${mode}/${digest}/${hmac ?? "no-hmac"}`, srcIp, msg, keys, digest });
        i++;
      }
    }
  }
  return out;
}

function stanza(c: Case): string {
  const lines = [
    `SOURCE ${c.srcIp}`,
    `KEY_BASE64 ${c.keys.encKey.toString("base64")}`,
    `ENCRYPTION_MODE ${c.keys.encMode}`,
  ];
  if (c.keys.hmacKey) {
    lines.push(`HMAC_KEY_BASE64 ${c.keys.hmacKey.toString("base64")}`);
    lines.push(`HMAC_DIGEST_TYPE ${c.keys.hmacType ?? "sha256"}`);
  }
  return `${lines.join("\n")}\n`;
}

test("our packets for every mode × digest × HMAC type are accepted by C fwknopd", async (t) => {
  const missing = missingCBinary(C_FWKNOPD);
  if (missing) assert.fail(missing);
  if (!canUseNetns()) assert.fail("needs root and iproute2 to run fwknopd inside a namespace");
  const dir = mkdtempSync(join(tmpdir(), "fwk-cserver-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pair = await createNetnsPair("codec");
  t.after(() => pair.cleanup());

  const now = Math.floor(Date.now() / 1000);
  const cases = buildCases(now);
  assert.equal(cases.length, 6 * 7 * 8);
  const frames = cases.map((c, i) => {
    const r = encodeSpa(c.msg, c.keys, {
      digestType: c.digest,
      salt: Buffer.from([i & 0xff, i >> 8, 1, 2, 3, 4, 5, 6]),
    });
    assert.ok(r.ok, r.ok ? "" : `${c.name}: ${r.code} ${r.detail}`);
    return {
      encoded: r.value.encoded,
      frame: {
        srcIp: c.srcIp,
        dstIp: SERVER_IP,
        srcPort: 40000 + (i % 20000),
        dstPort: 62201,
        payload: Buffer.from(r.value.wire, "latin1"),
        time: now,
      },
    };
  });
  writeFileSync(join(dir, "spa.pcap"), pcapFile(frames.map((f) => f.frame)));
  writeFileSync(join(dir, "access.conf"), cases.map(stanza).join("\n"));
  writeFileSync(
    join(dir, "fwknopd.conf"),
    "ENABLE_IPT_FORWARDING Y;\nENABLE_IPT_LOCAL_NAT Y;\nMAX_SPA_PACKET_AGE 600;\n",
  );

  const r = await run(
    [
      C_FWKNOPD,
      "-f",
      "-t",
      // Without a packet limit fwknopd 2.6.10 never exits after the end of a pcap file.
      "-C",
      String(cases.length),
      "--pcap-file",
      join(dir, "spa.pcap"),
      "-c",
      join(dir, "fwknopd.conf"),
      "-a",
      join(dir, "access.conf"),
      "-d",
      join(dir, "digest.cache"),
      "-p",
      join(dir, "fwknopd.pid"),
      "-r",
      dir,
      "-v",
      "-v",
    ],
    { netns: pair.server, timeoutMs: 60_000 },
  );
  const log = r.stdout + r.stderr;
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const encoded = frames[i]?.encoded ?? "";
    if (!log.includes(`Encoded Data: ${encoded}\n`)) {
      failures.push(`${c.name} from ${c.srcIp}: fwknopd did not decode it`);
    } else if (!log.includes(`[${c.srcIp}] (stanza #${i + 1}) --test mode enabled`)) {
      failures.push(`${c.name} from ${c.srcIp}: decoded but not accepted`);
    }
  });
  if (failures.length > 0) {
    assert.fail(
      `${failures.length} packets refused:\n${failures.join("\n")}\n--- log tail ---\n${log.slice(-3000)}`,
    );
  }
});
