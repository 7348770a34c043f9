#!/usr/bin/env bash
# Installs the Debian packages fixmux needs to build, test, benchmark and run its demo, and
# reserves hugepages. Idempotent: packages already present are not fetched again.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: must run as root (installs Debian packages, reserves hugepages)" >&2
  exit 1
fi
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev
      dpdk dpdk-dev libdpdk-dev python3-pyelftools
      libhyperscan-dev libcriterion-dev libquickfix-dev libinih-dev libcrypt-dev
      iproute2 ethtool tshark python3-scapy gnuplot-nox valgrind)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # tshark asks whether non-root users may capture; answer it up front.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ -x "$here/hugepage_setup/hugepages.sh" ]; then
  "$here/hugepage_setup/hugepages.sh" --pages "${FIXMUX_HUGEPAGES:-512}"
fi
