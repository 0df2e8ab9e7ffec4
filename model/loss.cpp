#include "model/loss.hpp"

#include <cmath>

namespace mixprec::model {

double SoftmaxCrossEntropy::forward(const Tensor& logits, const std::vector<int>& labels) {
  const std::int64_t rows = std::int64_t(labels.size());
  MIXPREC_CHECK(rows > 0 && logits.size() % rows == 0 && logits.size() / rows > 0,
                "cross-entropy: " + std::to_string(rows) + " labels do not divide logits " +
                    logits.dims().str());
  const std::int64_t k = logits.size() / rows;
  dims_ = logits.dims();
  labels_ = labels;
  prob_.resize(rows, k);
  const ConstMatrixMap z = logits.matrix(rows, k);
  double loss = 0;
  correct_ = 0;
  row_correct_.assign(size_t(rows), 0);
  for (std::int64_t r = 0; r < rows; ++r) {
    const int label = labels[size_t(r)];
    MIXPREC_CHECK(label >= 0 && label < k, "cross-entropy: label " + std::to_string(label) +
                                               " outside [0, " + std::to_string(k) + ")");
    // log-sum-exp shifted by the row maximum: no overflow.
    Eigen::Index arg_max;
    const float zmax = z.row(r).maxCoeff(&arg_max);
    if (arg_max == label) {
      ++correct_;
      row_correct_[size_t(r)] = 1;
    }
    double sum = 0;
    for (std::int64_t j = 0; j < k; ++j) {
      const double e = std::exp(double(z(r, j)) - zmax);
      prob_(r, j) = float(e);
      sum += e;
    }
    prob_.row(r) /= float(sum);
    loss += std::log(sum) + zmax - z(r, label);
  }
  return loss / double(rows);
}

// d/dz of mean_r(-log softmax(z_r)[label_r]) = (softmax(z) - onehot(label)) / rows.
void SoftmaxCrossEntropy::backward(Tensor& dlogits, double scale) const {
  const std::int64_t rows = prob_.rows(), k = prob_.cols();
  MIXPREC_CHECK(rows > 0, "cross-entropy: backward before forward");
  dlogits.resize(dims_);
  MatrixMap g = dlogits.matrix(rows, k);
  const float s = float(scale / double(rows));
  g = prob_ * s;
  for (std::int64_t r = 0; r < rows; ++r) g(r, labels_[size_t(r)]) -= s;
}

double MseLoss::forward(const Tensor& prediction, const Tensor& target) {
  MIXPREC_CHECK(prediction.dims() == target.dims() && prediction.size() > 0,
                "mse: prediction " + prediction.dims().str() + " vs target " + target.dims().str());
  diff_.resize(prediction.dims());
  diff_.vec() = prediction.vec() - target.vec();
  double sum = 0;
  for (std::int64_t i = 0; i < diff_.size(); ++i) sum += double(diff_[i]) * diff_[i];
  return sum / double(diff_.size());
}

// d/dp of mean((p - t)^2) = 2 (p - t) / count.
void MseLoss::backward(Tensor& dprediction, double scale) const {
  MIXPREC_CHECK(diff_.size() > 0, "mse: backward before forward");
  dprediction.resize(diff_.dims());
  dprediction.vec() = diff_.vec() * float(2.0 * scale / double(diff_.size()));
}

}  // namespace mixprec::model
