// Quantization for quantization-aware training (QAT) and integer evaluation.
//
// Number formats (core/precision.hpp): an integer grid of `bits` (2..16) with a float step, or
// fp16 / bf16 rounding (IEEE round-to-nearest-even of the float's significand; fp16 with
// subnormals and overflow to infinity), or fp32 pass-through.
//
// Integer grids:
//  * weights: symmetric, per output channel, narrow range q in [-(2^(b-1) - 1), 2^(b-1) - 1]
//    (zero is exact and the grid is sign-symmetric, so a weight's negation is representable);
//  * activations: per tensor; unsigned q in [0, 2^b - 1] when the producer ends in a ReLU,
//    signed q in [-2^(b-1), 2^(b-1) - 1] otherwise;
//  * fixed point (LayerPrecision::fraction_bits >= 0): every tensor on the two's-complement
//    grid [-2^(b-1), 2^(b-1) - 1] with the constant step 2^-f, as a Qm.f datapath holds it
//    (16 bits, f = 8: Q7.8, values k / 256 saturating at -128 and 127.99609375).
// A value x maps to q = clamp(rne(x / step), qmin, qmax) (rne: round half to even, as hardware
// and torch.round do) and back to q * step ("fake quantization"); a zero result is +0.
//
// Ranges: from running statistics (an exponential moving average of the batch min/max, momentum
// 0.1, first batch taken as is; weights use the current max |w| of each output channel), or a
// learned step size (LSQ: Esser, McKinstry, Bablani, Appuswamy & Modha, "Learned Step Size
// Quantization", ICLR 2020). Gradients use the straight-through estimator (Bengio, Leonard &
// Courville 2013): d x_hat / d x = 1 inside the grid's range, 0 where the value was clipped.
// LSQ's step gradient (its eq. 3) is  d x_hat / d s = rne(v) - v inside, qmin or qmax where
// clipped (v = x / s), scaled by g = 1 / sqrt(N * Qp) (N: weights per channel, or activation
// values per sample; Qp = qmax).
//
// Every fast kernel here has a plain scalar twin in namespace `reference`; tests hold the fast
// kernels to them bit for bit.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/precision.hpp"
#include "model/layer.hpp"

namespace mixprec::model {

inline constexpr int kMinQuantBits = 2;
inline constexpr int kMaxQuantBits = 16;

// Integer grid [qmin, qmax].
struct IntGrid {
  int qmin = 0, qmax = 0;
  bool operator==(const IntGrid& o) const { return qmin == o.qmin && qmax == o.qmax; }
};
// Weights: [-(2^(b-1) - 1), 2^(b-1) - 1].
IntGrid symmetric_grid(int bits);
// Activations: unsigned [0, 2^b - 1], signed [-2^(b-1), 2^(b-1) - 1].
IntGrid activation_grid(int bits, bool is_unsigned);
// Fixed point: the full two's-complement range [-2^(b-1), 2^(b-1) - 1] (hardware Qm.f).
IntGrid fixed_point_grid(int bits);

enum class RangeMethod { RunningMinMax, Lsq };
const char* to_string(RangeMethod m);

// An operand's representation for quantization: the format, its bits (Int), and whether the
// values are known non-negative (activations after ReLU).
struct QuantSpec {
  NumFormat format = NumFormat::Fp32;
  int bits = 32;
  bool is_unsigned = false;
  // >= 0: fixed point, step 2^-fraction_bits on fixed_point_grid(bits) (no ranges, no LSQ).
  int fraction_bits = -1;
  bool is_int() const { return format == NumFormat::Int; }
  bool fixed_point() const { return is_int() && fraction_bits >= 0; }
  float fixed_step() const;
  bool is_identity() const { return format == NumFormat::Fp32; }
};
QuantSpec quant_spec(const Operand& op, bool is_unsigned = false, int fraction_bits = -1);

// Why a per-layer precision cannot be trained quantization-aware, "" when it can: integer
// operands that QAT quantizes (weights, activations, gradients; LSTM recurrent weights, gates,
// cell state) outside [2, 16] bits, or an explicit accumulator narrower than 2 bits. Names the
// first offending layer and field, for a usage error.
std::string qat_unsupported(const Network& net, const std::vector<LayerPrecision>& precision);

// ---- Fast kernels (vectorizable loops). y may alias x. ----
float round_to_bf16(float x);
float round_to_fp16(float x);
// fp16 / bf16 rounding of n values; fp32 copies; Int is an error.
void round_to_format(const float* x, std::int64_t n, NumFormat f, float* y);
// y = clamp(rne(x / step), qmin, qmax) * step.
void fake_quant(const float* x, std::int64_t n, float step, IntGrid g, float* y);
// q = clamp(rne(x / step), qmin, qmax) as floats (exact integers for |q| <= 2^24).
void quantize_to_grid(const float* x, std::int64_t n, float step, IntGrid g, float* q);

// ---- Scalar reference kernels: written for obviousness. ----
namespace reference {
float round_to_bf16(float x);
float round_to_fp16(float x);
float fake_quant(float x, float step, IntGrid g);
}  // namespace reference

// Step of a symmetric grid covering max |x| = max_abs (a tiny positive step for all-zero data).
float step_for_max_abs(float max_abs, IntGrid g);
// LSQ step initialization (Esser et al. 2020, sec. 2.1): 2 * mean|x| / sqrt(Qp).
float lsq_initial_step(const float* x, std::int64_t n, IntGrid g);

// ---- Gradient quantization (hybrid-precision gradient accumulation) ----
enum class GradRounding { Nearest, Stochastic };
const char* to_string(GradRounding r);
// Quantizes g in place to `op`: Int -> the symmetric grid of op.bits with a per-tensor step from
// max |g|; fp16/bf16 -> that float format; fp32 -> unchanged. Stochastic rounding (Gupta et al.,
// "Deep Learning with Limited Numerical Precision", ICML 2015) rounds up with probability equal
// to the fractional distance, drawing one variate per element from rng (Nearest draws none).
void quantize_gradient(float* g, std::int64_t n, const Operand& op, GradRounding r,
                       std::mt19937_64& rng);

// ---- Activation fake quantizer: a layer placed before a weight layer's input ----
struct ActQuantOptions {
  QuantSpec spec;
  RangeMethod range = RangeMethod::RunningMinMax;
  double momentum = 0.1;  // EMA of the batch min/max
};

// Per-tensor activation quantizer. Named like its weight layer: parameter "<layer>.input_step"
// (LSQ), buffer "<layer>.input_range" = {min, max, initialized} (running statistics).
class ActQuant final : public UnaryLayer {
 public:
  ActQuant(std::string layer_name, const ActQuantOptions& opt);
  const char* kind() const override { return "act_quant"; }
  Dims output_dims(const Dims& in) const override { return in; }
  std::vector<Param*> params() override;
  std::vector<Buffer*> buffers() override;
  const ActQuantOptions& options() const { return opt_; }
  IntGrid grid() const { return grid_; }
  // Step the next (evaluation-mode) forward uses; 0 before any statistics exist.
  float current_step() const;
  // Step the last forward used (Int grids).
  float last_step() const { return used_step_; }

 protected:
  void forward_one(const Tensor& x, Tensor& y) override;
  void backward_one(const Tensor& dy, Tensor* dx) override;

 private:
  ActQuantOptions opt_;
  IntGrid grid_;
  Param step_;     // LSQ step, dims (1) when LSQ on an Int grid, else (0); 0 = not initialized
  Buffer range_;   // {min, max, initialized}
  Tensor x_;       // cached input (Int grids only)
  float used_step_ = 0;
};

// ---- Weight fake quantizer: master weights -> quantized "shadow" weights ----
// The weight layer computes with the shadow; backward maps the shadow's gradient to the master
// weights by the straight-through estimator (and to the LSQ step).
class WeightQuant {
 public:
  // weight dims: (channels, ...); one step per output channel (dim n).
  WeightQuant(std::string step_name, const QuantSpec& spec, RangeMethod range, Dims weight_dims);
  const QuantSpec& spec() const { return spec_; }
  IntGrid grid() const { return grid_; }
  // Writes Q(master) into shadow and remembers the steps used.
  void forward(const Tensor& master, Tensor& shadow);
  // master_grad += STE(shadow_grad); LSQ step grad accumulates too.
  void backward(const Tensor& master, const Tensor& shadow_grad, Tensor& master_grad);
  Param* step_param() { return lsq() ? &step_ : nullptr; }
  // Per-channel steps of the last forward (Int grids).
  const std::vector<float>& steps() const { return used_; }

 private:
  bool lsq() const { return range_ == RangeMethod::Lsq && spec_.is_int() && !spec_.fixed_point(); }
  QuantSpec spec_;
  RangeMethod range_;
  IntGrid grid_;
  Param step_;
  std::vector<float> used_;
};

}  // namespace mixprec::model
