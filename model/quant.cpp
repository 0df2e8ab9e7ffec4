#include "model/quant.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace mixprec::model {

namespace {

std::uint32_t bits_of(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

float from_bits(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// 1.5 * 2^23: for |v| <= 2^22, (v + kRound) lies in [2^23, 2^24), where float spacing is 1, so
// the addition rounds v to an integer half-to-even (the default rounding mode) and the
// subtraction is exact.
constexpr float kRoundMagic = 12582912.0f;

void check_bits(int bits) {
  MIXPREC_CHECK(bits >= kMinQuantBits && bits <= kMaxQuantBits,
                "quantizer bits " + std::to_string(bits) + " outside [2, 16]");
}

}  // namespace

IntGrid symmetric_grid(int bits) {
  check_bits(bits);
  const int q = (1 << (bits - 1)) - 1;
  return IntGrid{-q, q};
}

IntGrid activation_grid(int bits, bool is_unsigned) {
  check_bits(bits);
  if (is_unsigned) return IntGrid{0, (1 << bits) - 1};
  return IntGrid{-(1 << (bits - 1)), (1 << (bits - 1)) - 1};
}

IntGrid fixed_point_grid(int bits) {
  check_bits(bits);
  return IntGrid{-(1 << (bits - 1)), (1 << (bits - 1)) - 1};
}

float QuantSpec::fixed_step() const { return std::ldexp(1.0f, -fraction_bits); }

const char* to_string(RangeMethod m) {
  return m == RangeMethod::Lsq ? "lsq" : "running_minmax";
}

const char* to_string(GradRounding r) {
  return r == GradRounding::Stochastic ? "stochastic" : "nearest";
}

QuantSpec quant_spec(const Operand& op, bool is_unsigned, int fraction_bits) {
  QuantSpec s;
  s.format = op.format;
  s.bits = op.bits;
  s.is_unsigned = is_unsigned;
  if (s.is_int()) {
    check_bits(s.bits);
    s.fraction_bits = fraction_bits;
    MIXPREC_CHECK(fraction_bits < s.bits, "fixed point needs a sign bit");
  }
  return s;
}

std::string qat_unsupported(const Network& net, const std::vector<LayerPrecision>& precision) {
  if (precision.empty()) return "";
  if (precision.size() != net.layers.size())
    return std::to_string(precision.size()) + " layer precisions for " +
           std::to_string(net.layers.size()) + " layers";
  for (std::size_t i = 0; i < precision.size(); ++i) {
    const LayerPrecision& p = precision[i];
    const mixprec::Layer& l = net.layers[i];
    if (p.format != NumFormat::Int) continue;
    std::vector<std::pair<const char*, int>> fields;
    if (l.has_weights()) {
      fields = {{"weights", p.weight_bits}, {"activations", p.activation_bits}};
      if (is_recurrent(l.kind)) fields.push_back({"recurrent_weights", p.recurrent_weight_bits});
      if (l.kind == LayerKind::Lstm) {
        fields.push_back({"gates", p.gate_bits});
        fields.push_back({"cell_state", p.cell_state_bits});
      }
    }
    if (l.has_weights() || l.kind == LayerKind::BatchNorm) fields.push_back({"gradients", p.gradient_bits});
    for (const auto& f : fields)
      if (f.second < kMinQuantBits || f.second > kMaxQuantBits)
        return "layer \"" + l.name + "\": " + f.first + " at " + std::to_string(f.second) +
               " integer bits; quantization-aware training supports 2 to 16";
    if (p.accumulator_bits == 1)
      return "layer \"" + l.name + "\": a 1-bit accumulator";
  }
  return "";
}

// ---------------------------------------------------------------- fast kernels

float round_to_bf16(float x) {
  std::uint32_t u = bits_of(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return x;  // NaN stays NaN
  // Add just under half of the dropped 16 bits, plus the kept LSB: ties go to even. A carry
  // into the exponent is the correct result (including overflow to infinity).
  u += 0x7fffu + ((u >> 16) & 1u);
  return from_bits(u & 0xffff0000u);
}

float round_to_fp16(float x) {
  const std::uint32_t u = bits_of(x);
  const std::uint32_t sign = u & 0x80000000u;
  std::uint32_t a = u ^ sign;
  if (a >= 0x7f800000u) return x;                        // inf, NaN
  if (a >= 0x477ff000u) return from_bits(sign | 0x7f800000u);  // |x| >= 65520: overflow
  if (a < 0x38800000u) {
    // |x| < 2^-14: fp16 subnormals have the fixed spacing 2^-24, float's spacing in [0.5, 1).
    const float f = (from_bits(a) + 0.5f) - 0.5f;
    return from_bits(bits_of(f) | sign);
  }
  // Normal fp16: drop 13 significand bits, round half to even.
  a += 0xfffu + ((a >> 13) & 1u);
  return from_bits((a & ~0x1fffu) | sign);
}

void round_to_format(const float* x, std::int64_t n, NumFormat f, float* y) {
  switch (f) {
    case NumFormat::Fp32:
      if (x != y) std::copy_n(x, n, y);
      return;
    case NumFormat::Bf16:
      for (std::int64_t i = 0; i < n; ++i) y[i] = round_to_bf16(x[i]);
      return;
    case NumFormat::Fp16:
      for (std::int64_t i = 0; i < n; ++i) y[i] = round_to_fp16(x[i]);
      return;
    case NumFormat::Int: break;
  }
  MIXPREC_CHECK(false, "round_to_format: integer format needs a grid and a step");
}

void fake_quant(const float* x, std::int64_t n, float step, IntGrid g, float* y) {
  const float lo = float(g.qmin), hi = float(g.qmax);
  // Clamp before rounding: both bounds are integers, so this equals rounding first, and it
  // keeps |v| <= 2^16 inside the magic-number trick's range. NaN passes through the compares.
  for (std::int64_t i = 0; i < n; ++i) {
    float v = x[i] / step;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    v = (v + kRoundMagic) - kRoundMagic;
    y[i] = v * step;
  }
}

void quantize_to_grid(const float* x, std::int64_t n, float step, IntGrid g, float* q) {
  const float lo = float(g.qmin), hi = float(g.qmax);
  for (std::int64_t i = 0; i < n; ++i) {
    float v = x[i] / step;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    q[i] = (v + kRoundMagic) - kRoundMagic;
  }
}

// ---------------------------------------------------------------- reference kernels

namespace reference {

// Rounds x to a float format with `mantissa_bits` stored significand bits and smallest normal
// exponent `min_exp`: the spacing is 2^(e - mantissa_bits) for x in [2^e, 2^(e+1)), fixed at
// 2^(min_exp - mantissa_bits) below 2^min_exp (subnormals). Computed in double, where x / ulp
// and the product back are exact.
static double round_significand(float x, int mantissa_bits, int min_exp) {
  int e = 0;
  std::frexp(double(x), &e);  // |x| = m * 2^e, m in [0.5, 1): leading bit at 2^(e-1)
  const int lead = std::max(e - 1, min_exp);
  const double ulp = std::ldexp(1.0, lead - mantissa_bits);
  return std::nearbyint(double(x) / ulp) * ulp;
}

float round_to_bf16(float x) {
  if (std::isnan(x) || std::isinf(x) || x == 0.0f) return x;
  return float(round_significand(x, 7, -126));  // beyond FLT_MAX converts to infinity
}

float round_to_fp16(float x) {
  if (std::isnan(x) || std::isinf(x) || x == 0.0f) return x;
  const double r = round_significand(x, 10, -14);
  if (std::fabs(r) > 65504.0) return std::copysign(std::numeric_limits<float>::infinity(), x);
  return float(r);
}

float fake_quant(float x, float step, IntGrid g) {
  float q = std::nearbyint(x / step);
  q = std::max(q, float(g.qmin));
  q = std::min(q, float(g.qmax));  // NaN stays NaN through std::max/min's comparisons
  if (q == 0.0f) q = 0.0f;         // the integer 0 has no sign: -0 becomes +0
  return q * step;
}

}  // namespace reference

float step_for_max_abs(float max_abs, IntGrid g) {
  if (max_abs == 0.0f) return 1.0f;  // all zeros: any step represents them exactly
  return max_abs / float(g.qmax);
}

float lsq_initial_step(const float* x, std::int64_t n, IntGrid g) {
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += std::fabs(double(x[i]));
  const double mean = n > 0 ? sum / double(n) : 0.0;
  const double s = 2.0 * mean / std::sqrt(double(g.qmax));
  return s > 0 ? float(s) : 1e-3f;
}

// ---------------------------------------------------------------- gradients

namespace {

// Stochastic rounding of x to a float format (spacing as in reference::round_significand).
float stochastic_float(float x, NumFormat f, std::mt19937_64& rng) {
  const double u = double(rng() >> 11) * 0x1.0p-53;
  if (std::isnan(x) || std::isinf(x) || x == 0.0f) return x;
  const int mant = f == NumFormat::Bf16 ? 7 : 10;
  const int min_exp = f == NumFormat::Bf16 ? -126 : -14;
  int e = 0;
  std::frexp(double(x), &e);
  const double ulp = std::ldexp(1.0, std::max(e - 1, min_exp) - mant);
  const double r = std::floor(double(x) / ulp + u) * ulp;
  if (f == NumFormat::Fp16 && std::fabs(r) > 65504.0)
    return std::copysign(std::numeric_limits<float>::infinity(), x);
  return float(r);
}

}  // namespace

void quantize_gradient(float* g, std::int64_t n, const Operand& op, GradRounding r,
                       std::mt19937_64& rng) {
  if (op.format == NumFormat::Fp32 || n == 0) return;
  if (op.format != NumFormat::Int) {
    if (r == GradRounding::Nearest) {
      round_to_format(g, n, op.format, g);
    } else {
      for (std::int64_t i = 0; i < n; ++i) g[i] = stochastic_float(g[i], op.format, rng);
    }
    return;
  }
  const IntGrid grid = symmetric_grid(op.bits);
  float max_abs = 0;
  for (std::int64_t i = 0; i < n; ++i) max_abs = std::max(max_abs, std::fabs(g[i]));
  if (max_abs == 0.0f || !std::isfinite(max_abs)) return;  // nothing to do / caught upstream
  const float step = step_for_max_abs(max_abs, grid);
  if (r == GradRounding::Nearest) {
    fake_quant(g, n, step, grid, g);
    return;
  }
  const float lo = float(grid.qmin), hi = float(grid.qmax);
  for (std::int64_t i = 0; i < n; ++i) {
    const float u = float(rng() >> 40) * 0x1.0p-24f;  // [0, 1), 24 bits
    float q = std::floor(g[i] / step + u);
    q = std::min(std::max(q, lo), hi);
    g[i] = q * step;
  }
}

// ---------------------------------------------------------------- ActQuant

ActQuant::ActQuant(std::string layer_name, const ActQuantOptions& opt)
    : UnaryLayer(std::move(layer_name)),
      opt_(opt),
      grid_(opt.spec.fixed_point() ? fixed_point_grid(opt.spec.bits)
            : opt.spec.is_int()   ? activation_grid(opt.spec.bits, opt.spec.is_unsigned)
                                  : IntGrid{}),
      step_(param_name("input_step"), ParamRole::QuantStep,
            Dims{opt.spec.is_int() && !opt.spec.fixed_point() && opt.range == RangeMethod::Lsq ? 1 : 0, 1, 1, 1},
            false),
      range_(param_name("input_range"), Dims{opt.spec.is_int() ? 3 : 0, 1, 1, 1}) {
  MIXPREC_CHECK(opt.momentum > 0 && opt.momentum <= 1, name() + ": momentum");
}

std::vector<Param*> ActQuant::params() {
  if (step_.value.size() > 0) return {&step_};
  return {};
}

std::vector<Buffer*> ActQuant::buffers() {
  if (range_.value.size() > 0) return {&range_};
  return {};
}

float ActQuant::current_step() const {
  if (!opt_.spec.is_int()) return 0;
  if (opt_.spec.fixed_point()) return opt_.spec.fixed_step();
  if (opt_.range == RangeMethod::Lsq) return step_.value[0];
  if (range_.value[2] == 0.0f) return 0;
  const float lo = range_.value[0], hi = range_.value[1];
  if (opt_.spec.is_unsigned) return step_for_max_abs(std::max(hi, 0.0f), grid_);
  return step_for_max_abs(std::max(std::fabs(lo), std::fabs(hi)), grid_);
}

void ActQuant::forward_one(const Tensor& x, Tensor& y) {
  y.resize(x.dims());
  if (!opt_.spec.is_int()) {
    round_to_format(x.data(), x.size(), opt_.spec.format, y.data());
    return;
  }
  const std::int64_t n = x.size();
  if (opt_.spec.fixed_point()) {
    used_step_ = opt_.spec.fixed_step();
  } else if (opt_.range == RangeMethod::Lsq) {
    if (step_.value[0] == 0.0f) step_.value[0] = lsq_initial_step(x.data(), n, grid_);
    used_step_ = step_.value[0];
  } else {
    float* r = range_.value.data();
    if (training() || r[2] == 0.0f) {
      float lo = std::numeric_limits<float>::infinity(), hi = -lo;
      for (std::int64_t i = 0; i < n; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
      }
      if (n == 0) lo = hi = 0;
      if (training()) {
        if (r[2] == 0.0f) {
          r[0] = lo;
          r[1] = hi;
          r[2] = 1.0f;
        } else {
          const float m = float(opt_.momentum);
          r[0] = (1.0f - m) * r[0] + m * lo;
          r[1] = (1.0f - m) * r[1] + m * hi;
        }
      } else {
        // Evaluation before any training: this batch's range, not stored.
        used_step_ = opt_.spec.is_unsigned
                         ? step_for_max_abs(std::max(hi, 0.0f), grid_)
                         : step_for_max_abs(std::max(std::fabs(lo), std::fabs(hi)), grid_);
      }
    }
    if (r[2] != 0.0f) used_step_ = current_step();
  }
  fake_quant(x.data(), n, used_step_, grid_, y.data());
  x_.assign(x);
}

void ActQuant::backward_one(const Tensor& dy, Tensor* dx) {
  if (!opt_.spec.is_int()) {
    if (dx) dx->assign(dy);  // straight-through for float rounding
    return;
  }
  MIXPREC_CHECK(dy.dims() == x_.dims(), name() + ": dy " + dy.dims().str());
  const float s = used_step_;
  const float lo = float(grid_.qmin), hi = float(grid_.qmax);
  const std::int64_t n = x_.size();
  if (dx) dx->resize(x_.dims());
  float* d = dx ? dx->data() : nullptr;
  const bool lsq = opt_.range == RangeMethod::Lsq && !opt_.spec.fixed_point();
  double ds = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float v = x_[i] / s;
    const bool inside = v >= lo && v <= hi;
    if (d) d[i] = inside ? dy[i] : 0.0f;
    if (lsq) {
      const float term = inside ? std::nearbyint(v) - v : (v < lo ? lo : hi);
      ds += double(dy[i]) * term;
    }
  }
  if (lsq) {
    const double per_sample = double(x_.dims().per_sample());
    step_.grad[0] += float(ds / std::sqrt(per_sample * grid_.qmax));
  }
}

// ---------------------------------------------------------------- WeightQuant

WeightQuant::WeightQuant(std::string step_name, const QuantSpec& spec, RangeMethod range,
                         Dims weight_dims)
    : spec_(spec),
      range_(range),
      grid_(spec.fixed_point() ? fixed_point_grid(spec.bits) : spec.is_int() ? symmetric_grid(spec.bits) : IntGrid{}),
      step_(std::move(step_name), ParamRole::QuantStep,
            Dims{spec.is_int() && !spec.fixed_point() && range == RangeMethod::Lsq ? weight_dims.n : 0, 1, 1, 1},
            false),
      used_(spec.is_int() ? size_t(weight_dims.n) : 0, 0.0f) {}

void WeightQuant::forward(const Tensor& master, Tensor& shadow) {
  shadow.resize(master.dims());
  if (!spec_.is_int()) {
    round_to_format(master.data(), master.size(), spec_.format, shadow.data());
    return;
  }
  const int channels = master.n();
  const std::int64_t per = master.dims().per_sample();
  for (int c = 0; c < channels; ++c) {
    const float* w = master.data() + c * per;
    float s;
    if (spec_.fixed_point()) {
      s = spec_.fixed_step();
    } else if (lsq()) {
      if (step_.value[c] == 0.0f) step_.value[c] = lsq_initial_step(w, per, grid_);
      s = step_.value[c];
    } else {
      float m = 0;
      for (std::int64_t i = 0; i < per; ++i) m = std::max(m, std::fabs(w[i]));
      s = step_for_max_abs(m, grid_);
    }
    used_[size_t(c)] = s;
    fake_quant(w, per, s, grid_, shadow.data() + c * per);
  }
}

void WeightQuant::backward(const Tensor& master, const Tensor& shadow_grad, Tensor& master_grad) {
  MIXPREC_CHECK(shadow_grad.dims() == master.dims() && master_grad.dims() == master.dims(),
                "weight quantizer: gradient dims");
  if (spec_.fixed_point()) {
    // A fixed grid clips weights beyond its range: the estimator passes the gradient inside.
    const float lo = float(grid_.qmin) * spec_.fixed_step(), hi = float(grid_.qmax) * spec_.fixed_step();
    for (std::int64_t i = 0; i < master.size(); ++i)
      if (master[i] >= lo && master[i] <= hi) master_grad[i] += shadow_grad[i];
    return;
  }
  if (!lsq()) {
    // Float rounding and running max-abs steps never clip: the estimator is the identity.
    master_grad.vec() += shadow_grad.vec();
    return;
  }
  const int channels = master.n();
  const std::int64_t per = master.dims().per_sample();
  const float lo = float(grid_.qmin), hi = float(grid_.qmax);
  const double gscale = 1.0 / std::sqrt(double(per) * grid_.qmax);
  for (int c = 0; c < channels; ++c) {
    const float s = used_[size_t(c)];
    const float* w = master.data() + c * per;
    const float* gs = shadow_grad.data() + c * per;
    float* gm = master_grad.data() + c * per;
    double ds = 0;
    for (std::int64_t i = 0; i < per; ++i) {
      const float v = w[i] / s;
      const bool inside = v >= lo && v <= hi;
      if (inside) gm[i] += gs[i];
      ds += double(gs[i]) * (inside ? std::nearbyint(v) - v : (v < lo ? lo : hi));
    }
    step_.grad[c] += float(ds * gscale);
  }
}

}  // namespace mixprec::model
