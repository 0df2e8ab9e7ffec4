#!/usr/bin/env bash
# Fresh machine -> results: installs what is missing, builds, and runs the main job on the
# default scenario: `mixprec reproduce` (train FP32, the int8 baseline, search, QAT of the chosen
# configuration, both engines, ablations) into results/venue_cnn_lstm/seed1/. It resumes an
# interrupted run there; a finished one just prints its verdict again. Extra arguments go to the
# command (e.g. --quick, or --run-id NAME for a separate run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
build/bin/mixprec reproduce scenarios/venue_cnn_lstm.json --threads "$(nproc)" --resume "$@"
