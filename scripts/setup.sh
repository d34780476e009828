#!/usr/bin/env bash
# Installs what fwknop-ts needs on a fresh Debian 12 machine with Node 20, then builds it.
# Idempotent: packages already present are not reinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."

# The C fwknop 2.6.10 binaries are the interop peers; iptables/ipset/nftables/tcpdump/gnupg/
# openssl/iproute2 are the real parts the tests drive inside network namespaces. groff/man-db
# render the man pages; dpkg-dev/fakeroot/lintian/debootstrap/systemd build the .deb, check it,
# install it into a fresh Debian root, and verify its unit (systemd-analyze; systemd is not run).
# redis-server is the shared store of the cluster tests (started by the tests, never as a service).
pkgs=(fwknop-client fwknop-server iptables ipset nftables tcpdump gnupg openssl iproute2 firewalld dbus-daemon
  groff-base man-db dpkg-dev fakeroot lintian debootstrap systemd prometheus redis-server)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packaged service (the C fwknopd) from starting on this host during the
  # install; the tests start their own copies inside namespaces.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
