#!/usr/bin/env bash
# Installs the Debian 12 packages queuectl needs to build, test and benchmark, skipping
# what is already there. Run as root (or through sudo).
set -euo pipefail
packages=(
  build-essential cmake ccache git pkg-config
  libboost-all-dev libsoci-dev rapidjson-dev libsqlite3-dev sqlite3 libpq-dev libssl-dev
  doxygen graphviz python3 procps psmisc curl openssl
  prometheus   # promtool checks the exporter's output
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
