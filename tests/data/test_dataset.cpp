// The common data-set machinery: normalization from the training split only, the seeded
// batch iterator, the deterministic random source, errors and data-folder resolution.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <set>

#include "model/data/dataset.hpp"
#include "model/data/preview.hpp"
#include "model/data/rng.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::data;

namespace {
// n samples of T=2 frames of 2 channels x 1 x 2: value = base + channel*100 + sample.
Split toy_split(int n, float base) {
  Split s;
  s.n = n;
  for (int i = 0; i < n; ++i) {
    for (int t = 0; t < 2; ++t)
      for (int c = 0; c < 2; ++c)
        for (int k = 0; k < 2; ++k) s.x.push_back(base + c * 100.0f + float(i) + float(t + k));
    s.y.push_back(i % 3);
  }
  return s;
}
InputShape toy_shape() {
  InputShape sh;
  sh.frames = 2;
  sh.channels = 2;
  sh.height = 1;
  sh.width = 2;
  return sh;
}
}  // namespace

TEST_CASE("data: normalization comes from the training split only", "[data]") {
  const InputShape sh = toy_shape();
  Split train = toy_split(10, 0.0f), val = toy_split(4, 1000.0f);
  const Normalization n = fit_normalization(train, sh);
  REQUIRE(n.mean.size() == 2);
  // Channel 1 is channel 0 shifted by 100: same spread, mean + 100.
  CHECK(n.mean[1] == Approx(n.mean[0] + 100.0f));
  CHECK(n.stddev[1] == Approx(n.stddev[0]));
  apply_normalization(n, sh, train);
  apply_normalization(n, sh, val);
  for (int c = 0; c < 2; ++c) {
    double sum = 0, sq = 0, vsum = 0;
    int count = 0, vcount = 0;
    for (std::size_t f = 0; f < train.x.size() / 4; ++f)
      for (int k = 0; k < 2; ++k) {
        double v = train.x[f * 4 + std::size_t(c) * 2 + std::size_t(k)];
        sum += v;
        sq += v * v;
        ++count;
      }
    for (std::size_t f = 0; f < val.x.size() / 4; ++f)
      for (int k = 0; k < 2; ++k) {
        vsum += val.x[f * 4 + std::size_t(c) * 2 + std::size_t(k)];
        ++vcount;
      }
    CHECK(sum / count == Approx(0).margin(1e-5));
    CHECK(std::sqrt(sq / count) == Approx(1).epsilon(1e-4));
    // The validation split is far from the training statistics: not re-centred.
    CHECK(vsum / vcount > 100);
  }
}

TEST_CASE("data: a constant channel gets standard deviation 1", "[data]") {
  InputShape sh;
  sh.frames = 1;
  sh.features = 2;
  Split s;
  s.n = 3;
  s.x = {5, 1, 5, 2, 5, 3};
  const Normalization n = fit_normalization(s, sh);
  CHECK(n.mean[0] == 5.0f);
  CHECK(n.stddev[0] == 1.0f);
  CHECK(n.mean[1] == Approx(2.0f));
}

TEST_CASE("data: the batch iterator visits every sample once per epoch, seeded", "[data]") {
  const InputShape sh = toy_shape();
  Split s = toy_split(23, 0.0f);
  BatchIterator it(s, sh.sample_size(), 5, 42);
  CHECK(it.batches_per_epoch() == 5);
  auto epoch_order = [&](BatchIterator& b, int epoch) {
    b.start_epoch(epoch);
    std::vector<int> seen;
    Batch batch;
    std::vector<int> sizes;
    while (b.next(batch)) {
      sizes.push_back(batch.n);
      REQUIRE(batch.x.size() == std::size_t(batch.n) * std::size_t(sh.sample_size()));
      for (int k = 0; k < batch.n; ++k) {
        const int i = batch.index[std::size_t(k)];
        seen.push_back(i);
        CHECK(batch.y[std::size_t(k)] == s.y[std::size_t(i)]);
        CHECK(batch.x[std::size_t(k) * std::size_t(sh.sample_size())] == s.x[std::size_t(i) * std::size_t(sh.sample_size())]);
      }
    }
    CHECK(sizes == std::vector<int>{5, 5, 5, 5, 3});
    return seen;
  };
  const std::vector<int> e0 = epoch_order(it, 0), e1 = epoch_order(it, 1);
  CHECK(std::set<int>(e0.begin(), e0.end()).size() == 23);
  CHECK(std::set<int>(e1.begin(), e1.end()).size() == 23);
  CHECK(e0 != e1);
  BatchIterator again(s, sh.sample_size(), 5, 42);
  CHECK(epoch_order(again, 1) == e1);
  CHECK(epoch_order(again, 0) == e0);
  BatchIterator other(s, sh.sample_size(), 5, 43);
  CHECK(epoch_order(other, 0) != e0);

  BatchIterator plain(s, sh.sample_size(), 5, 42, false);
  std::vector<int> identity(23);
  for (int i = 0; i < 23; ++i) identity[std::size_t(i)] = i;
  CHECK(epoch_order(plain, 3) == identity);
}

TEST_CASE("data: the random source is pinned (same numbers on every compiler)", "[data]") {
  Rng a(1), b(1), c(2);
  const std::uint64_t first = a.next_u64();
  CHECK(first == b.next_u64());
  CHECK(first != c.next_u64());
  // Golden values: a change here changes every generated data set.
  Rng g(1);
  CHECK(g.next_u64() == 0xb3f2af6d0fc710c5ULL);
  Rng u(7);
  double mean = 0, sq = 0;
  for (int i = 0; i < 20000; ++i) {
    const double z = u.normal();
    mean += z;
    sq += z * z;
  }
  CHECK(mean / 20000 == Approx(0).margin(0.03));
  CHECK(sq / 20000 == Approx(1).epsilon(0.03));
}

TEST_CASE("data: DataError reads FILE:LINE: message and is a SpecError", "[data]") {
  const DataError e("a/b.csv", 12, "expected 8 fields, found 7");
  CHECK(std::string(e.what()) == "a/b.csv:12: expected 8 fields, found 7");
  CHECK(e.line() == 12);
  const SpecError& base = e;
  CHECK(std::string(base.what()) == "a/b.csv:12: expected 8 fields, found 7");
  CHECK(std::string(DataError("x.txt", 0, "cannot open").what()) == "x.txt: cannot open");
}

TEST_CASE("data: the data folder is data.path, else MIXPREC_DATA_DIR, else ../shared/data", "[data]") {
  const char* old = std::getenv("MIXPREC_DATA_DIR");
  const std::string saved = old ? old : "";
  DataSpec spec;
  unsetenv("MIXPREC_DATA_DIR");
  CHECK(resolve_data_dir(spec) == "../shared/data");
  setenv("MIXPREC_DATA_DIR", "/tmp/elsewhere", 1);
  CHECK(resolve_data_dir(spec) == "/tmp/elsewhere");
  spec.path = "mine";
  CHECK(resolve_data_dir(spec) == "mine");
  if (old) setenv("MIXPREC_DATA_DIR", saved.c_str(), 1);
  else unsetenv("MIXPREC_DATA_DIR");
}

TEST_CASE("data: impossible source/task/shape combinations are spec errors", "[data]") {
  DataSpec spec;
  InputShape sh;
  spec.task = "traffic";
  try {
    make_dataset(spec, sh, LoadOptions{-1, "s.json"});
    FAIL("expected a SpecError");
  } catch (const SpecError& e) {
    CHECK(std::string(e.what()) ==
          "s.json: /data/task: expected \"occupancy\" or \"hvac\" for source \"venue_generator\", found \"traffic\"");
  }
  spec.task = "occupancy";
  sh.features = 4;
  CHECK_THROWS_WITH(make_dataset(spec, sh),
                    Catch::Contains("/network/input: expected image frames (channels, height, width) for the venue generator"));
  sh.features = 0;
  sh.height = 4;
  CHECK_THROWS_WITH(make_dataset(spec, sh), Catch::Contains("a venue grid of at least 6 x 6 zones"));
  spec.source = "uci_occupancy";
  sh = InputShape{};
  sh.features = 3;
  CHECK_THROWS_WITH(make_dataset(spec, sh), Catch::Contains("5 values per step for uci_occupancy"));
}

TEST_CASE("data: make_dataset(scenario) checks the network's output width", "[data]") {
  // The shipped venue scenario, shrunk for speed: 5 classes match the occupancy levels.
  const Scenario ok = test::default_scenario_with(
      R"({"network": {"input": {"frames": 4, "channels": 3, "height": 8, "width": 8}},
          "data": {"samples": 64}})");
  const Dataset ds = make_dataset(ok);
  CHECK(ds.classes == 5);
  CHECK(ds.train.n == 64);
  const Scenario bad = test::default_scenario_with(
      R"({"network": {"input": {"frames": 4, "channels": 3, "height": 8, "width": 8}},
          "data": {"samples": 64, "task": "hvac"}})");
  CHECK_THROWS_WITH(make_dataset(bad),
                    "patched.json: /network: expected an output width of 4 (4 classes of venue_generator/hvac), found 5");
}

TEST_CASE("data: the preview of a sequence data set is one F x T heat map", "[data]") {
  Dataset ds;
  ds.name = "toy/regression";
  ds.shape.frames = 4;
  ds.shape.features = 3;
  ds.classes = 1;
  ds.regression = true;
  ds.target_unit = "mph";
  ds.target_mean = 50;
  ds.target_std = 10;
  ds.test.n = 2;
  for (int i = 0; i < 24; ++i) ds.test.x.push_back(float(i % 5));
  ds.test.target = {0.5f, -0.5f};
  const std::string svg = render_preview_svg(ds);
  int cells = 0;
  for (std::size_t p = svg.find("<rect class=\"cell\""); p != std::string::npos; p = svg.find("<rect class=\"cell\"", p + 1)) ++cells;
  CHECK(cells == 3 * 4);
  CHECK(svg.find("target (mph)") != std::string::npos);
  CHECK(svg.find("points=\"") != std::string::npos);
}
