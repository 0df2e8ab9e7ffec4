#include "model/tensor_linear.hpp"

#include <algorithm>
#include <cmath>

#include "core/errors.hpp"
#include "model/gemm.hpp"

namespace mixprec::model {

namespace {

using i64 = std::int64_t;

// dst = src transposed: src has axes `dims` (row-major); dst has axes perm[0], perm[1], ...
// (perm[k] = index into dims of dst's k-th axis). With accumulate, dst += instead of =.
void permute(const float* src, const std::vector<i64>& dims, const std::vector<int>& perm, float* dst,
             bool accumulate = false) {
  const std::size_t r = dims.size();
  std::vector<i64> stride(r, 1);
  for (std::size_t a = r; a-- > 1;) stride[a - 1] = stride[a] * dims[a];
  i64 total = 1;
  for (i64 d : dims) total *= d;
  if (total == 0) return;
  // The innermost destination axis runs contiguously; the outer ones by an odometer.
  const i64 inner = r ? dims[size_t(perm[r - 1])] : 1;
  const i64 inner_stride = r ? stride[size_t(perm[r - 1])] : 1;
  std::vector<i64> idx(r, 0);
  i64 off = 0;
  for (i64 o = 0; o < total; o += inner) {
    const float* s = src + off;
    float* d = dst + o;
    if (accumulate)
      for (i64 e = 0; e < inner; ++e) d[e] += s[e * inner_stride];
    else
      for (i64 e = 0; e < inner; ++e) d[e] = s[e * inner_stride];
    for (std::size_t k = r - 1; k-- > 0;) {
      const std::size_t a = size_t(perm[k]);
      off += stride[a];
      if (++idx[k] < dims[a]) break;
      off -= stride[a] * dims[a];
      idx[k] = 0;
    }
  }
}

std::vector<int> positions(const std::vector<int>& of, const std::vector<int>& in) {
  std::vector<int> p;
  for (int a : of) p.push_back(int(std::find(in.begin(), in.end(), a) - in.begin()));
  return p;
}

Dims core_dims(const TensorCore& c, const std::vector<int>& axis_size) {
  MIXPREC_CHECK(c.axes.size() >= 1 && c.axes.size() <= 4, "core of 1-4 axes");
  int d[4] = {1, 1, 1, 1};
  for (std::size_t k = 0; k < c.axes.size(); ++k) d[k] = axis_size[size_t(c.axes[k])];
  return Dims{d[0], d[1], d[2], d[3]};
}

}  // namespace

struct FactorizedLinear::Impl {
  std::vector<std::unique_ptr<Param>> cores;      // masters (the optimizer's parameters)
  std::vector<std::unique_ptr<WeightQuant>> wq;   // when quantized
  std::vector<std::unique_ptr<ActQuant>> pq;      // per step but the last: its product
  std::vector<Tensor> prod, prod_q;               // per step but the last: product, quantized
  Tensor dq, dp;                                  // scratch: gradients through a product quantizer
  std::vector<Tensor> shadow, shadow_grad;        // Q(master) and its gradient
  std::vector<StepLayout> layout;
  std::vector<int> out_perm;                      // final state -> output mode order
  std::vector<std::vector<float>> a;              // per step: permuted A (rows*m x k)
  std::vector<std::vector<float>> b;              // per step: permuted core (k x n)
  std::vector<float> out, grad, grad_prev;        // scratch
  i64 rows = 0;
  bool quant = false;
};

FactorizedLinear::FactorizedLinear(std::string name, const FactorizedLinearOptions& opt)
    : UnaryLayer(std::move(name)), opt_(opt), impl_(std::make_unique<Impl>()) {
  tn_ = make_tensor_network(opt_.factorization);
  plan_ = plan_min_macs(tn_);
  Impl& im = *impl_;
  im.quant = !opt_.weight.is_identity();
  for (const TensorCore& c : tn_.cores) {
    const Dims d = core_dims(c, tn_.axis_size);
    im.cores.push_back(std::make_unique<Param>(param_name(c.name.c_str()), ParamRole::Weight, d, true));
    im.shadow.emplace_back(d);
    im.shadow_grad.emplace_back(d);
    if (im.quant)
      im.wq.push_back(std::make_unique<WeightQuant>(param_name((c.name + "_step").c_str()), opt_.weight,
                                                    opt_.range, d));
  }
  std::vector<int> state = tn_.input_axes;
  for (const ContractionStep& s : plan_.steps) {
    StepLayout L;
    L.state_axes = state;
    std::vector<int> ak = s.kept;
    ak.insert(ak.end(), s.contracted.begin(), s.contracted.end());
    L.a_perm.push_back(0);  // the row axis stays first
    for (int p : positions(ak, state)) L.a_perm.push_back(p + 1);
    const std::vector<int>& core = tn_.cores[size_t(s.core)].axes;
    std::vector<int> bk = s.contracted;
    bk.insert(bk.end(), s.added.begin(), s.added.end());
    L.b_perm = positions(bk, core);
    for (int a : core) L.b_dims.push_back(tn_.axis_size[size_t(a)]);
    im.layout.push_back(std::move(L));
    state = s.kept;
    state.insert(state.end(), s.added.begin(), s.added.end());
  }
  im.out_perm.push_back(0);
  for (int p : positions(tn_.output_axes, state)) im.out_perm.push_back(p + 1);
  if (!opt_.product.is_identity()) {
    ActQuantOptions ao;
    ao.spec = opt_.product;
    ao.spec.is_unsigned = false;
    ao.range = opt_.range;
    for (std::size_t s = 0; s + 1 < plan_.steps.size(); ++s) {
      im.pq.push_back(std::make_unique<ActQuant>(param_name((tn_.cores[size_t(plan_.steps[s].core)].name + "_out").c_str()), ao));
      im.pq.back()->set_training(training());
    }
    im.prod.resize(im.pq.size());
    im.prod_q.resize(im.pq.size());
  }
  im.a.resize(plan_.steps.size());
  im.b.resize(plan_.steps.size());
}

FactorizedLinear::~FactorizedLinear() = default;

const char* FactorizedLinear::kind() const {
  return opt_.factorization.kind == FactorizationKind::TensorTrain ? "tt_linear" : "ht_linear";
}

Param& FactorizedLinear::core(int i) { return *impl_->cores[size_t(i)]; }

const std::vector<StepLayout>& FactorizedLinear::step_layouts() const { return impl_->layout; }

const std::vector<int>& FactorizedLinear::output_permutation() const { return impl_->out_perm; }

const ActQuant* FactorizedLinear::product_quantizer(std::size_t step) const {
  return step < impl_->pq.size() ? impl_->pq[step].get() : nullptr;
}

FactorizedLinearOptions projection_options(const Factorization& f, const LayerPrecision* p, RangeMethod range) {
  FactorizedLinearOptions fo;
  fo.factorization = f;
  if (p) {
    fo.weight = quant_spec(p->weights());
    fo.product = quant_spec(p->activations(), false, p->fraction_bits);
  }
  fo.range = range;
  return fo;
}

std::vector<Param*> FactorizedLinear::params() {
  std::vector<Param*> out;
  for (auto& c : impl_->cores) out.push_back(c.get());
  for (auto& q : impl_->wq)
    if (Param* p = q->step_param()) out.push_back(p);
  for (auto& q : impl_->pq)
    for (Param* p : q->params()) out.push_back(p);
  return out;
}

std::vector<Buffer*> FactorizedLinear::buffers() {
  std::vector<Buffer*> out;
  for (auto& q : impl_->pq)
    for (Buffer* b : q->buffers()) out.push_back(b);
  return out;
}

void FactorizedLinear::set_training(bool on) {
  Layer::set_training(on);
  for (auto& q : impl_->pq) q->set_training(on);
}

void FactorizedLinear::init(std::mt19937_64& rng) {
  // Var(W entry) = prod_c var_c * prod(rank sizes); every core gets the same var_c.
  double paths = 1;
  for (std::size_t a = 0; a < tn_.axis_size.size(); ++a) {
    const bool io = std::find(tn_.input_axes.begin(), tn_.input_axes.end(), int(a)) != tn_.input_axes.end() ||
                    std::find(tn_.output_axes.begin(), tn_.output_axes.end(), int(a)) != tn_.output_axes.end();
    if (!io) paths *= tn_.axis_size[a];
  }
  const double target = 2.0 / double(in_features() + out_features());
  const double var_c = std::pow(target / paths, 1.0 / double(tn_.cores.size()));
  const float bound = float(std::sqrt(3.0 * var_c));
  std::uniform_real_distribution<float> u(-bound, bound);
  for (auto& c : impl_->cores)
    for (i64 i = 0; i < c->value.size(); ++i) c->value[i] = u(rng);
}

Dims FactorizedLinear::output_dims(const Dims& in) const {
  const i64 f = in_features();
  const int out = int(out_features());
  if (in.w == 1 && i64(in.h) == f) return Dims{in.n, in.c, out, 1};  // (n, steps, f, 1)
  MIXPREC_CHECK(in.per_sample() == f, name() + ": input " + in.str() + " does not have " +
                                          std::to_string(f) + " features");
  return Dims{in.n, out, 1, 1};
}

void FactorizedLinear::run_forward(const float* x, i64 rows, float* y, bool quantize_products) {
  Impl& im = *impl_;
  im.rows = rows;
  for (std::size_t c = 0; c < im.cores.size(); ++c) {
    if (im.quant)
      im.wq[c]->forward(im.cores[c]->value, im.shadow[c]);
    else
      im.shadow[c].assign(im.cores[c]->value);
  }
  const float* cur = x;
  std::vector<float>& out = im.out;
  std::vector<float> state;
  for (std::size_t s = 0; s < plan_.steps.size(); ++s) {
    const ContractionStep& st = plan_.steps[s];
    const StepLayout& L = im.layout[s];
    std::vector<i64> dims{rows};
    for (int a : L.state_axes) dims.push_back(tn_.axis_size[size_t(a)]);
    const i64 m = rows * st.m;
    im.a[s].resize(size_t(m * st.k));
    permute(cur, dims, L.a_perm, im.a[s].data());
    im.b[s].resize(size_t(st.k * st.n));
    permute(im.shadow[size_t(st.core)].data(), L.b_dims, L.b_perm, im.b[s].data());
    if (quantize_products && s < im.pq.size()) {
      // The product, then the next step's operand at the activation bits.
      im.prod[s].resize(Dims{int(rows), int(st.m * st.n), 1, 1});
      sgemm(false, false, m, st.n, st.k, im.a[s].data(), st.k, im.b[s].data(), st.n, 0.0f, im.prod[s].data(), st.n);
      im.pq[s]->forward(im.prod[s], im.prod_q[s]);
      cur = im.prod_q[s].data();
    } else {
      out.resize(size_t(m * st.n));
      sgemm(false, false, m, st.n, st.k, im.a[s].data(), st.k, im.b[s].data(), st.n, 0.0f, out.data(), st.n);
      state.swap(out);
      cur = state.data();
    }
  }
  std::vector<i64> dims{rows};
  for (int a : plan_.final_axes) dims.push_back(tn_.axis_size[size_t(a)]);
  permute(cur, dims, im.out_perm, y);
}

void FactorizedLinear::forward_one(const Tensor& x, Tensor& y) {
  const Dims od = output_dims(x.dims());
  in_dims_ = x.dims();
  y.resize(od);
  run_forward(x.data(), x.size() / in_features(), y.data());
}

void FactorizedLinear::backward_one(const Tensor& dy, Tensor* dx) {
  Impl& im = *impl_;
  MIXPREC_CHECK(dy.dims() == output_dims(in_dims_), name() + ": dy " + dy.dims().str());
  const i64 rows = im.rows;
  // dy in output mode order -> the last product's layout (the inverse permutation).
  std::vector<i64> out_dims{rows};
  for (int a : tn_.output_axes) out_dims.push_back(tn_.axis_size[size_t(a)]);
  std::vector<int> inv(im.out_perm.size());
  for (std::size_t k = 0; k < inv.size(); ++k) inv[size_t(im.out_perm[k])] = int(k);
  im.grad.resize(size_t(dy.size()));
  permute(dy.data(), out_dims, inv, im.grad.data());
  for (auto& g : im.shadow_grad) g.set_zero();
  for (std::size_t s = plan_.steps.size(); s-- > 0;) {
    const ContractionStep& st = plan_.steps[s];
    const StepLayout& L = im.layout[s];
    const i64 m = rows * st.m;
    // dCore (k x n) = A^T dOut, scattered back to the core's storage order.
    std::vector<float> db(size_t(st.k * st.n));
    sgemm(true, false, st.k, st.n, m, im.a[s].data(), st.k, im.grad.data(), st.n, 0.0f, db.data(), st.n);
    std::vector<i64> bk_dims;
    for (int p : L.b_perm) bk_dims.push_back(L.b_dims[size_t(p)]);
    std::vector<int> b_inv(L.b_perm.size());
    for (std::size_t k = 0; k < b_inv.size(); ++k) b_inv[size_t(L.b_perm[k])] = int(k);
    permute(db.data(), bk_dims, b_inv, im.shadow_grad[size_t(st.core)].data(), true);
    if (s == 0 && !dx) break;
    // dA (rows*m x k) = dOut B^T, back to the state layout before the step.
    std::vector<float> da(size_t(m * st.k));
    sgemm(false, true, m, st.k, st.n, im.grad.data(), st.n, im.b[s].data(), st.n, 0.0f, da.data(), st.k);
    std::vector<i64> ak_dims{rows};
    std::vector<i64> state_dims{rows};
    for (int a : L.state_axes) state_dims.push_back(tn_.axis_size[size_t(a)]);
    for (std::size_t k = 1; k < L.a_perm.size(); ++k) ak_dims.push_back(state_dims[size_t(L.a_perm[k])]);
    std::vector<int> a_inv(L.a_perm.size());
    for (std::size_t k = 0; k < a_inv.size(); ++k) a_inv[size_t(L.a_perm[k])] = int(k);
    im.grad_prev.resize(size_t(m * st.k));
    permute(da.data(), ak_dims, a_inv, im.grad_prev.data());
    if (s >= 1 && s - 1 < im.pq.size()) {
      // Through the product quantizer of the step before (straight-through inside its range).
      im.dq.resize(im.prod[s - 1].dims());
      std::copy(im.grad_prev.begin(), im.grad_prev.end(), im.dq.data());
      im.pq[s - 1]->backward(im.dq, im.dp);
      std::copy(im.dp.data(), im.dp.data() + im.dp.size(), im.grad_prev.begin());
    }
    im.grad.swap(im.grad_prev);
  }
  for (std::size_t c = 0; c < im.cores.size(); ++c) {
    if (im.quant)
      im.wq[c]->backward(im.cores[c]->value, im.shadow_grad[c], im.cores[c]->grad);
    else
      im.cores[c]->grad.vec() += im.shadow_grad[c].vec();
  }
  if (dx) {
    dx->resize(in_dims_);
    std::copy(im.grad.begin(), im.grad.end(), dx->data());
  }
}

Tensor FactorizedLinear::dense_weight() {
  const i64 in = in_features(), out = out_features();
  // Rows of the identity give the rows of W^T.
  std::vector<float> eye(size_t(in * in), 0.0f), wt(size_t(in * out));
  for (i64 i = 0; i < in; ++i) eye[size_t(i * in + i)] = 1.0f;
  run_forward(eye.data(), in, wt.data(), false);
  Tensor w(Dims{int(out), int(in), 1, 1});
  for (i64 i = 0; i < in; ++i)
    for (i64 o = 0; o < out; ++o) w[o * in + i] = wt[size_t(i * out + o)];
  return w;
}

namespace {

FactorizedLinearOptions options_of(Factorization f, const QuantSpec& q) {
  FactorizedLinearOptions o;
  o.factorization = std::move(f);
  o.weight = q;
  return o;
}

}  // namespace

TtLinear::TtLinear(std::string name, std::vector<int> in, std::vector<int> out, std::vector<int> ranks,
                   const QuantSpec& weight)
    : FactorizedLinear(std::move(name),
                       options_of(tensor_train(std::move(in), std::move(out), std::move(ranks), false), weight)) {}

HtLinear::HtLinear(std::string name, std::vector<int> in, std::vector<int> out, std::vector<int> leaf,
                   std::vector<int> transfer, const QuantSpec& weight)
    : FactorizedLinear(std::move(name),
                       options_of(hierarchical_tucker(std::move(in), std::move(out), std::move(leaf), std::move(transfer),
                                                      false),
                                  weight)) {}

}  // namespace mixprec::model
