#!/usr/bin/env bash
# `npm run deb`: builds build/fwknop-ts_<version>_<arch>.deb with dpkg-deb, from the bundles of
# `npm run build` (run first by the npm script), the Node runtime running this script, the man
# pages (scripts/man.sh) and contrib/. Layout and reasons: docs/packaging.md.
#
# Reproducible: every timestamp is SOURCE_DATE_EPOCH (default: the last commit's time), owners
# are root, gzip stores no name or time, dpkg-deb compresses with one thread (xz level 1: the
# Node binary dominates, and level 1 is 10x faster than the default for 5 % more), so the same inputs
# give the same bytes (the test builds twice and compares).
set -euo pipefail
cd "$(dirname "$0")/.."

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export LC_ALL=C TZ=UTC
umask 022
version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
out=${1:-build}
stage="$out/deb-root"
deb="$out/fwknop-ts_${version}_${arch}.deb"

# The runtime: the Node binary running this script (Node 20.12+ is what the code targets; Debian 12's
# own nodejs is 18, too old). Checked rather than trusted.
node_bin=$(node -p 'process.execPath')
# 20.12 brought crypto.hash, which the HMAC is built on (src/crypto/hmac.ts).
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 12) ? 0 : 1)'; then
  echo "deb: need Node >= 20.12 to ship, this is $(node -v)" >&2
  exit 1
fi
node_license=$(dirname "$(readlink -f "$node_bin")")/../share/doc/nodejs/LICENSE
[ -f "$node_license" ] || node_license=/usr/share/doc/nodejs/LICENSE
if [ ! -f "$node_license" ]; then
  echo "deb: cannot find the Node.js LICENSE to ship beside its binary" >&2
  exit 1
fi
for f in dist/bundle/fwknopd.cjs dist/bundle/fwknopd-metrics.cjs dist/bundle/fwknopd-cluster.cjs dist/bundle/fwknop.cjs dist/bundle/fwknop-keygen-qr.cjs; do
  [ -f "$f" ] || { echo "deb: $f missing; run npm run build" >&2; exit 1; }
done

rm -rf "$stage"
lib="$stage/usr/lib/fwknop-ts"
doc="$stage/usr/share/doc/fwknop-ts"
install -d "$lib" "$stage/usr/sbin" "$stage/usr/bin" "$stage/lib/systemd/system" "$doc" \
  "$stage/usr/share/man/man1" "$stage/usr/share/man/man5" "$stage/usr/share/man/man8" \
  "$stage/usr/share/lintian/overrides" "$stage/DEBIAN"
install -d -m 0700 "$stage/etc/fwknop" "$stage/var/lib/fwknop"

# Runtime and programs. Stripping drops Node's debug information (about a third of its size).
install -m 0755 "$node_bin" "$lib/node"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$lib/node"
install -m 0644 dist/bundle/fwknopd.cjs dist/bundle/fwknopd-metrics.cjs dist/bundle/fwknopd-cluster.cjs \
  dist/bundle/fwknop.cjs dist/bundle/fwknop-keygen-qr.cjs "$lib/"

# Launchers. The daemon's flags keep it small while idle: one V8 helper thread instead of four,
# two libuv pool threads instead of four (DNS lookups and file I/O only), and a 1 MiB young
# generation (the heap grows from there under load). docs/benchmarks.md has the figures.
cat > "$stage/usr/sbin/fwknopd" <<'EOF'
#!/bin/sh
# fwknop-ts: fwknopd on the Node runtime shipped in /usr/lib/fwknop-ts.
export UV_THREADPOOL_SIZE="${UV_THREADPOOL_SIZE:-2}"
exec /usr/lib/fwknop-ts/node --v8-pool-size=1 --max-semi-space-size=1 /usr/lib/fwknop-ts/fwknopd.cjs "$@"
EOF
cat > "$stage/usr/bin/fwknop" <<'EOF'
#!/bin/sh
# fwknop-ts: the fwknop client on the Node runtime shipped in /usr/lib/fwknop-ts.
exec /usr/lib/fwknop-ts/node --v8-pool-size=1 /usr/lib/fwknop-ts/fwknop.cjs "$@"
EOF
chmod 0755 "$stage/usr/sbin/fwknopd" "$stage/usr/bin/fwknop"

# Configuration (conffiles, readable by root only: access.conf holds keys) and the unit.
install -m 0600 contrib/etc/fwknopd.conf contrib/etc/access.conf "$stage/etc/fwknop/"
install -m 0644 contrib/fwknopd.service "$stage/lib/systemd/system/fwknopd.service"

# Man pages.
bash scripts/man.sh "$out/man"
# access.conf(5) is also pam_access's page (libpam-modules, always installed): ours takes the
# section suffix "fwknop", as Debian does for such clashes (`man 5fwknop access.conf`).
for page in "$out"/man/*; do
  name=$(basename "$page")
  section=${name##*.}
  [ "$name" = access.conf.5 ] && name=access.conf.5fwknop
  gzip -9n < "$page" > "$stage/usr/share/man/man$section/$name.gz"
done

# Documentation: copyright (machine-readable), the Node.js licence, changelog.
node_version=$(node -p 'process.versions.node')
cat > "$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: fwknop-ts
Comment: fwknop-ts is an independent implementation of the fwknop 2.6.10 SPA protocol and
 file formats; it contains no code from fwknop. /usr/lib/fwknop-ts/node is the Node.js
 ${node_version} runtime, whose licence and the licences of the libraries built into it are in
 /usr/share/doc/fwknop-ts/node-LICENSE. The JavaScript bundles include the npm packages
 ipaddr.js (MIT), uqr (MIT), and prom-client (Apache-2.0) with its dependencies
 @opentelemetry/api (Apache-2.0), tdigest (MIT) and bintrees (MIT); fwknopd-cluster.cjs (loaded
 only when REPLAY_CACHE_URL is set) includes ioredis, @ioredis/commands, debug, ms, redis-errors,
 redis-parser and standard-as-callback (MIT), and cluster-key-slot and denque (Apache-2.0).

Files: *
Copyright: 2026 The fwknop-ts authors
License: MIT

Files: usr/lib/fwknop-ts/fwknopd-cluster.cjs
Copyright: 2026 The fwknop-ts authors, and the authors of the npm packages named above
License: MIT and Apache-2.0
 The npm packages cluster-key-slot and denque are under the Apache License 2.0, whose text is
 in /usr/share/common-licenses/Apache-2.0; the rest is MIT.

Files: usr/lib/fwknop-ts/node
Copyright: Node.js contributors and the authors of its bundled libraries
License: MIT and others
 See /usr/share/doc/fwknop-ts/node-LICENSE.

License: MIT
$(sed -e 's/^$/./' -e 's/^/ /' LICENSE | tail -n +4)
EOF
gzip -9n < "$node_license" > "$doc/node-LICENSE.gz"
date_rfc=$(date -u -d "@$SOURCE_DATE_EPOCH" -R)
cat > "$out/changelog" <<EOF
fwknop-ts ($version) unstable; urgency=medium

  * Package of fwknop-ts $version, built from its repository (npm run deb).

 -- The fwknop-ts authors <fwknop-ts@users.noreply.github.com>  $date_rfc
EOF
gzip -9n < "$out/changelog" > "$doc/changelog.gz"

# The lintian tags that remain, each explained in docs/packaging.md ("lintian").
cat > "$stage/usr/share/lintian/overrides/fwknop-ts" <<'EOF'
# The self-contained Node runtime: built by Node.js with its own zlib, as a non-PIE executable.
fwknop-ts: embedded-library zlib [usr/lib/fwknop-ts/node]
fwknop-ts: hardening-no-pie [usr/lib/fwknop-ts/node]
fwknop-ts: hardening-no-fortify-functions [usr/lib/fwknop-ts/node]
fwknop-ts: spelling-error-in-binary * [usr/lib/fwknop-ts/node]
# Keys live here: readable by root only, as fwknopd itself demands of its files.
fwknop-ts: non-standard-dir-perm 0700 != 0755 [etc/fwknop/]
fwknop-ts: non-standard-dir-perm 0700 != 0755 [var/lib/fwknop/]
fwknop-ts: non-standard-file-perm 0600 != 0644 [etc/fwknop/access.conf]
fwknop-ts: non-standard-file-perm 0600 != 0644 [etc/fwknop/fwknopd.conf]
# systemd only: the daemon is meant to run under the hardened unit.
fwknop-ts: package-supports-alternative-init-but-no-init.d-script [lib/systemd/system/fwknopd.service]
EOF
chmod 0644 "$stage/usr/share/lintian/overrides/fwknop-ts"

# Maintainer scripts: keys on first install, keys and state removed on purge.
install -m 0755 contrib/deb/postinst contrib/deb/postrm "$stage/DEBIAN/"
printf '/etc/fwknop/access.conf\n/etc/fwknop/fwknopd.conf\n' > "$stage/DEBIAN/conffiles"

# No Replaces: with it, dpkg -i would quietly remove fwknop-server instead of refusing, and it is
# not needed to take over /etc/fwknop's conffiles once fwknop-server is removed (docs/packaging.md).
# Installed-Size from the files' sizes (each rounded up to a KiB, as dpkg-gencontrol counts), not
# from du: the blocks a file occupies depend on how the filesystem laid it out (an ext4 file in
# more than four pieces needs an extent block), so du made two builds of the same input differ.
installed_kb=$(find "$stage" -path "$stage/DEBIAN" -prune -o -type f -printf '%s\n' |
  awk '{ kb += int(($1 + 1023) / 1024) } END { print kb }')
cat > "$stage/DEBIAN/control" <<EOF
Package: fwknop-ts
Version: $version
Architecture: $arch
Maintainer: The fwknop-ts authors <fwknop-ts@users.noreply.github.com>
Installed-Size: $installed_kb
Depends: libc6 (>= 2.28), libgcc-s1, libstdc++6 (>= 5.2), iptables | nftables, tcpdump
Recommends: gnupg
Suggests: ipset, sudo, redis-server | valkey-server
Conflicts: fwknop-client, fwknop-server
Provides: fwknop-client, fwknop-server
Section: net
Priority: optional
Description: Single Packet Authorization server and client, in TypeScript
 fwknop-ts is a drop-in fwknopd server and fwknop client that speak the fwknop
 2.6.10 wire format byte for byte and read the same fwknopd.conf, access.conf
 and ~/.fwknoprc. The server hides services behind a default-drop firewall and
 opens them, for one client address and a limited time, when it receives a
 valid encrypted and authenticated SPA packet.
 .
 This package carries its own Node.js runtime; it needs no Node installation.
EOF
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
  xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"

find "$stage" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
rm -f "$deb"
dpkg-deb --root-owner-group --threads-max=1 -Zxz -z1 --build "$stage" "$deb" >/dev/null
echo "deb: $deb ($(du -h "$deb" | cut -f1)) sha256 $(sha256sum "$deb" | cut -d' ' -f1)"
