/**
 * Runs a command under the sandbox of contrib/fwknopd.service without systemd (not PID 1 here):
 * the closest equivalent made from util-linux tools, built from the unit file itself.
 *
 * Emulated:
 * - CapabilityBoundingSet= and NoNewPrivileges= with setpriv(1): the bounding set is cut to the
 *   unit's list and no_new_privs is set before the daemon is executed;
 * - ProtectSystem=strict and ProtectHome=read-only: a private mount namespace (unshare -m) whose
 *   root is a read-only recursive bind of / (chroot into it);
 * - PrivateTmp=: a fresh tmpfs on /tmp; RuntimeDirectory=fwknop: a fresh tmpfs on /run with
 *   /run/fwknop (mode 0700); StateDirectory=fwknop: /run/fwknop-state stands in for
 *   /var/lib/fwknop (the read-only root has no such directory to mount on).
 * Not emulated (no tool here applies them without systemd): RestrictAddressFamilies=,
 * SystemCallFilter=, the Protect{Kernel*,Clock,Hostname,Proc}= and Restrict*= settings.
 *
 * Extra read-only and read-write directories of the test are bound at /srv and /mnt.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const UNIT = fileURLToPath(new URL("../../../contrib/fwknopd.service", import.meta.url));

export interface UnitSandbox {
  /** The unit's capability set, e.g. ["net_admin", "net_raw", ...]. */
  caps: string[];
  noNewPrivileges: boolean;
  /** argv that runs `cmd` inside the sandbox, `root` being an empty directory to build it in. */
  argv(
    root: string,
    dirs: { readOnly: string; readWrite: string },
    cmd: readonly string[],
  ): string[];
}

function setting(unit: string, name: string): string | undefined {
  return new RegExp(`^${name}=(.*)$`, "m").exec(unit)?.[1]?.trim();
}

const SCRIPT = [
  "set -e",
  "root=$0; ro=$1; rw=$2; bounding=$3; nnp=$4; shift 4",
  'mount --rbind / "$root"',
  'mount -o remount,bind,ro "$root"',
  'mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"',
  'mount -t tmpfs -o mode=0755 tmpfs "$root/run"',
  'mkdir -m 0700 "$root/run/fwknop" "$root/run/fwknop-state"',
  'mount --bind "$ro" "$root/srv"',
  'mount -o remount,bind,ro "$root/srv"',
  'mount --bind "$rw" "$root/mnt"',
  'exec chroot "$root" setpriv --bounding-set "$bounding" $nnp -- "$@"',
].join("\n");

/** The unit's sandbox; `without` drops capabilities from its set (to test what they are for). */
export function unitSandbox(without: readonly string[] = []): UnitSandbox {
  const unit = readFileSync(UNIT, "utf8");
  const caps = (setting(unit, "CapabilityBoundingSet") ?? "")
    .split(/\s+/)
    .filter((c) => c !== "")
    .map((c) => c.replace(/^CAP_/, "").toLowerCase())
    .filter((c) => !without.includes(c));
  const noNewPrivileges = setting(unit, "NoNewPrivileges") === "yes";
  const bounding = ["-all", ...caps.map((c) => `+${c}`)].join(",");
  return {
    caps,
    noNewPrivileges,
    argv: (root, dirs, cmd) => [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      SCRIPT,
      root,
      dirs.readOnly,
      dirs.readWrite,
      bounding,
      noNewPrivileges ? "--no-new-privs" : "",
      ...cmd,
    ],
  };
}

/** Capability names in a /proc/<pid>/status hex mask (CapBnd, CapEff, ...). */
export function capsOfMask(hex: string): string[] {
  // Linux capability numbers of the names a unit may list (capability.h).
  const NUMBERS: Record<string, number> = {
    chown: 0,
    dac_override: 1,
    dac_read_search: 2,
    fowner: 3,
    fsetid: 4,
    kill: 5,
    setgid: 6,
    setuid: 7,
    setpcap: 8,
    net_bind_service: 10,
    net_broadcast: 11,
    net_admin: 12,
    net_raw: 13,
    ipc_lock: 14,
    sys_module: 16,
    sys_rawio: 17,
    sys_chroot: 18,
    sys_ptrace: 19,
    sys_admin: 21,
    sys_boot: 22,
    sys_nice: 23,
    sys_resource: 24,
    sys_time: 25,
    mknod: 27,
    audit_write: 29,
    setfcap: 31,
    bpf: 39,
  };
  const mask = BigInt(`0x${hex}`);
  return Object.entries(NUMBERS)
    .filter(([, n]) => (mask >> BigInt(n)) & 1n)
    .map(([name]) => name)
    .sort();
}

/** A field of /proc/<pid>/status. */
export function procStatus(pid: number, field: string): string {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  return new RegExp(`^${field}:\\s*(.*)$`, "m").exec(text)?.[1]?.trim() ?? "";
}
