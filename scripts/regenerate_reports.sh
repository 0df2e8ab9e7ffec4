#!/usr/bin/env bash
# Regenerates the committed reports under results/ with the commands and options each states
# (README "What the committed report found", docs/predictor.md), after a change to the code that
# produced them. Usage:
#
#   bash scripts/regenerate_reports.sh WORK [OLD]
#
# WORK   run directories, one per report (WORK/<name>, a reproduce run in WORK/<name>/seeds<N>);
#        a run found there is resumed (--resume), so an interrupted regeneration continues.
# OLD    optional: the WORK of an earlier regeneration, whose training jobs
#        with identical inputs are copied instead of re-run (--reuse-training). Training does not
#        depend on the cost model, so after a cost-model change only the configurations the
#        solver picks differently are trained again.
#
# OLD can also be assembled from other runs with symbolic links, e.g. the 5-seed report's
# training from shard runs (`reproduce ... --shard i/5 --out /runs/shard<i>`):
#   mkdir -p OLD/default_seeds5/seeds5 && ln -s /runs/shard3/seed3 OLD/default_seeds5/seeds5/seed3
# A job is reused only where its scenario file hash, network, precision and training record
# match (pipeline/training.hpp find_finished_job).
#
# Environment: MIXPREC_BIN (default build/bin/mixprec), MIXPREC_REPORTS (space-separated subset
# of: uci_seeds3 uci_pred uci_pred_ggn uci_pred_ggn_a17_8 uci_pred_qat uci_pred_samples512
# hvac_seeds3 default_search default_seeds5 default_pred; default all, in that order, cheapest
# first), MIXPREC_DATA_DIR (the real data sets; the UCI reports need it).
#
# Each finished run's report files are copied over the committed ones (reproduce: the reports and
# every seed's state.json, summary.json, precision.json and sensitivity table; predictor and
# search: the files at the top of the run; never checkpoints). Wall time (2 cores, quiet machine, full training): UCI reports minutes each,
# HVAC about 30 min, the default 5-seed report about 80 min, the default predictor about 95 min.
# Check each with `mixprec verify results/.../report.json` (reproduce reports) afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

work=${1:?usage: bash scripts/regenerate_reports.sh WORK [OLD]}
old=${2:-}
bin=${MIXPREC_BIN:-build/bin/mixprec}
all="uci_seeds3 uci_pred uci_pred_ggn uci_pred_ggn_a17_8 uci_pred_qat uci_pred_samples512 hvac_seeds3 default_search default_seeds5 default_pred"
reports=${MIXPREC_REPORTS:-$all}
[ -x "$bin" ] || { echo "regenerate_reports: $bin is not an executable (set MIXPREC_BIN or build first)" >&2; exit 2; }
for r in $reports; do
  case " $all " in *" $r "*) ;; *) echo "regenerate_reports: unknown report '$r' (expected one of: $all)" >&2; exit 2 ;; esac
done
mkdir -p "$work"

# Options a run in directory $1 needs to continue or reuse: --resume when the directory holds a
# run (anything in it), --reuse-training with the same directory under OLD when that exists.
continue_opts() {
  local dir=$1 opts=()
  [ -d "$work/$dir" ] && [ -n "$(ls -A "$work/$dir")" ] && opts+=(--resume)
  [ -n "$old" ] && [ -d "$old/$dir" ] && opts+=(--reuse-training "$old/$dir")
  echo "${opts[@]:-}"
}

# Copies a finished reproduce run's report files into results/<dest>: the reports and every seed's
# state.json, summary.json, precision.json and sensitivity table (no checkpoints, no temporaries);
# the previous run's seed folders go first, so no stale job is left behind.
export_tree() {
  local from=$1 dest=$2
  mkdir -p "$dest"
  rm -rf "$dest"/seed[0-9]*
  (cd "$from" && find . -type f \( -name '*.json' -o -name '*.md' -o -name '*.html' -o -name '*.svg' -o -name '*.csv' \) \
      ! -name '*.tmp.*' -print0) |
    while IFS= read -r -d '' f; do
      mkdir -p "$dest/$(dirname "$f")"
      cp "$from/$f" "$dest/$f"
    done
  echo "regenerate_reports: $dest written from $from"
}

# Copies the report files at the top of a predictor or search run (its job folders stay in WORK).
export_top() {
  local from=$1 dest=$2
  mkdir -p "$dest"
  find "$from" -maxdepth 1 -type f \( -name '*.json' -o -name '*.md' -o -name '*.html' -o -name '*.svg' -o -name '*.csv' \) \
      ! -name '*.tmp.*' ! -name 'state.json' -exec cp {} "$dest/" \;
  echo "regenerate_reports: $dest written from $from"
}

reproduce() {  # name scenario seeds dest; the run directory's name is the report's run id
  local name=$1 sc=$2 seeds=$3 dest=$4
  local dir=$name/seeds$seeds
  # shellcheck disable=SC2046
  "$bin" reproduce "$sc" --seeds "$seeds" --threads 2 --out "$work/$dir" $(continue_opts "$dir")
  export_tree "$work/$dir" "$dest"
}

predictor() {  # name scenario dest options...
  local name=$1 sc=$2 dest=$3
  shift 3
  # shellcheck disable=SC2046
  "$bin" predictor "$sc" --seeds 3 --threads 2 --out "$work/$name" "$@" $(continue_opts "$name")
  export_top "$work/$name" "$dest"
}

variant_budgets=0.45,0.6,0.75
for r in $reports; do
  echo "regenerate_reports: $r ($(date -u +%H:%M:%S))"
  case $r in
    uci_seeds3) reproduce "$r" scenarios/uci_room_occupancy.json 3 results/uci_room_occupancy/seeds3 ;;
    uci_pred) predictor "$r" scenarios/uci_room_occupancy.json results/uci_room_occupancy/predictor --configs 40 ;;
    uci_pred_ggn) predictor "$r" scenarios/uci_room_occupancy.json results/uci_room_occupancy/predictor/ggn \
        --configs 50 --methods hessian,measured,ggn --budgets "$variant_budgets" ;;
    uci_pred_ggn_a17_8) predictor "$r" scenarios/uci_room_occupancy.json results/uci_room_occupancy/predictor/ggn-a17.8 \
        --configs 50 --methods hessian,measured,ggn,ggn:a17.8,hessian:a3.16 --budgets "$variant_budgets" ;;
    uci_pred_qat) predictor "$r" scenarios/uci_room_occupancy.json results/uci_room_occupancy/predictor/qat \
        --configs 50 --methods hessian,measured,qat --budgets "$variant_budgets" ;;
    uci_pred_samples512) predictor "$r" scenarios/uci_room_occupancy.json results/uci_room_occupancy/predictor/samples512 \
        --configs 50 --methods hessian,measured,hessian:512,measured:512 --budgets "$variant_budgets" ;;
    hvac_seeds3) reproduce "$r" scenarios/venue_hvac.json 3 results/venue_hvac/seeds3 ;;
    default_search)
      "$bin" search scenarios/venue_cnn_lstm.json --sensitivity results/venue_cnn_lstm/sensitivity_measured.json \
          --out "$work/$r"
      export_top "$work/$r" results/venue_cnn_lstm/search ;;
    default_seeds5) reproduce "$r" scenarios/venue_cnn_lstm.json 5 results/venue_cnn_lstm/seeds5 ;;
    default_pred) predictor "$r" scenarios/venue_cnn_lstm.json results/venue_cnn_lstm/predictor \
        --configs 40 --methods hessian,measured ;;
  esac
done
echo "regenerate_reports: done ($(date -u +%H:%M:%S)); now update README and docs from the new reports"
