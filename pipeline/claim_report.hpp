// reproduce's report: per-seed results -> intervals -> the claim's verdict -> report.json
// (docs/report_schema.md) and the renderings the scenario's report.formats asks for.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spec.hpp"
#include "pipeline/reproduce.hpp"
#include "pipeline/verdict.hpp"
#include "sim/pricer.hpp"

namespace mixprec::pipeline {

// The chosen budget (fraction of the baseline's energy): constraints.energy_budget.fraction,
// else 0.6. Its frontier point is "the chosen configuration" (ablation, breakdown, latency).
double claim_budget(const Scenario& sc);
// "budget_0.55": a frontier point's configuration name.
std::string frontier_name(double fraction);

// One width of the uniform ladder: every integer weight width 2-`max_weight_bits` of the search
// space, with the activation width equal to it when the search space has it, else the next wider one.
struct UniformWidth {
  int weight_bits = 8, activation_bits = 8;
};
std::vector<UniformWidth> uniform_ladder(const Scenario& sc, int max_weight_bits = 8);
std::string ladder_name(const UniformWidth& u);  // "uniform_w4a4"

struct ReportInputs {
  const ReproduceOptions& o;
  const Scenario& sc;
  std::string dir;
  nlohmann::json options;
  std::vector<nlohmann::json> seeds;  // SeedRun results, seed order
  double wall_seconds = 0;
};

// The evidence the verdict reads, computed from the seeds' results (exposed for tests). The
// configurations are priced with `pricer` when given (build_report passes the one it prices the
// report's tables with, so each configuration is mapped once), else with one made here.
ClaimEvidence claim_evidence(const ReportInputs& in, nlohmann::json* details = nullptr,
                             sim::Pricer* pricer = nullptr);

nlohmann::json build_report(const ReportInputs& in);

// report.json always; report.md and report.html when `formats` lists "md" / "html".
void write_report_files(const std::string& dir, const nlohmann::json& rep, const std::vector<std::string>& formats);

}  // namespace mixprec::pipeline
