// Data sets for training: windows of T frames as plain float arrays, with labels or targets,
// split chronologically into train / validation / test, normalized with statistics of the
// training split only.
//
// Contract:
//  * A sample is T frames stored frame-major: [T][frame_size] floats, frame_size = C*H*W for
//    image-like frames (row-major C x H x W) or F for sequence tables. A batch of n samples is
//    therefore already the engine's (n*T, C, H, W) image tensor or (n, T, F, 1) sequence tensor.
//  * Classification: y[i] in [0, classes). Regression (classes == 1): target[i], normalized
//    (original units = target * target_std + target_mean).
//  * Splits never share an event, a day or a time step: train is the earliest block, then
//    validation, then test. Inside each split samples are in chronological order (the batch
//    iterator shuffles).
//  * `norm` was fitted on train.x only and has been applied to every split's x.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/spec.hpp"

namespace mixprec::data {

// A data file that cannot be read or has a malformed row. what() is "FILE:LINE: message"
// ("FILE: message" when the problem is not one line). A SpecError, so the CLI reports it as bad
// input (exit code 2).
class DataError : public SpecError {
 public:
  DataError(std::string file, int line, std::string message);
  const char* what() const noexcept override { return message_.c_str(); }
  int line() const { return line_; }

 private:
  std::string message_;
  int line_ = 0;
};

// The network input a data set must fill.
struct InputShape {
  int frames = 8;                              // T
  int channels = 3, height = 16, width = 16;   // image frames (features == 0)
  int features = 0;                            // > 0: sequence input of F features per step
  bool is_sequence() const { return features > 0; }
  int frame_size() const { return features > 0 ? features : channels * height * width; }
  int sample_size() const { return frames * frame_size(); }
};
InputShape input_shape_of(const NetworkSpec& net);

struct Split {
  int n = 0;
  std::vector<float> x;       // n * sample_size
  std::vector<int> y;         // classification: label of each sample (empty for regression)
  std::vector<float> target;  // regression: normalized target (empty for classification)
  // Persistence forecast (the value at the last input frame): last_y for classification,
  // last_target (normalized like target) for regression.
  std::vector<int> last_y;
  std::vector<float> last_target;
  // Index of the sample's last input frame in its source time series (venue: 15-minute step
  // since the start; tables: row after sorting by time). Pooled traffic sensors repeat steps.
  std::vector<int> step;

  const float* sample(int i, int sample_size) const { return x.data() + std::size_t(i) * sample_size; }
};

// Per-channel (images) or per-feature (sequences) statistics of the training split.
struct Normalization {
  std::vector<float> mean, stddev;
};

// Persistence ("naive last value") forecast quality. Classification: accuracy. Regression:
// RMSE and MAE in the target's original unit (mph for traffic).
struct Baseline {
  double accuracy = 0;
  double rmse = 0, mae = 0;
};

struct Dataset {
  std::string name;         // e.g. "venue_generator/occupancy"
  std::string description;  // source, task, horizon, split sizes (one paragraph)
  InputShape shape;
  int classes = 0;          // 1 for regression
  bool regression = false;
  std::vector<std::string> class_names;  // classification only
  std::vector<std::string> channel_names;  // per channel (images) or feature (sequences)
  int step_seconds = 0;     // time between frames in the source series
  int horizon_steps = 1;
  Split train, val, test;
  Normalization norm;
  float target_mean = 0, target_std = 1;  // regression: original = target * std + mean
  std::string target_unit;                // e.g. "mph"
  Baseline naive_val, naive_test;

  int sample_size() const { return shape.sample_size(); }
  // Number of samples of each class in `s` (classification only).
  std::vector<int> class_counts(const Split& s) const;
};

// Normalization fitted on `train` (population standard deviation; 1 when a channel is constant).
Normalization fit_normalization(const Split& train, const InputShape& shape);
// x <- (x - mean) / std per channel / feature.
void apply_normalization(const Normalization& norm, const InputShape& shape, Split& s);

// A batch copied out of a split: n samples of sample_size floats and their labels / targets.
struct Batch {
  int n = 0;
  std::vector<float> x;
  std::vector<int> y;
  std::vector<float> target;
  std::vector<int> index;  // sample indices in the split
};

// Deterministic batches over a split. Each epoch visits every sample once; with shuffle the
// order is a Fisher-Yates permutation seeded by (seed, epoch), so the same (seed, epoch) gives
// the same batches on every run and compiler. The last batch may be short.
class BatchIterator {
 public:
  BatchIterator(const Split& split, int sample_size, int batch_size, std::uint64_t seed,
                bool shuffle = true);
  void start_epoch(int epoch);
  bool next(Batch& b);
  int batches_per_epoch() const;
  const std::vector<int>& order() const { return order_; }

 private:
  const Split& split_;
  int sample_size_, batch_size_;
  std::uint64_t seed_;
  bool shuffle_;
  std::vector<int> order_;
  int pos_ = 0;
};

struct LoadOptions {
  // los_loop: the sensor column to forecast, or -1 to pool every sensor (each window comes
  // from one sensor; 1 input feature either way).
  int traffic_sensor = -1;
  // Scenario file named in errors about the data section ("" when not from a file).
  std::string scenario_file;
};

// The folder holding the real data sets: DataSpec::path when given, else $MIXPREC_DATA_DIR
// when set and non-empty, else "../shared/data" (relative paths resolve from the current
// directory).
std::string resolve_data_dir(const DataSpec& spec);

// Builds the data set a scenario's `data` section asks for, shaped for `shape`.
// Throws SpecError for an impossible source/task/shape combination, DataError for missing or
// malformed files.
Dataset make_dataset(const DataSpec& spec, const InputShape& shape, const LoadOptions& opt = {});
// Same, from a parsed scenario; also checks that the network's output width equals the data
// set's classes.
Dataset make_dataset(const Scenario& sc, const LoadOptions& opt = {});

}  // namespace mixprec::data
