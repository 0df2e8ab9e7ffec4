#include "model/quant_lstm.hpp"

#include <algorithm>
#include <cmath>

#include "model/gemm.hpp"
#include "model/init.hpp"

namespace mixprec::model {

namespace {

// A fixed-range quantizer (gates, h) or the cell's running-range one, applied in place.
struct Fixed {
  QuantSpec spec;
  IntGrid grid{};
  float step = 0;
  void apply(float* x, std::int64_t n) const {
    if (spec.is_identity()) return;
    if (!spec.is_int()) {
      round_to_format(x, n, spec.format, x);
      return;
    }
    fake_quant(x, n, step, grid, x);
  }
};

Fixed fixed(const QuantSpec& s, StepGrid (*grid)(const QuantSpec&)) {
  Fixed f{s};
  if (s.is_int()) {
    const StepGrid g = grid(s);
    f.grid = g.grid;
    f.step = g.step;
  }
  return f;
}

Fixed unit_unsigned(const QuantSpec& s) { return fixed(s, lstm_sigmoid_grid); }
Fixed unit_signed(const QuantSpec& s) { return fixed(s, lstm_tanh_grid); }

}  // namespace

StepGrid lstm_sigmoid_grid(const QuantSpec& s) {
  if (s.fixed_point()) return StepGrid{fixed_point_grid(s.bits), s.fixed_step()};
  const IntGrid g = activation_grid(s.bits, true);
  return StepGrid{g, 1.0f / float(g.qmax)};
}

StepGrid lstm_tanh_grid(const QuantSpec& s) {
  if (s.fixed_point()) return StepGrid{fixed_point_grid(s.bits), s.fixed_step()};
  const IntGrid g = symmetric_grid(s.bits);
  return StepGrid{g, 1.0f / float(g.qmax)};
}

StepGrid lstm_cell_grid(const QuantSpec& s, const Tensor& cell_range) {
  if (s.fixed_point()) return StepGrid{fixed_point_grid(s.bits), s.fixed_step()};
  const IntGrid g = symmetric_grid(s.bits);
  if (cell_range.size() < 2 || cell_range[1] == 0.0f) return StepGrid{g, 0.0f};
  return StepGrid{g, step_for_max_abs(cell_range[0], g)};
}

struct QuantLstm::Direction {
  Direction(const std::string& prefix, const char* suffix, const QuantLstmOptions& o)
      : w_ih(prefix + ".weight_ih" + suffix, ParamRole::Weight,
             Dims{o.lstm.projected_input ? 0 : 4 * o.lstm.hidden, o.lstm.input_size, 1, 1}, true),
        w_hh(prefix + ".weight_hh" + suffix, ParamRole::RecurrentWeight,
             Dims{4 * o.lstm.hidden, o.lstm.hidden, 1, 1}, true),
        b(prefix + ".bias" + suffix, ParamRole::Bias,
          Dims{o.lstm.bias ? 4 * o.lstm.hidden : 0, 1, 1, 1}, false),
        h0(prefix + ".initial_h" + suffix, ParamRole::Bias, Dims{o.lstm.initial_state ? o.lstm.hidden : 0, 1, 1, 1},
           false),
        c0(prefix + ".initial_c" + suffix, ParamRole::Bias, Dims{o.lstm.initial_state ? o.lstm.hidden : 0, 1, 1, 1},
           false),
        q_ih(prefix + ".weight_ih_step" + suffix, o.weight, o.range, w_ih.value.dims()),
        q_hh(prefix + ".weight_hh_step" + suffix, o.recurrent_weight, o.range, w_hh.value.dims()),
        cell_range(prefix + ".cell_range" + suffix, Dims{o.cell.is_int() ? 2 : 0, 1, 1, 1}) {}
  Param w_ih, w_hh, b;
  Param h0, c0;  // initial state (lstm.initial_state), used as given
  WeightQuant q_ih, q_hh;
  Buffer cell_range;  // {max |c|, initialized}
  Tensor wq_ih, wq_hh, gq_ih, gq_hh;  // quantized weights and their gradients
  Fixed cell_q;                       // the cell quantizer of the last forward
  RowMatrix raw;     // activated gates before quantization, steps*batch x 4H
  RowMatrix gates;   // quantized gates
  RowMatrix c_raw;   // f c_prev + i g
  RowMatrix c;       // quantized cell state
  RowMatrix tanh_c;  // tanh(c)
  RowMatrix h;       // quantized hidden state
};

QuantLstm::QuantLstm(std::string name, const QuantLstmOptions& opt)
    : UnaryLayer(std::move(name)), opt_(opt) {
  MIXPREC_CHECK(opt.lstm.input_size > 0 && opt.lstm.hidden > 0, this->name() + ": sizes");
  MIXPREC_CHECK(opt.momentum > 0 && opt.momentum <= 1, this->name() + ": momentum");
  MIXPREC_CHECK(!opt.lstm.projected_input || (opt.lstm.input_size == 4 * opt.lstm.hidden && !opt.lstm.bidirectional),
                this->name() + ": a projected input has 4*hidden features, one direction");
  MIXPREC_CHECK(!(opt.lstm.reverse && opt.lstm.bidirectional), this->name() + ": reverse is one direction");
  dir_[0] = std::make_unique<Direction>(this->name(), "", opt);
  if (opt.lstm.bidirectional) dir_[1] = std::make_unique<Direction>(this->name(), "_reverse", opt);
}

QuantLstm::~QuantLstm() = default;

Param& QuantLstm::weight_ih(int dir) { return dir_[dir]->w_ih; }
Param& QuantLstm::weight_hh(int dir) { return dir_[dir]->w_hh; }
Param& QuantLstm::bias(int dir) { return dir_[dir]->b; }

std::vector<Param*> QuantLstm::params() {
  std::vector<Param*> out;
  for (int d = 0; d < directions(); ++d) {
    if (!opt_.lstm.projected_input) out.push_back(&dir_[d]->w_ih);
    out.push_back(&dir_[d]->w_hh);
    if (opt_.lstm.bias) out.push_back(&dir_[d]->b);
    if (opt_.lstm.initial_state) {
      out.push_back(&dir_[d]->h0);
      out.push_back(&dir_[d]->c0);
    }
  }
  for (int d = 0; d < directions(); ++d) {
    if (Param* p = dir_[d]->q_ih.step_param(); p && !opt_.lstm.projected_input) out.push_back(p);
    if (Param* p = dir_[d]->q_hh.step_param()) out.push_back(p);
  }
  return out;
}

std::vector<Buffer*> QuantLstm::buffers() {
  std::vector<Buffer*> out;
  for (int d = 0; d < directions(); ++d)
    if (dir_[d]->cell_range.value.size() > 0) out.push_back(&dir_[d]->cell_range);
  return out;
}

void QuantLstm::init(std::mt19937_64& rng) {
  const int H = opt_.lstm.hidden;
  for (int d = 0; d < directions(); ++d) {
    if (!opt_.lstm.projected_input) xavier_uniform(dir_[d]->w_ih.value, rng);
    xavier_uniform(dir_[d]->w_hh.value, rng);
    if (opt_.lstm.bias) {
      dir_[d]->b.value.set_zero();
      std::fill_n(dir_[d]->b.value.data() + H, H, 1.0f);  // forget-gate bias 1, as Lstm
    }
    dir_[d]->h0.value.set_zero();
    dir_[d]->c0.value.set_zero();
  }
}

int QuantLstm::steps_of(const Dims& in) const {
  if (std::int64_t(in.h) * in.w == opt_.lstm.input_size) return in.c;
  MIXPREC_CHECK(in.per_sample() == opt_.lstm.input_size,
                name() + ": input " + in.str() + " is not a (batch, steps, " +
                    std::to_string(opt_.lstm.input_size) + ", 1) sequence");
  return 1;
}

Dims QuantLstm::output_dims(const Dims& in) const {
  const int t = steps_of(in);
  const int f = directions() * opt_.lstm.hidden;
  if (opt_.lstm.return_sequences) return Dims{in.n, t, f, 1};
  return Dims{in.n, f, 1, 1};
}

void QuantLstm::forward_one(const Tensor& x, Tensor& y) {
  const Dims od = output_dims(x.dims());
  in_dims_ = x.dims();
  const int B = in_dims_.n, T = steps_of(in_dims_), F = opt_.lstm.input_size;
  const int H = opt_.lstm.hidden;
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
    if (opt_.lstm.return_sequences) {
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

void QuantLstm::forward_direction(int dir) {
  Direction& d = *dir_[dir];
  const bool reverse = reads_reverse(dir);
  const int B = batch_, T = steps_, H = opt_.lstm.hidden;
  const std::int64_t rows = std::int64_t(T) * B;
  if (!opt_.lstm.projected_input) d.q_ih.forward(d.w_ih.value, d.wq_ih);
  d.q_hh.forward(d.w_hh.value, d.wq_hh);
  const Fixed sig_q = unit_unsigned(opt_.gate), tanh_q = unit_signed(opt_.gate);
  const Fixed h_q = unit_signed(opt_.hidden);
  // Cell grid from earlier batches' statistics (none yet: not quantized this time).
  d.cell_q = Fixed{opt_.cell};
  if (opt_.cell.is_int()) {
    const StepGrid cg = lstm_cell_grid(opt_.cell, d.cell_range.value);
    d.cell_q.grid = cg.grid;
    d.cell_q.step = cg.step;
    if (cg.step == 0.0f) d.cell_q.spec = QuantSpec{};  // fp32 pass-through
  }
  d.raw.resize(rows, 4 * H);
  d.gates.resize(rows, 4 * H);
  d.c_raw.resize(rows, H);
  d.c.resize(rows, H);
  d.tanh_c.resize(rows, H);
  d.h.resize(rows, H);
  if (opt_.lstm.projected_input)
    d.raw = xt_;
  else
    sgemm(false, true, rows, 4 * H, opt_.lstm.input_size, xt_.data(), opt_.lstm.input_size, d.wq_ih.data(), opt_.lstm.input_size, 0.0f, d.raw.data(), 4 * H);
  if (opt_.lstm.bias) d.raw.rowwise() += d.b.value.vec().transpose();
  for (int k = 0; k < T; ++k) {
    const int t = reverse ? T - 1 - k : k;
    const int prev = reverse ? t + 1 : t - 1;
    const std::int64_t r0 = std::int64_t(t) * B;
    auto a = d.raw.middleRows(r0, B);
    if (k > 0)
      sgemm(false, true, B, 4 * H, H, d.h.data() + std::int64_t(prev) * B * H, H, d.wq_hh.data(), H, 1.0f,
            a.data(), 4 * H);
    else if (opt_.lstm.initial_state)  // h_{-1} W_hh^T: the same row for every sequence
      a.rowwise() += (ConstMatrixMap(d.wq_hh.data(), 4 * H, H) * d.h0.value.vec()).transpose();
    a.leftCols(2 * H).array() = a.leftCols(2 * H).array().logistic();
    a.middleCols(2 * H, H).array() = a.middleCols(2 * H, H).array().tanh();
    a.rightCols(H).array() = a.rightCols(H).array().logistic();
    auto q = d.gates.middleRows(r0, B);
    q = a;
    for (int b = 0; b < B; ++b) {
      float* row = q.data() + std::int64_t(b) * 4 * H;
      sig_q.apply(row, 2 * H);
      tanh_q.apply(row + 2 * H, H);
      sig_q.apply(row + 3 * H, H);
    }
    auto cr = d.c_raw.middleRows(r0, B).array();
    if (k > 0) {
      cr = q.middleCols(H, H).array() * d.c.middleRows(std::int64_t(prev) * B, B).array() +
           q.leftCols(H).array() * q.middleCols(2 * H, H).array();
    } else if (opt_.lstm.initial_state) {
      cr = q.middleCols(H, H).array().rowwise() * d.c0.value.vec().transpose().array() +
           q.leftCols(H).array() * q.middleCols(2 * H, H).array();
    } else {
      cr = q.leftCols(H).array() * q.middleCols(2 * H, H).array();
    }
    auto c = d.c.middleRows(r0, B);
    c = d.c_raw.middleRows(r0, B);
    d.cell_q.apply(c.data(), std::int64_t(B) * H);
    auto tc = d.tanh_c.middleRows(r0, B).array();
    tc = c.array().tanh();
    auto h = d.h.middleRows(r0, B);
    h.array() = q.rightCols(H).array() * tc;
    h_q.apply(h.data(), std::int64_t(B) * H);
  }
  if (training() && opt_.cell.is_int()) {
    const float m = d.c_raw.size() > 0 ? d.c_raw.cwiseAbs().maxCoeff() : 0.0f;
    float* r = d.cell_range.value.data();
    if (r[1] == 0.0f) {
      r[0] = m;
      r[1] = 1.0f;
    } else {
      const float mom = float(opt_.momentum);
      r[0] = (1.0f - mom) * r[0] + mom * m;
    }
  }
}

void QuantLstm::backward_one(const Tensor& dy, Tensor* dx) {
  MIXPREC_CHECK(dy.dims() == output_dims(in_dims_),
                name() + ": dy " + dy.dims().str() + " != " + output_dims(in_dims_).str());
  const int B = batch_, T = steps_, F = opt_.lstm.input_size;
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

void QuantLstm::backward_direction(int dir, const Tensor& dy, bool need_dx) {
  Direction& d = *dir_[dir];
  const bool reverse = reads_reverse(dir);
  const int B = batch_, T = steps_, H = opt_.lstm.hidden, D = directions();
  const std::int64_t rows = std::int64_t(T) * B;
  // Straight-through for the cell state: zero where c was clipped.
  const bool cell_clips = d.cell_q.spec.is_int();
  const float c_lo = float(d.cell_q.grid.qmin) * d.cell_q.step;
  const float c_hi = float(d.cell_q.grid.qmax) * d.cell_q.step;
  da_.resize(rows, 4 * H);
  dh_.resize(B, H);
  dc_.resize(B, H);
  dh_next_.setZero(B, H);
  dc_next_.setZero(B, H);

  for (int k = T - 1; k >= 0; --k) {
    const int t = reverse ? T - 1 - k : k;
    const int prev = reverse ? t + 1 : t - 1;
    dh_ = dh_next_;
    if (opt_.lstm.return_sequences) {
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
      const float* raw = d.raw.data() + (r0 + b) * 4 * H;
      const float* gate = d.gates.data() + (r0 + b) * 4 * H;
      const float* tc = d.tanh_c.data() + (r0 + b) * H;
      const float* cr = d.c_raw.data() + (r0 + b) * H;
      const float* c_prev = k > 0                     ? d.c.data() + (std::int64_t(prev) * B + b) * H
                            : opt_.lstm.initial_state ? d.c0.value.data()
                                                      : nullptr;
      float* da = da_.data() + (r0 + b) * 4 * H;
      for (int j = 0; j < H; ++j) {
        const float i = gate[j], f = gate[H + j], g = gate[2 * H + j], o = gate[3 * H + j];
        const float ir = raw[j], fr = raw[H + j], gr = raw[2 * H + j], orw = raw[3 * H + j];
        const float dh = dh_(b, j);
        float dc = dh * o * (1.0f - tc[j] * tc[j]) + dc_next_(b, j);
        if (cell_clips && (cr[j] < c_lo || cr[j] > c_hi)) dc = 0.0f;
        da[j] = dc * g * ir * (1.0f - ir);
        da[H + j] = c_prev ? dc * c_prev[j] * fr * (1.0f - fr) : 0.0f;
        da[2 * H + j] = dc * i * (1.0f - gr * gr);
        da[3 * H + j] = dh * tc[j] * orw * (1.0f - orw);
        dc_(b, j) = dc * f;
      }
    }
    dc_next_.swap(dc_);
    if (k > 0)
      sgemm(false, false, B, H, 4 * H, da_.data() + r0 * 4 * H, 4 * H, d.wq_hh.data(), H, 0.0f,
            dh_next_.data(), H);
  }

  d.gq_hh.resize(d.w_hh.value.dims());
  d.gq_ih.resize(d.w_ih.value.dims());
  MatrixMap dw_hh(d.gq_hh.data(), 4 * H, H);
  dw_hh.setZero();
  if (opt_.lstm.initial_state) {  // the first step read initial_h and initial_c (as Lstm)
    const Eigen::RowVectorXf da0 = da_.middleRows(std::int64_t(reverse ? T - 1 : 0) * B, B).colwise().sum();
    d.h0.grad.vec() += (da0 * ConstMatrixMap(d.wq_hh.data(), 4 * H, H)).transpose();
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
  const int F = opt_.lstm.input_size;
  if (!opt_.lstm.projected_input) {
    sgemm(true, false, 4 * H, F, rows, da_.data(), 4 * H, xt_.data(), F, 0.0f, d.gq_ih.data(), F);
    d.q_ih.backward(d.w_ih.value, d.gq_ih, d.w_ih.grad);
  }
  d.q_hh.backward(d.w_hh.value, d.gq_hh, d.w_hh.grad);
  if (opt_.lstm.bias) d.b.grad.vec() += da_.colwise().sum().transpose();
  if (need_dx && opt_.lstm.projected_input)
    dxt_ += da_;
  else if (need_dx)
    sgemm(false, false, rows, F, 4 * H, da_.data(), 4 * H, d.wq_ih.data(), F, 1.0f, dxt_.data(), F);
}

}  // namespace mixprec::model
