// An LSTM layer with fake quantization inside the cell, for quantization-aware training of the
// recurrent layers at the precisions a precision file gives (LayerPrecision: weight_bits for the
// input weights W_ih, recurrent_weight_bits for W_hh, gate_bits for the gate activations,
// cell_state_bits for c_t, activation_bits for the hidden state h_t that the recurrent GEMM
// reads and the layer outputs). Same equations, gate order, layout and parameter names as Lstm
// (model/lstm.hpp):
//
//   a = x W_ih_q^T + h_{t-1} W_hh_q^T + b
//   i, f, o = Q_gate(sigmoid(a_i, a_f, a_o)),  g = Q_gate(tanh(a_g))
//   c_t = Q_cell(f c_{t-1} + i g),   h_t = Q_h(o tanh(c_t))
//   (h_{-1}, c_{-1}: zero, or the initial_h, initial_c parameters as given, not quantized)
//
// Grids (integer formats): gates and h have fixed ranges, as in integer LSTM kernels (TFLite,
// CMSIS-NN): sigmoid outputs on the unsigned grid of step 1 / (2^b - 1), tanh outputs and h on
// the symmetric grid of step 1 / (2^(b-1) - 1), so they never clip. The cell state has a
// symmetric grid whose step comes from the running max |c| of earlier training batches (EMA,
// momentum 0.1; buffer "<layer>.cell_range[_reverse]" = {max |c|, initialized}); until a first
// training batch has set it, c is not quantized. Weights: per output row (gate unit), as
// WeightQuant. Float formats round every one of these tensors to fp16/bf16 instead. Backward
// uses the straight-through estimator (clipped only for the cell state) and the unquantized
// gate values for the activation derivatives.
#pragma once
#include <memory>

#include "model/lstm.hpp"
#include "model/quant.hpp"

namespace mixprec::model {

struct QuantLstmOptions {
  LstmOptions lstm;
  QuantSpec weight, recurrent_weight, gate, cell, hidden;
  RangeMethod range = RangeMethod::RunningMinMax;  // weights (LSQ or max |w|)
  double momentum = 0.1;                           // cell-state EMA
};

// The grids of the cell's internals for integer specs, as forward uses them (ONNX export writes
// the same): sigmoid outputs unsigned, tanh outputs and h symmetric, both with step 1 / qmax; the
// cell state symmetric with the step of the running max |c| in `cell_range` ({max |c|,
// initialized}; step 0 before a training batch has set it: c is not quantized); fixed point:
// the datapath's grid and step for all of them.
struct StepGrid {
  IntGrid grid{};
  float step = 0;
};
StepGrid lstm_sigmoid_grid(const QuantSpec& s);
StepGrid lstm_tanh_grid(const QuantSpec& s);
StepGrid lstm_cell_grid(const QuantSpec& s, const Tensor& cell_range);

class QuantLstm final : public UnaryLayer {
 public:
  QuantLstm(std::string name, const QuantLstmOptions& opt);
  ~QuantLstm() override;
  const char* kind() const override { return "quant_lstm"; }
  Dims output_dims(const Dims& in) const override;
  // Per direction: weight_ih, weight_hh, bias (as Lstm), then LSQ steps when used.
  std::vector<Param*> params() override;
  std::vector<Buffer*> buffers() override;
  void init(std::mt19937_64& rng) override;  // as Lstm::init

  const QuantLstmOptions& options() const { return opt_; }
  int directions() const { return opt_.lstm.bidirectional ? 2 : 1; }
  bool reads_reverse(int d) const { return d == 1 || opt_.lstm.reverse; }
  Param& weight_ih(int dir);
  Param& weight_hh(int dir);
  Param& bias(int dir);

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  struct Direction;
  int steps_of(const Dims& in) const;
  void forward_direction(int dir);
  void backward_direction(int dir, const Tensor& dy, bool need_dx);

  QuantLstmOptions opt_;
  std::unique_ptr<Direction> dir_[2];
  Dims in_dims_;
  int batch_ = 0, steps_ = 0;
  RowMatrix xt_, dxt_, da_, dh_, dc_, dh_next_, dc_next_;
};

}  // namespace mixprec::model
