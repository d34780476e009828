/**
 * The client invocations behind c-client-fixtures.json (regenerate it with
 * `node dist/scripts/capture-c-client-fixtures.js --write`). Each fixture keeps the client
 * options, the keys, the wire string and the client's own field dump; c-client-fixtures.test.ts
 * decodes every wire string with our codec.
 */
import type { CClientSpec } from "../helpers/c-fwknop.js";

const BASE = { user: "alice", allowIp: "192.0.2.10", access: "tcp/22", encKey: "fwknoptest" };
const H = { hmacKey: "golden-hmac-key" };

export const GOLDEN_SPECS: ReadonlyArray<{ name: string; spec: CClientSpec }> = [
  {
    name: "cbc-sha256-hmac-sha256",
    spec: { ...BASE, ...H, mode: "CBC", digest: "sha256", hmac: "sha256" },
  },
  { name: "cbc-sha256-no-hmac", spec: { ...BASE, mode: "CBC", digest: "sha256" } },
  { name: "ecb-md5-hmac-md5", spec: { ...BASE, ...H, mode: "ECB", digest: "md5", hmac: "md5" } },
  {
    name: "cfb-sha1-hmac-sha1",
    spec: { ...BASE, ...H, mode: "CFB", digest: "sha1", hmac: "sha1" },
  },
  {
    name: "ofb-sha384-hmac-sha384",
    spec: { ...BASE, ...H, mode: "OFB", digest: "sha384", hmac: "sha384" },
  },
  {
    name: "ctr-sha512-hmac-sha512",
    spec: { ...BASE, ...H, mode: "CTR", digest: "sha512", hmac: "sha512" },
  },
  {
    name: "cbc-sha3_256-hmac-sha3_256",
    spec: { ...BASE, ...H, mode: "CBC", digest: "sha3_256", hmac: "sha3_256" },
  },
  {
    name: "cbc-sha3_512-hmac-sha3_512",
    spec: { ...BASE, ...H, mode: "CBC", digest: "sha3_512", hmac: "sha3_512" },
  },
  { name: "legacy-short-key", spec: { ...BASE, mode: "legacy", digest: "sha256" } },
  {
    name: "legacy-sha1",
    spec: { ...BASE, encKey: "0123456789abcdef", mode: "legacy", digest: "sha1" },
  },
  {
    name: "cbc-32-byte-key",
    spec: {
      ...BASE,
      ...H,
      encKey: "0123456789abcdef0123456789abcdef",
      mode: "CBC",
      digest: "sha256",
      hmac: "sha256",
    },
  },
  {
    name: "base64-binary-keys",
    spec: {
      ...BASE,
      encKeyB64: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
      hmacKeyB64:
        "/+7dzLuqmYh3ZlVEMyIRAP/u3cy7qpmId2ZVRDMiEQD/7t3Mu6qZiHdmVUQzIhEA/+7dzLuqmYh3ZlVEMyIRAA==",
      mode: "CBC",
      digest: "sha256",
      hmac: "sha512",
    },
  },
  {
    name: "multi-port",
    spec: {
      ...BASE,
      ...H,
      access: "tcp/22,udp/53,tcp/443",
      mode: "CBC",
      digest: "sha256",
      hmac: "sha256",
    },
  },
  {
    name: "user-with-space",
    spec: { ...BASE, ...H, user: "bob smith", mode: "CBC", digest: "sha256", hmac: "sha256" },
  },
  {
    name: "allow-0.0.0.0",
    spec: { ...BASE, ...H, allowIp: "0.0.0.0", mode: "CTR", digest: "sha256", hmac: "sha256" },
  },
  {
    name: "type3-client-timeout",
    spec: { ...BASE, ...H, timeout: 600, mode: "CBC", digest: "sha256", hmac: "sha256" },
  },
  {
    name: "type2-nat",
    spec: { ...BASE, ...H, nat: "10.0.0.5,22", mode: "CBC", digest: "sha256", hmac: "sha256" },
  },
  {
    name: "type4-nat-timeout",
    spec: {
      ...BASE,
      ...H,
      nat: "10.0.0.5,2222",
      timeout: 120,
      mode: "OFB",
      digest: "sha512",
      hmac: "sha384",
    },
  },
  {
    name: "type5-local-nat",
    spec: { ...BASE, ...H, natLocal: true, mode: "CBC", digest: "sha256", hmac: "sha256" },
  },
  {
    name: "type6-local-nat-timeout",
    spec: { ...BASE, ...H, natLocal: true, timeout: 45, mode: "CFB", digest: "sha1", hmac: "md5" },
  },
  {
    name: "type0-command",
    spec: {
      ...BASE,
      ...H,
      command: "touch /tmp/fwknop-golden",
      mode: "CBC",
      digest: "sha256",
      hmac: "sha256",
    },
  },
];
