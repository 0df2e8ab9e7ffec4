#include "pipeline/verdict.hpp"

#include "pipeline/common.hpp"

namespace mixprec::pipeline {

using nlohmann::json;

namespace {

// "0.42 points [-0.80, 1.64]" or "1.3% [0.2%, 2.4%]".
std::string with_interval(const stats::Interval& i, bool regression) {
  const char* f = regression ? "%.2f%%" : "%.2f";
  return fmt(f, i.estimate) + (regression ? "" : " points") + " [" + fmt(f, i.lo) + ", " + fmt(f, i.hi) +
         "]";
}

double threshold_of(const ClaimSpec& c, bool regression) {
  return regression ? c.max_rmse_increase_pct : c.max_drop_pp;
}

std::string drop_words(const ClaimSpec& c, bool regression) {
  return regression ? "RMSE increase stays below " + fmt("%g", c.max_rmse_increase_pct) + "% of the baseline's"
                    : "accuracy drop stays below " + fmt("%g", c.max_drop_pp) + " points";
}

std::string energy_sentence(const EnergyVerdict& v, const BaselineEvidence& e, const ClaimSpec& c,
                            bool regression) {
  std::string s = "Against uniform " + v.baseline + " (" + fmt("%.4g", e.energy_uj) +
                  " uJ), the largest saving whose " + drop_words(c, regression) + " at " +
                  fmt("%g", 100 * c.confidence) + "% confidence is ";
  if (v.certified_saving_pct) {
    const FrontierPoint* p = nullptr;
    for (const FrontierPoint& q : e.points)
      if (q.name == v.certified_point) p = &q;
    s += fmt("%.1f%%", *v.certified_saving_pct) + " (" + v.certified_point +
         (p ? ", " + (regression ? std::string("RMSE increase ") : std::string("drop ")) +
                  with_interval(p->drop, regression)
            : std::string()) +
         ")";
  } else {
    s += "none of the " + std::to_string(e.points.size()) + " trained points";
  }
  if (v.outcome == Outcome::Inconclusive && v.plausible_saving_pct)
    s += "; points saving up to " + fmt("%.1f%%", *v.plausible_saving_pct) +
         " have intervals that straddle the threshold";
  s += ": " + to_string(v.outcome) + " (claimed " + fmt("%g", c.saving_min_pct) + "-" +
       fmt("%g", c.saving_max_pct) + "%)";
  if (v.above_band) s += ", above the claimed band: the claim understated the saving";
  return s + ".";
}

}  // namespace

std::string to_string(Outcome o) {
  switch (o) {
    case Outcome::Held: return "held";
    case Outcome::NotHeld: return "not held";
    case Outcome::Inconclusive: return "inconclusive (the interval straddles the threshold)";
    case Outcome::NotApplicable: return "not applicable";
  }
  return "?";
}

Outcome below(const stats::Interval& x, double threshold) {
  if (x.hi < threshold) return Outcome::Held;
  if (x.lo >= threshold) return Outcome::NotHeld;
  return Outcome::Inconclusive;
}

Outcome above(const stats::Interval& x, double threshold) {
  if (x.lo > threshold) return Outcome::Held;
  if (x.hi <= threshold) return Outcome::NotHeld;
  return Outcome::Inconclusive;
}

EnergyVerdict judge_energy(const BaselineEvidence& e, const ClaimSpec& c, bool regression) {
  EnergyVerdict v;
  v.baseline = e.baseline;
  const double thr = threshold_of(c, regression);
  for (const FrontierPoint& p : e.points) {
    if (!(e.energy_uj > 0)) break;
    const double saving = 100.0 * (e.energy_uj - p.energy_uj) / e.energy_uj;
    const Outcome o = below(p.drop, thr);
    if (o == Outcome::Held && (!v.certified_saving_pct || saving > *v.certified_saving_pct)) {
      v.certified_saving_pct = saving;
      v.certified_point = p.name;
    }
    if (o != Outcome::NotHeld && (!v.plausible_saving_pct || saving > *v.plausible_saving_pct))
      v.plausible_saving_pct = saving;
  }
  if (e.points.empty() || !(e.energy_uj > 0))
    v.outcome = Outcome::NotApplicable;
  else if (v.certified_saving_pct && *v.certified_saving_pct >= c.saving_min_pct)
    v.outcome = Outcome::Held;
  else if (!v.plausible_saving_pct || *v.plausible_saving_pct < c.saving_min_pct)
    v.outcome = Outcome::NotHeld;
  else
    v.outcome = Outcome::Inconclusive;
  v.above_band = v.outcome == Outcome::Held && *v.certified_saving_pct > c.saving_max_pct;
  return v;
}

Verdict judge(const ClaimEvidence& e, const ClaimSpec& c) {
  Verdict v;
  for (const BaselineEvidence& b : e.baselines) v.energy.push_back(judge_energy(b, c, e.regression));
  if (e.mixed_advantage) v.mixed_vs_uniform = above(*e.mixed_advantage, 0.0);
  if (e.fp32_buffer_effect) v.fp32_buffers = above(*e.fp32_buffer_effect, 0.0);
  if (!e.regression && e.chosen_accuracy_pct) v.task_accuracy = above(*e.chosen_accuracy_pct, c.min_accuracy_pct);
  if (!e.chosen_name.empty()) v.latency = e.latency_ms <= c.latency_ms ? Outcome::Held : Outcome::NotHeld;

  // The overall verdict: the primary baseline's energy sub-claim, task accuracy and latency.
  std::vector<Outcome> parts;
  if (!v.energy.empty()) parts.push_back(v.energy[0].outcome);
  parts.push_back(v.task_accuracy);
  parts.push_back(v.latency);
  bool any_not = false, all_held = true, any = false;
  for (Outcome o : parts) {
    if (o == Outcome::NotApplicable) continue;
    any = true;
    any_not = any_not || o == Outcome::NotHeld;
    all_held = all_held && o == Outcome::Held;
  }
  v.overall = !any ? Outcome::NotApplicable
              : any_not ? Outcome::NotHeld
              : all_held ? Outcome::Held
                         : Outcome::Inconclusive;

  // The summary: one sentence per sub-verdict, then the overall one naming its parts.
  std::string s;
  for (std::size_t i = 0; i < v.energy.size(); ++i)
    if (v.energy[i].outcome != Outcome::NotApplicable)
      s += energy_sentence(v.energy[i], e.baselines[i], c, e.regression) + " ";
  if (e.mixed_advantage) {
    s += "At matched energy, per-layer mixed precision minus uniform precision is " +
         with_interval(*e.mixed_advantage, e.regression) + " (" + e.mixed_advantage->method + "): ";
    s += v.mixed_vs_uniform == Outcome::Held      ? "mixing beats uniform precision"
         : v.mixed_vs_uniform == Outcome::NotHeld ? "uniform precision does better than mixing"
                                                  : "mixed and uniform precision cannot be told apart";
    s += " (" + to_string(v.mixed_vs_uniform) + "). ";
  }
  if (e.fp32_buffer_effect) {
    s += "FP32 gradient buffers change the chosen configuration's " +
         std::string(e.regression ? "RMSE" : "accuracy") + " by " +
         with_interval(*e.fp32_buffer_effect, e.regression) + ": " +
         (v.fp32_buffers == Outcome::Held      ? "they help"
          : v.fp32_buffers == Outcome::NotHeld ? "they hurt"
                                               : "no effect shown") +
         " (" + to_string(v.fp32_buffers) + "). ";
  }
  if (v.task_accuracy != Outcome::NotApplicable)
    s += "The chosen configuration's test accuracy is " + fmt("%.2f%%", e.chosen_accuracy_pct->estimate) +
         " [" + fmt("%.2f", e.chosen_accuracy_pct->lo) + ", " + fmt("%.2f", e.chosen_accuracy_pct->hi) +
         "] against the claimed >" + fmt("%g", c.min_accuracy_pct) + "%: " + to_string(v.task_accuracy) + ". ";
  if (v.latency != Outcome::NotApplicable)
    s += "Latency " + fmt("%.3f", e.latency_ms) + " ms per inference (bound " + fmt("%g", c.latency_ms) +
         " ms): " + to_string(v.latency) + ". ";
  s += "Overall the claim ";
  s += v.overall == Outcome::Held      ? "held"
       : v.overall == Outcome::NotHeld ? "did not hold"
       : v.overall == Outcome::Inconclusive ? "is inconclusive"
                                            : "could not be tested";
  s += " (";
  std::string sep;
  if (!v.energy.empty()) {
    s += "energy against " + v.energy[0].baseline + ": " + to_string(v.energy[0].outcome);
    sep = "; ";
  }
  if (v.task_accuracy != Outcome::NotApplicable) {
    s += sep + "task accuracy: " + to_string(v.task_accuracy);
    sep = "; ";
  }
  if (v.latency != Outcome::NotApplicable) s += sep + "latency: " + to_string(v.latency);
  s += ").";
  v.summary = s;
  return v;
}

json interval_json(const stats::Interval& i) {
  json j{{"estimate", i.estimate}, {"lo", i.lo}, {"hi", i.hi}, {"confidence", i.confidence},
         {"n", i.n}, {"method", i.method}};
  if (i.resamples > 0) j["resamples"] = i.resamples;
  return j;
}

json verdict_json(const Verdict& v, const ClaimEvidence& e, const ClaimSpec& c) {
  json energy = json::array();
  for (std::size_t i = 0; i < v.energy.size(); ++i) {
    const EnergyVerdict& ev = v.energy[i];
    json j{{"baseline", ev.baseline},
           {"baseline_energy_uj", e.baselines[i].energy_uj},
           {"outcome", to_string(ev.outcome)},
           {"held", ev.outcome == Outcome::Held},
           {"above_band", ev.above_band}};
    j["certified_saving_pct"] = ev.certified_saving_pct ? json(*ev.certified_saving_pct) : json(nullptr);
    j["certified_point"] = ev.certified_point;
    j["plausible_saving_pct"] = ev.plausible_saving_pct ? json(*ev.plausible_saving_pct) : json(nullptr);
    energy.push_back(j);
  }
  json j{{"energy", energy},
         {"threshold", threshold_of(c, e.regression)},
         {"threshold_units", e.regression ? "rmse_increase_pct" : "accuracy_drop_pp"},
         {"mixed_vs_uniform", to_string(v.mixed_vs_uniform)},
         {"fp32_buffers", to_string(v.fp32_buffers)},
         {"task_accuracy", to_string(v.task_accuracy)},
         {"latency", to_string(v.latency)},
         {"latency_ms", e.latency_ms},
         {"overall", to_string(v.overall)},
         {"claim_held", v.overall == Outcome::Held},
         {"summary", v.summary}};
  if (e.mixed_advantage) j["mixed_advantage"] = interval_json(*e.mixed_advantage);
  if (e.fp32_buffer_effect) j["fp32_buffer_effect"] = interval_json(*e.fp32_buffer_effect);
  if (e.chosen_accuracy_pct) j["chosen_accuracy_pct"] = interval_json(*e.chosen_accuracy_pct);
  return j;
}

}  // namespace mixprec::pipeline
