#include "model/sensitivity.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>

#include "core/errors.hpp"
#include "model/loss.hpp"
#include "model/quant.hpp"

namespace mixprec::model {

namespace {

bool is_weight(const Param& p) { return p.role == ParamRole::Weight || p.role == ParamRole::RecurrentWeight; }

// Copies parameter and buffer values by name (entries `to` lacks, or of other dims, are skipped:
// e.g. an fp32 graph's values into a QAT graph, whose quantizer ranges stay to be calibrated).
void copy_state(Graph& from, Graph& to) {
  std::unordered_map<std::string, Tensor*> dst;
  for (Param* p : to.params()) dst[p->name] = &p->value;
  for (Buffer* b : to.buffers()) dst[b->name] = &b->value;
  auto put = [&](const std::string& name, const Tensor& v) {
    auto it = dst.find(name);
    if (it != dst.end() && it->second->dims() == v.dims()) it->second->assign(v);
  };
  for (Param* p : from.params()) put(p->name, p->value);
  for (Buffer* b : from.buffers()) put(b->name, b->value);
}

// The loss the trainer uses: mean over the batch.
struct BatchLoss {
  explicit BatchLoss(bool regression_) : regression(regression_) {}
  double forward(const Tensor& y, const Batch& b) {
    if (!regression) return ce.forward(y, b.labels);
    target.resize(y.dims());
    MIXPREC_CHECK(std::int64_t(b.targets.size()) == target.size(), "one target per output");
    std::copy(b.targets.begin(), b.targets.end(), target.data());
    return mse.forward(y, target);
  }
  const Tensor& backward(double scale) {
    if (regression)
      mse.backward(dy, scale);
    else
      ce.backward(dy, scale);
    return dy;
  }
  bool regression;
  SoftmaxCrossEntropy ce;
  MseLoss mse;
  Tensor target, dy;
};

std::int64_t total_samples(const std::vector<Batch>& data) {
  std::int64_t n = 0;
  for (const Batch& b : data) n += b.size;
  return n;
}

// SplitMix64 (Steele, Lea & Flood, OOPSLA 2014): a seed per (sample, batch) from one mixer, so
// each batch's vectors are the same whichever thread draws them.
std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// n values of +-scale, 64 signs per draw.
void fill_rademacher(float* v, std::int64_t n, std::uint64_t& state, float scale) {
  for (std::int64_t i = 0; i < n; i += 64) {
    const std::uint64_t bits = splitmix(state);
    const std::int64_t m = std::min<std::int64_t>(64, n - i);
    for (std::int64_t k = 0; k < m; ++k) v[i + k] = ((bits >> k) & 1u) ? scale : -scale;
  }
}

const Tensor& layer_input(const Graph& g, int layer, const Tensor& x) {
  const int src = g.network().layers[size_t(layer)].inputs[0];
  return src < 0 ? x : g.output(src);
}

std::vector<int> weight_layers(const Network& net) {
  std::vector<int> out;
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    if (net.layers[l].has_weights()) out.push_back(int(l));
  return out;
}

}  // namespace

std::vector<Batch> take_batches(BatchSource& src, int max_samples, int batch_size) {
  MIXPREC_CHECK(batch_size > 0, "batch size");
  std::vector<Batch> out;
  const std::int64_t n = src.size(), m = std::min<std::int64_t>(std::max(max_samples, 0), n);
  if (m <= 0) return out;
  src.start_epoch(0);
  std::int64_t index = 0, k = 0;  // sample index in the epoch; samples taken so far
  Batch in, cur;
  int rows_per_sample = 1;  // leading tensor rows per sample (frames, for per-frame CNN input)
  auto flush = [&] {
    if (cur.size == 0) return;
    out.push_back(std::move(cur));
    cur = Batch{};
  };
  while (k < m && src.next_batch(batch_size, in)) {
    const std::int64_t per_x = in.x.size() / in.size, per_t = std::int64_t(in.targets.size()) / in.size;
    MIXPREC_CHECK(in.x.dims().n % in.size == 0, "whole samples per batch");
    rows_per_sample = in.x.dims().n / in.size;
    for (int i = 0; i < in.size && k < m; ++i, ++index) {
      if (index != k * n / m) continue;  // sample floor(k n / m) is the k-th taken
      ++k;
      if (cur.size == 0) {
        Dims d = in.x.dims();
        d.n = int(std::min<std::int64_t>(batch_size, m - (k - 1))) * rows_per_sample;
        cur.x.resize(d);
      }
      std::copy(in.x.data() + i * per_x, in.x.data() + (i + 1) * per_x, cur.x.data() + cur.size * per_x);
      if (!in.labels.empty()) cur.labels.push_back(in.labels[size_t(i)]);
      cur.targets.insert(cur.targets.end(), in.targets.begin() + i * per_t, in.targets.begin() + (i + 1) * per_t);
      if (++cur.size == batch_size) flush();
    }
    in = Batch{};
  }
  flush();
  return out;
}

double mean_loss(Graph& g, const std::vector<Batch>& data, bool regression) {
  const bool was_training = g.training();
  g.set_training(false);
  BatchLoss loss(regression);
  double sum = 0;
  for (const Batch& b : data) sum += loss.forward(g.forward(b.x), b) * b.size;
  g.set_training(was_training);
  const std::int64_t n = total_samples(data);
  MIXPREC_CHECK(n > 0, "a loss needs at least one sample");
  return sum / double(n);
}

namespace {

// Weight values per layer (the traces' per-value denominator).
std::vector<double> weight_values_per_layer(Graph& g) {
  std::vector<double> count(size_t(g.layer_count()), 0.0);
  std::vector<Param*> ps = g.params();
  const std::vector<int>& owner = g.param_layers();
  for (std::size_t i = 0; i < ps.size(); ++i)
    if (is_weight(*ps[i])) count[size_t(owner[i])] += double(ps[i]->value.size());
  return count;
}

}  // namespace

HessianTraces hessian_traces(Graph& g, const std::vector<Batch>& data, bool regression,
                             const SensitivityOptions& opt) {
  const Network& net = g.network();
  const int L = g.layer_count();
  const std::int64_t N = total_samples(data);
  MIXPREC_CHECK(N > 0, "sensitivity needs at least one sample");
  MIXPREC_CHECK(opt.samples > 0 && opt.epsilon > 0, "Hutchinson samples and step");
  MIXPREC_CHECK(opt.sign_patterns > 0 && (opt.sign_patterns & (opt.sign_patterns - 1)) == 0,
                "sign patterns: a power of two");
  const int K = opt.sign_patterns;
  const std::vector<int> wl = weight_layers(net);
  const int T = std::max(1, std::min(opt.threads, int(data.size())));
  // Evaluation-mode replicas; BatchNorm unfolded so that backward works.
  GraphOptions go;
  go.fold_batchnorm = false;
  std::vector<std::unique_ptr<Graph>> reps;
  for (int t = 0; t < T; ++t) {
    reps.push_back(std::make_unique<Graph>(net, g.precision(), go));
    copy_state(g, *reps.back());
    reps.back()->set_training(false);
    reps.back()->set_input_gradient_capture(true);
  }
  // Per batch and layer: sum over Rademacher vectors of v^T H v (weights, inputs), and the
  // input values the layer read.
  const std::size_t B = data.size();
  std::vector<double> vhv_w(B * size_t(L), 0.0), vhv_a(B * size_t(L), 0.0), elems(B * size_t(L), 0.0);
  std::atomic<std::size_t> next{0};
  const double eps = opt.epsilon;
  auto work = [&](int t) {
    Graph& r = *reps[size_t(t)];
    std::vector<Param*> ps = r.params();
    const std::vector<int>& owner = r.param_layers();
    std::vector<std::size_t> wp;  // weight parameters
    for (std::size_t i = 0; i < ps.size(); ++i)
      if (is_weight(*ps[i])) wp.push_back(i);
    std::vector<std::vector<float>> w0(ps.size()), v(ps.size()), gplus(ps.size());
    for (std::size_t i : wp) {
      w0[i].assign(ps[i]->value.data(), ps[i]->value.data() + ps[i]->value.size());
      v[i].resize(w0[i].size());
    }
    // Base Rademacher vectors of the layers' inputs (+-1) and the perturbations applied.
    std::vector<Tensor> abase(static_cast<std::size_t>(L)), delta(static_cast<std::size_t>(L)),
        aplus(static_cast<std::size_t>(L));
    std::vector<float> sign_of_block(2 * size_t(L), 1.0f);
    BatchLoss loss(regression);
    for (std::size_t bi; (bi = next++) < B;) {
      const Batch& b = data[bi];
      const double scale = double(b.size) / double(N);  // batch share of the mean loss
      for (int l : wl) r.set_input_perturbation(l, nullptr);
      r.forward(b.x);  // unperturbed: the inputs' dims
      for (int l : wl) {
        abase[size_t(l)].resize(layer_input(r, l, b.x).dims());
        delta[size_t(l)].resize(abase[size_t(l)].dims());
        elems[bi * size_t(L) + size_t(l)] = double(abase[size_t(l)].size());
      }
      for (int s = 0; s < opt.samples; ++s) {
        std::uint64_t state = opt.seed ^ (0xd1b54a32d192ed03ULL * std::uint64_t(s + 1)) ^
                              (0x8cb92ba72f3d8dd7ULL * std::uint64_t(bi + 1));
        for (std::size_t i : wp) fill_rademacher(v[i].data(), std::int64_t(v[i].size()), state, 1.0f);
        for (int l : wl) fill_rademacher(abase[size_t(l)].data(), abase[size_t(l)].size(), state, 1.0f);
        for (int k = 0; k < K; ++k) {
          // Walsh pattern k: block q (input of the j-th weight layer: 2j, its weights: 2j + 1)
          // in group q mod K gets the sign (-1)^popcount(k & group).
          for (std::size_t j = 0; j < wl.size(); ++j)
            for (int part = 0; part < 2; ++part) {
              const int q = int(2 * j) + part;
              sign_of_block[size_t(2 * wl[j] + part)] = (__builtin_popcount(unsigned(k & (q % K))) & 1) ? -1.0f : 1.0f;
            }
          auto pass = [&](float sign) {
            for (std::size_t i : wp) {
              float* w = ps[i]->value.data();
              const float step = sign * sign_of_block[size_t(2 * owner[i] + 1)] * float(eps);
              for (std::size_t e = 0; e < v[i].size(); ++e) w[e] = w0[i][e] + step * v[i][e];
            }
            for (int l : wl) {
              delta[size_t(l)].vec() = (sign * sign_of_block[size_t(2 * l)] * float(eps)) * abase[size_t(l)].vec();
              r.set_input_perturbation(l, &delta[size_t(l)]);
            }
            r.zero_grad();
            loss.forward(r.forward(b.x), b);
            r.backward(loss.backward(scale));
          };
          pass(+1.0f);
          for (std::size_t i : wp) gplus[i].assign(ps[i]->grad.data(), ps[i]->grad.data() + ps[i]->grad.size());
          for (int l : wl) aplus[size_t(l)].assign(r.input_gradient(l));
          pass(-1.0f);
          // v_q^T (H v)_q for each block, v the pattern's signed vector.
          for (std::size_t i : wp) {
            double acc = 0;
            const float* gm = ps[i]->grad.data();
            for (std::size_t e = 0; e < v[i].size(); ++e) acc += double(v[i][e]) * (double(gplus[i][e]) - double(gm[e]));
            vhv_w[bi * size_t(L) + size_t(owner[i])] += sign_of_block[size_t(2 * owner[i] + 1)] * acc / (2.0 * eps);
          }
          for (int l : wl) {
            const Tensor& gm = r.input_gradient(l);
            const Tensor& gp = aplus[size_t(l)];
            const Tensor& v0 = abase[size_t(l)];
            MIXPREC_CHECK(gm.dims() == v0.dims() && gp.dims() == v0.dims(), net.layers[size_t(l)].name + ": input gradient dims");
            double acc = 0;
            for (std::int64_t e = 0; e < v0.size(); ++e) acc += double(v0[e]) * (double(gp[e]) - double(gm[e]));
            vhv_a[bi * size_t(L) + size_t(l)] += sign_of_block[size_t(2 * l)] * acc / (2.0 * eps);
          }
        }
      }
      for (std::size_t i : wp) std::copy(w0[i].begin(), w0[i].end(), ps[i]->value.data());
      for (int l : wl) r.set_input_perturbation(l, nullptr);
    }
  };
  WorkerPool(T).run(work);  // one thread: work(0) on the caller
  // Reduce in batch order.
  HessianTraces out;
  out.weight.assign(size_t(L), 0.0);
  out.activation.assign(size_t(L), 0.0);
  const std::vector<double> count = weight_values_per_layer(g);
  for (int l : wl) {
    double w = 0, a = 0, e = 0;
    for (std::size_t bi = 0; bi < B; ++bi) {
      w += vhv_w[bi * size_t(L) + size_t(l)];
      a += vhv_a[bi * size_t(L) + size_t(l)];
      e += elems[bi * size_t(L) + size_t(l)];
    }
    w /= double(opt.samples) * K;
    a /= double(opt.samples) * K;
    out.weight[size_t(l)] = count[size_t(l)] > 0 ? w / count[size_t(l)] : 0.0;
    // a estimates the trace over all N samples' inputs of the mean loss's Hessian, which is the
    // average over samples of one sample's Hessian trace; per value: / (e / N).
    out.activation[size_t(l)] = e > 0 ? a * double(N) / e : 0.0;
  }
  return out;
}

HessianTraces ggn_traces(Graph& g, const std::vector<Batch>& data, bool regression, const SensitivityOptions& opt) {
  const Network& net = g.network();
  const int L = g.layer_count();
  const std::int64_t N = total_samples(data);
  MIXPREC_CHECK(N > 0, "sensitivity needs at least one sample");
  const std::vector<int> wl = weight_layers(net);
  // Work items: (batch, sample within it), in data order.
  std::vector<std::pair<std::size_t, int>> items;
  for (std::size_t bi = 0; bi < data.size(); ++bi)
    for (int i = 0; i < data[bi].size; ++i) items.emplace_back(bi, i);
  const std::size_t S = items.size();
  const int T = std::max(1, std::min<int>(opt.threads, int(S)));
  GraphOptions go;
  go.fold_batchnorm = false;
  std::vector<std::unique_ptr<Graph>> reps;
  for (int t = 0; t < T; ++t) {
    reps.push_back(std::make_unique<Graph>(net, g.precision(), go));
    copy_state(g, *reps.back());
    reps.back()->set_training(false);
    reps.back()->set_input_gradient_capture(true);
  }
  // Per sample and layer: Tr(G) in the weights and in the layer's input, and the input's size.
  std::vector<double> tw(S * size_t(L), 0.0), ta(S * size_t(L), 0.0), elems(S * size_t(L), 0.0);
  std::atomic<std::size_t> next{0};
  auto work = [&](int t) {
    Graph& r = *reps[size_t(t)];
    std::vector<Param*> ps = r.params();
    const std::vector<int>& owner = r.param_layers();
    Tensor x, dy;
    for (std::size_t s; (s = next++) < S;) {
      const Batch& b = data[items[s].first];
      const int i = items[s].second;
      Dims d = b.x.dims();
      MIXPREC_CHECK(d.n % b.size == 0, "whole samples per batch");
      d.n /= b.size;
      x.resize(d);
      std::copy(b.x.data() + i * x.size(), b.x.data() + (i + 1) * x.size(), x.data());
      const Tensor& y = r.forward(x);
      const std::int64_t Y = y.size();
      // The backward passes: output gradient u and its weight in the trace.
      std::vector<std::pair<std::vector<double>, double>> dirs;
      if (regression) {
        for (std::int64_t k = 0; k < Y; ++k) {
          std::vector<double> u(static_cast<std::size_t>(Y), 0.0);
          u[size_t(k)] = 1.0;
          dirs.emplace_back(std::move(u), 2.0 / double(Y));
        }
      } else {
        const int R = int(b.labels.size()) / b.size;
        MIXPREC_CHECK(R >= 1 && Y % R == 0, "one row of logits per label");
        const std::int64_t C = Y / R;
        for (int row = 0; row < R; ++row) {
          const float* z = y.data() + row * C;
          double m = z[0], sum = 0;
          for (std::int64_t c = 1; c < C; ++c) m = std::max(m, double(z[c]));
          std::vector<double> p(static_cast<std::size_t>(C));
          for (std::int64_t c = 0; c < C; ++c) sum += (p[size_t(c)] = std::exp(double(z[c]) - m));
          for (double& v : p) v /= sum;
          for (std::int64_t c = 0; c < C; ++c) {
            std::vector<double> u(static_cast<std::size_t>(Y), 0.0);
            for (std::int64_t k = 0; k < C; ++k) u[size_t(row * C + k)] = p[size_t(k)] - (k == c ? 1.0 : 0.0);
            dirs.emplace_back(std::move(u), p[size_t(c)] / double(R));
          }
        }
      }
      dy.resize(y.dims());
      for (int l : wl) elems[s * size_t(L) + size_t(l)] = 0;
      for (const auto& [u, weight] : dirs) {
        if (weight == 0) continue;
        for (std::int64_t k = 0; k < Y; ++k) dy[k] = float(u[size_t(k)]);
        r.zero_grad();
        r.backward(dy);
        for (std::size_t pi = 0; pi < ps.size(); ++pi) {
          if (!is_weight(*ps[pi])) continue;
          const Tensor& gr = ps[pi]->grad;
          double acc = 0;
          for (std::int64_t e = 0; e < gr.size(); ++e) acc += double(gr[e]) * double(gr[e]);
          tw[s * size_t(L) + size_t(owner[pi])] += weight * acc;
        }
        for (int l : wl) {
          const Tensor& gx = r.input_gradient(l);
          double acc = 0;
          for (std::int64_t e = 0; e < gx.size(); ++e) acc += double(gx[e]) * double(gx[e]);
          ta[s * size_t(L) + size_t(l)] += weight * acc;
          elems[s * size_t(L) + size_t(l)] = double(gx.size());
        }
      }
    }
  };
  WorkerPool(T).run(work);  // one thread: work(0) on the caller
  // Reduce in sample order: the mean loss's G is the mean of the samples'.
  HessianTraces out;
  out.weight.assign(size_t(L), 0.0);
  out.activation.assign(size_t(L), 0.0);
  const std::vector<double> count = weight_values_per_layer(g);
  for (int l : wl) {
    double w = 0, a = 0;
    for (std::size_t s = 0; s < S; ++s) {
      w += tw[s * size_t(L) + size_t(l)];
      const double e = elems[s * size_t(L) + size_t(l)];
      if (e > 0) a += ta[s * size_t(L) + size_t(l)] / e;  // per input value of that sample
    }
    out.weight[size_t(l)] = count[size_t(l)] > 0 ? w / double(N) / count[size_t(l)] : 0.0;
    out.activation[size_t(l)] = a / double(N);
  }
  return out;
}

std::vector<double> hessian_trace_per_weight(Graph& g, BatchSource& data, bool regression,
                                             const SensitivityOptions& opt) {
  const std::vector<Batch> batches = take_batches(data, opt.max_samples, opt.batch_size);
  return hessian_traces(g, batches, regression, opt).weight;
}

double weight_perturbation(Graph& g, int layer, const LayerPrecision& p) {
  std::vector<Param*> ps = g.params();
  const std::vector<int>& owner = g.param_layers();
  double sum = 0;
  std::vector<float> q;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (owner[i] != layer) continue;
    const ParamRole role = ps[i]->role;
    if (role != ParamRole::Weight && role != ParamRole::RecurrentWeight) continue;
    const Operand op = role == ParamRole::RecurrentWeight ? p.recurrent_weights() : p.weights();
    const Tensor& w = ps[i]->value;
    q.resize(std::size_t(w.size()));
    if (op.format == NumFormat::Int) {
      const IntGrid grid = symmetric_grid(op.bits);
      const std::int64_t rows = w.dims().n, cols = w.size() / std::max<std::int64_t>(1, rows);
      for (std::int64_t r = 0; r < rows; ++r) {
        const float* x = w.data() + r * cols;
        float max_abs = 0;
        for (std::int64_t k = 0; k < cols; ++k) max_abs = std::max(max_abs, std::fabs(x[k]));
        fake_quant(x, cols, step_for_max_abs(max_abs, grid), grid, q.data() + r * cols);
      }
    } else {
      round_to_format(w.data(), w.size(), op.format, q.data());
    }
    for (std::int64_t k = 0; k < w.size(); ++k) {
      const double d = double(q[std::size_t(k)]) - double(w.data()[k]);
      sum += d * d;
    }
  }
  return sum;
}

std::vector<double> activation_perturbation(Graph& g, const std::vector<Batch>& calibration,
                                            const std::vector<Batch>& data,
                                            const std::vector<LayerPrecision>& options) {
  const Network& net = g.network();
  const std::size_t L = net.layers.size(), O = options.size();
  const std::int64_t N = total_samples(data);
  MIXPREC_CHECK(N > 0, "sensitivity needs at least one sample");
  const bool was_training = g.training();
  g.set_training(false);
  // One quantizer per layer and distinct activation operand (format, bits) among the options.
  struct Quantizer {
    std::unique_ptr<ActQuant> q;
    double sum = 0;
  };
  const std::vector<int> wl = weight_layers(net);
  std::vector<std::vector<Quantizer>> qs(L);
  std::vector<int> q_of(L * O, -1);
  for (int l : wl) {
    std::map<std::pair<int, int>, int> index;
    for (std::size_t o = 0; o < O; ++o) {
      const Operand a = options[o].activations();
      if (a.format == NumFormat::Fp32) continue;  // no perturbation
      const auto key = std::make_pair(int(a.format), a.bits);
      auto it = index.find(key);
      if (it == index.end()) {
        ActQuantOptions ao;
        ao.spec = quant_spec(a, g.input_nonnegative(l));
        ao.range = RangeMethod::RunningMinMax;
        it = index.emplace(key, int(qs[size_t(l)].size())).first;
        qs[size_t(l)].push_back(Quantizer{std::make_unique<ActQuant>(net.layers[size_t(l)].name, ao), 0.0});
      }
      q_of[size_t(l) * O + o] = it->second;
    }
  }
  Tensor y;
  // Ranges: ActQuant's running statistics over the calibration batches.
  for (int l : wl)
    for (Quantizer& q : qs[size_t(l)]) q.q->set_training(true);
  for (const Batch& b : calibration) {
    g.forward(b.x);
    for (int l : wl)
      for (Quantizer& q : qs[size_t(l)]) q.q->forward(layer_input(g, l, b.x), y);
  }
  for (int l : wl)
    for (Quantizer& q : qs[size_t(l)]) q.q->set_training(false);
  for (const Batch& b : data) {
    g.forward(b.x);
    for (int l : wl) {
      const Tensor& x = layer_input(g, l, b.x);
      for (Quantizer& q : qs[size_t(l)]) {
        q.q->forward(x, y);
        double s = 0;
        for (std::int64_t k = 0; k < x.size(); ++k) {
          const double d = double(y[k]) - double(x[k]);
          s += d * d;
        }
        q.sum += s;
      }
    }
  }
  g.set_training(was_training);
  std::vector<double> out(L * O, 0.0);
  for (std::size_t l = 0; l < L; ++l)
    for (std::size_t o = 0; o < O; ++o)
      if (q_of[l * O + o] >= 0) out[l * O + o] = qs[l][size_t(q_of[l * O + o])].sum / double(N);
  return out;
}

std::vector<double> hessian_sensitivity(Graph& g, const std::vector<double>& trace_per_weight,
                                        const std::vector<LayerPrecision>& options) {
  const int L = g.layer_count();
  MIXPREC_CHECK(int(trace_per_weight.size()) == L, "one trace per layer");
  std::vector<double> out(std::size_t(L) * options.size(), 0.0);
  for (int l = 0; l < L; ++l)
    for (std::size_t o = 0; o < options.size(); ++o)
      out[std::size_t(l) * options.size() + o] =
          std::max(0.0, trace_per_weight[l]) * weight_perturbation(g, l, options[o]);
  return out;
}

SensitivityTerms hessian_sensitivity(Graph& g, const HessianTraces& traces,
                                     const std::vector<double>& act_perturbation,
                                     const std::vector<LayerPrecision>& options) {
  const std::size_t L = std::size_t(g.layer_count()), O = options.size();
  MIXPREC_CHECK(traces.weight.size() == L && traces.activation.size() == L, "one trace per layer");
  MIXPREC_CHECK(act_perturbation.size() == L * O, "one activation perturbation per layer and option");
  SensitivityTerms t;
  t.weight = hessian_sensitivity(g, traces.weight, options);
  t.activation.assign(L * O, 0.0);
  t.total.assign(L * O, 0.0);
  for (std::size_t l = 0; l < L; ++l)
    for (std::size_t o = 0; o < O; ++o) {
      const std::size_t k = l * O + o;
      t.activation[k] = std::max(0.0, traces.activation[l]) * act_perturbation[k];
      t.total[k] = t.weight[k] + t.activation[k];
    }
  return t;
}

namespace {

// The measured method's shared work: the fp32 reference graph of g's network and its outputs.
struct MeasureBase {
  Graph base;
  std::vector<Tensor> out;
  std::int64_t samples = 0;
  MeasureBase(Graph& g, const std::vector<Batch>& data) : base(g.network()) {
    copy_state(g, base);
    base.set_training(false);
    out.resize(data.size());
    for (std::size_t bi = 0; bi < data.size(); ++bi) out[bi].assign(base.forward(data[bi].x));
    samples = total_samples(data);
    MIXPREC_CHECK(samples > 0, "sensitivity needs at least one sample");
  }
};

// Outputs of the layers before l that layer l or a later one reads, per batch of the
// calibration and the data batches, from the fp32 reference (layers before l are the same in
// every graph measured at layer l).
struct LayerPrefix {
  std::vector<char> crossing;
  std::vector<std::vector<Tensor>> cal, data;
  LayerPrefix(MeasureBase& mb, int l, const std::vector<Batch>& calibration, const std::vector<Batch>& batches) {
    const Network& net = mb.base.network();
    const std::size_t L = net.layers.size();
    crossing.assign(L, 0);
    for (std::size_t j = size_t(l); j < L; ++j)
      for (int i : net.layers[j].inputs)
        if (i >= 0 && i < l) crossing[size_t(i)] = 1;
    const bool any = std::find(crossing.begin(), crossing.end(), 1) != crossing.end();
    auto prefix = [&](const std::vector<Batch>& bs) {
      std::vector<std::vector<Tensor>> saved(bs.size(), std::vector<Tensor>(L));
      for (std::size_t bi = 0; bi < bs.size(); ++bi) {
        if (!any) continue;
        mb.base.forward_from(0, bs[bi].x, {}, l - 1);  // the prefix only
        for (std::size_t i = 0; i < L; ++i)
          if (crossing[i]) saved[bi][i].assign(mb.base.output(int(i)));
      }
      return saved;
    };
    cal = prefix(calibration);
    data = prefix(batches);
  }
  std::vector<const Tensor*> pointers(const std::vector<Tensor>& saved) const {
    std::vector<const Tensor*> p(crossing.size(), nullptr);
    for (std::size_t i = 0; i < crossing.size(); ++i)
      if (crossing[i]) p[i] = &saved[i];
    return p;
  }
};

// The mean output divergence from the fp32 reference of a QAT graph of `net` (g's network, or
// one that differs only in the quantized layers) at precisions `prec`, whose values come from
// `source`: every layer before `first` fp32 (taken from `pre`, the prefix of layer `first`), the
// quantized layers in first..last. Quantizer ranges are calibrated on `calibration` first
// (running first..last only: later layers have no quantizers). THE measurement of the
// "measured" and "clado" methods.
double measure_config(const MeasureBase& mb, const LayerPrefix& pre, const Network& net, Graph& source,
                      const std::vector<LayerPrecision>& prec, int first, int last,
                      const std::vector<Batch>& calibration, const std::vector<Batch>& data, bool regression) {
  Graph q(net, prec);
  copy_state(source, q);
  q.set_training(false);
  q.set_calibration(true);
  for (std::size_t bi = 0; bi < calibration.size(); ++bi)
    q.forward_from(first, calibration[bi].x, pre.pointers(pre.cal[bi]), last);
  q.set_calibration(false);
  double sum = 0;
  for (std::size_t bi = 0; bi < data.size(); ++bi)
    sum += output_divergence(q.forward_from(first, data[bi].x, pre.pointers(pre.data[bi])), mb.out[bi],
                             data[bi].size, regression) * data[bi].size;
  return sum / double(mb.samples);
}

// Per option o: the mean output divergence from the fp32 reference when layer l alone runs at
// options[o] (measure_config). fp32 options are skipped (0) when `skip_fp32`.
void measure_layer(const MeasureBase& mb, const LayerPrefix& pre, const Network& net, Graph& source, int l,
                   const std::vector<Batch>& calibration, const std::vector<Batch>& data, bool regression,
                   const std::vector<LayerPrecision>& options, WorkerPool* pool, bool skip_fp32, double* out) {
  const std::size_t L = net.layers.size(), O = options.size();
  const LayerPrecision fp32 = LayerPrecision::uniform(NumFormat::Fp32, 32);
  std::atomic<std::size_t> next{0};
  auto work = [&](int) {
    for (std::size_t o; (o = next++) < O;) {
      if (skip_fp32 && options[o].format == NumFormat::Fp32) continue;  // unchanged: 0
      std::vector<LayerPrecision> prec(L, fp32);
      prec[size_t(l)] = options[o];
      out[o] = measure_config(mb, pre, net, source, prec, l, l, calibration, data, regression);
    }
  };
  if (pool)
    pool->run(work);
  else
    work(0);
}

std::unique_ptr<WorkerPool> option_pool(int threads, std::size_t options) {
  const int T = std::max(1, std::min<int>(threads, int(options)));
  return T > 1 ? std::make_unique<WorkerPool>(T) : nullptr;
}

}  // namespace

std::vector<double> measured_sensitivity(Graph& g, const std::vector<Batch>& calibration,
                                         const std::vector<Batch>& data, bool regression,
                                         const std::vector<LayerPrecision>& options, int threads) {
  const Network& net = g.network();
  const std::size_t L = net.layers.size(), O = options.size();
  // The fp32 reference: evaluation mode, BatchNorm folded (as the quantized graphs' fp32 layers),
  // and its outputs, the reference every quantized variant is compared with.
  MeasureBase mb(g, data);
  std::vector<double> out(L * O, 0.0);
  const std::unique_ptr<WorkerPool> pool = option_pool(threads, O);
  for (int l : weight_layers(net))
    measure_layer(mb, LayerPrefix(mb, l, calibration, data), net, mb.base, l, calibration, data, regression,
                  options, pool.get(), true, out.data() + size_t(l) * O);
  return out;
}

std::vector<std::pair<int, int>> clado_pairs(const Network& net, bool neighbours_only) {
  const std::vector<int> wl = weight_layers(net);
  std::vector<std::pair<int, int>> out;
  if (!neighbours_only) {
    for (std::size_t i = 0; i < wl.size(); ++i)
      for (std::size_t j = i + 1; j < wl.size(); ++j) out.push_back({wl[i], wl[j]});
    return out;
  }
  // The weight layers whose value reaches layer j through weight-less layers only.
  const std::size_t L = net.layers.size();
  std::vector<std::vector<int>> feeders(L);  // per layer: the weight layers feeding it so
  for (std::size_t j = 0; j < L; ++j)
    for (int i : net.layers[j].inputs) {
      if (i < 0) continue;
      if (net.layers[size_t(i)].has_weights())
        feeders[j].push_back(i);
      else
        feeders[j].insert(feeders[j].end(), feeders[size_t(i)].begin(), feeders[size_t(i)].end());
    }
  for (int j : wl)
    for (int i : feeders[size_t(j)]) out.push_back({i, j});
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<double> measured_pair_interactions(Graph& g, const std::vector<Batch>& calibration,
                                               const std::vector<Batch>& data, bool regression,
                                               const std::vector<LayerPrecision>& options,
                                               const std::vector<double>& single,
                                               const std::vector<std::pair<int, int>>& pairs, int threads) {
  const Network& net = g.network();
  const std::size_t L = net.layers.size(), O = options.size();
  MIXPREC_CHECK(single.size() == L * O, "measured_pair_interactions: one single-layer value per layer and option");
  MeasureBase mb(g, data);
  const LayerPrecision fp32 = LayerPrecision::uniform(NumFormat::Fp32, 32);
  std::vector<double> out(pairs.size() * O * O, 0.0);
  const std::unique_ptr<WorkerPool> pool = option_pool(threads, O * O);
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const int i = pairs[k].first, j = pairs[k].second;
    MIXPREC_CHECK(i >= 0 && i < j && size_t(j) < L && net.layers[size_t(i)].has_weights() &&
                      net.layers[size_t(j)].has_weights(),
                  "measured_pair_interactions: pairs of weight layers i < j");
    const LayerPrefix pre(mb, i, calibration, data);
    double* row = out.data() + k * O * O;
    std::atomic<std::size_t> next{0};
    auto work = [&](int) {
      for (std::size_t n; (n = next++) < O * O;) {
        const std::size_t a = n / O, b = n % O;
        // An fp32 option leaves its layer unchanged: the pair's change is the other's alone.
        if (options[a].format == NumFormat::Fp32 || options[b].format == NumFormat::Fp32) continue;
        std::vector<LayerPrecision> prec(L, fp32);
        prec[size_t(i)] = options[a];
        prec[size_t(j)] = options[b];
        const double both = measure_config(mb, pre, net, mb.base, prec, i, j, calibration, data, regression);
        row[n] = both - single[size_t(i) * O + a] - single[size_t(j) * O + b];
      }
    };
    if (pool)
      pool->run(work);
    else
      work(0);
  }
  return out;
}

std::vector<double> measured_rank_sensitivity(Graph& g, const std::vector<Factorization>& candidates, int layer,
                                              const std::vector<Batch>& calibration, const std::vector<Batch>& data,
                                              bool regression, const std::vector<LayerPrecision>& options,
                                              int threads, std::vector<double>* relative_error_bounds) {
  const Network& net = g.network();
  MIXPREC_CHECK(layer >= 0 && size_t(layer) < net.layers.size() && net.layers[size_t(layer)].factorization.active(),
                "measured_rank_sensitivity: a factorized layer");
  // The reference, the layers before `layer` and the workers are the same for every candidate.
  MeasureBase mb(g, data);
  const LayerPrefix pre(mb, layer, calibration, data);
  const std::size_t O = options.size();
  const std::unique_ptr<WorkerPool> pool = option_pool(threads, O);
  const std::vector<NamedTensor> params = named_params(g), buffers = named_buffers(g);
  std::vector<double> out(candidates.size() * O, 0.0);
  if (relative_error_bounds) relative_error_bounds->clear();
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    Network vnet = net;
    vnet.layers[size_t(layer)].factorization = candidates[c];
    // The fp32 graph at the candidate's ranks: g's values, the layer's cores truncated.
    Graph truncated(vnet);
    std::vector<RankTruncation> notes;
    assign_weights(truncated, params, buffers, "the fp32 model", &notes);
    if (relative_error_bounds) relative_error_bounds->push_back(notes.empty() ? 0.0 : notes.front().relative_error_bound);
    measure_layer(mb, pre, vnet, truncated, layer, calibration, data, regression, options, pool.get(), false,
                  out.data() + c * O);
  }
  return out;
}

// Mean over the batch's n samples of the loss of y against the fp32 outputs `ref` taken as
// targets: KL(softmax(ref) || softmax(y)) for classification (the cross-entropy increase against
// the fp32 model's soft labels), the mean squared difference per output for regression.
double output_divergence(const Tensor& y, const Tensor& ref, int n, bool regression) {
  MIXPREC_CHECK(y.size() == ref.size() && n > 0 && y.size() % n == 0, "output_divergence: shapes");
  if (regression) {
    double s = 0;
    for (std::int64_t k = 0; k < y.size(); ++k) {
      const double d = double(y[k]) - double(ref[k]);
      s += d * d;
    }
    return s / double(y.size());
  }
  const std::int64_t C = y.size() / n;
  double kl = 0;
  for (int i = 0; i < n; ++i) {
    const float* a = ref.data() + i * C;
    const float* b = y.data() + i * C;
    double ma = a[0], mb = b[0];
    for (std::int64_t c = 1; c < C; ++c) {
      ma = std::max(ma, double(a[c]));
      mb = std::max(mb, double(b[c]));
    }
    double za = 0, zb = 0;
    for (std::int64_t c = 0; c < C; ++c) {
      za += std::exp(double(a[c]) - ma);
      zb += std::exp(double(b[c]) - mb);
    }
    const double la = ma + std::log(za), lb = mb + std::log(zb);
    for (std::int64_t c = 0; c < C; ++c) {
      const double lpa = double(a[c]) - la, lpb = double(b[c]) - lb;
      kl += std::exp(lpa) * (lpa - lpb);
    }
  }
  return std::max(0.0, kl / double(n));  // >= 0 up to rounding
}


}  // namespace mixprec::model
