#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan+UBSan) in their own build dir,
# fuzzes each for FUZZ_SECONDS (default 60) from its seed corpus, then replays every kept
# input (tests/fuzz/corpus/<target>/, regression cases included). Exits non-zero on any
# crash, leak, sanitizer report or timeout; the failing input is left in $FUZZ_OUT.
#   FUZZ_SECONDS=30 scripts/fuzz.sh            # all targets
#   scripts/fuzz.sh job_spec rest              # some targets
# New inputs found while fuzzing go to $FUZZ_OUT/<target>/corpus, never into the repository;
# copy a crash input into tests/fuzz/corpus/<target>/ once it is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
FUZZ_OUT=${FUZZ_OUT:-$FUZZ_BUILD_DIR/fuzz-out}
CXX_FUZZ=${CXX_FUZZ:-clang++-14}
command -v "$CXX_FUZZ" >/dev/null || { echo "fuzz.sh: $CXX_FUZZ not found (scripts/install-deps.sh installs clang-14)" >&2; exit 1; }

all_targets=(job_spec jsonl config http_payload rest)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

CXX=$CXX_FUZZ cmake -S . -B "$FUZZ_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUEUECTL_FUZZ=ON \
  -DQUEUECTL_BUILD_EXAMPLES=OFF -DQUEUECTL_BUILD_BENCH=OFF \
  -DQUEUECTL_BUILD_DOCS=OFF -DQUEUECTL_INSTALL=OFF >/dev/null
cmake --build "$FUZZ_BUILD_DIR" -j"${JOBS:-2}" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  bin="$FUZZ_BUILD_DIR/tests/fuzz/fuzz_$t"
  seeds="tests/fuzz/corpus/$t"
  work="$FUZZ_OUT/$t"
  mkdir -p "$work/corpus"
  echo "== fuzz_$t: ${FUZZ_SECONDS}s"
  if ! "$bin" -max_total_time="$FUZZ_SECONDS" -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/" "$work/corpus" "$seeds" >"$work/fuzz.log" 2>&1; then
    echo "fuzz.sh: fuzz_$t FAILED (log: $work/fuzz.log, input: $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | head -1))" >&2
    tail -40 "$work/fuzz.log" >&2
    failed+=("$t")
    continue
  fi
  grep -E '^stat::number_of_executed_runs|^#[0-9]+.*DONE' "$work/fuzz.log" | tail -2 || true
  echo "== fuzz_$t: replaying $(ls "$seeds" | wc -l) kept inputs"
  if ! "$bin" -runs=0 -timeout=10 "$seeds" >"$work/replay.log" 2>&1; then
    echo "fuzz.sh: fuzz_$t replay FAILED (log: $work/replay.log)" >&2
    tail -40 "$work/replay.log" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} target(s), no crash"
