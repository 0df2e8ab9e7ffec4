#include "model/lstm.hpp"

#include "model/gemm.hpp"
#include "model/init.hpp"

namespace mixprec::model {

// Parameters and forward cache of one direction. Caches are time-major (row t*batch + b).
struct Lstm::Direction {
  Direction(const std::string& prefix, const char* suffix, const LstmOptions& o)
      : w_ih(prefix + ".weight_ih" + suffix, ParamRole::Weight,
             Dims{o.projected_input ? 0 : 4 * o.hidden, o.input_size, 1, 1}, true),
        w_hh(prefix + ".weight_hh" + suffix, ParamRole::RecurrentWeight,
             Dims{4 * o.hidden, o.hidden, 1, 1}, true),
        b(prefix + ".bias" + suffix, ParamRole::Bias, Dims{o.bias ? 4 * o.hidden : 0, 1, 1, 1},
          false),
        h0(prefix + ".initial_h" + suffix, ParamRole::Bias, Dims{o.initial_state ? o.hidden : 0, 1, 1, 1}, false),
        c0(prefix + ".initial_c" + suffix, ParamRole::Bias, Dims{o.initial_state ? o.hidden : 0, 1, 1, 1}, false) {}
  Param w_ih, w_hh, b;
  Param h0, c0;      // initial state (options().initial_state)
  RowMatrix gates;   // activated gates [i f g o], steps*batch x 4*hidden
  RowMatrix c;       // cell state c_t
  RowMatrix tanh_c;  // tanh(c_t)
  RowMatrix h;       // hidden state h_t
};

Lstm::Lstm(std::string name, const LstmOptions& opt) : UnaryLayer(std::move(name)), opt_(opt) {
  MIXPREC_CHECK(opt.input_size > 0 && opt.hidden > 0, this->name() + ": input_size/hidden");
  MIXPREC_CHECK(!opt.projected_input || (opt.input_size == 4 * opt.hidden && !opt.bidirectional),
                this->name() + ": a projected input has 4*hidden features, one direction");
  MIXPREC_CHECK(!(opt.reverse && opt.bidirectional), this->name() + ": reverse is one direction");
  dir_[0] = std::make_unique<Direction>(this->name(), "", opt);
  if (opt.bidirectional) dir_[1] = std::make_unique<Direction>(this->name(), "_reverse", opt);
}

Lstm::~Lstm() = default;

Param& Lstm::weight_ih(int dir) { return dir_[dir]->w_ih; }
Param& Lstm::weight_hh(int dir) { return dir_[dir]->w_hh; }
Param& Lstm::bias(int dir) { return dir_[dir]->b; }

std::vector<Param*> Lstm::params() {
  std::vector<Param*> out;
  for (int d = 0; d < directions(); ++d) {
    if (!opt_.projected_input) out.push_back(&dir_[d]->w_ih);
    out.push_back(&dir_[d]->w_hh);
    if (opt_.bias) out.push_back(&dir_[d]->b);
    if (opt_.initial_state) {
      out.push_back(&dir_[d]->h0);
      out.push_back(&dir_[d]->c0);
    }
  }
  return out;
}

void Lstm::init(std::mt19937_64& rng) {
  const int H = opt_.hidden;
  for (int d = 0; d < directions(); ++d) {
    if (!opt_.projected_input) xavier_uniform(dir_[d]->w_ih.value, rng);
    xavier_uniform(dir_[d]->w_hh.value, rng);
    if (opt_.bias) {
      dir_[d]->b.value.set_zero();
      std::fill_n(dir_[d]->b.value.data() + H, H, 1.0f);
    }
    dir_[d]->h0.value.set_zero();
    dir_[d]->c0.value.set_zero();
  }
}

int Lstm::steps_of(const Dims& in) const {
  // A (batch, steps, input_size, 1) sequence, or one step per sample (batch, input_size, 1, 1).
  // (CNN frames (batch*frames, c, 1, 1) must be reshaped to (batch, frames, c, 1) first: as
  // they are, they read as batch*frames one-step sequences.)
  if (std::int64_t(in.h) * in.w == opt_.input_size) return in.c;
  MIXPREC_CHECK(in.per_sample() == opt_.input_size,
                name() + ": input " + in.str() + " is not a (batch, steps, " +
                    std::to_string(opt_.input_size) + ", 1) sequence");
  return 1;
}

Dims Lstm::output_dims(const Dims& in) const {
  const int t = steps_of(in);
  const int f = directions() * opt_.hidden;
  if (opt_.return_sequences) return Dims{in.n, t, f, 1};
  return Dims{in.n, f, 1, 1};
}

void Lstm::forward_one(const Tensor& x, Tensor& y) {
  const Dims od = output_dims(x.dims());
  in_dims_ = x.dims();
  const int B = in_dims_.n, T = steps_of(in_dims_), F = opt_.input_size, H = opt_.hidden;
  batch_ = B;
  steps_ = T;
  xt_.resize(std::int64_t(T) * B, F);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      std::copy_n(x.data() + (std::int64_t(b) * T + t) * F, F,
                  xt_.data() + (std::int64_t(t) * B + b) * F);

  for (int d = 0; d < directions(); ++d) forward_direction(d);

  y.resize(od);
  const int D = directions();
  for (int d = 0; d < D; ++d) {
    const RowMatrix& h = dir_[d]->h;
    if (opt_.return_sequences) {
      for (int b = 0; b < B; ++b)
        for (int t = 0; t < T; ++t)
          std::copy_n(h.data() + (std::int64_t(t) * B + b) * H, H,
                      y.data() + (std::int64_t(b) * T + t) * D * H + d * H);
    } else {
      const int last = reads_reverse(d) ? 0 : T - 1;
      for (int b = 0; b < B; ++b)
        std::copy_n(h.data() + (std::int64_t(last) * B + b) * H, H,
                    y.data() + std::int64_t(b) * D * H + d * H);
    }
  }
}

void Lstm::forward_direction(int dir) {
  Direction& d = *dir_[dir];
  const bool reverse = reads_reverse(dir);
  const int B = batch_, T = steps_, H = opt_.hidden;
  const std::int64_t rows = std::int64_t(T) * B;
  d.gates.resize(rows, 4 * H);
  d.c.resize(rows, H);
  d.tanh_c.resize(rows, H);
  d.h.resize(rows, H);
  // Input contributions of all steps in one GEMM; the recurrence adds h_{t-1} W_hh^T per step.
  if (opt_.projected_input)
    d.gates = xt_;
  else
    sgemm(false, true, rows, 4 * H, opt_.input_size, xt_.data(), opt_.input_size, d.w_ih.value.data(), opt_.input_size, 0.0f, d.gates.data(), 4 * H);
  if (opt_.bias) d.gates.rowwise() += d.b.value.vec().transpose();
  for (int k = 0; k < T; ++k) {
    const int t = reverse ? T - 1 - k : k;
    const int prev = reverse ? t + 1 : t - 1;
    auto a = d.gates.middleRows(std::int64_t(t) * B, B);
    if (k > 0)
      sgemm(false, true, B, 4 * H, H, d.h.data() + std::int64_t(prev) * B * H, H, d.w_hh.value.data(), H, 1.0f,
            a.data(), 4 * H);
    else if (opt_.initial_state)  // h_{-1} W_hh^T: the same row for every sequence
      a.rowwise() += (ConstMatrixMap(d.w_hh.value.data(), 4 * H, H) * d.h0.value.vec()).transpose();
    a.leftCols(2 * H).array() = a.leftCols(2 * H).array().logistic();
    a.middleCols(2 * H, H).array() = a.middleCols(2 * H, H).array().tanh();
    a.rightCols(H).array() = a.rightCols(H).array().logistic();
    auto c = d.c.middleRows(std::int64_t(t) * B, B).array();
    if (k > 0) {
      c = a.middleCols(H, H).array() * d.c.middleRows(std::int64_t(prev) * B, B).array() +
          a.leftCols(H).array() * a.middleCols(2 * H, H).array();
    } else if (opt_.initial_state) {
      c = a.middleCols(H, H).array().rowwise() * d.c0.value.vec().transpose().array() +
          a.leftCols(H).array() * a.middleCols(2 * H, H).array();
    } else {
      c = a.leftCols(H).array() * a.middleCols(2 * H, H).array();
    }
    auto tc = d.tanh_c.middleRows(std::int64_t(t) * B, B).array();
    tc = c.tanh();
    d.h.middleRows(std::int64_t(t) * B, B).array() = a.rightCols(H).array() * tc;
  }
}

void Lstm::backward_one(const Tensor& dy, Tensor* dx) {
  MIXPREC_CHECK(dy.dims() == output_dims(in_dims_),
                name() + ": dy " + dy.dims().str() + " != " + output_dims(in_dims_).str());
  const int B = batch_, T = steps_, F = opt_.input_size;
  if (dx) {
    dxt_.resize(std::int64_t(T) * B, F);
    dxt_.setZero();
  }
  for (int d = 0; d < directions(); ++d) backward_direction(d, dy, dx != nullptr);
  if (dx) {
    dx->resize(in_dims_);
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < T; ++t)
        std::copy_n(dxt_.data() + (std::int64_t(t) * B + b) * F, F,
                    dx->data() + (std::int64_t(b) * T + t) * F);
  }
}

void Lstm::backward_direction(int dir, const Tensor& dy, bool need_dx) {
  Direction& d = *dir_[dir];
  const bool reverse = reads_reverse(dir);
  const int B = batch_, T = steps_, H = opt_.hidden, D = directions();
  const std::int64_t rows = std::int64_t(T) * B;
  da_.resize(rows, 4 * H);
  dh_.resize(B, H);
  dc_.resize(B, H);
  dh_next_.setZero(B, H);
  dc_next_.setZero(B, H);

  for (int k = T - 1; k >= 0; --k) {
    const int t = reverse ? T - 1 - k : k;
    const int prev = reverse ? t + 1 : t - 1;
    // dL/dh_t: from the output (every step, or only the direction's final step) + recurrence.
    dh_ = dh_next_;
    if (opt_.return_sequences) {
      for (int b = 0; b < B; ++b) {
        const float* g = dy.data() + (std::int64_t(b) * T + t) * D * H + dir * H;
        for (int j = 0; j < H; ++j) dh_(b, j) += g[j];
      }
    } else if (k == T - 1) {
      for (int b = 0; b < B; ++b) {
        const float* g = dy.data() + std::int64_t(b) * D * H + dir * H;
        for (int j = 0; j < H; ++j) dh_(b, j) += g[j];
      }
    }
    const std::int64_t r0 = std::int64_t(t) * B;
    for (int b = 0; b < B; ++b) {
      const float* gate = d.gates.data() + (r0 + b) * 4 * H;
      const float* tc = d.tanh_c.data() + (r0 + b) * H;
      const float* c_prev = k > 0                ? d.c.data() + (std::int64_t(prev) * B + b) * H
                            : opt_.initial_state ? d.c0.value.data()
                                                 : nullptr;
      float* da = da_.data() + (r0 + b) * 4 * H;
      for (int j = 0; j < H; ++j) {
        const float i = gate[j], f = gate[H + j], g = gate[2 * H + j], o = gate[3 * H + j];
        const float dh = dh_(b, j);
        const float dc = dh * o * (1.0f - tc[j] * tc[j]) + dc_next_(b, j);
        da[j] = dc * g * i * (1.0f - i);
        da[H + j] = c_prev ? dc * c_prev[j] * f * (1.0f - f) : 0.0f;
        da[2 * H + j] = dc * i * (1.0f - g * g);
        da[3 * H + j] = dh * tc[j] * o * (1.0f - o);
        dc_(b, j) = dc * f;
      }
    }
    dc_next_.swap(dc_);
    if (k > 0)
      sgemm(false, false, B, H, 4 * H, da_.data() + r0 * 4 * H, 4 * H, d.w_hh.value.data(), H, 0.0f,
            dh_next_.data(), H);
  }

  MatrixMap dw_hh(d.w_hh.grad.data(), 4 * H, H);
  if (opt_.initial_state) {
    // The first step read h_{-1} = initial_h (every sequence) and c_{-1} = initial_c; dc_next_
    // now holds dL/dc_{-1}.
    const Eigen::RowVectorXf da0 = da_.middleRows(std::int64_t(reverse ? T - 1 : 0) * B, B).colwise().sum();
    d.h0.grad.vec() += (da0 * ConstMatrixMap(d.w_hh.value.data(), 4 * H, H)).transpose();
    d.c0.grad.vec() += dc_next_.colwise().sum().transpose();
    dw_hh += da0.transpose() * d.h0.value.vec().transpose();
  }
  if (T > 1) {
    const std::int64_t n = std::int64_t(T - 1) * B;
    // Step t's gate gradients pair with h of its predecessor step.
    const float* da_rows = da_.data() + (reverse ? 0 : std::int64_t(B) * 4 * H);
    const float* h_rows = d.h.data() + (reverse ? std::int64_t(B) * H : 0);
    sgemm(true, false, 4 * H, H, n, da_rows, 4 * H, h_rows, H, 1.0f, dw_hh.data(), H);
  }
  const int F = opt_.input_size;
  if (!opt_.projected_input)
    sgemm(true, false, 4 * H, F, rows, da_.data(), 4 * H, xt_.data(), F, 1.0f, d.w_ih.grad.data(), F);
  if (opt_.bias) d.b.grad.vec() += da_.colwise().sum().transpose();
  if (need_dx && opt_.projected_input)
    dxt_ += da_;
  else if (need_dx)
    sgemm(false, false, rows, F, 4 * H, da_.data(), 4 * H, d.w_ih.value.data(), F, 1.0f, dxt_.data(), F);
}

}  // namespace mixprec::model
