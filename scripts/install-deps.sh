#!/usr/bin/env bash
# Installs the Debian 12 packages queuectl needs to build, test and benchmark, skipping
# what is already there. Run as root (or through sudo).
set -euo pipefail
packages=(
  build-essential cmake ccache git pkg-config
  libboost-all-dev libsoci-dev rapidjson-dev libsqlite3-dev sqlite3 libpq-dev libssl-dev
  doxygen graphviz python3 procps psmisc curl openssl
  prometheus   # promtool checks the exporter's output
  postgresql   # initdb/pg_ctl: tests/support/pg_server.sh starts a throw-away server
  chromium nodejs  # the dashboard's browser test (tests/web/browser) drives headless Chromium
  clang-14 libfuzzer-14-dev  # libFuzzer targets (tests/fuzz, scripts/fuzz.sh): clang++-14 -fsanitize=fuzzer
)
# npm is its own Debian package, but comes inside NodeSource's nodejs (which conflicts with it).
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# playwright-core for the browser test, at the version pinned in its package-lock.json
# (it drives /usr/bin/chromium: no browser download). Only when not installed yet.
browser_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/web/browser"
if [ -f "$browser_dir/package-lock.json" ] && [ ! -d "$browser_dir/node_modules" ]; then
  echo "install-deps: npm ci in tests/web/browser"
  npm ci --prefix "$browser_dir" --no-audit --no-fund >/dev/null
fi

# swagger-ui-dist for GET /docs, at the version pinned in tools/swagger-ui/package-lock.json;
# the build embeds its files (apps/web/CMakeLists.txt). Without it /docs lists the routes only.
swagger_dir="$(cd "$(dirname "$0")/.." && pwd)/tools/swagger-ui"
if [ -f "$swagger_dir/package-lock.json" ] && [ ! -f "$swagger_dir/node_modules/swagger-ui-dist/swagger-ui-bundle.js" ]; then
  echo "install-deps: npm ci in tools/swagger-ui"
  npm ci --prefix "$swagger_dir" --no-audit --no-fund >/dev/null
fi
