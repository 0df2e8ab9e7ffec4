#include "model/data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/scenario.hpp"
#include "model/data/rng.hpp"
#include "model/data/tables.hpp"
#include "model/data/venue.hpp"
#include "model/data/window.hpp"

namespace mixprec::data {

namespace {
std::string where(const std::string& file, int line) {
  return line > 0 ? file + ":" + std::to_string(line) : file;
}
}  // namespace

DataError::DataError(std::string file, int line, std::string message)
    : SpecError(file, line > 0 ? "line " + std::to_string(line) : "", message),
      message_(where(file, line) + ": " + message),
      line_(line) {}

InputShape input_shape_of(const NetworkSpec& net) {
  InputShape s;
  s.frames = net.frames;
  if (net.features > 0) {
    s.features = net.features;
    s.channels = s.height = s.width = 1;
  } else {
    s.channels = net.channels;
    s.height = net.height;
    s.width = net.width;
  }
  return s;
}

std::vector<int> Dataset::class_counts(const Split& s) const {
  std::vector<int> c(std::size_t(std::max(classes, 0)), 0);
  for (int v : s.y)
    if (v >= 0 && v < classes) ++c[std::size_t(v)];
  return c;
}

// --- normalization ----------------------------------------------------------------------

namespace {
// Channel of element e of a frame, and the number of channels.
struct ChannelLayout {
  int channels, inner;  // frame = channels x inner
};
ChannelLayout layout_of(const InputShape& s) {
  if (s.is_sequence()) return {s.features, 1};
  return {s.channels, s.height * s.width};
}
}  // namespace

Normalization fit_normalization(const Split& train, const InputShape& shape) {
  ChannelLayout L = layout_of(shape);
  const int fs = shape.frame_size();
  std::vector<double> sum(std::size_t(L.channels), 0.0), sq(std::size_t(L.channels), 0.0);
  std::size_t frames = fs > 0 ? train.x.size() / std::size_t(fs) : 0;
  for (std::size_t f = 0; f < frames; ++f) {
    const float* p = train.x.data() + f * std::size_t(fs);
    for (int c = 0; c < L.channels; ++c)
      for (int i = 0; i < L.inner; ++i) {
        double v = p[c * L.inner + i];
        sum[std::size_t(c)] += v;
        sq[std::size_t(c)] += v * v;
      }
  }
  Normalization n;
  double count = double(frames) * L.inner;
  for (int c = 0; c < L.channels; ++c) {
    double m = count > 0 ? sum[std::size_t(c)] / count : 0.0;
    double var = count > 0 ? std::max(0.0, sq[std::size_t(c)] / count - m * m) : 0.0;
    double sd = std::sqrt(var);
    n.mean.push_back(float(m));
    n.stddev.push_back(sd > 1e-12 * std::max(1.0, std::fabs(m)) ? float(sd) : 1.0f);
  }
  return n;
}

void apply_normalization(const Normalization& norm, const InputShape& shape, Split& s) {
  ChannelLayout L = layout_of(shape);
  MIXPREC_CHECK(int(norm.mean.size()) == L.channels, "normalization channel count");
  const int fs = shape.frame_size();
  std::size_t frames = fs > 0 ? s.x.size() / std::size_t(fs) : 0;
  for (std::size_t f = 0; f < frames; ++f) {
    float* p = s.x.data() + f * std::size_t(fs);
    for (int c = 0; c < L.channels; ++c) {
      const float m = norm.mean[std::size_t(c)], inv = 1.0f / norm.stddev[std::size_t(c)];
      for (int i = 0; i < L.inner; ++i) p[c * L.inner + i] = (p[c * L.inner + i] - m) * inv;
    }
  }
}

// --- batches ----------------------------------------------------------------------------

BatchIterator::BatchIterator(const Split& split, int sample_size, int batch_size,
                             std::uint64_t seed, bool shuffle)
    : split_(split), sample_size_(sample_size), batch_size_(batch_size), seed_(seed),
      shuffle_(shuffle) {
  MIXPREC_CHECK(batch_size > 0, "batch size must be positive");
  MIXPREC_CHECK(sample_size > 0, "sample size must be positive");
  start_epoch(0);
}

void BatchIterator::start_epoch(int epoch) {
  order_.resize(std::size_t(split_.n));
  for (int i = 0; i < split_.n; ++i) order_[std::size_t(i)] = i;
  if (shuffle_) {
    Rng rng(Rng::mix(seed_, std::uint64_t(epoch)));
    rng.shuffle(order_);
  }
  pos_ = 0;
}

bool BatchIterator::next(Batch& b) {
  if (pos_ >= split_.n) return false;
  const int n = std::min(batch_size_, split_.n - pos_);
  b.n = n;
  b.x.resize(std::size_t(n) * std::size_t(sample_size_));
  b.index.assign(order_.begin() + pos_, order_.begin() + pos_ + n);
  b.y.clear();
  b.target.clear();
  for (int k = 0; k < n; ++k) {
    const int i = b.index[std::size_t(k)];
    const float* src = split_.sample(i, sample_size_);
    std::copy(src, src + sample_size_, b.x.begin() + std::ptrdiff_t(k) * sample_size_);
    if (!split_.y.empty()) b.y.push_back(split_.y[std::size_t(i)]);
    if (!split_.target.empty()) b.target.push_back(split_.target[std::size_t(i)]);
  }
  pos_ += n;
  return true;
}

int BatchIterator::batches_per_epoch() const { return (split_.n + batch_size_ - 1) / batch_size_; }

// --- windows ----------------------------------------------------------------------------

namespace detail {

std::vector<int> window_starts(const Series& s, int begin, int end, int frames, int horizon) {
  std::vector<int> out;
  const int span = frames + horizon;  // rows from the first input row to the label row, inclusive
  for (int st = begin; st + span - 1 < end; ++st)
    if (s.run[std::size_t(st)] == s.run[std::size_t(st + span - 1)]) out.push_back(st);
  return out;
}

void fill_split(Split& out, const std::vector<const Series*>& series,
                const std::vector<WindowRef>& windows, int frames, int horizon, bool regression) {
  out = Split{};
  out.n = int(windows.size());
  if (windows.empty()) return;
  const int fs = series[std::size_t(windows[0].series)]->frame_size;
  const std::size_t ss = std::size_t(frames) * std::size_t(fs);
  out.x.resize(ss * windows.size());
  out.step.reserve(windows.size());
  for (std::size_t k = 0; k < windows.size(); ++k) {
    const Series& s = *series[std::size_t(windows[k].series)];
    const int st = windows[k].start;
    const int last = st + frames - 1;
    const int lab = last + horizon;
    std::copy(s.values.begin() + std::ptrdiff_t(st) * fs, s.values.begin() + std::ptrdiff_t(st + frames) * fs,
              out.x.begin() + std::ptrdiff_t(k * ss));
    out.step.push_back(last);
    if (regression) {
      out.target.push_back(s.target[std::size_t(lab)]);
      out.last_target.push_back(s.target[std::size_t(last)]);
    } else {
      out.y.push_back(s.label[std::size_t(lab)]);
      out.last_y.push_back(s.label[std::size_t(last)]);
    }
  }
}

namespace {
Baseline baseline_of(const Split& s, const Dataset& ds) {
  Baseline b;
  if (s.n == 0) return b;
  if (ds.regression) {
    double se = 0, ae = 0;
    for (int i = 0; i < s.n; ++i) {
      double e = double(s.last_target[std::size_t(i)] - s.target[std::size_t(i)]) * ds.target_std;
      se += e * e;
      ae += std::fabs(e);
    }
    b.rmse = std::sqrt(se / s.n);
    b.mae = ae / s.n;
  } else {
    int hit = 0;
    for (int i = 0; i < s.n; ++i) hit += s.last_y[std::size_t(i)] == s.y[std::size_t(i)];
    b.accuracy = double(hit) / s.n;
  }
  return b;
}
}  // namespace

void finalize(Dataset& ds) {
  ds.norm = fit_normalization(ds.train, ds.shape);
  for (Split* s : {&ds.train, &ds.val, &ds.test}) {
    apply_normalization(ds.norm, ds.shape, *s);
    if (ds.regression) {
      const float m = ds.norm.mean[0], inv = 1.0f / ds.norm.stddev[0];
      for (float& v : s->target) v = (v - m) * inv;
      for (float& v : s->last_target) v = (v - m) * inv;
    }
  }
  if (ds.regression) {
    ds.target_mean = ds.norm.mean[0];
    ds.target_std = ds.norm.stddev[0];
  }
  ds.naive_val = baseline_of(ds.val, ds);
  ds.naive_test = baseline_of(ds.test, ds);
}

SplitRows chronological_split(int rows, double train_fraction, double val_fraction) {
  SplitRows r;
  r.train_end = int(std::lround(rows * train_fraction));
  r.val_end = int(std::lround(rows * (train_fraction + val_fraction)));
  return r;
}

std::string split_summary(const Dataset& ds) {
  return "train " + std::to_string(ds.train.n) + ", validation " + std::to_string(ds.val.n) +
         ", test " + std::to_string(ds.test.n) + " windows";
}

}  // namespace detail

// --- entry points -----------------------------------------------------------------------

std::string resolve_data_dir(const DataSpec& spec) {
  if (!spec.path.empty()) return spec.path;
  if (const char* env = std::getenv("MIXPREC_DATA_DIR"); env && *env) return env;
  return "../shared/data";
}

Dataset make_dataset(const DataSpec& spec, const InputShape& shape, const LoadOptions& opt) {
  auto bad_task = [&](const std::string& expected) {
    throw SpecError(opt.scenario_file, "/data/task",
                    expected + " for source \"" + spec.source + "\"", "\"" + spec.task + "\"");
  };
  if (shape.frames < 1)
    throw SpecError(opt.scenario_file, "/network/input/frames", "at least 1 frame",
                    std::to_string(shape.frames));
  if (spec.label_history && spec.source != "uci_occupancy" && spec.source != "uci_room")
    throw SpecError(opt.scenario_file, "/data/label_history",
                    "false for source \"" + spec.source + "\" (only the sensor tables uci_occupancy "
                    "and uci_room have a label column to feed back)",
                    "true");
  if (spec.sensor_changes && spec.source != "uci_occupancy" && spec.source != "uci_room")
    throw SpecError(opt.scenario_file, "/data/sensor_changes",
                    "false for source \"" + spec.source + "\" (only the sensor tables uci_occupancy "
                    "and uci_room have sensor readings to difference)",
                    "true");
  if (spec.source == "venue_generator") {
    if (spec.task != "occupancy" && spec.task != "hvac") bad_task("\"occupancy\" or \"hvac\"");
    return make_venue_dataset(spec, shape, opt);
  }
  if (spec.source == "uci_occupancy") {
    if (spec.task != "occupancy") bad_task("\"occupancy\"");
    return load_uci_occupancy(spec, shape, opt);
  }
  if (spec.source == "uci_room") {
    if (spec.task != "occupancy") bad_task("\"occupancy\"");
    return load_uci_room(spec, shape, opt);
  }
  if (spec.source == "los_loop") {
    if (spec.task != "traffic") bad_task("\"traffic\"");
    return load_los_loop(spec, shape, opt);
  }
  throw SpecError(opt.scenario_file, "/data/source",
                  "one of venue_generator, uci_occupancy, uci_room, los_loop",
                  "\"" + spec.source + "\"");
}

Dataset make_dataset(const Scenario& sc, const LoadOptions& opt_in) {
  LoadOptions opt = opt_in;
  if (opt.scenario_file.empty()) opt.scenario_file = sc.file;
  Dataset ds = make_dataset(sc.data, input_shape_of(sc.network), opt);
  if (!sc.net.layers.empty()) {
    const int out = sc.net.layers.back().out.c;
    if (out != ds.classes)
      throw SpecError(sc.file, "/network",
                      "an output width of " + std::to_string(ds.classes) + " (" +
                          (ds.regression ? std::string("one regression target")
                                         : std::to_string(ds.classes) + " classes") +
                          " of " + ds.name + ")",
                      std::to_string(out));
  }
  return ds;
}

}  // namespace mixprec::data
