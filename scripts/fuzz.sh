#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang-14, AddressSanitizer + UBSan, -O1) into build-fuzz/
# and runs each for SECONDS (default 60) at nice 19, one after the other.
#   bash scripts/fuzz.sh [SECONDS]   fuzz; new inputs go to build-fuzz/corpus/<target>/, findings
#                                    (crash-*, timeout-*, oom-*, leak-*) to build-fuzz/findings/<target>/
#   bash scripts/fuzz.sh --smoke     every target once over its committed corpus (CI)
# MIXPREC_FUZZ_TARGETS="scenario sweep" limits the targets; MIXPREC_FUZZ_TIMEOUT (seconds, default
# 1) is the time after which an input counts as a hang (raise it on a machine too busy for nice 19); BUILD_DIR=DIR uses a tree configured
# already (scripts/test.sh runs BUILD_DIR=build-asan scripts/fuzz.sh --smoke in the g++ sanitizer
# build, whose targets replay their inputs). A target that crashes is restarted until its time is
# used, so one finding does not end its run. The summary (executions and findings per target) is
# printed and appended to build-fuzz/fuzz-summary.txt; the exit code is 1 when anything was found.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=run
secs=60
if [ "${1:-}" = "--smoke" ]; then mode=smoke; elif [ -n "${1:-}" ]; then secs=$1; fi
case "$secs" in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS | --smoke]" >&2; exit 2 ;; esac
targets=${MIXPREC_FUZZ_TARGETS:-$(sed -n 's/^mixprec_fuzz_target(\([a-z0-9_]*\).*/\1/p' fuzz/CMakeLists.txt)}
if [ -n "${BUILD_DIR:-}" ]; then
  # A configured tree (e.g. the sanitizer pass's build-asan/, whose targets replay their inputs).
  B=$BUILD_DIR
else
  bash scripts/setup.sh
  B=build-fuzz
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g" \
    -DMIXPREC_FUZZ=ON -DMIXPREC_BUILD_TESTS=OFF -DMIXPREC_BUILD_BENCH=OFF -DMIXPREC_WITH_MPI=OFF \
    "${launcher[@]}" >/dev/null
fi
nice -n 5 cmake --build "$B" -j "$(nproc)" --target $(printf 'fuzz_%s ' $targets)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
mkdir -p "$B/logs"
summary="$B/fuzz-summary.txt"
[ "$mode" = smoke ] || echo "# $(date -u '+%F %T') UTC, ${secs} s per target" >>"$summary"
status=0
for t in $targets; do
  bin="$B/bin/fuzz_$t"
  dict=()
  [ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
  if [ "$mode" = smoke ]; then
    # Each committed input once: any crash, non-contract exception or sanitizer report fails.
    if nice -n 19 "$bin" -timeout=10 "${dict[@]}" fuzz/corpus/"$t"/* >"$B/logs/$t.smoke.log" 2>&1; then
      echo "fuzz smoke $t: $(ls fuzz/corpus/"$t" | wc -l) inputs ok"
    else
      echo "fuzz smoke $t: FAILED (log: $B/logs/$t.smoke.log)"; tail -20 "$B/logs/$t.smoke.log"; status=1
    fi
    continue
  fi
  mkdir -p "$B/corpus/$t" "$B/findings/$t"
  execs=0
  runs=0
  end=$(($(date +%s) + secs))
  while [ "$(date +%s)" -lt "$end" ]; do
    left=$((end - $(date +%s)))
    runs=$((runs + 1))
    log="$B/logs/$t.$runs.log"
    nice -n 19 "$bin" -max_total_time="$left" -timeout="${MIXPREC_FUZZ_TIMEOUT:-1}" -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$B/findings/$t/" "${dict[@]}" \
      "$B/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1 || true
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    # A crashed run prints no final stats: take its last status line ("#1234 ...").
    [ -n "$n" ] || n=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    execs=$((execs + ${n:-0}))
  done
  found=$(find "$B/findings/$t" -type f | wc -l)
  line="fuzz $t: ${secs} s, $execs executions, $runs runs, $found findings"
  echo "$line" | tee -a "$summary"
  [ "$found" -eq 0 ] || status=1
done
exit $status
