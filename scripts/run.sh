#!/usr/bin/env bash
# Fresh machine -> results: installs what is missing, builds, runs the main job on the default
# scenario. Extra arguments go to the command (e.g. --format json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
build/bin/mixprec simulate scenarios/venue_cnn_lstm.json "$@"
