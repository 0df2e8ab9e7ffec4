// Sweep files: `mixprec sweep FILE` up to its first point (parse the file and its base scenario,
// then enumerate the points: samples, constraint expressions, shards) and apply the first point
// to the base scenario. The input sits in scratch/sweeps/ beside copies of the shipped scenarios
// so that "base": "../venue_cnn_lstm.json" resolves as in scenarios/sweeps/.
#include <sys/stat.h>

#include <algorithm>
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

// Enumeration is linear in the point count (up to the 100,000,000 load_sweep allows): sweeps of
// more points than this are only parsed, so that a large legitimate sweep is not taken for a hang.
constexpr std::size_t kMaxEnumerated = 2000;

void fuzz_one(const std::string& bytes) {
  using namespace mixprec::sweep;
  const SweepSpec s = load_sweep(mixprec::fuzz::write_input("sweeps/fuzz.json", bytes));
  std::size_t count = s.samples;
  if (s.sampling == Sampling::Grid) {
    count = 1;
    for (const Axis& a : s.axes) count = std::min(count * std::max<std::size_t>(a.values.size(), 1), kMaxEnumerated + 1);
  }
  if (count > kMaxEnumerated) return;
  const std::vector<Point> points = enumerate_points(s);
  if (!points.empty()) {
    const mixprec::json doc = apply_point(s, points.front());
    (void)mixprec::parse_scenario(doc, mixprec::JsonCtx{s.file});
  }
}
