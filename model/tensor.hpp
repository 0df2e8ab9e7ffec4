// A dense float tensor: shape (n, c, h, w), row-major, contiguous. Sequences use the same
// storage as (batch, steps, features, 1), so a (batch*frames, channels, 1, 1) CNN output is
// already a (batch, frames, channels) sequence without a copy.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/network.hpp"

namespace mixprec::model {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;
using RowArray = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ArrayMap = Eigen::Map<RowArray>;
using ConstArrayMap = Eigen::Map<const RowArray>;
using VectorMap = Eigen::Map<Eigen::VectorXf>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf>;

struct Dims {
  int n = 0, c = 1, h = 1, w = 1;
  std::int64_t count() const { return std::int64_t(n) * c * h * w; }
  std::int64_t per_sample() const { return std::int64_t(c) * h * w; }
  bool operator==(const Dims& o) const { return n == o.n && c == o.c && h == o.h && w == o.w; }
  bool operator!=(const Dims& o) const { return !(*this == o); }
  std::string str() const;  // "(n,c,h,w)"
};

// Tensor dims of a core activation shape: images (n,c,h,w); sequences (t > 1) (n,t,c*h*w,1).
inline Dims dims_of(const Shape& s) {
  if (s.t > 1) return Dims{s.n, s.t, s.c * s.h * s.w, 1};
  return Dims{s.n, s.c, s.h, s.w};
}

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Dims d) : dims_(d), data_(size_t(check_count(d)), 0.0f) {}
  Tensor(int n, int c, int h = 1, int w = 1) : Tensor(Dims{n, c, h, w}) {}
  // A (batch, steps, features) sequence.
  static Tensor sequence(int batch, int steps, int features) {
    return Tensor(Dims{batch, steps, features, 1});
  }

  // Changes the shape; keeps capacity, so a buffer reused across calls stops allocating.
  // Contents are unspecified afterwards (callers overwrite or set_zero()).
  void resize(Dims d) {
    data_.resize(size_t(check_count(d)));
    dims_ = d;
  }
  void resize(int n, int c, int h = 1, int w = 1) { resize(Dims{n, c, h, w}); }
  // Same element count, new shape, no copy.
  void reshape(Dims d) {
    MIXPREC_CHECK(d.count() == dims_.count(), "reshape " + dims_.str() + " -> " + d.str());
    dims_ = d;
  }
  void set_zero() { std::fill(data_.begin(), data_.end(), 0.0f); }
  void fill(float v) { std::fill(data_.begin(), data_.end(), v); }
  // Copies shape and values, reusing this tensor's storage.
  void assign(const Tensor& o) {
    resize(o.dims_);
    std::copy(o.data_.begin(), o.data_.end(), data_.begin());
  }

  const Dims& dims() const { return dims_; }
  int n() const { return dims_.n; }
  int c() const { return dims_.c; }
  int h() const { return dims_.h; }
  int w() const { return dims_.w; }
  std::int64_t size() const { return std::int64_t(data_.size()); }
  bool empty() const { return data_.empty(); }

  // Sequence view: batch = n, steps = c, features = h * w.
  int batch() const { return dims_.n; }
  int steps() const { return dims_.c; }
  int features() const { return dims_.h * dims_.w; }

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float& operator[](std::int64_t i) { return data_[size_t(i)]; }
  float operator[](std::int64_t i) const { return data_[size_t(i)]; }
  float& at(int n, int c, int h, int w) { return data_[size_t(index(n, c, h, w))]; }
  float at(int n, int c, int h, int w) const { return data_[size_t(index(n, c, h, w))]; }
  float& seq(int b, int t, int f) {
    return data_[size_t((std::int64_t(b) * dims_.c + t) * features() + f)];
  }
  float seq(int b, int t, int f) const {
    return data_[size_t((std::int64_t(b) * dims_.c + t) * features() + f)];
  }

  // Row-major matrix views over the whole buffer (rows * cols must equal size()).
  MatrixMap matrix(std::int64_t rows, std::int64_t cols) {
    MIXPREC_CHECK(rows * cols == size(), "matrix view of " + dims_.str());
    return MatrixMap(data(), rows, cols);
  }
  ConstMatrixMap matrix(std::int64_t rows, std::int64_t cols) const {
    MIXPREC_CHECK(rows * cols == size(), "matrix view of " + dims_.str());
    return ConstMatrixMap(data(), rows, cols);
  }
  VectorMap vec() { return VectorMap(data(), size()); }
  ConstVectorMap vec() const { return ConstVectorMap(data(), size()); }

 private:
  static std::int64_t check_count(const Dims& d) {
    MIXPREC_CHECK(d.n >= 0 && d.c >= 0 && d.h >= 0 && d.w >= 0, "negative dims " + d.str());
    return d.count();
  }
  std::int64_t index(int n, int c, int h, int w) const {
    return ((std::int64_t(n) * dims_.c + c) * dims_.h + h) * dims_.w + w;
  }

  Dims dims_{0, 1, 1, 1};
  std::vector<float> data_;
};

}  // namespace mixprec::model
