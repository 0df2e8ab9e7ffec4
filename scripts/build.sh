#!/usr/bin/env bash
# Configures and builds mixprec (Release) into build/: build/bin/mixprec, build/bin/mixprec_bench.
# BUILD_DIR, BUILD_TYPE, JOBS and TARGETS ("mixprec mixprec_tests": only those) override; further
# arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" ${TARGETS:+--target $TARGETS}
