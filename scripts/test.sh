#!/usr/bin/env bash
# Fresh machine -> tested: installs what is missing, builds (Release) and runs the test suite.
# MIXPREC_SANITIZERS=1 also builds the tests with AddressSanitizer + UndefinedBehaviorSanitizer
# into build-asan/ and runs them again (about twice the time; run it now and then, and before a
# release; CI runs the Release pass only to stay well inside its time limit).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
bash scripts/build.sh
(cd build && ctest --output-on-failure -j "$(nproc)")
if [ "${MIXPREC_SANITIZERS:-0}" = "1" ]; then
  echo "== sanitizers: address, undefined =="
  BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo bash scripts/build.sh -DMIXPREC_SANITIZE=ON \
    -DMIXPREC_BUILD_BENCH=OFF
  # detect_leaks stays on; see docs/architecture.md for the options SystemC's coroutines need.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=0:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  (cd build-asan && ctest --output-on-failure -j "$(nproc)")
fi
