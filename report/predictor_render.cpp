#include "report/predictor_render.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <vector>

#include "report/svg_plot.hpp"

namespace mixprec::report {

using nlohmann::json;

namespace {

const std::vector<std::string>& kinds() {
  static const std::vector<std::string> k{"uniform", "exact", "greedy", "evolutionary", "random"};
  return k;
}

std::string g3(double v) { return svg::fmt_sig(v, 3); }

// "0.45 [0.30, 0.58]"
std::string interval_text(const json& i, int decimals = 2) {
  return svg::fmt_fixed(i.at("estimate").get<double>(), decimals) + " [" + svg::fmt_fixed(i.at("lo").get<double>(), decimals) +
         ", " + svg::fmt_fixed(i.at("hi").get<double>(), decimals) + "]";
}

}  // namespace

std::string predictor_markdown(const json& rep) {
  std::ostringstream o;
  const std::string metric = rep.at("metric");
  const bool acc = metric == "accuracy";
  const std::string unit = acc ? "points" : rep.at("metric_unit").get<std::string>();
  const json& seeds = rep.at("seeds");
  o << "# Sensitivity predictor: `" << rep.at("scenario").at("name").get<std::string>() << "`\n\n";
  o << "Does the predicted sensitivity rank configurations the way quantization-aware training does? "
    << rep.at("configs").size() << " configurations, each fine-tuned (QAT) from the FP32 model of every seed ("
    << seeds.size() << " seeds: " << seeds.dump() << "); test loss and " << metric
    << " are means over the seeds. Configurations: ";
  bool first = true;
  for (auto it = rep.at("config_counts").begin(); it != rep.at("config_counts").end(); ++it) {
    o << (first ? "" : ", ") << it.value().get<int>() << " " << it.key();
    first = false;
  }
  o << ". The random configurations were drawn without any predictor (seeded, spread over the energy range): they "
       "are the held-out set. Picks (solver choices) come from the first seed's tables. Wall time "
    << svg::fmt_fixed(rep.at("wall_seconds").get<double>(), 1) << " s.\n\n";
  o << "A good predictor has Kendall tau and Spearman rho near +1 against test loss"
    << (acc ? " and near -1 against accuracy" : " and RMSE") << ". Intervals are 95% percentile bootstraps over "
       "configurations (seeded); per-seed tau is a t-interval over seeds.\n\n";
  o << "## Rank agreement\n\n";
  o << "| Method | Configurations | tau (test loss) | rho (test loss) | tau (" << metric << ") | rho (" << metric
    << ") | per-seed tau (test loss) |\n| --- | --- | --: | --: | --: | --: | --: |\n";
  for (auto it = rep.at("methods").begin(); it != rep.at("methods").end(); ++it) {
    for (const char* set : {"all", "held_out"}) {
      const json& b = it.value().at(set);
      if (!b.contains("test_loss")) continue;
      o << "| " << it.key() << " | " << (std::string(set) == "all" ? "all " : "held-out ")
        << b.at("configurations").get<int>() << " | " << interval_text(b.at("test_loss").at("kendall_tau")) << " | "
        << interval_text(b.at("test_loss").at("spearman_rho")) << " | " << interval_text(b.at(metric).at("kendall_tau"))
        << " | " << interval_text(b.at(metric).at("spearman_rho")) << " | "
        << (std::string(set) == "all" ? interval_text(it.value().at("per_seed_kendall_tau_test_loss").at("interval")) : "")
        << " |\n";
    }
  }
  o << "\nScatter plots: ";
  first = true;
  for (auto it = rep.at("methods").begin(); it != rep.at("methods").end(); ++it) {
    std::string file = it.key();
    std::replace(file.begin(), file.end(), ':', '-');  // the file name pipeline/predictor.cpp writes
    o << (first ? "" : ", ") << "[" << it.key() << "](scatter_" << file << ".svg)";
    first = false;
  }
  o << "; energy against " << metric << ": [energy_" << metric << ".svg](energy_" << metric << ".svg).\n\n";
  o << "## The solvers' picks\n\n";
  o << "Regret: the " << metric << " of the best trained configuration at or below the pick's energy (best mean over "
       "seeds) minus the pick's, t-interval over seeds (" << unit << "). Domination: the best trained uniform "
       "configuration at lower or equal energy against the pick (its advantage, t-interval over seeds): "
       "*dominated* when the interval lies above 0, *matched* when it contains 0, *not dominated* when below 0 "
       "or when no uniform configuration is that cheap.\n\n";
  o << "| Method | Solver | Budget | Configuration | Energy (µJ) | " << metric << " | Regret (best) | Uniform "
       "advantage | Domination |\n| --- | --- | --: | --- | --: | --: | --: | --: | --- |\n";
  for (auto it = rep.at("methods").begin(); it != rep.at("methods").end(); ++it)
    for (const json& p : it.value().at("picks")) {
      const json& d = p.at("domination");
      o << "| " << it.key() << " | " << p.at("solver").get<std::string>() << " | "
        << svg::fmt_fixed(p.at("budget_fraction").get<double>(), 3) << (p.at("chosen_budget").get<bool>() ? " (chosen)" : "")
        << " | `" << p.at("config").get<std::string>() << "` | " << g3(p.at("energy_uj").get<double>()) << " | "
        << interval_text(p.at(metric)) << " | " << interval_text(p.at("regret").at("interval")) << " (`"
        << p.at("regret").at("best").get<std::string>() << "`) | "
        << (d.contains("advantage") ? interval_text(d.at("advantage")) + " (`" + d.at("uniform").get<std::string>() + "`)"
                                    : "—")
        << " | " << d.at("status").get<std::string>() << " |\n";
    }
  if (!rep.at("infeasible_picks").empty()) {
    o << "\nNo configuration meets: ";
    first = true;
    for (const json& s : rep.at("infeasible_picks")) {
      o << (first ? "" : "; ") << s.get<std::string>();
      first = false;
    }
    o << ".\n";
  }
  o << "\n## Configurations\n\nEnergy per inference; predicted sensitivity is the mean over seeds of each seed's "
       "table summed over layers; bits are weight/activation per layer.\n\n";
  o << "| Configuration | Kind | Bits | Energy (µJ) |";
  for (auto it = rep.at("methods").begin(); it != rep.at("methods").end(); ++it) o << " Predicted (" << it.key() << ") |";
  o << " Test loss | " << metric << " |\n| --- | --- | --- | --: |";
  for (std::size_t i = 0; i < rep.at("methods").size(); ++i) o << " --: |";
  o << " --: | --: |\n";
  for (const json& c : rep.at("configs")) {
    std::string bits;
    for (const json& b : c.at("weight_activation_bits")) bits += (bits.empty() ? "" : " ") + b.get<std::string>();
    o << "| `" << c.at("name").get<std::string>() << "` | " << c.at("kind").get<std::string>() << " | " << bits << " | "
      << g3(c.at("energy_uj").get<double>()) << " |";
    for (auto it = rep.at("methods").begin(); it != rep.at("methods").end(); ++it)
      o << " " << g3(c.at("predicted_sensitivity").at(it.key()).at("mean").get<double>()) << " |";
    o << " " << interval_text(c.at("test_loss").at("interval"), 4) << " | " << interval_text(c.at("metric").at("interval"))
      << " |\n";
  }
  return o.str();
}

std::string predictor_scatter_svg(const json& rep, const std::string& method) {
  svg::XYPlot p("fig-scatter-" + method, "Predicted (" + method + ") vs measured test loss",
                "log10 predicted sensitivity (mean over seeds)", "test loss (mean over seeds)");
  for (std::size_t k = 0; k < kinds().size(); ++k) {
    svg::Series s;
    s.name = kinds()[k];
    s.color = svg::palette(k);
    s.mark = svg::Mark::Points;
    for (const json& c : rep.at("configs")) {
      if (c.at("kind") != kinds()[k]) continue;
      const double pred = c.at("predicted_sensitivity").at(method).at("mean").get<double>();
      const json& l = c.at("test_loss").at("interval");
      s.x.push_back(pred > 0 ? std::log10(pred) : std::nan(""));
      s.y.push_back(l.at("estimate").get<double>());
      s.y_lo.push_back(l.at("lo").get<double>());
      s.y_hi.push_back(l.at("hi").get<double>());
    }
    if (!s.x.empty()) p.add(std::move(s));
  }
  return p.render();
}

std::string predictor_energy_svg(const json& rep) {
  const std::string metric = rep.at("metric");
  svg::XYPlot p("fig-energy", "Energy vs measured " + metric + " of the trained configurations",
                "energy per inference (µJ)", metric == "accuracy" ? "test accuracy (%, mean over seeds)" : "test RMSE");
  for (std::size_t k = 0; k < kinds().size(); ++k) {
    svg::Series s;
    s.name = kinds()[k];
    s.color = svg::palette(k);
    for (const json& c : rep.at("configs")) {
      if (c.at("kind") != kinds()[k]) continue;
      const json& m = c.at("metric").at("interval");
      s.x.push_back(c.at("energy_uj").get<double>());
      s.y.push_back(m.at("estimate").get<double>());
      s.y_lo.push_back(m.at("lo").get<double>());
      s.y_hi.push_back(m.at("hi").get<double>());
    }
    if (!s.x.empty()) p.add(std::move(s));
  }
  svg::Series ring;
  ring.name = "exact pick at the chosen budget";
  ring.color = "#000000";
  ring.hollow = true;
  ring.radius_px = 7;
  for (auto it = rep.at("methods").begin(); it != rep.at("methods").end(); ++it)
    for (const json& pk : it.value().at("picks"))
      if (pk.at("solver") == "exact" && pk.at("chosen_budget").get<bool>()) {
        ring.x.push_back(pk.at("energy_uj").get<double>());
        ring.y.push_back(pk.at(metric).at("estimate").get<double>());
        ring.labels.push_back(it.key());
      }
  if (!ring.x.empty()) p.add(std::move(ring));
  return p.render();
}

}  // namespace mixprec::report
