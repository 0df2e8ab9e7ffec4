// The step window of a recurrent layer with core Layer::steps = L < T (ONNX's sequence_lens, one
// length for the whole batch): the recurrence runs over the first L steps of a T-step input,
// and a sequence output is zero at steps L..T-1. Graph runs such a layer as
// Sequential(StepWindow(keep L of T), cell, StepWindow(pad L to T) when it returns sequences),
// so every cell (Lstm, QuantLstm, Gru, a factorized projection + cell) runs L steps unchanged.
#pragma once
#include <memory>

#include "model/layer.hpp"

namespace mixprec::model {

class StepWindow final : public UnaryLayer {
 public:
  enum class Mode { Keep, Pad };
  // Keep: a (batch, total, features, 1) sequence -> its first `steps` steps (batch, steps,
  // features, 1); backward pads the gradient with zero steps. Pad: the inverse (zero steps
  // appended forward, the first `steps` taken backward).
  StepWindow(std::string name, Mode mode, int steps, int total);
  const char* kind() const override { return "step_window"; }
  Dims output_dims(const Dims& in) const override;

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  Mode mode_;
  int steps_, total_;
  Dims in_dims_;
};

// A recurrent `cell` reading `total`-step inputs as a layer with `steps` runs it: the cell itself
// when steps == total, else Sequential(keep, cell[, pad when return_sequences]) named as the cell.
std::unique_ptr<Layer> with_step_window(std::unique_ptr<Layer> cell, int steps, int total, bool return_sequences);

}  // namespace mixprec::model
