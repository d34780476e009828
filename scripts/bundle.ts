/**
 * `npm run build`, second step: bundles each program (fwknopd, fwknop) from src/ into one
 * CommonJS file under dist/bundle/, so start-up reads and compiles one file instead of ~80
 * modules. CommonJS rather than ESM because Node loads a CommonJS main file synchronously, while
 * its ESM loader goes through the libuv thread pool and module jobs (about 10 % of a knock's
 * start-up here). The client's QR encoder (src/client/keygen-qr.ts, reached by import() only for
 * --key-gen on a terminal) is built as a file of its own that nothing else loads, and so are the
 * daemon's Prometheus registry (src/server/metrics.ts with prom-client, reached by import() only
 * when METRICS_LISTEN is set) and its cluster module with the Redis client (src/cluster/cluster.ts
 * with ioredis, reached by import() only when REPLAY_CACHE_URL is set); the registry finds the
 * daemon's events through diagnostics_channel, whose channels are shared by name, so its own
 * copies of the channel modules see the same events.
 * bin/* run these files; the .deb ships them.
 *
 * Usage: node dist/scripts/bundle.js [outdir]   (default dist/bundle)
 */
import { readdirSync, rmSync } from "node:fs";
import { basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build, type Plugin } from "esbuild";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Modules reached only through import() that get a file of their own: specifier → output. */
const LAZY: Record<string, string> = {
  "./keygen-qr.js": "fwknop-keygen-qr",
  "./metrics.js": "fwknopd-metrics",
  // The cluster (REPLAY_CACHE_URL) and its Redis client: a standalone fwknopd never reads it.
  "../cluster/cluster.js": "fwknopd-cluster",
};

/** Leaves the LAZY imports in place, pointing at their own output files. */
const lazyFiles: Plugin = {
  name: "lazy-files",
  setup(b) {
    b.onResolve({ filter: /^(\.\/(keygen-qr|metrics)|\.\.\/cluster\/cluster)\.js$/ }, (args) => ({
      path: `./${LAZY[args.path]}.cjs`,
      external: true,
    }));
  },
};

const COMMON: BuildOptions = {
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  outExtension: { ".js": ".cjs" },
  // Native addons stay outside: they are optional and loaded with createRequire when installed
  // (without them syslog goes through logger(1) and --spoof-source is refused).
  external: ["unix-dgram", "raw-socket"],
  // CommonJS has no import.meta; createRequire(import.meta.url) gets this file's URL instead.
  define: { "import.meta.url": "__bundle_url" },
  banner: { js: 'const __bundle_url = require("node:url").pathToFileURL(__filename).href;' },
  // Smaller text parses faster; identifiers stay readable in an internal-error stack.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  logLevel: "warning",
};

export async function bundle(outdir: string): Promise<string[]> {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    ...COMMON,
    entryPoints: {
      fwknopd: resolve(ROOT, "src/bin/fwknopd.ts"),
      fwknop: resolve(ROOT, "src/bin/fwknop.ts"),
      "fwknop-keygen-qr": resolve(ROOT, "src/client/keygen-qr.ts"),
      "fwknopd-metrics": resolve(ROOT, "src/server/metrics.ts"),
      "fwknopd-cluster": resolve(ROOT, "src/cluster/cluster.ts"),
    },
    outdir,
    plugins: [lazyFiles],
  });
  return readdirSync(outdir).sort();
}

if (process.argv[1] !== undefined && basename(process.argv[1]) === "bundle.js") {
  const outdir = resolve(process.argv[2] ?? resolve(ROOT, "dist/bundle"));
  const files = await bundle(outdir);
  process.stdout.write(`bundle: ${files.join(" ")} in ${outdir}\n`);
}
