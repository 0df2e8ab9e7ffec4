#!/usr/bin/env bash
# Fresh machine -> tested: installs what is missing, builds (Release) and runs the test suite.
# MIXPREC_SANITIZERS=1 (CI sets it: .ci/run) also builds the CLI, the tests and the fuzz targets
# with AddressSanitizer + UndefinedBehaviorSanitizer at -O1 into build-asan/, runs the tests again
# and replays every fuzz target's committed corpus (scripts/fuzz.sh --smoke).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
bash scripts/build.sh
(cd build && ctest --output-on-failure -j "$(nproc)")
if [ "${MIXPREC_SANITIZERS:-0}" = "1" ]; then
  echo "== sanitizers: address, undefined =="
  # -O1 and line tables only, to keep this second build short; no benchmark, no Python module
  # (an instrumented extension cannot load into an uninstrumented interpreter).
  BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo TARGETS="mixprec mixprec_tests mixprec_fuzz" \
    bash scripts/build.sh -DMIXPREC_SANITIZE=ON -DMIXPREC_BUILD_BENCH=OFF -DMIXPREC_BUILD_PYTHON=OFF \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
  # detect_leaks stays on; see docs/architecture.md for the options SystemC's coroutines need.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=0:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  (cd build-asan && ctest --output-on-failure -j "$(nproc)")
  BUILD_DIR=build-asan bash scripts/fuzz.sh --smoke
fi
