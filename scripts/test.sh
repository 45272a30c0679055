#!/usr/bin/env bash
# Quick start, step 2: build and run the whole test suite, then the unit and storage
# suites again under AddressSanitizer+UBSan (SANITIZE=0 skips that; SANITIZE=thread runs
# ThreadSanitizer instead). Prints ctest's summary; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=build bash scripts/build.sh
(cd build && ctest --output-on-failure -j2 --timeout 600)
case "${SANITIZE:-address}" in
  0|"") ;;
  address|thread)
    san_dir="build-${SANITIZE:-address}"
    BUILD_DIR=$san_dir bash scripts/build.sh -DQUEUECTL_SANITIZE="${SANITIZE:-address}" \
      -DQUEUECTL_BUILD_APPS=OFF -DQUEUECTL_BUILD_PLUGINS=OFF -DQUEUECTL_BUILD_BENCH=OFF -DQUEUECTL_BUILD_DOCS=OFF
    (cd "$san_dir" && ctest --output-on-failure -j2 -L library --timeout 600)
    ;;
esac
