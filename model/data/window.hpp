// Internal: cutting a chronological series into windows and splits (used by the venue
// generator and the table loaders).
#pragma once
#include <string>
#include <vector>

#include "model/data/dataset.hpp"

namespace mixprec::data::detail {

// A chronological series: one frame of frame_size floats per row, a label or target per row,
// and a run id per row (rows of one run are consecutive time steps; a gap starts a new run).
struct Series {
  int frame_size = 0;
  std::vector<float> values;   // rows * frame_size
  std::vector<int> label;      // classification
  std::vector<float> target;   // regression
  std::vector<int> run;
  int rows() const { return frame_size > 0 ? int(values.size() / std::size_t(frame_size)) : 0; }
};

struct WindowRef {
  int series = 0;  // index into the list of series
  int start = 0;   // first row; last input row start+T-1, label row start+T-1+horizon
};

// Starts of every window whose rows and label row lie in [begin, end) and in one run.
std::vector<int> window_starts(const Series& s, int begin, int end, int frames, int horizon);

// At most `limit` elements, evenly spaced, order kept.
template <class T>
std::vector<T> evenly_spaced(const std::vector<T>& v, int limit) {
  if (limit <= 0 || int(v.size()) <= limit) return v;
  std::vector<T> out;
  out.reserve(std::size_t(limit));
  for (int k = 0; k < limit; ++k) out.push_back(v[std::size_t(double(k) * v.size() / limit)]);
  return out;
}

// Copies the windows' frames and labels (or targets, in raw units) into `out`.
void fill_split(Split& out, const std::vector<const Series*>& series,
                const std::vector<WindowRef>& windows, int frames, int horizon, bool regression);

// Fits the normalization on train, applies it to all splits; for regression normalizes
// target/last_target with the statistics of input feature 0 (the forecast quantity) and
// fills the baselines.
void finalize(Dataset& ds);

// Chronological split boundaries of `rows` rows: [0, a) train, [a, b) val, [b, rows) test.
struct SplitRows {
  int train_end = 0, val_end = 0;
};
SplitRows chronological_split(int rows, double train_fraction = 0.70, double val_fraction = 0.15);

std::string split_summary(const Dataset& ds);  // "train N, val N, test N windows"

}  // namespace mixprec::data::detail
