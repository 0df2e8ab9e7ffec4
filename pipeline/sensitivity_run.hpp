// Sensitivity tables computed from a trained checkpoint (model/sensitivity.hpp), cached next to
// the checkpoint. Shared by `mixprec search` and the `reproduce` pipeline.
//
// The cache file is "<checkpoint>.sens-<method>-<12 hex digits>.json" in search/io.hpp's format;
// the digits hash what the numbers depend on (method, candidate options, estimator settings,
// network, data section or synthetic size: SensitivityResult::settings), and the file records
// the checkpoint's content hash (core/manifest.hpp file_hash), so a retrained checkpoint or
// other settings never reuse stale numbers. Results do not depend on the thread count.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.hpp"
#include "core/spec.hpp"
#include "search/problem.hpp"

namespace mixprec::pipeline {

struct SensitivityRequest {
  std::string method = "hessian";  // "hessian" | "measured" | "ggn" (Gauss-Newton traces, exact) | "clado"
  std::string clado_pairs = "all";  // clado: "all" pairs of weight layers or "neighbours" (model::clado_pairs)
  std::string checkpoint;          // e.g. `mixprec train`'s DIR/best.ckpt
  int threads = 1;
  int synthetic = 0;               // > 0: the synthetic task of `mixprec train --synthetic N`
  bool use_cache = true;           // false: neither read nor write the cache
  // Estimator settings.
  int samples = 0;               // validation samples averaged over; 0: 64 (hessian, ggn), 32 (measured, clado)
  int calibration_samples = 32;  // validation samples that set activation ranges
  int batch_size = 32;
  int hutchinson_vectors = 2;    // hessian: Rademacher vectors per batch
  int sign_patterns = 4;         // hessian: Walsh sign patterns per vector (model/sensitivity.hpp)
  double epsilon = 1e-3;         // hessian: finite-difference step
  std::uint64_t seed = 1;        // hessian: Rademacher vectors
  ProgressSink log;              // notices (an unreadable cache recomputed); null: silent
};

// A method as a scenario's `search.sensitivity` or `search --method` names it: "hessian",
// "measured", "ggn", "clado" (pair terms between every two weight layers) or "clado:neighbours"
// (pair terms between adjacent layers only, model::clado_pairs; on a deep network the exact
// solver refuses all pairs) -> the request's method and clado_pairs. Other names are kept as
// they are and refused by compute_sensitivity.
void set_method(SensitivityRequest& req, const std::string& name);

struct SensitivityResult {
  search::SensitivityTable table;  // method, checkpoint, checkpoint_hash, settings_hash set
  std::string cache_path;          // "" when the cache is off
  bool from_cache = false;
  std::string cache_status;        // "off", "hit", "miss", "stale" (other checkpoint or settings), "unreadable"
  double seconds = 0;              // wall time of this call
  double compute_seconds = 0;      // time the estimate took when it was computed (cached: then)
  nlohmann::json settings;         // what the numbers depend on (hashed into the cache name)
};

// The estimator settings and cache path a request resolves to (no computation).
nlohmann::json sensitivity_settings(const Scenario& sc, const std::vector<LayerPrecision>& options,
                                    const SensitivityRequest& req);
std::string sensitivity_cache_path(const Scenario& sc, const std::vector<LayerPrecision>& options,
                                   const SensitivityRequest& req);

// Loads the checkpoint into the fp32 graph of sc.net, reads the validation split
// (pipeline::load_sources) and estimates every (layer, option): "hessian" = weight term + activation
// term (HAWQ-style, model::hessian_traces), "measured" = validation loss increase with only that
// layer quantized (model::measured_sensitivity), "ggn" = the hessian method's two terms with the
// exact Gauss-Newton traces (model::ggn_traces) in place of the finite-difference Hessian ones,
// "clado" = the measured table plus pair terms (model::measured_pair_interactions; table.pairs)
// over model::clado_pairs: L (L - 1) / 2 x options^2 more quantized forward passes over the
// samples for L weight layers (neighbours: one per adjacent pair). Bad requests (unknown method, missing or
// mismatched checkpoint, options the quantizers cannot represent) throw UsageError/SpecError.
SensitivityResult compute_sensitivity(const Scenario& sc, const std::vector<LayerPrecision>& options,
                                      const SensitivityRequest& req);

}  // namespace mixprec::pipeline
