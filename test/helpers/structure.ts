/**
 * The layering rules of src/ (docs/internals.md, "Structure rules"), checked on the import
 * graph read from the sources: no import cycle; node:child_process only under sys/; protocol/
 * and crypto/ independent of server/, client/, firewall/ and config/, and crypto/ of protocol/
 * (one direction between them); no firewall backend
 * importing another backend's files (a wrapper may import the backend it wraps: same family);
 * no seam interface importing an implementation; no file over 500 lines. Used by
 * test/unit/structure.test.ts on src/ and on deliberately broken trees.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export interface Violation {
  rule: "cycle" | "child-process" | "layer" | "backend" | "seam" | "size";
  detail: string;
}

/** Files longer than this are split (house rule). */
export const MAX_LINES = 500;

/** Seam interface files and what each may import from its own folder (models, not code). */
export const SEAMS: readonly { iface: string; folder: string; allowed: readonly string[] }[] = [
  {
    iface: "firewall/backend.ts",
    folder: "firewall/",
    allowed: ["firewall/rule.ts", "firewall/settings.ts"],
  },
  { iface: "server/intake/intake.ts", folder: "server/intake/", allowed: [] },
  { iface: "server/replay/replay-cache.ts", folder: "server/replay/", allowed: [] },
  { iface: "log/logger.ts", folder: "log/", allowed: [] },
];

/** Folders and the folders they must not import (the codec and its primitives stay pure). */
const LAYERS: readonly { from: string; not: readonly string[] }[] = [
  { from: "protocol/", not: ["server/", "client/", "firewall/", "config/"] },
  // protocol/ builds on crypto/, never the other way round.
  { from: "crypto/", not: ["server/", "client/", "firewall/", "config/", "protocol/"] },
];

/** A firewall file's backend family by its name (iptables-dual-stack.ts → iptables). */
function backendFamily(file: string): string | undefined {
  if (!file.startsWith("firewall/")) return undefined;
  const m = /^(iptables|nftables|nft|firewalld|pf|ipfw)(?=[-.])/.exec(
    file.slice("firewall/".length),
  );
  if (!m?.[1]) return undefined;
  return m[1] === "nft" ? "nftables" : m[1];
}

function listTs(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listTs(root, p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(relative(root, p));
  }
  return out.sort();
}

/** Every module specifier a source file names: static, re-export, side-effect and dynamic. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|[\s;}])(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec) out.push(spec);
  }
  return out;
}

export interface ImportGraph {
  files: string[];
  /** file → project files it imports (paths relative to the root, `.ts`). */
  edges: Map<string, string[]>;
  /** file → bare module specifiers (node:fs, ipaddr.js, ...). */
  external: Map<string, string[]>;
  lines: Map<string, number>;
}

export function readGraph(root: string): ImportGraph {
  const files = listTs(root);
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  const external = new Map<string, string[]>();
  const lines = new Map<string, number>();
  for (const file of files) {
    const text = readFileSync(join(root, file), "utf8");
    lines.set(file, text.split("\n").length - (text.endsWith("\n") ? 1 : 0));
    const local: string[] = [];
    const ext: string[] = [];
    for (const spec of importsOf(text)) {
      if (!spec.startsWith(".")) {
        ext.push(spec);
        continue;
      }
      const target = relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, ".ts");
      if (known.has(target)) local.push(target);
    }
    edges.set(file, [...new Set(local)]);
    external.set(file, ext);
  }
  return { files, edges, external, lines };
}

/** Strongly connected components with more than one file, or a file importing itself. */
export function cycles(g: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of g.edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      scc.push(w);
      if (w === v) break;
    }
    if (scc.length > 1 || (g.edges.get(v) ?? []).includes(v)) found.push(scc.sort());
  };
  for (const f of g.files) if (!index.has(f)) visit(f);
  return found;
}

export function checkStructure(root: string): Violation[] {
  const g = readGraph(root);
  const out: Violation[] = [];
  for (const scc of cycles(g)) out.push({ rule: "cycle", detail: scc.join(" → ") });
  for (const file of g.files) {
    const imports = g.edges.get(file) ?? [];
    if (
      !file.startsWith("sys/") &&
      (g.external.get(file) ?? []).some((s) => s === "node:child_process" || s === "child_process")
    ) {
      out.push({ rule: "child-process", detail: `${file} imports node:child_process` });
    }
    for (const layer of LAYERS) {
      if (!file.startsWith(layer.from)) continue;
      for (const t of imports) {
        if (layer.not.some((a) => t.startsWith(a))) {
          out.push({ rule: "layer", detail: `${file} imports ${t}` });
        }
      }
    }
    const family = backendFamily(file);
    if (family) {
      for (const t of imports) {
        const other = backendFamily(t);
        if (other && other !== family) {
          out.push({ rule: "backend", detail: `${file} (${family}) imports ${t} (${other})` });
        }
      }
    }
    for (const seam of SEAMS) {
      if (file !== seam.iface) continue;
      for (const t of imports) {
        if (t.startsWith(seam.folder) && !seam.allowed.includes(t)) {
          out.push({ rule: "seam", detail: `${file} (interface) imports ${t}` });
        }
      }
    }
    const n = g.lines.get(file) ?? 0;
    if (n > MAX_LINES) out.push({ rule: "size", detail: `${file} has ${n} lines` });
  }
  return out;
}
