// Sweep files: `mixprec sweep FILE` up to its first point (parse the file and its base scenario,
// then enumerate the points: samples, constraint expressions, shards) and apply the first point
// to the base scenario. The input sits in scratch/sweeps/ beside copies of the shipped scenarios
// so that "base": "../venue_cnn_lstm.json" resolves as in scenarios/sweeps/.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "core/scenario.hpp"
#include "fuzz/fuzz_contract.hpp"
#include "search/sweep_plan.hpp"

namespace {
void copy_scenario(const std::string& name) {
  std::ifstream in(mixprec::fuzz::source_path("scenarios/" + name), std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  mixprec::fuzz::write_input(name, s.str());
}
}  // namespace

void fuzz_init() {
  for (const char* n : {"venue_cnn_lstm.json", "venue_tt_lstm.json", "fpga_lstm_traffic.json",
                        "video_tt_lstm.json"})
    copy_scenario(n);
  ::mkdir((mixprec::fuzz::scratch_dir() + "/sweeps").c_str(), 0700);
}

void fuzz_one(const std::string& bytes) {
  const mixprec::sweep::SweepSpec s = mixprec::sweep::load_sweep(mixprec::fuzz::write_input("sweeps/fuzz.json", bytes));
  const std::vector<mixprec::sweep::Point> points = mixprec::sweep::enumerate_points(s);
  if (!points.empty()) {
    const mixprec::json doc = mixprec::sweep::apply_point(s, points.front());
    (void)mixprec::parse_scenario(doc, mixprec::JsonCtx{s.file});
  }
}
