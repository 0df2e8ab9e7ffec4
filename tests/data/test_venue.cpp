// The venue generator: layout, determinism, the documented label rules, conservation of the
// crowd, sensor gaps, the data set's splits and the SVG preview.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "model/data/preview.hpp"
#include "model/data/venue.hpp"

using namespace mixprec;
using namespace mixprec::data;

namespace {
int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (std::size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}
const VenueSeries& small_series() {
  static const VenueSeries vs = [] {
    VenueConfig c;
    c.height = 8;
    c.width = 8;
    c.days = 14;
    c.seed = 3;
    return simulate_venue(c);
  }();
  return vs;
}
}  // namespace

TEST_CASE("venue: zone layout of rings, with entrances at mid-sides", "[data][venue]") {
  const auto z = venue_zones(16, 16);
  auto n = [&](Zone k) { return std::count(z.begin(), z.end(), k); };
  CHECK(n(Zone::Field) == 36);      // inner 6 x 6
  CHECK(n(Zone::Stands) == 108);    // three rings
  CHECK(n(Zone::Entrance) == 8);    // two cells per side
  CHECK(n(Zone::Concourse) == 104); // outer two rings less the entrances
  CHECK(z[0] == Zone::Concourse);
  CHECK(z[7] == Zone::Entrance);
  CHECK(z[8 * 16 + 8] == Zone::Field);
  CHECK_NOTHROW(venue_zones(6, 6));
  CHECK_NOTHROW(venue_zones(7, 11));
  CHECK_THROWS_WITH(venue_zones(5, 8), "venue grid must be at least 6 x 6 zones, got 5 x 8");
}

TEST_CASE("venue: the documented label rules", "[data][venue]") {
  CHECK(occupancy_level(0.0) == kEmpty);
  CHECK(occupancy_level(0.0199) == kEmpty);
  CHECK(occupancy_level(0.02) == kLow);
  CHECK(occupancy_level(0.2) == kMedium);
  CHECK(occupancy_level(0.5) == kHigh);
  CHECK(occupancy_level(0.8) == kFull);
  CHECK(occupancy_level(1.2) == kFull);
  // load = occupancy + 0.03 (T_out - 21)
  CHECK(hvac_rule(0.01, 30, 500) == kOff);
  CHECK(hvac_rule(0.01, 30, 501) == kVentilate);  // purge
  CHECK(hvac_rule(0.50, 21, 500) == kCool);       // load 0.50
  CHECK(hvac_rule(0.30, 21, 500) == kVentilate);  // load 0.30
  CHECK(hvac_rule(0.10, 5, 500) == kHeat);        // load -0.38
  CHECK(hvac_rule(0.10, 20, 500) == kVentilate);  // load 0.07
  CHECK(hvac_rule(0.90, 5, 500) == kCool);        // load 0.42
  CHECK(hvac_rule(0.85, 5, 500) == kVentilate);   // load 0.37
}

TEST_CASE("venue: same seed, same series, another seed, another series", "[data][venue]") {
  VenueConfig c;
  c.height = 6;
  c.width = 6;
  c.days = 3;
  c.seed = 9;
  const VenueSeries a = simulate_venue(c), b = simulate_venue(c);
  CHECK(a.frames == b.frames);
  CHECK(a.level == b.level);
  CHECK(a.hvac == b.hvac);
  c.seed = 10;
  CHECK(simulate_venue(c).frames != a.frames);
}

TEST_CASE("venue: labels follow the rules on the true state, the crowd is conserved", "[data][venue]") {
  VenueConfig c;
  c.height = 8;
  c.width = 8;
  c.days = 14;
  c.seed = 3;
  c.sensor_noise = false;
  const VenueSeries vs = simulate_venue(c);
  REQUIRE(vs.steps() == 14 * 96);
  REQUIRE(vs.frames.size() == std::size_t(vs.steps()) * 3 * 64);
  CHECK(vs.missing_readings == 0);
  double cap = 0;
  for (float x : vs.capacity) cap += x;
  CHECK(cap == Approx(VenueSeries::kCapacityPersons).epsilon(1e-5));
  std::vector<int> seen(kOccupancyLevels, 0), modes(kHvacModes, 0);
  for (int k = 0; k < vs.steps(); ++k) {
    const float* f = vs.frames.data() + std::size_t(k) * std::size_t(vs.frame_size());
    double persons = 0, tmin = 1e9, tmax = -1e9, cmin = 1e9;
    for (int i = 0; i < 64; ++i) {
      persons += double(f[i]) * vs.capacity[std::size_t(i)];
      tmin = std::min(tmin, double(f[64 + i]));
      tmax = std::max(tmax, double(f[64 + i]));
      cmin = std::min(cmin, double(f[128 + i]));
    }
    REQUIRE(persons / cap == Approx(vs.occupancy[std::size_t(k)]).margin(1e-5));
    REQUIRE(vs.level[std::size_t(k)] == occupancy_level(vs.occupancy[std::size_t(k)]));
    REQUIRE(vs.hvac[std::size_t(k)] ==
            hvac_rule(vs.occupancy[std::size_t(k)], vs.outdoor_c[std::size_t(k)], vs.co2_mean_ppm[std::size_t(k)]));
    REQUIRE(tmin > -25);
    REQUIRE(tmax < 45);
    REQUIRE(cmin > 400);
    ++seen[std::size_t(vs.level[std::size_t(k)])];
    ++modes[std::size_t(vs.hvac[std::size_t(k)])];
  }
  for (int l = 0; l < kOccupancyLevels; ++l) CHECK(seen[std::size_t(l)] > 0);
  for (int m = 0; m < kHvacModes; ++m) CHECK(modes[std::size_t(m)] > 0);
  // Every event ends before midnight, staff included, so a day split never cuts one.
  for (const VenueEvent& e : vs.events) CHECK(e.end_step + 6 <= (e.day + 1) * 96);
}

TEST_CASE("venue: sensors drift and miss readings, a gap repeats the last value", "[data][venue]") {
  const VenueSeries& vs = small_series();
  CHECK(vs.missing_readings > 0);
  // About 1% of readings are missing (isolated 0.5% plus outages).
  const double frac = double(vs.missing_readings) / double(vs.frames.size());
  CHECK(frac > 0.003);
  CHECK(frac < 0.03);
  // Temperature readings repeat exactly only when filled.
  int repeats = 0;
  for (int k = 1; k < vs.steps(); ++k)
    for (int i = 64; i < 128; ++i)
      repeats += vs.frames[std::size_t(k) * 192 + std::size_t(i)] == vs.frames[std::size_t(k - 1) * 192 + std::size_t(i)];
  CHECK(repeats > 0);
}

TEST_CASE("venue: the data set is split by days, bounded by samples, labels h steps ahead", "[data][venue]") {
  DataSpec spec;
  spec.samples = 300;
  spec.horizon_steps = 3;
  spec.seed = 5;
  InputShape sh;
  sh.frames = 6;
  sh.height = sh.width = 8;
  const Dataset ds = make_dataset(spec, sh);
  CHECK(ds.classes == 5);
  CHECK(ds.train.n == 300);
  CHECK(ds.val.n > 0);
  CHECK(ds.test.n > 0);
  CHECK(ds.train.x.size() == std::size_t(300) * 6 * 3 * 64);
  CHECK(ds.step_seconds == 900);
  // Chronological, whole days apart.
  const int days = venue_days_for(300, 6, 3);
  CHECK(days == 28);
  const int d_train = 20, d_val = 4;  // round(0.7 * 28), round(0.15 * 28)
  CHECK(*std::max_element(ds.train.step.begin(), ds.train.step.end()) + 3 < d_train * 96);
  CHECK(*std::min_element(ds.val.step.begin(), ds.val.step.end()) - 5 >= d_train * 96);
  CHECK(*std::max_element(ds.val.step.begin(), ds.val.step.end()) + 3 < (d_train + d_val) * 96);
  CHECK(*std::min_element(ds.test.step.begin(), ds.test.step.end()) - 5 >= (d_train + d_val) * 96);
  CHECK(std::is_sorted(ds.train.step.begin(), ds.train.step.end()));
  // Labels are the level horizon_steps after the last frame (operating hours only).
  VenueConfig c;
  c.height = c.width = 8;
  c.days = days;
  c.seed = 5;
  const VenueSeries vs = simulate_venue(c);
  for (int i = 0; i < ds.test.n; ++i) {
    const int last = ds.test.step[std::size_t(i)];
    REQUIRE(ds.test.y[std::size_t(i)] == vs.level[std::size_t(last + 3)]);
    REQUIRE(ds.test.last_y[std::size_t(i)] == vs.level[std::size_t(last)]);
    REQUIRE((last + 3) % 96 >= 28);
  }
  // The first frame of the first test window, de-normalized, is the series' frame.
  const int first = ds.test.step[0] - 5;
  for (int ch = 0; ch < 3; ++ch) {
    const float x = ds.test.x[std::size_t(ch) * 64] * ds.norm.stddev[std::size_t(ch)] + ds.norm.mean[std::size_t(ch)];
    CHECK(x == Approx(vs.frames[std::size_t(first) * 192 + std::size_t(ch) * 64]).epsilon(1e-4).margin(1e-4));
  }
  // Baseline: persistence accuracy is the share of windows whose level does not change.
  int same = 0;
  for (int i = 0; i < ds.test.n; ++i) same += ds.test.y[std::size_t(i)] == ds.test.last_y[std::size_t(i)];
  CHECK(ds.naive_test.accuracy == Approx(double(same) / ds.test.n));
  CHECK(ds.naive_test.accuracy < 0.95);
}

TEST_CASE("venue: every class occurs in the training split of both tasks", "[data][venue]") {
  DataSpec spec;
  spec.samples = 2000;
  spec.horizon_steps = 4;
  InputShape sh;
  sh.frames = 8;
  sh.height = sh.width = 8;
  sh.channels = 1;
  const Dataset occ = make_dataset(spec, sh);
  CHECK(occ.shape.frame_size() == 64);
  for (int c : occ.class_counts(occ.train)) CHECK(c > 20);
  spec.task = "hvac";
  const Dataset hv = make_dataset(spec, sh);
  CHECK(hv.classes == 4);
  for (int c : hv.class_counts(hv.train)) CHECK(c > 20);
  // Not trivial: the majority class stays well below 95%.
  for (const Dataset* d : {&occ, &hv}) {
    const auto counts = d->class_counts(d->test);
    CHECK(*std::max_element(counts.begin(), counts.end()) < 0.9 * d->test.n);
  }
}

TEST_CASE("venue: the SVG preview is well formed, complete and deterministic", "[data][venue]") {
  DataSpec spec;
  spec.samples = 100;
  InputShape sh;
  sh.frames = 6;
  sh.height = 8;
  sh.width = 10;
  const Dataset ds = make_dataset(spec, sh);
  PreviewOptions opt;
  opt.frames = 3;
  const std::string svg = render_preview_svg(ds, opt);
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  CHECK(count_of(svg, "<rect class=\"cell\"") == 3 * 3 * 8 * 10);
  CHECK(count_of(svg, "<polyline class=\"timeline\"") == 1);
  CHECK(count_of(svg, "<g ") == count_of(svg, "</g>"));
  CHECK(render_preview_svg(ds, opt) == svg);

  const std::string raw = render_preview_svg(small_series());
  CHECK(raw.rfind("<svg", 0) == 0);
  CHECK(count_of(raw, "<rect class=\"cell\"") == 4 * 3 * 64);
  CHECK(raw == render_preview_svg(small_series()));
}

TEST_CASE("venue: golden summary of a small series (a change here changes every data set)", "[data][venue]") {
  const VenueSeries& vs = small_series();  // 8 x 8, 14 days, seed 3
  std::vector<int> levels(kOccupancyLevels, 0), modes(kHvacModes, 0);
  for (int l : vs.level) ++levels[std::size_t(l)];
  for (int m : vs.hvac) ++modes[std::size_t(m)];
  CHECK(levels == std::vector<int>{1113, 92, 64, 47, 28});
  CHECK(modes == std::vector<int>{1107, 173, 40, 24});
  CHECK(vs.missing_readings == 2360);
  REQUIRE(vs.events.size() == 12);
  CHECK(vs.events[0].kind == DayKind::Training);
  CHECK(vs.events[6].kind == DayKind::Concert);
  CHECK(vs.events[6].attendance == Approx(0.2538).margin(1e-4));
  CHECK(vs.events[7].start_step == 9 * 96 + 80);  // 20:00 kick-off on day 9
}
