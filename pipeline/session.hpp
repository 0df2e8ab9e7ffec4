// The scenario's data as batch sources for a graph: shared by `train`, `eval`, `search` (when it
// computes sensitivities from a checkpoint) and `reproduce`.
#pragma once
#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/spec.hpp"
#include "model/data/dataset.hpp"
#include "model/graph.hpp"
#include "model/trainer.hpp"

namespace mixprec::pipeline {

struct DataSources {
  std::unique_ptr<model::MemorySource> train, val, test;
  bool regression = false;
  double target_std = 1.0;     // regression: RMSE in original units = normalized RMSE * this
  data::Baseline naive_test;   // persistence forecast on the test split
  bool synthetic = false;
  nlohmann::json description;  // name, split sizes, classes / unit
};

// The scenario's data set (model/data) in `g`'s input layout; train shuffles with
// sc.training.seed. synthetic > 0: N samples of model::make_synthetic's task instead (smoke
// tests; validation and test get max(8, N/4) each).
DataSources load_sources(const Scenario& sc, const model::Graph& g, int synthetic = 0);

}  // namespace mixprec::pipeline
