// The claim's verdict: each sub-claim decided from an interval against a threshold of the
// scenario's claim definition (report.claim, core/spec.hpp ClaimSpec), and the summary sentence
// generated from the sub-verdicts. Pure functions of the evidence: tests construct evidence for
// each outcome.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spec.hpp"
#include "pipeline/stats.hpp"

namespace mixprec::pipeline {

enum class Outcome { Held, NotHeld, Inconclusive, NotApplicable };
// "held", "not held", "inconclusive (the interval straddles the threshold)", "not applicable".
std::string to_string(Outcome o);

// A quantity that must stay below `threshold`: held when the interval's upper end is below it,
// not held when its lower end is at or above it, inconclusive when it straddles it.
Outcome below(const stats::Interval& x, double threshold);
// A quantity that must exceed `threshold`: held when lo > threshold, not held when hi <= threshold.
Outcome above(const stats::Interval& x, double threshold);

// One trained configuration on the energy axis, with its metric's drop against one baseline in
// the claim's units: accuracy points (classification) or RMSE increase in % of the baseline's
// RMSE (regression). Positive = worse than the baseline.
struct FrontierPoint {
  std::string name;
  double energy_uj = 0;
  stats::Interval drop;
};

struct BaselineEvidence {
  std::string baseline;  // "int8", "fp16", "fp32", ...
  double energy_uj = 0;  // priced as `simulate` prices its baselines
  std::vector<FrontierPoint> points;
};

struct EnergyVerdict {
  std::string baseline;
  Outcome outcome = Outcome::NotApplicable;
  // The largest saving (percent of the baseline's energy) at which the drop's upper confidence
  // bound stays below the threshold, and the point that reaches it; none: no such point.
  std::optional<double> certified_saving_pct;
  std::string certified_point;
  // The largest saving at which the drop's lower bound is below the threshold (not excluded).
  std::optional<double> plausible_saving_pct;
  bool above_band = false;  // certified saving above the claimed band: the claim understated it
};

// The energy sub-claim against one baseline: held when the certified saving reaches the band's
// low end, not held when no point at or beyond it has a drop that could be under the threshold,
// inconclusive otherwise.
EnergyVerdict judge_energy(const BaselineEvidence& e, const ClaimSpec& claim, bool regression);

struct ClaimEvidence {
  bool regression = false;
  std::vector<BaselineEvidence> baselines;  // claim.baselines order; the first is the primary one
  // Mixed minus uniform precision at matched (interpolated) energy, in the claim's units with the
  // sign "positive = mixed is better" (accuracy points; for regression the uniform RMSE's excess
  // over the mixed one in % of the uniform's).
  std::optional<stats::Interval> mixed_advantage;
  // The FP32 gradient buffers' effect at the same configuration, positive = they help.
  std::optional<stats::Interval> fp32_buffer_effect;
  // The chosen configuration's test accuracy in percent (classification), and its name.
  std::optional<stats::Interval> chosen_accuracy_pct;
  std::string chosen_name;
  double latency_ms = 0;  // of the chosen configuration, cycle-approximate engine
};

struct Verdict {
  std::vector<EnergyVerdict> energy;  // per baseline
  Outcome mixed_vs_uniform = Outcome::NotApplicable;
  Outcome fp32_buffers = Outcome::NotApplicable;
  Outcome task_accuracy = Outcome::NotApplicable;
  Outcome latency = Outcome::NotApplicable;
  // Energy against the primary baseline, task accuracy and latency: not held if any is not held,
  // held if all that apply are held, inconclusive otherwise.
  Outcome overall = Outcome::NotApplicable;
  std::string summary;  // generated from the sub-verdicts and their numbers
};

Verdict judge(const ClaimEvidence& e, const ClaimSpec& claim);

// report.json's "verdict" (docs/report_schema.md): sub-verdicts with their numbers and intervals.
nlohmann::json verdict_json(const Verdict& v, const ClaimEvidence& e, const ClaimSpec& claim);
nlohmann::json interval_json(const stats::Interval& i);

}  // namespace mixprec::pipeline
