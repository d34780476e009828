#!/usr/bin/env bash
# Installs what fwknop-ts needs on a fresh Debian 12 machine with Node 20, then builds it.
# Idempotent: packages already present are not reinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(fwknop-client fwknop-server iptables nftables ipset tcpdump gnupg iproute2 redis-server)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the packaged fwknopd/redis services from starting on the host.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.fwknop-ts
  chmod +x /usr/sbin/policy-rc.d.fwknop-ts
  [ -e /usr/sbin/policy-rc.d ] || cp /usr/sbin/policy-rc.d.fwknop-ts /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
