// Linear maps with tensor-decomposed weight matrices: tensor-train (TtLinear) and
// hierarchical-Tucker (HtLinear), y = x W^T with W never formed (no bias; the LSTM that reads
// the projection adds its own).
//
// The factorization and the contraction order come from core (core/factorization.hpp): the
// layer runs exactly the steps the simulators price. Each step permutes the running product to
// (rows x kept x contracted), multiplies by the core permuted to (contracted x added) and
// leaves (rows x kept x added); the last product is permuted to the output's row-major mode
// order. Backward runs the steps in reverse: dCore += A^T dOut, dA = dOut Core^T, each
// permuted back. Weight quantization (QAT) fake-quantizes every core through master/shadow
// weights like the dense layers (per first axis of the core, model/quant.hpp WeightQuant), and
// the intermediate products at the activation bits (ActQuant, straight-through inside the
// range), so that QAT trains the arithmetic the simulators price.
//
// Input: (n, c, h, w) with c*h*w = in_features -> (n, out, 1, 1), or a sequence
// (n, steps, in_features, 1) -> (n, steps, out, 1). Parameters "<name>.tt_core1", ...,
// "<name>.ht_leaf1", ..., "<name>.ht_node1-2", "<name>.ht_root" (role Weight).
#pragma once
#include <memory>

#include "core/factorization.hpp"
#include "core/precision.hpp"
#include "model/layer.hpp"
#include "model/quant.hpp"

namespace mixprec::model {

struct FactorizedLinearOptions {
  Factorization factorization;  // validated (core::build_network checks scenario entries)
  QuantSpec weight;             // fp32: no quantization
  // The running products between contraction steps (each step's A operand but the first), as
  // the simulators price them: at the layer's activation bits. Per tensor, signed, one
  // ActQuant per step ("<layer>.<core>_out.input_range" / "input_step"). fp32: none.
  QuantSpec product;
  RangeMethod range = RangeMethod::RunningMinMax;
};

// The options of an LSTM's TT / HT input projection at precision `p` (nullptr: fp32): cores at
// the weight bits, running products at the activation bits (model::Graph builds the layer with
// them; ONNX export rebuilds it to read its quantizers).
FactorizedLinearOptions projection_options(const Factorization& f, const LayerPrecision* p, RangeMethod range);

// One contraction step's layouts (fixed by the plan): the running product, with the row axis
// first, is permuted by a_perm to (rows, kept, contracted) and multiplied by the core permuted
// by b_perm to (contracted, added); the product's layout is (rows, kept, added).
struct StepLayout {
  std::vector<int> state_axes;       // layout of the running product before the step (no rows)
  std::vector<int> a_perm;           // state -> (kept, contracted), as positions in 1 + state
  std::vector<int> b_perm;           // core -> (contracted, added), positions in the core's axes
  std::vector<std::int64_t> b_dims;  // the core's dims in storage order
};

class FactorizedLinear : public UnaryLayer {
 public:
  FactorizedLinear(std::string name, const FactorizedLinearOptions& opt);
  ~FactorizedLinear() override;
  const char* kind() const override;  // "tt_linear" | "ht_linear"
  Dims output_dims(const Dims& in) const override;
  // The cores (masters when quantized), then LSQ steps (cores', then products').
  std::vector<Param*> params() override;
  // The product quantizers' running ranges.
  std::vector<Buffer*> buffers() override;
  void set_training(bool on) override;
  // Every core uniform with the same variance, chosen so that an entry of the product matrix
  // has Xavier's variance 2 / (in + out) (an entry is a sum over all rank indices of products
  // of one entry per core).
  void init(std::mt19937_64& rng) override;

  const TensorNetwork& network() const { return tn_; }
  const ContractionPlan& plan() const { return plan_; }
  std::int64_t in_features() const { return tn_.in_features(); }
  std::int64_t out_features() const { return tn_.out_features(); }
  Param& core(int i);
  // The product matrix W (out_features x in_features) of the current (quantized) cores, for
  // tests and for comparing with a dense layer (intermediate products not quantized: with
  // them the map is not linear).
  Tensor dense_weight();
  // What forward runs, for ONNX export: the steps' layouts (plan().steps order), the permutation
  // of the last product (row axis first) to the output's mode order, and the quantizer of step
  // s's product (nullptr: the last step, or fp32 products).
  const std::vector<StepLayout>& step_layouts() const;
  const std::vector<int>& output_permutation() const;
  const ActQuant* product_quantizer(std::size_t step) const;

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  struct Impl;
  void run_forward(const float* x, std::int64_t rows, float* y, bool quantize_products = true);
  FactorizedLinearOptions opt_;
  TensorNetwork tn_;
  ContractionPlan plan_;
  std::unique_ptr<Impl> impl_;
  Dims in_dims_;
};

// TT: input_modes, hidden_modes (output modes = hidden modes with the first x4 for the gates;
// pass gates = false for a plain matrix: output modes = hidden_modes), ranks r_0..r_d.
class TtLinear final : public FactorizedLinear {
 public:
  TtLinear(std::string name, std::vector<int> input_modes, std::vector<int> output_modes,
           std::vector<int> ranks, const QuantSpec& weight = {});
};

// HT over a balanced dimension tree: leaf ranks per mode, transfer ranks per internal
// non-root node (breadth-first).
class HtLinear final : public FactorizedLinear {
 public:
  HtLinear(std::string name, std::vector<int> input_modes, std::vector<int> output_modes,
           std::vector<int> leaf_ranks, std::vector<int> transfer_ranks, const QuantSpec& weight = {});
};

}  // namespace mixprec::model
