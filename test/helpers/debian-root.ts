/**
 * A fresh, minimal Debian 12 root for package tests: debootstrap (variant minbase) from the
 * Debian mirror this machine's apt uses, with no Node in it. The first build is kept as a tar
 * under build/debootstrap/ (git-ignored), so repeated local runs only unpack it; CI starts from
 * a fresh clone and builds it once.
 *
 * Commands run in the root through unshare + chroot: a private mount namespace carries the
 * /proc and /dev mounts the programs need, and they vanish with the command.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunOptions, type RunResult, run, runChecked } from "../../src/sys/run.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const CACHE_DIR = join(ROOT, "build/debootstrap");
const SUITE = "bookworm";
const DEFAULT_MIRROR = "http://deb.debian.org/debian";

/** The first Debian archive URI in apt's sources (one-line or deb822 format), not security. */
export function debianMirror(): string {
  const files = ["/etc/apt/sources.list"];
  const dir = "/etc/apt/sources.list.d";
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith(".list") || f.endsWith(".sources")) files.push(join(dir, f));
    }
  }
  for (const f of files) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, "utf8").split("\n")) {
      const m = /^\s*(?:deb\s+(?:\[[^\]]*\]\s+)?|URIs:\s*)(https?:\/\/\S+)/.exec(line);
      const uri = m?.[1];
      if (uri && /\/debian\/?$/.test(uri)) return uri.replace(/\/$/, "");
    }
  }
  return DEFAULT_MIRROR;
}

export interface DebianRoot {
  dir: string;
  /** Runs argv inside the root (optionally inside a network namespace). */
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** The command line that runs argv inside the root, for long-lived processes. */
  argv(argv: readonly string[]): string[];
  cleanup(): void;
}

/** Prefix that runs a command chrooted into `dir` with /proc and /dev in a private mount ns. */
function chrootArgv(dir: string, argv: readonly string[]): string[] {
  const script =
    'mount -t proc proc "$0/proc" && mount --bind /dev "$0/dev" && exec chroot "$0" "$@"';
  return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, dir, ...argv];
}

/**
 * A new root with `include` (package names) installed; built with debootstrap the first time
 * for that package set, then unpacked from the cached tar.
 */
export async function freshDebianRoot(include: readonly string[]): Promise<DebianRoot> {
  const pkgs = [...new Set(include)].sort();
  const tarball = join(CACHE_DIR, `${SUITE}-minbase-${pkgs.join("+")}.tar`);
  if (!existsSync(tarball)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    const build = mkdtempSync(join(tmpdir(), "fwk-debootstrap-"));
    try {
      const argv = ["debootstrap", "--variant=minbase", `--include=${pkgs.join(",")}`, SUITE];
      const r = await run([...argv, join(build, "root"), debianMirror()], { timeoutMs: 900_000 });
      if (r.code !== 0) throw new Error(`debootstrap failed (${r.code}):\n${r.stdout}${r.stderr}`);
      await runChecked(["tar", "-C", join(build, "root"), "-cf", `${tarball}.part`, "."], {
        timeoutMs: 300_000,
      });
      renameSync(`${tarball}.part`, tarball);
    } finally {
      rmSync(build, { recursive: true, force: true });
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "fwk-debroot-"));
  await runChecked(["tar", "-C", dir, "-xf", tarball], { timeoutMs: 300_000 });
  // As in any image: no service starts while packages are installed in the root.
  writeFileSync(join(dir, "usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  return {
    dir,
    run: (argv, opts = {}) => run(chrootArgv(dir, argv), { timeoutMs: 120_000, ...opts }),
    argv: (argv) => chrootArgv(dir, argv),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
