#include "pipeline/session.hpp"

#include <algorithm>
#include <string>

#include "core/errors.hpp"

namespace mixprec::pipeline {

namespace {

std::unique_ptr<model::MemorySource> source_of(const data::Split& s, const model::Graph& g,
                                               int sample_size, std::uint64_t seed, bool shuffle) {
  const model::Dims d1 = g.input_dims(1);
  if (d1.count() != sample_size)
    throw InternalError("data set samples of " + std::to_string(sample_size) +
                        " values for a network input of " + d1.str());
  return std::make_unique<model::MemorySource>(d1, s.x, s.y, s.target, seed, shuffle);
}

}  // namespace

DataSources load_sources(const Scenario& sc, const model::Graph& g, int synthetic) {
  DataSources d;
  if (synthetic > 0) {
    const int out_width = sc.net.layers.back().out.c;
    d.synthetic = true;
    d.regression = out_width == 1;
    model::SyntheticOptions so;
    so.outputs = out_width;
    so.regression = d.regression;
    so.task_seed = std::uint64_t(sc.data.seed);
    so.samples = synthetic;
    so.sample_seed = std::uint64_t(sc.data.seed) * 3 + 1;
    d.train = model::make_synthetic(g, so);
    so.samples = std::max(8, synthetic / 4);
    so.shuffle = false;
    so.sample_seed += 1;
    d.val = model::make_synthetic(g, so);
    so.sample_seed += 1;
    d.test = model::make_synthetic(g, so);
    d.description = {{"name", "synthetic"}, {"train", synthetic}, {"val", so.samples}, {"test", so.samples}};
    return d;
  }
  const data::Dataset ds = data::make_dataset(sc);
  d.regression = ds.regression;
  d.target_std = ds.regression ? ds.target_std : 1.0;
  d.naive_test = ds.naive_test;
  const std::uint64_t seed = std::uint64_t(sc.training.seed);
  d.train = source_of(ds.train, g, ds.sample_size(), seed, true);
  d.val = source_of(ds.val, g, ds.sample_size(), seed, false);
  d.test = source_of(ds.test, g, ds.sample_size(), seed, false);
  d.description = {{"name", ds.name}, {"description", ds.description}, {"train", ds.train.n},
                   {"val", ds.val.n},  {"test", ds.test.n},            {"classes", ds.classes}};
  if (ds.regression) d.description["target_unit"] = ds.target_unit;
  return d;
}

}  // namespace mixprec::pipeline
