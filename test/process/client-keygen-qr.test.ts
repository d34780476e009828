/**
 * `fwknop --key-gen` on a terminal: the QR code it draws must scan back to exactly
 * `KEY_BASE64:<k> HMAC_KEY_BASE64:<h>` for the keys printed above it, and the access.conf stanza
 * must carry the same keys. The terminal is a real pty (script(1)); the drawing is turned back
 * into pixels and read with jsQR.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import jsqrModule from "jsqr";
import { run } from "../../src/sys/run.js";

type Scan = (data: Uint8ClampedArray, w: number, h: number) => { data: string } | null;
// jsqr is a CommonJS bundle: depending on the loader its function is the module or its default.
const jsQR = ((jsqrModule as unknown as { default?: Scan }).default ??
  (jsqrModule as unknown as Scan)) as Scan;

const OUR_FWKNOP = fileURLToPath(new URL("../../../bin/fwknop", import.meta.url));

/** Module rows from half-block text rows: ▀ top, ▄ bottom, █ both, space neither. */
function modulesFromTerminal(rows: readonly string[]): boolean[][] {
  const out: boolean[][] = [];
  for (const row of rows) {
    const chars = [...row];
    out.push(chars.map((c) => c === "█" || c === "▀"));
    out.push(chars.map((c) => c === "█" || c === "▄"));
  }
  return out;
}

/** Scales modules to RGBA pixels (dark = black) with a white border, as a camera would see. */
function toImage(mods: readonly (readonly boolean[])[], scale = 4, border = 8) {
  const h = mods.length;
  const w = mods[0]?.length ?? 0;
  const width = (w + 2 * border) * scale;
  const height = (h + 2 * border) * scale;
  const data = new Uint8ClampedArray(width * height * 4).fill(255);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!mods[y]?.[x]) continue;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const px = ((y + border) * scale + dy) * width + (x + border) * scale + dx;
          data.fill(0, px * 4, px * 4 + 3);
        }
      }
    }
  }
  return { data, width, height };
}

test("--key-gen on a terminal draws a QR code that scans back to the printed keys", async (t) => {
  const home = mkdtempSync(join(tmpdir(), "fwk-qr-"));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const cmd = `${process.execPath} ${OUR_FWKNOP} --key-gen`;
  const r = await run(["script", "-qec", cmd, "/dev/null"], {
    env: { HOME: home, TERM: "xterm" },
    timeoutMs: 20_000,
  });
  assert.equal(r.code, 0, r.stderr);
  const text = r.stdout.replaceAll("\r", "");
  const key = /^KEY_BASE64: (\S+)$/m.exec(text)?.[1];
  const hmac = /^HMAC_KEY_BASE64: (\S+)$/m.exec(text)?.[1];
  assert.ok(key && hmac, `no key lines in:\n${text}`);

  // QR rows are the lines drawn inside the colour escape sequences.
  const ON = "\x1b[30;47m";
  const OFF = "\x1b[0m";
  const rows = text
    .split(ON)
    .slice(1)
    .map((part) => part.slice(0, part.indexOf(OFF)));
  assert.ok(rows.length > 10, "no QR code drawn");
  const img = toImage(modulesFromTerminal(rows));
  const decoded = jsQR(img.data, img.width, img.height);
  assert.equal(decoded?.data, `KEY_BASE64:${key} HMAC_KEY_BASE64:${hmac}`);

  assert.match(text, new RegExp(`\\nKEY_BASE64 +${key.replaceAll("+", "\\+")};\\n`));
  assert.match(text, new RegExp(`\\nHMAC_KEY_BASE64 +${hmac.replaceAll("+", "\\+")};\\n`));
  assert.match(text, /\nSOURCE +ANY;\n/);
});

test("--key-gen into a pipe prints only upstream's two lines", async () => {
  const r = await run([process.execPath, OUR_FWKNOP, "--key-gen", "--hmac-digest-type", "sha384"], {
    timeoutMs: 15_000,
  });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^KEY_BASE64: \S+\nHMAC_KEY_BASE64: \S+\n$/);
});
