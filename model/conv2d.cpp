#include "model/conv2d.hpp"

#include <algorithm>

#include "model/conv_implicit.hpp"
#include "model/gemm.hpp"
#include "model/init.hpp"

namespace mixprec::model {

namespace {
// Output columns [lo, hi) whose input column ow * stride - pad + k lies inside [0, size).
void valid_range(int size, int out, int stride, int pad, int k, int& lo, int& hi) {
  const int first = pad - k;  // ow * stride >= first
  lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const int last = size - 1 + pad - k;  // ow * stride <= last
  hi = last < 0 ? 0 : std::min(out, last / stride + 1);
  lo = std::min(lo, hi);
}
}  // namespace

Conv2d::Conv2d(std::string name, const Conv2dOptions& opt)
    : UnaryLayer(std::move(name)),
      opt_(opt),
      weight_(param_name("weight"), ParamRole::Weight,
              Dims{opt.out_channels, opt.groups > 0 ? opt.in_channels / opt.groups : 0,
                   opt.kernel_h, opt.kernel_w},
              true),
      bias_(param_name("bias"), ParamRole::Bias, Dims{opt.bias ? opt.out_channels : 0, 1, 1, 1},
            false) {
  MIXPREC_CHECK(opt.in_channels > 0 && opt.out_channels > 0, this->name() + ": channels");
  MIXPREC_CHECK(opt.kernel_h > 0 && opt.kernel_w > 0, this->name() + ": kernel");
  MIXPREC_CHECK(opt.stride > 0 && opt.padding >= 0, this->name() + ": stride/padding");
  MIXPREC_CHECK(
      opt.groups > 0 && opt.in_channels % opt.groups == 0 && opt.out_channels % opt.groups == 0,
      this->name() + ": groups must divide in and out channels");
}

Conv2d::~Conv2d() = default;

Dims Conv2d::output_dims(const Dims& in) const {
  MIXPREC_CHECK(
      in.c == opt_.in_channels,
      name() + ": expected " + std::to_string(opt_.in_channels) + " channels, got " + in.str());
  const int ho = (in.h + 2 * opt_.padding - opt_.kernel_h) / opt_.stride + 1;
  const int wo = (in.w + 2 * opt_.padding - opt_.kernel_w) / opt_.stride + 1;
  MIXPREC_CHECK(
      in.h + 2 * opt_.padding >= opt_.kernel_h && in.w + 2 * opt_.padding >= opt_.kernel_w,
      name() + ": input " + in.str() + " smaller than the kernel");
  return Dims{in.n, opt_.out_channels, ho, wo};
}

std::vector<Param*> Conv2d::params() {
  if (opt_.bias) return {&weight_, &bias_};
  return {&weight_};
}

void Conv2d::init(std::mt19937_64& rng) {
  kaiming_normal(weight_.value, rng, FanMode::FanIn, kReluGain);
  bias_.value.set_zero();
}

int Conv2d::samples_per_gemm(const Dims& in) const {
  const Dims out = output_dims(in);
  const std::int64_t per_sample =
      std::int64_t(opt_.in_channels) * opt_.kernel_h * opt_.kernel_w * out.h * out.w;
  const std::int64_t g =
      std::max<std::int64_t>(1, col_budget_floats_ / std::max<std::int64_t>(1, per_sample));
  return int(std::min<std::int64_t>(g, std::max(1, in.n)));
}

// col row (c, ky, kx), columns [0, ho*wo) at stride ld between rows. Plain loops (no
// std::copy/fill calls per output row): rows are short (wo = 2..16 here) and the compiler
// vectorizes the loops.
// Small output maps (ho * wo <= kTableMaxOutputs): rows are a handful of floats, so the
// per-row loop bookkeeping dominates; a table of source offsets per (tap, output position),
// shared by all channels and samples, turns im2col into one gather per element (padding reads
// a zero slot after the plane).
const std::vector<std::int32_t>& Conv2d::tap_table(const Dims& in) const {
  if (table_dims_ == Dims{1, in.c, in.h, in.w} && !table_.empty()) return table_;
  const int ho = (in.h + 2 * opt_.padding - opt_.kernel_h) / opt_.stride + 1;
  const int wo = (in.w + 2 * opt_.padding - opt_.kernel_w) / opt_.stride + 1;
  const int hw = in.h * in.w;
  table_.clear();
  for (int ky = 0; ky < opt_.kernel_h; ++ky)
    for (int kx = 0; kx < opt_.kernel_w; ++kx)
      for (int oy = 0; oy < ho; ++oy)
        for (int ox = 0; ox < wo; ++ox) {
          const int iy = oy * opt_.stride - opt_.padding + ky, ix = ox * opt_.stride - opt_.padding + kx;
          const bool inside = iy >= 0 && iy < in.h && ix >= 0 && ix < in.w;
          table_.push_back(inside ? iy * in.w + ix : hw);
        }
  table_dims_ = Dims{1, in.c, in.h, in.w};
  plane_.assign(size_t(hw + 1), 0.0f);
  return table_;
}

void Conv2d::im2col(const float* x, const Dims& in, float* col, std::int64_t ld) const {
  const int ho = (in.h + 2 * opt_.padding - opt_.kernel_h) / opt_.stride + 1;
  const int wo = (in.w + 2 * opt_.padding - opt_.kernel_w) / opt_.stride + 1;
  const int s = opt_.stride, p = opt_.padding;
  if (std::int64_t(ho) * wo <= kTableMaxOutputs) {
    const std::vector<std::int32_t>& t = tap_table(in);
    const int hw = in.h * in.w, hwo = ho * wo, taps = opt_.kernel_h * opt_.kernel_w;
    float* buf = plane_.data();  // buf[hw] stays 0
    for (int c = 0; c < in.c; ++c) {
      std::copy_n(x + std::int64_t(c) * hw, hw, buf);
      for (int r = 0; r < taps; ++r) {
        float* d = col + (std::int64_t(c) * taps + r) * ld;
        const std::int32_t* tr = t.data() + r * hwo;
        for (int q = 0; q < hwo; ++q) d[q] = buf[tr[q]];
      }
    }
    return;
  }
  std::int64_t row = 0;
  for (int c = 0; c < in.c; ++c) {
    const float* plane = x + std::int64_t(c) * in.h * in.w;
    for (int ky = 0; ky < opt_.kernel_h; ++ky) {
      int oy_lo, oy_hi;
      valid_range(in.h, ho, s, p, ky, oy_lo, oy_hi);
      for (int kx = 0; kx < opt_.kernel_w; ++kx, ++row) {
        int ox_lo, ox_hi;
        valid_range(in.w, wo, s, p, kx, ox_lo, ox_hi);
        float* dst = col + row * ld;
        std::fill(dst, dst + std::int64_t(oy_lo) * wo, 0.0f);
        const int off = kx - p;  // input column = ox * s + off, >= 0 for ox >= ox_lo
        for (int oy = oy_lo; oy < oy_hi; ++oy) {
          float* __restrict d = dst + std::int64_t(oy) * wo;
          const float* __restrict src = plane + std::int64_t(oy * s - p + ky) * in.w + off;
          for (int ox = 0; ox < ox_lo; ++ox) d[ox] = 0.0f;
          if (s == 1) {
            for (int ox = ox_lo; ox < ox_hi; ++ox) d[ox] = src[ox];
          } else {
            for (int ox = ox_lo; ox < ox_hi; ++ox) d[ox] = src[ox * s];
          }
          for (int ox = ox_hi; ox < wo; ++ox) d[ox] = 0.0f;
        }
        std::fill(dst + std::int64_t(oy_hi) * wo, dst + std::int64_t(ho) * wo, 0.0f);
      }
    }
  }
}

// Adjoint of im2col: scatters-adds col into dx (which the caller zeroed).
void Conv2d::col2im(const float* col, std::int64_t ld, const Dims& in, float* dx) const {
  const int ho = (in.h + 2 * opt_.padding - opt_.kernel_h) / opt_.stride + 1;
  const int wo = (in.w + 2 * opt_.padding - opt_.kernel_w) / opt_.stride + 1;
  const int s = opt_.stride, p = opt_.padding;
  if (std::int64_t(ho) * wo <= kTableMaxOutputs) {
    const std::vector<std::int32_t>& t = tap_table(in);
    const int hw = in.h * in.w, hwo = ho * wo, taps = opt_.kernel_h * opt_.kernel_w;
    float* buf = plane_.data();
    for (int c = 0; c < in.c; ++c) {
      std::fill_n(buf, hw + 1, 0.0f);
      for (int r = 0; r < taps; ++r) {
        const float* src = col + (std::int64_t(c) * taps + r) * ld;
        const std::int32_t* tr = t.data() + r * hwo;
        for (int q = 0; q < hwo; ++q) buf[tr[q]] += src[q];
      }
      float* plane = dx + std::int64_t(c) * hw;
      for (int i = 0; i < hw; ++i) plane[i] += buf[i];
    }
    buf[hw] = 0.0f;
    return;
  }
  std::int64_t row = 0;
  for (int c = 0; c < in.c; ++c) {
    float* plane = dx + std::int64_t(c) * in.h * in.w;
    for (int ky = 0; ky < opt_.kernel_h; ++ky) {
      int oy_lo, oy_hi;
      valid_range(in.h, ho, s, p, ky, oy_lo, oy_hi);
      for (int kx = 0; kx < opt_.kernel_w; ++kx, ++row) {
        int ox_lo, ox_hi;
        valid_range(in.w, wo, s, p, kx, ox_lo, ox_hi);
        const float* src_row = col + row * ld;
        for (int oy = oy_lo; oy < oy_hi; ++oy) {
          const float* sr = src_row + std::int64_t(oy) * wo;
          float* d = plane + std::int64_t(oy * s - p + ky) * in.w;
          const int off = kx - p;
          if (s == 1) {
            for (int ox = ox_lo; ox < ox_hi; ++ox) d[ox + off] += sr[ox];
          } else {
            for (int ox = ox_lo; ox < ox_hi; ++ox) d[ox * s + off] += sr[ox];
          }
        }
      }
    }
  }
}

void Conv2d::forward_one(const Tensor& x, Tensor& y) {
  const Dims in = x.dims();
  const Dims od = output_dims(in);
  in_dims_ = in;
  implicit_used_ = ImplicitConv::applies(opt_, in);
  if (implicit_used_) {
    if (!implicit_) implicit_ = std::make_unique<ImplicitConv>();
    implicit_->forward(opt_, x, weight_.value.data(), y);
    add_bias(y);
    return;
  }
  y.resize(od);
  x_.assign(x);
  const int groups = opt_.groups;
  const std::int64_t hwo = std::int64_t(od.h) * od.w;
  const std::int64_t cout_g = opt_.out_channels / groups;
  const std::int64_t k_g = std::int64_t(opt_.in_channels / groups) * opt_.kernel_h * opt_.kernel_w;
  const std::int64_t ckk = k_g * groups;
  const int per_gemm = samples_per_gemm(in);

  for (int s0 = 0; s0 < in.n; s0 += per_gemm) {
    const int g = std::min(per_gemm, in.n - s0);
    const std::int64_t cols = g * hwo;
    if (col_.size() < size_t(ckk * cols)) col_.resize(size_t(ckk * cols));
    for (int s = 0; s < g; ++s)
      im2col(x.data() + (s0 + s) * in.per_sample(), in, col_.data() + s * hwo, cols);
    // One sample: the GEMM writes straight into y; several: into out_, then scattered.
    float* out = y.data() + std::int64_t(s0) * od.per_sample();
    if (g > 1) {
      if (out_.size() < size_t(opt_.out_channels * cols)) out_.resize(size_t(opt_.out_channels * cols));
      out = out_.data();
    }
    for (int grp = 0; grp < groups; ++grp)
      sgemm(false, false, cout_g, cols, k_g, weight_.value.data() + grp * cout_g * k_g, k_g,
            col_.data() + grp * k_g * cols, cols, 0.0f, out + grp * cout_g * cols, cols);
    if (g > 1) {
      for (int s = 0; s < g; ++s)
        for (int co = 0; co < opt_.out_channels; ++co)
          std::copy_n(out + co * cols + s * hwo, hwo,
                      y.data() + std::int64_t(s0 + s) * od.per_sample() + co * hwo);
    }
  }
  add_bias(y);
}

void Conv2d::add_bias(Tensor& y) const {
  if (!opt_.bias) return;
  const Dims od = y.dims();
  const std::int64_t hwo = std::int64_t(od.h) * od.w;
  const float* b = bias_.value.data();
  for (int n = 0; n < od.n; ++n)
    for (int co = 0; co < od.c; ++co) {
      float* plane = y.data() + std::int64_t(n) * od.per_sample() + co * hwo;
      const float bc = b[co];
      for (std::int64_t i = 0; i < hwo; ++i) plane[i] += bc;
    }
}

void Conv2d::backward_one(const Tensor& dy, Tensor* dx) {
  const Dims in = in_dims_;
  const Dims od = output_dims(in);
  MIXPREC_CHECK(dy.dims() == od, name() + ": dy " + dy.dims().str() + " != " + od.str());
  const int groups = opt_.groups;
  const std::int64_t hwo = std::int64_t(od.h) * od.w;
  const std::int64_t cout_g = opt_.out_channels / groups;
  const std::int64_t k_g = std::int64_t(opt_.in_channels / groups) * opt_.kernel_h * opt_.kernel_w;
  const std::int64_t ckk = k_g * groups;

  if (opt_.bias) {
    float* db = bias_.grad.data();
    for (int n = 0; n < od.n; ++n)
      for (int co = 0; co < od.c; ++co) {
        const float* plane = dy.data() + std::int64_t(n) * od.per_sample() + co * hwo;
        double sum = 0;
        for (std::int64_t i = 0; i < hwo; ++i) sum += plane[i];
        db[co] += float(sum);
      }
  }
  if (implicit_used_) {
    implicit_->backward(opt_, dy, weight_.value.data(), weight_.grad.data(), dx);
    return;
  }
  if (dx) {
    dx->resize(in);
    dx->set_zero();
  }
  const int per_gemm = samples_per_gemm(in);
  for (int s0 = 0; s0 < in.n; s0 += per_gemm) {
    const int g = std::min(per_gemm, in.n - s0);
    const std::int64_t cols = g * hwo;
    if (col_.size() < size_t(ckk * cols)) col_.resize(size_t(ckk * cols));
    for (int s = 0; s < g; ++s)
      im2col(x_.data() + (s0 + s) * in.per_sample(), in, col_.data() + s * hwo, cols);
    const float* dout = dy.data() + std::int64_t(s0) * od.per_sample();
    if (g > 1) {
      if (out_.size() < size_t(opt_.out_channels * cols)) out_.resize(size_t(opt_.out_channels * cols));
      for (int s = 0; s < g; ++s)
        for (int co = 0; co < opt_.out_channels; ++co)
          std::copy_n(dy.data() + std::int64_t(s0 + s) * od.per_sample() + co * hwo, hwo,
                      out_.data() + co * cols + s * hwo);
      dout = out_.data();
    }
    for (int grp = 0; grp < groups; ++grp) {
      const float* dout_g = dout + grp * cout_g * cols;
      float* col_g = col_.data() + grp * k_g * cols;
      const float* w_g = weight_.value.data() + grp * cout_g * k_g;
      // dW_g += dout_g col_g^T
      sgemm(false, true, cout_g, k_g, cols, dout_g, cols, col_g, cols, 1.0f,
            weight_.grad.data() + grp * cout_g * k_g, k_g);
      // col_g is no longer needed: reuse it for d(col) = W_g^T dout_g.
      if (dx) sgemm(true, false, k_g, cols, cout_g, w_g, k_g, dout_g, cols, 0.0f, col_g, cols);
    }
    if (dx) {
      for (int s = 0; s < g; ++s)
        col2im(col_.data() + s * hwo, cols, in, dx->data() + (s0 + s) * in.per_sample());
    }
  }
}

}  // namespace mixprec::model
