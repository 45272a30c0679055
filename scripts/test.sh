#!/usr/bin/env bash
# Quick start, step 2: build and run the whole test suite (ctest), then the whole suite
# again — end-to-end tests included, driving sanitized binaries — under AddressSanitizer
# +UBSan, then the fuzzers for a bounded time (scripts/fuzz.sh). Prints ctest's summaries;
# exits non-zero on any failure.
#   SANITIZE=0       skip the sanitizer pass and the fuzzers
#   SANITIZE=thread  ThreadSanitizer instead: the library and host tests (no fuzzers)
#   FUZZ=0           skip the fuzzers; FUZZ_SECONDS=N seconds per fuzz target (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=build bash scripts/build.sh
(cd build && ctest --output-on-failure -j2 --timeout 600)

# What the sanitizer runtimes do in tests: fail on the first report; leaks are checked in
# the library tests (processes that end normally) but not in processes the e2e tests kill
# on purpose (SIGKILL, a second SIGTERM), whose memory is reclaimed by the kernel.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
san_build() {  # san_build DIR KIND: the tree without benchmarks and docs, sanitized
  BUILD_DIR=$1 bash scripts/build.sh -DQUEUECTL_SANITIZE="$2" -DQUEUECTL_BUILD_BENCH=OFF -DQUEUECTL_BUILD_DOCS=OFF
}
case "${SANITIZE:-address}" in
  0|"") ;;
  address)
    san_build build-asan address
    (cd build-asan &&
     ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 ctest --output-on-failure -j2 --timeout 900 -L library &&
     ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure -j2 --timeout 900 -LE library)
    if [ "${FUZZ:-1}" != 0 ]; then bash scripts/fuzz.sh; fi
    ;;
  thread)
    san_build build-thread thread
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    (cd build-thread && ctest --output-on-failure -j2 --timeout 900 -L library &&
     ctest --output-on-failure -j2 --timeout 900 -R '^host_')
    ;;
  *) echo "test.sh: SANITIZE must be address, thread or 0" >&2; exit 2 ;;
esac
