// Loss functions. forward() returns the loss and caches what backward() needs; backward()
// writes d(loss)/d(prediction) scaled by `scale` (e.g. 1 / micro-batches for gradient
// accumulation).
#pragma once
#include <vector>

#include "model/tensor.hpp"

namespace mixprec::model {

// Softmax cross-entropy with integer labels, mean over rows. The logits are viewed as
// labels.size() rows of logits.size() / labels.size() classes, so (n, classes, 1, 1) with n
// labels and a per-step (batch, steps, classes, 1) with batch*steps labels both work.
class SoftmaxCrossEntropy {
 public:
  double forward(const Tensor& logits, const std::vector<int>& labels);
  void backward(Tensor& dlogits, double scale = 1.0) const;
  // Softmax probabilities of the last forward, rows x classes.
  const RowMatrix& probabilities() const { return prob_; }
  // Rows of the last forward whose largest logit is the label.
  int correct() const { return correct_; }
  // Per row of the last forward: 1 when its largest logit is the label, else 0.
  const std::vector<unsigned char>& row_correct() const { return row_correct_; }

 private:
  Dims dims_;
  RowMatrix prob_;
  std::vector<int> labels_;
  std::vector<unsigned char> row_correct_;
  int correct_ = 0;
};

// Mean squared error, mean over all elements: L = sum((p - t)^2) / count.
class MseLoss {
 public:
  double forward(const Tensor& prediction, const Tensor& target);
  void backward(Tensor& dprediction, double scale = 1.0) const;

 private:
  Tensor diff_;  // prediction - target
};

}  // namespace mixprec::model
