#include "model/gru.hpp"

#include "model/init.hpp"

namespace mixprec::model {

// Parameters, quantized copies and the forward cache of one direction (time-major rows).
struct Gru::Direction {
  Direction(const std::string& prefix, const char* suffix, const GruOptions& o)
      : w_ih(prefix + ".weight_ih" + suffix, ParamRole::Weight, Dims{3 * o.hidden, o.input_size, 1, 1}, true),
        w_hh(prefix + ".weight_hh" + suffix, ParamRole::RecurrentWeight, Dims{3 * o.hidden, o.hidden, 1, 1}, true),
        b(prefix + ".bias" + suffix, ParamRole::Bias, Dims{3 * o.hidden, 1, 1, 1}, false),
        b_hn(prefix + ".bias_hn" + suffix, ParamRole::Bias, Dims{o.hidden, 1, 1, 1}, false) {
    if (!o.weight.is_identity())
      q_ih = std::make_unique<WeightQuant>(prefix + ".weight_ih_step" + suffix, o.weight, o.range, w_ih.value.dims());
    if (!o.recurrent_weight.is_identity())
      q_hh = std::make_unique<WeightQuant>(prefix + ".weight_hh_step" + suffix, o.recurrent_weight, o.range,
                                           w_hh.value.dims());
  }
  Param w_ih, w_hh, b, b_hn;
  std::unique_ptr<WeightQuant> q_ih, q_hh;
  Tensor qw_ih, qw_hh, gq_ih, gq_hh;  // quantized weights and their gradients
  RowMatrix gates;  // r, z, n (activated), steps*batch x 3H
  RowMatrix hn;     // linear_before_reset: h W_hn^T + b_hn; otherwise r * h_prev
  RowMatrix h;      // h_t

  const Tensor& wih() const { return q_ih ? qw_ih : w_ih.value; }
  const Tensor& whh() const { return q_hh ? qw_hh : w_hh.value; }
};

Gru::Gru(std::string name, const GruOptions& opt) : UnaryLayer(std::move(name)), opt_(opt) {
  MIXPREC_CHECK(opt.input_size > 0 && opt.hidden > 0, this->name() + ": input_size/hidden");
  MIXPREC_CHECK(!(opt.reverse && opt.bidirectional), this->name() + ": reverse is one direction");
  dir_[0] = std::make_unique<Direction>(this->name(), "", opt);
  if (opt.bidirectional) dir_[1] = std::make_unique<Direction>(this->name(), "_reverse", opt);
}

Gru::~Gru() = default;

std::vector<Param*> Gru::params() {
  std::vector<Param*> out;
  for (int d = 0; d < directions(); ++d) {
    Direction& r = *dir_[d];
    out.insert(out.end(), {&r.w_ih, &r.w_hh, &r.b, &r.b_hn});
    if (r.q_ih && r.q_ih->step_param()) out.push_back(r.q_ih->step_param());
    if (r.q_hh && r.q_hh->step_param()) out.push_back(r.q_hh->step_param());
  }
  return out;
}

void Gru::init(std::mt19937_64& rng) {
  for (int d = 0; d < directions(); ++d) {
    xavier_uniform(dir_[d]->w_ih.value, rng);
    xavier_uniform(dir_[d]->w_hh.value, rng);
    dir_[d]->b.value.set_zero();
    dir_[d]->b_hn.value.set_zero();
  }
}

int Gru::steps_of(const Dims& in) const {
  if (std::int64_t(in.h) * in.w == opt_.input_size) return in.c;
  MIXPREC_CHECK(in.per_sample() == opt_.input_size,
                name() + ": input " + in.str() + " is not a (batch, steps, " + std::to_string(opt_.input_size) +
                    ", 1) sequence");
  return 1;
}

Dims Gru::output_dims(const Dims& in) const {
  const int t = steps_of(in), f = directions() * opt_.hidden;
  return opt_.return_sequences ? Dims{in.n, t, f, 1} : Dims{in.n, f, 1, 1};
}

void Gru::forward_one(const Tensor& x, Tensor& y) {
  in_dims_ = x.dims();
  const int B = in_dims_.n, T = steps_of(in_dims_), F = opt_.input_size, H = opt_.hidden, D = directions();
  batch_ = B;
  steps_ = T;
  xt_.resize(std::int64_t(T) * B, F);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      std::copy_n(x.data() + (std::int64_t(b) * T + t) * F, F, xt_.data() + (std::int64_t(t) * B + b) * F);
  for (int d = 0; d < D; ++d) forward_direction(*dir_[d], d == 1 || opt_.reverse);
  y.resize(output_dims(in_dims_));
  for (int d = 0; d < D; ++d) {
    const RowMatrix& h = dir_[d]->h;
    for (int b = 0; b < B; ++b) {
      if (opt_.return_sequences) {
        for (int t = 0; t < T; ++t)
          std::copy_n(h.data() + (std::int64_t(t) * B + b) * H, H, y.data() + (std::int64_t(b) * T + t) * D * H + d * H);
      } else {
        const int last = d == 1 || opt_.reverse ? 0 : T - 1;
        std::copy_n(h.data() + (std::int64_t(last) * B + b) * H, H, y.data() + std::int64_t(b) * D * H + d * H);
      }
    }
  }
}

void Gru::forward_direction(Direction& d, bool reverse) {
  const int B = batch_, T = steps_, F = opt_.input_size, H = opt_.hidden;
  if (d.q_ih) d.q_ih->forward(d.w_ih.value, d.qw_ih);
  if (d.q_hh) d.q_hh->forward(d.w_hh.value, d.qw_hh);
  const ConstMatrixMap wih(d.wih().data(), 3 * H, F), whh(d.whh().data(), 3 * H, H);
  const auto bias = d.b.value.vec().transpose();
  const auto bhn = d.b_hn.value.vec().transpose();
  const std::int64_t rows = std::int64_t(T) * B;
  d.gates.noalias() = xt_ * wih.transpose();  // input contributions of all steps
  d.gates.rowwise() += bias;
  d.hn.resize(rows, H);
  d.h.resize(rows, H);
  const RowMatrix zero = RowMatrix::Zero(B, H);
  RowMatrix hp(B, 3 * H), rh(B, H);
  for (int k = 0; k < T; ++k) {
    const int t = reverse ? T - 1 - k : k;
    const int prev = reverse ? t + 1 : t - 1;
    auto a = d.gates.middleRows(std::int64_t(t) * B, B);
    const RowMatrix& hsrc = k > 0 ? d.h : zero;
    const auto hprev = hsrc.middleRows(k > 0 ? std::int64_t(prev) * B : 0, B);
    auto hn = d.hn.middleRows(std::int64_t(t) * B, B);
    if (opt_.linear_before_reset) {
      hp.noalias() = hprev * whh.transpose();
      a.leftCols(2 * H) += hp.leftCols(2 * H);
      a.leftCols(2 * H).array() = a.leftCols(2 * H).array().logistic();
      hn = hp.rightCols(H);
      hn.rowwise() += bhn;
      a.rightCols(H).array() = (a.rightCols(H).array() + a.leftCols(H).array() * hn.array()).tanh();
    } else {
      hp.leftCols(2 * H).noalias() = hprev * whh.topRows(2 * H).transpose();
      a.leftCols(2 * H) += hp.leftCols(2 * H);
      a.leftCols(2 * H).array() = a.leftCols(2 * H).array().logistic();
      hn.array() = a.leftCols(H).array() * hprev.array();  // r * h_prev
      rh.noalias() = hn * whh.bottomRows(H).transpose();
      rh.rowwise() += bhn;
      a.rightCols(H).array() = (a.rightCols(H).array() + rh.array()).tanh();
    }
    d.h.middleRows(std::int64_t(t) * B, B).array() =
        (1.0f - a.middleCols(H, H).array()) * a.rightCols(H).array() + a.middleCols(H, H).array() * hprev.array();
  }
}

void Gru::backward_one(const Tensor& dy, Tensor* dx) {
  MIXPREC_CHECK(dy.dims() == output_dims(in_dims_), name() + ": dy " + dy.dims().str());
  const int B = batch_, T = steps_, F = opt_.input_size;
  if (dx) dxt_.setZero(std::int64_t(T) * B, F);
  for (int d = 0; d < directions(); ++d) backward_direction(*dir_[d], d == 1 || opt_.reverse, dy, dx != nullptr);
  if (dx) {
    dx->resize(in_dims_);
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < T; ++t)
        std::copy_n(dxt_.data() + (std::int64_t(t) * B + b) * F, F, dx->data() + (std::int64_t(b) * T + t) * F);
  }
}

void Gru::backward_direction(Direction& d, bool reverse, const Tensor& dy, bool need_dx) {
  const int B = batch_, T = steps_, F = opt_.input_size, H = opt_.hidden, D = directions();
  const int dir = reverse && D == 2 ? 1 : 0;  // the direction's features in dy
  const std::int64_t rows = std::int64_t(T) * B;
  const ConstMatrixMap wih(d.wih().data(), 3 * H, F), whh(d.whh().data(), 3 * H, H);
  // Gradients of the weights the forward used (the quantized copies when quantization-aware).
  Tensor& gih = d.q_ih ? d.gq_ih : d.w_ih.grad;
  Tensor& ghh = d.q_hh ? d.gq_hh : d.w_hh.grad;
  if (d.q_ih) gih.resize(d.w_ih.value.dims()), gih.set_zero();
  if (d.q_hh) ghh.resize(d.w_hh.value.dims()), ghh.set_zero();
  MatrixMap dwih(gih.data(), 3 * H, F), dwhh(ghh.data(), 3 * H, H);
  auto dbias = d.b.grad.vec();
  auto dbhn = d.b_hn.grad.vec();
  RowMatrix da(rows, 3 * H);  // gradients of the input-side pre-activations
  RowMatrix dh = RowMatrix::Zero(B, H), dh_next = RowMatrix::Zero(B, H), dhp(B, 3 * H), drh(B, H);
  const RowMatrix zero = RowMatrix::Zero(B, H);
  for (int k = T - 1; k >= 0; --k) {
    const int t = reverse ? T - 1 - k : k;
    const int prev = reverse ? t + 1 : t - 1;
    const std::int64_t r0 = std::int64_t(t) * B;
    dh = dh_next;
    for (int b = 0; b < B; ++b) {
      const float* g = nullptr;
      if (opt_.return_sequences) g = dy.data() + (std::int64_t(b) * T + t) * D * H + dir * H;
      else if (k == T - 1) g = dy.data() + std::int64_t(b) * D * H + dir * H;
      if (g)
        for (int j = 0; j < H; ++j) dh(b, j) += g[j];
    }
    const RowMatrix& hsrc = k > 0 ? d.h : zero;
    const auto hprev = hsrc.middleRows(k > 0 ? std::int64_t(prev) * B : 0, B);
    const auto a = d.gates.middleRows(r0, B).array();
    const auto r = a.leftCols(H), z = a.middleCols(H, H), n = a.rightCols(H);
    const auto hn = d.hn.middleRows(r0, B).array();
    auto dat = da.middleRows(r0, B);
    const Eigen::ArrayXXf dn = dh.array() * (1.0f - z);
    const Eigen::ArrayXXf dan = dn * (1.0f - n * n);
    dat.rightCols(H) = dan.matrix();
    dat.middleCols(H, H) = (dh.array() * (hprev.array() - n) * z * (1.0f - z)).matrix();
    dh_next = (dh.array() * z).matrix();
    if (opt_.linear_before_reset) {
      dat.leftCols(H) = (dan * hn * r * (1.0f - r)).matrix();
      dhp.leftCols(2 * H) = dat.leftCols(2 * H);
      dhp.rightCols(H) = (dan * r).matrix();
      dbhn += dhp.rightCols(H).colwise().sum().transpose();
      if (k > 0) {
        dwhh.noalias() += dhp.transpose() * hprev;
        dh_next.noalias() += dhp * whh;
      }
    } else {
      // n's recurrent product reads r * h_prev: W_hn's gradient pairs with it.
      dbhn += dat.rightCols(H).colwise().sum().transpose();
      dwhh.bottomRows(H).noalias() += dat.rightCols(H).transpose() * d.hn.middleRows(r0, B);
      drh.noalias() = dat.rightCols(H) * whh.bottomRows(H);
      dat.leftCols(H) = (drh.array() * hprev.array() * r * (1.0f - r)).matrix();
      dh_next.array() += drh.array() * r;
      if (k > 0) {
        dwhh.topRows(2 * H).noalias() += dat.leftCols(2 * H).transpose() * hprev;
        dh_next.noalias() += dat.leftCols(2 * H) * whh.topRows(2 * H);
      }
    }
  }
  dwih.noalias() += da.transpose() * xt_;
  dbias += da.colwise().sum().transpose();
  if (need_dx) dxt_.noalias() += da * wih;
  if (d.q_ih) d.q_ih->backward(d.w_ih.value, gih, d.w_ih.grad);
  if (d.q_hh) d.q_hh->backward(d.w_hh.value, ghh, d.w_hh.grad);
}

}  // namespace mixprec::model
