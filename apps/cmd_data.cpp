// `mixprec data FILE`: build the scenario's data set and describe it; `--preview OUT.svg` writes a
// picture of a few frames and the label timeline.
#include <iostream>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/scenario.hpp"
#include "model/data/dataset.hpp"
#include "model/data/preview.hpp"

namespace mixprec::app {
namespace {

struct DataOpts {
  std::string file;
  std::string preview;
} g;

int run() {
  Scenario sc = load_scenario(g.file);
  data::LoadOptions lo;
  lo.scenario_file = g.file;
  const data::Dataset ds = data::make_dataset(sc, lo);
  std::cout << ds.name << ": " << ds.description << "\n";
  std::cout << "splits (train / val / test): " << ds.train.n << " / " << ds.val.n << " / " << ds.test.n
            << " samples of " << ds.shape.frames << " frames\n";
  if (!ds.regression) {
    for (const auto* split : {&ds.train, &ds.val, &ds.test}) {
      const auto counts = ds.class_counts(*split);
      std::cout << (split == &ds.train ? "train" : split == &ds.val ? "val  " : "test ") << " classes:";
      for (std::size_t c = 0; c < counts.size(); ++c)
        std::cout << " " << (c < ds.class_names.size() ? ds.class_names[c] : std::to_string(c)) << "=" << counts[c];
      std::cout << "\n";
    }
    std::cout << "naive (last label) accuracy: val " << ds.naive_val.accuracy << ", test " << ds.naive_test.accuracy << "\n";
  } else {
    std::cout << "naive (last value) test RMSE " << ds.naive_test.rmse << " " << ds.target_unit << ", MAE "
              << ds.naive_test.mae << " " << ds.target_unit << "\n";
  }
  if (!g.preview.empty()) {
    const auto dot = g.preview.rfind('.');
    if (dot == std::string::npos || g.preview.substr(dot) != ".svg")
      throw UsageError("--preview writes SVG: give a file name ending in .svg, found " + g.preview);
    write_file_atomic(g.preview, data::render_preview_svg(ds));
    std::cerr << "wrote " << g.preview << "\n";
  }
  return 0;
}

void setup(CLI::App& app) {
  auto* s = app.add_subcommand("data", "Build and describe the scenario's data set");
  s->add_option("file", g.file, "Scenario JSON file")->required();
  s->add_option("--preview", g.preview, "Write a picture of a few frames and the label timeline (SVG)");
}

const CommandRegistrar reg("data", setup, run);

}  // namespace
}  // namespace mixprec::app
