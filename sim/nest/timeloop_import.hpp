// Importer of Timeloop v0.4 inputs (architecture, problem, mapping, ERT, constraints) into the
// nest-analysis model: a Timeloop user's migration path and the translator of the validation
// suite (tests/validation/). Library mixprec_nest_timeloop (links Debian's yaml-cpp).
//
// Accepted architecture forms: the v0.4 `architecture: {nodes: [...]}` tree (!Container with
// `spatial: {meshX, meshY}`, !Component, !Parallel), and the `architecture: {subtree: [...]}`
// tree with `local` components named `Name[1..N]` that Timeloop writes to
// parsed-processed-input.yaml. A container with a spatial mesh becomes, as in Timeloop, a
// storage level "inter_<Name>_spatial" that keeps nothing (mapping entries may target it or the
// container's name). Word bits: every non-dummy storage level must have the same `datawidth`;
// it becomes every data space's bits. Bandwidths (words/cycle) become bits/cycle; `n_banks` is
// not imported (Timeloop uses it only in its layout/bank-conflict model).
#pragma once
#include <string>
#include <vector>

#include "sim/nest/nest_json.hpp"

namespace mixprec::sim::nest {

struct TimeloopFiles {
  std::vector<std::string> arch;  // one or more files; their top-level keys are merged
  std::string problem;
  std::string mapping;
  std::string ert;          // optional: energy per action (Accelergy ERT)
  std::string constraints;  // optional: bypass constraints become the levels' keep sets; the
                            // mapping is checked against keep and factor constraints
};

// Throws SpecError(file, "YAML path (line N)", expected, found) on bad input.
NestSpec import_timeloop(const TimeloopFiles& files);

}  // namespace mixprec::sim::nest
