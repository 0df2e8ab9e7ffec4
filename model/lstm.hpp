// One LSTM layer (Hochreiter & Schmidhuber 1997, with forget gate, Gers et al. 2000), uni- or
// bidirectional, trained by backpropagation through time.
//
//   [a_i a_f a_g a_o] = x_t W_ih^T + h_{t-1} W_hh^T + b      (gate order i, f, g, o as PyTorch)
//   i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
//   c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t),   h_{-1} = c_{-1} = 0
//   (or the initial_h, initial_c parameters with LstmOptions::initial_state)
//
// One bias vector per direction (PyTorch's b_ih + b_hh folded into one).
// Input: a sequence (batch, steps, input_size, 1), or (batch, input_size, 1, 1) for one step.
// Output: return_sequences ? (batch, steps, D*hidden, 1) :
// (batch, D*hidden, 1, 1), D = 2 when bidirectional; the forward direction fills features
// [0, hidden), the reverse one [hidden, 2*hidden). The "last step" of the reverse direction is
// its final state, i.e. after it has read step 0.
#pragma once
#include <memory>

#include "model/layer.hpp"

namespace mixprec::model {

struct LstmOptions {
  int input_size = 0, hidden = 0;
  bool bidirectional = false;
  bool return_sequences = false;
  bool bias = true;
  // One direction reading the steps last to first (core Layer::reverse); not with bidirectional.
  bool reverse = false;
  // initial_h / initial_c per direction (hidden values each, shared by the batch) instead of a
  // zero state: params "<layer>.initial_h[_reverse]", "<layer>.initial_c[_reverse]" (0 at init).
  bool initial_state = false;
  // The input already holds the 4*hidden gate contributions x W_ih^T (computed by a separate
  // projection, e.g. a TT / HT FactorizedLinear): no W_ih, input_size = 4*hidden, unidirectional.
  bool projected_input = false;
};

class Lstm final : public UnaryLayer {
 public:
  Lstm(std::string name, const LstmOptions& opt);
  ~Lstm() override;
  const char* kind() const override { return "lstm"; }
  Dims output_dims(const Dims& in) const override;
  // Per direction: weight_ih (absent with projected_input), weight_hh, bias; the reverse
  // direction's names end in "_reverse".
  std::vector<Param*> params() override;
  // Xavier uniform for W_ih and W_hh; bias 0 except 1 for the forget gate (Jozefowicz,
  // Zaremba & Sutskever, ICML 2015: a forget-gate bias of 1 eases learning long dependencies).
  void init(std::mt19937_64& rng) override;

  const LstmOptions& options() const { return opt_; }
  int directions() const { return opt_.bidirectional ? 2 : 1; }
  // Direction d reads the steps last to first.
  bool reads_reverse(int d) const { return d == 1 || opt_.reverse; }
  Param& weight_ih(int dir);  // (4*hidden, input_size)
  Param& weight_hh(int dir);  // (4*hidden, hidden)
  Param& bias(int dir);       // (4*hidden); dims (0) when options().bias is false

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  struct Direction;
  int steps_of(const Dims& in) const;
  void forward_direction(int dir);
  void backward_direction(int dir, const Tensor& dy, bool need_dx);

  LstmOptions opt_;
  std::unique_ptr<Direction> dir_[2];
  Dims in_dims_;
  int batch_ = 0, steps_ = 0;
  RowMatrix xt_;                           // input, time-major: row t*batch + b
  RowMatrix dxt_;                          // its gradient
  RowMatrix da_;                           // gate pre-activation gradients, time-major
  RowMatrix dh_, dc_, dh_next_, dc_next_;  // batch x hidden, per step
};

}  // namespace mixprec::model
