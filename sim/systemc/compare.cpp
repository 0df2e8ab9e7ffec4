#include "sim/systemc/compare.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "sim/cost_json.hpp"

namespace mixprec::sim::systemc {

using nlohmann::json;

namespace {

double percent(double now, double ref) {
  if (ref == 0) return now == 0 ? 0.0 : 100.0;
  return 100.0 * (now - ref) / ref;
}

const char* explain(const std::string& effect, bool slower) {
  if (effect == "dram")
    return slower ? "DRAM bandwidth/latency not hidden behind compute"
                  : "the closed form max(compute, transfer) + one tile's prologue over-counts the transfers "
                    "(with one tile it charges them twice)";
  if (effect == "contention")
    return slower ? "shared DRAM channel: write-backs and streams delayed the tile loads"
                  : "less channel contention than the analytical transfer time implies";
  if (effect == "fill_drain")
    return slower ? "pipeline fill/drain: the first tile's load and the last write-back are exposed"
                  : "shorter pipeline prologue/epilogue than the analytical one-tile prologue plus latency";
  if (effect == "recurrent")
    return slower ? "LSTM step dependency: each step's products wait for the previous step's h"
                  : "the directions of a bidirectional LSTM overlap: one direction's gate math hides behind "
                    "the other's products";
  return "the engines agree";
}

LayerDifference diff(const std::string& name, double ca, double cs, double ea_pj, double es_pj, double da,
                     double ds, const StallBreakdown& a, const StallBreakdown& s) {
  LayerDifference d;
  d.name = name;
  d.cycles_analytical = ca;
  d.cycles_systemc = cs;
  d.cycles_diff_percent = percent(cs, ca);
  d.energy_analytical_uj = ea_pj * 1e-6;
  d.energy_systemc_uj = es_pj * 1e-6;
  d.energy_diff_percent = percent(es_pj, ea_pj);
  d.dram_bytes_analytical = da;
  d.dram_bytes_systemc = ds;
  d.stall_diff.dram_stall_cycles = s.dram_stall_cycles - a.dram_stall_cycles;
  d.stall_diff.contention_cycles = s.contention_cycles - a.contention_cycles;
  d.stall_diff.fill_drain_cycles = s.fill_drain_cycles - a.fill_drain_cycles;
  d.stall_diff.recurrent_cycles = s.recurrent_cycles - a.recurrent_cycles;
  if (std::fabs(d.cycles_diff_percent) >= kAgreePercent) {
    const double sign = cs > ca ? 1.0 : -1.0;
    const std::pair<const char*, double> causes[] = {
        {"dram", d.stall_diff.dram_stall_cycles},
        {"contention", d.stall_diff.contention_cycles},
        {"fill_drain", d.stall_diff.fill_drain_cycles},
        {"recurrent", d.stall_diff.recurrent_cycles}};
    double best = 0;
    for (const auto& [cause, delta] : causes)
      if (sign * delta > best) {
        best = sign * delta;
        d.effect = cause;
      }
  }
  d.explanation = explain(d.effect, cs > ca);
  return d;
}

json stall_json(const StallBreakdown& s) {
  return {{"dram", s.dram_stall_cycles},
          {"contention", s.contention_cycles},
          {"fill_drain", s.fill_drain_cycles},
          {"recurrent", s.recurrent_cycles}};
}

json difference_json(const LayerDifference& d) {
  return {{"name", d.name},
          {"cycles", {{"analytical", d.cycles_analytical}, {"systemc", d.cycles_systemc},
                      {"difference", d.cycles_systemc - d.cycles_analytical},
                      {"difference_percent", d.cycles_diff_percent}}},
          {"energy_uj", {{"analytical", d.energy_analytical_uj}, {"systemc", d.energy_systemc_uj},
                         {"difference", d.energy_systemc_uj - d.energy_analytical_uj},
                         {"difference_percent", d.energy_diff_percent}}},
          {"dram_bytes", {{"analytical", d.dram_bytes_analytical}, {"systemc", d.dram_bytes_systemc}}},
          {"stall_cycles_difference", stall_json(d.stall_diff)},
          {"effect", d.effect.empty() ? json(nullptr) : json(d.effect)},
          {"explanation", d.explanation}};
}

}  // namespace

Comparison compare(const NetworkCost& a, const NetworkCost& s) {
  Comparison c;
  StallBreakdown ta, ts;
  for (std::size_t i = 0; i < a.layers.size() && i < s.layers.size(); ++i) {
    const LayerCost& la = a.layers[i];
    const LayerCost& ls = s.layers[i];
    c.layers.push_back(diff(la.name, la.cycles, ls.cycles, la.energy_total_pj(), ls.energy_total_pj(),
                            la.dram_bytes(), ls.dram_bytes(), la.stalls, ls.stalls));
    for (auto [t, l] : {std::pair<StallBreakdown*, const LayerCost*>{&ta, &la}, {&ts, &ls}}) {
      t->dram_stall_cycles += l->stalls.dram_stall_cycles;
      t->contention_cycles += l->stalls.contention_cycles;
      t->fill_drain_cycles += l->stalls.fill_drain_cycles;
      t->recurrent_cycles += l->stalls.recurrent_cycles;
    }
  }
  c.total = diff("total", a.cycles, s.cycles, a.energy_uj * 1e6, s.energy_uj * 1e6, a.dram_bytes, s.dram_bytes, ta, ts);
  return c;
}

json comparison_to_json(const Scenario& sc, const SimulationResult& analytical, const SimulationResult& systemc,
                        const Comparison& cmp) {
  json j;
  j["scenario"] = sc.name;
  j["network"] = sc.net.name;
  j["hardware"] = sc.hardware.name;
  j["phase"] = sc.phase == Phase::Training ? "training" : "inference";
  j["engines"] = {{"analytical", network_to_json(sc, analytical.cost, analytical.baselines, analytical.engine)},
                  {"systemc", network_to_json(sc, systemc.cost, systemc.baselines, systemc.engine)}};
  json layers = json::array();
  for (const auto& d : cmp.layers) layers.push_back(difference_json(d));
  j["differences"] = {{"layers", layers}, {"total", difference_json(cmp.total)},
                      {"agree_percent", kAgreePercent}};
  return j;
}

std::string comparison_to_table(const Scenario& sc, const Comparison& cmp) {
  std::ostringstream s;
  char line[320];
  s << "mixprec simulate --compare: " << sc.name << " on " << sc.hardware.name << " ("
    << (sc.phase == Phase::Training ? "training" : "inference") << ")\n";
  std::snprintf(line, sizeof line, "%-34s %12s %12s %8s %11s %11s %8s  %s\n", "layer", "cycles anal.",
                "cycles SC", "diff%", "uJ anal.", "uJ SC", "diff%", "effect (cycles SC - anal.)");
  s << line;
  auto row = [&](const LayerDifference& d) {
    std::string effect = "-";
    if (!d.effect.empty()) {
      const StallBreakdown& x = d.stall_diff;
      const double v = d.effect == "dram" ? x.dram_stall_cycles
                       : d.effect == "contention" ? x.contention_cycles
                       : d.effect == "fill_drain" ? x.fill_drain_cycles
                                                  : x.recurrent_cycles;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s %+.0f", d.effect.c_str(), v);
      effect = buf;
    }
    std::snprintf(line, sizeof line, "%-34s %12.0f %12.0f %+8.2f %11.4f %11.4f %+8.3f  %s\n", d.name.c_str(),
                  d.cycles_analytical, d.cycles_systemc, d.cycles_diff_percent, d.energy_analytical_uj,
                  d.energy_systemc_uj, d.energy_diff_percent, effect.c_str());
    s << line;
  };
  for (const auto& d : cmp.layers) row(d);
  row(cmp.total);
  const StallBreakdown& t = cmp.total.stall_diff;
  std::snprintf(line, sizeof line,
                "stall cycles, SystemC minus analytical: dram %+.0f, contention %+.0f, fill_drain %+.0f, "
                "recurrent %+.0f\n",
                t.dram_stall_cycles, t.contention_cycles, t.fill_drain_cycles, t.recurrent_cycles);
  s << line;
  s << "effects (shown where cycles differ by " << kAgreePercent << "% or more):\n";
  for (const char* e : {"dram", "contention", "fill_drain", "recurrent"}) {
    s << "  " << e << " +: " << explain(e, true) << "\n";
    s << "  " << e << " -: " << explain(e, false) << "\n";
  }
  return s.str();
}

std::string comparison_to_csv(const Comparison& cmp) {
  std::ostringstream s;
  s.precision(10);
  s << "name,cycles_analytical,cycles_systemc,cycles_diff_percent,energy_uj_analytical,energy_uj_systemc,"
       "energy_diff_percent,stall_diff_dram,stall_diff_contention,stall_diff_fill_drain,stall_diff_recurrent,effect\n";
  auto row = [&](const LayerDifference& d) {
    s << d.name << ',' << d.cycles_analytical << ',' << d.cycles_systemc << ',' << d.cycles_diff_percent << ','
      << d.energy_analytical_uj << ',' << d.energy_systemc_uj << ',' << d.energy_diff_percent << ','
      << d.stall_diff.dram_stall_cycles << ',' << d.stall_diff.contention_cycles << ','
      << d.stall_diff.fill_drain_cycles << ',' << d.stall_diff.recurrent_cycles << ',' << d.effect << '\n';
  };
  for (const auto& d : cmp.layers) row(d);
  row(cmp.total);
  return s.str();
}

}  // namespace mixprec::sim::systemc
