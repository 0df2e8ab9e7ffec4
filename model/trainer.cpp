#include "model/trainer.hpp"

#include <set>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/json_reader.hpp"
#include "model/checkpoint.hpp"
#include "model/init.hpp"
#include "model/rank_truncation.hpp"

namespace mixprec::model {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string hms(double s) {
  if (!(s >= 0) || s > 1e7) return "--:--";
  const long t = long(s + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

// "nan", "inf" or "-inf" (printf's NaN spelling depends on the sign bit).
std::string value_name(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return std::to_string(v);
}

// Samples [lo, hi) of a batch.
void slice(const Batch& b, int lo, int hi, Batch& out) {
  const int m = hi - lo;
  const Dims d = b.x.dims();
  const int rows_per_sample = d.n / b.size;
  const std::int64_t per = std::int64_t(rows_per_sample) * d.per_sample();
  out.x.resize(Dims{m * rows_per_sample, d.c, d.h, d.w});
  std::copy_n(b.x.data() + lo * per, m * per, out.x.data());
  out.labels.clear();
  out.targets.clear();
  if (!b.labels.empty()) out.labels.assign(b.labels.begin() + lo, b.labels.begin() + hi);
  if (!b.targets.empty()) {
    const std::size_t tps = b.targets.size() / size_t(b.size);
    out.targets.assign(b.targets.begin() + std::ptrdiff_t(lo * tps),
                       b.targets.begin() + std::ptrdiff_t(hi * tps));
  }
  out.size = m;
}

}  // namespace

// ------------------------------------------------------------------ MemorySource

MemorySource::MemorySource(Dims sample_dims, std::vector<float> x, std::vector<int> labels,
                           std::vector<float> targets, std::uint64_t seed, bool shuffle)
    : sample_(sample_dims),
      x_(std::move(x)),
      labels_(std::move(labels)),
      targets_(std::move(targets)),
      seed_(seed),
      shuffle_(shuffle) {
  const std::int64_t per = sample_.count();
  MIXPREC_CHECK(per > 0 && std::int64_t(x_.size()) % per == 0, "memory source: sample size");
  n_ = int(std::int64_t(x_.size()) / per);
  MIXPREC_CHECK(labels_.empty() || int(labels_.size()) == n_, "memory source: labels");
  MIXPREC_CHECK(targets_.empty() || (n_ > 0 && targets_.size() % size_t(n_) == 0),
                "memory source: targets");
  targets_per_sample_ = n_ > 0 ? int(targets_.size() / size_t(n_)) : 0;
  start_epoch(0);
}

void MemorySource::start_epoch(int epoch) {
  order_.resize(size_t(n_));
  for (int i = 0; i < n_; ++i) order_[size_t(i)] = i;
  if (shuffle_) {
    std::mt19937_64 rng(seed_ * 0x9e3779b97f4a7c15ULL + std::uint64_t(epoch));
    for (int i = n_ - 1; i > 0; --i) {
      const int j = int(uniform01(rng) * double(i + 1));
      std::swap(order_[size_t(i)], order_[size_t(std::min(j, i))]);
    }
  }
  pos_ = 0;
}

bool MemorySource::next_batch(int max_samples, Batch& b) {
  if (pos_ >= n_) return false;
  const int m = std::min(max_samples, n_ - pos_);
  const std::int64_t per = sample_.count();
  b.x.resize(Dims{m * sample_.n, sample_.c, sample_.h, sample_.w});
  b.labels.clear();
  b.targets.clear();
  for (int k = 0; k < m; ++k) {
    const int s = order_[size_t(pos_ + k)];
    std::copy_n(x_.data() + s * per, per, b.x.data() + k * per);
    if (!labels_.empty()) b.labels.push_back(labels_[size_t(s)]);
    for (int t = 0; t < targets_per_sample_; ++t)
      b.targets.push_back(targets_[size_t(s * targets_per_sample_ + t)]);
  }
  b.size = m;
  pos_ += m;
  return true;
}

std::unique_ptr<MemorySource> make_synthetic(const Graph& g, const SyntheticOptions& o) {
  MIXPREC_CHECK(o.samples > 0 && o.outputs > 0, "synthetic: samples/outputs");
  const Dims d1 = g.input_dims(1);
  const std::int64_t per = d1.count();
  std::mt19937_64 task(o.task_seed), rng(o.sample_seed);
  std::vector<float> x(size_t(per * o.samples));
  std::vector<int> labels;
  std::vector<float> targets;
  if (!o.regression) {
    // Image frames: one pattern value per (frame, channel) plane; sequences: per element.
    const std::int64_t plane = g.network().input.t > 1 ? 1 : std::int64_t(d1.h) * d1.w;
    const std::int64_t values = per / plane;
    std::vector<float> patterns(size_t(values * o.outputs));
    for (float& v : patterns) v = float(standard_normal(task));
    for (int s = 0; s < o.samples; ++s) {
      const int label = int(uniform01(rng) * o.outputs) % o.outputs;
      labels.push_back(label);
      for (std::int64_t i = 0; i < per; ++i)
        x[size_t(s * per + i)] = o.signal * patterns[size_t(label * values + i / plane)] +
                                 float(standard_normal(rng));
    }
  } else {
    std::vector<float> w(size_t(per * o.outputs));
    const double scale = 1.0 / std::sqrt(double(per));
    for (float& v : w) v = float(standard_normal(task) * scale);
    for (int s = 0; s < o.samples; ++s) {
      float* xs = x.data() + s * per;
      for (std::int64_t i = 0; i < per; ++i) xs[i] = float(standard_normal(rng));
      for (int k = 0; k < o.outputs; ++k) {
        double t = 0;
        for (std::int64_t i = 0; i < per; ++i) t += double(w[size_t(k * per + i)]) * xs[i];
        targets.push_back(float(t + 0.1 * standard_normal(rng)));
      }
    }
  }
  return std::make_unique<MemorySource>(d1, std::move(x), std::move(labels), std::move(targets),
                                        o.sample_seed, o.shuffle);
}

// ------------------------------------------------------------------ Trainer

Trainer::Trainer(const Network& net, std::vector<LayerPrecision> precision,
                 const TrainerOptions& opt, const GraphOptions& graph_opt)
    : net_(net), opt_(opt) {
  const TrainingSpec& s = opt_.spec;
  MIXPREC_CHECK(s.batch_size > 0 && s.micro_batches > 0 && s.epochs >= 0, "trainer: spec");
  MIXPREC_CHECK(opt_.threads >= 1, "trainer: threads");
  for (int t = 0; t < opt_.threads; ++t)
    replicas_.push_back(std::make_unique<Graph>(net_, precision, graph_opt));
  std::mt19937_64 init_rng(std::uint64_t(s.seed));
  replicas_[0]->init(init_rng);
  for (auto& r : replicas_) replica_params_.push_back(r->params());
  broadcast_params();
  pool_ = std::make_unique<WorkerPool>(opt_.threads);
  ce_.resize(replicas_.size());
  mse_.resize(replicas_.size());
  if (s.optimizer == "sgd") {
    optimizer_ = std::make_unique<Sgd>(replica_params_[0],
                                       SgdOptions{s.learning_rate, opt_.momentum, s.weight_decay, false});
  } else {
    MIXPREC_CHECK(s.optimizer == "adamw", "trainer: optimizer " + s.optimizer);
    AdamWOptions ao;
    ao.lr = s.learning_rate;
    ao.weight_decay = s.weight_decay;
    optimizer_ = std::make_unique<AdamW>(replica_params_[0], ao);
  }
  rng_.seed(std::uint64_t(s.seed) ^ 0x5deece66dULL);
  const std::vector<int>& layers = replicas_[0]->param_layers();
  for (std::size_t i = 0; i < replica_params_[0].size(); ++i) {
    Operand op{NumFormat::Fp32, 32};
    if (!precision.empty()) op = precision[size_t(layers[i])].gradients();
    param_grad_op_.push_back(op);
  }
  schedule_.kind = opt_.schedule;
  schedule_.base_lr = s.learning_rate;
  schedule_.warmup_steps = opt_.warmup_steps;
  set_total_steps(std::max<std::int64_t>(opt_.warmup_steps + 1, 1));
  const std::size_t T = replicas_.size();
  shard_batch_.resize(T);
  shard_loss_.assign(T, 0);
  shard_correct_.assign(T, 0);
  shard_sq_.assign(T, 0);
  shard_dy_.resize(T);
  shard_target_.resize(T);
}

Trainer::~Trainer() = default;

void Trainer::set_total_steps(std::int64_t total) {
  schedule_.total_steps = std::max<std::int64_t>(total, opt_.warmup_steps + 1);
  if (schedule_.kind == ScheduleKind::Step) {
    schedule_.step_size = std::max<std::int64_t>(1, (schedule_.total_steps - opt_.warmup_steps) / 3);
    schedule_.gamma = 0.1;
  }
  schedule_.validate();
}

double Trainer::current_lr() const { return schedule_.at(step_); }

WorkerPool::WorkerPool(int threads) : errors_(static_cast<std::size_t>(std::max(threads, 1))) {
  for (int t = 1; t < threads; ++t) workers_.emplace_back([this, t] { loop(t); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& w : workers_) w.join();
}

void WorkerPool::loop(int t) {
  long seen = 0;
  for (;;) {
    const std::function<void(int)>* job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
    }
    std::exception_ptr error;
    try {
      (*job)(t);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      errors_[size_t(t)] = error;
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

void WorkerPool::run(const std::function<void(int)>& fn) {
  if (workers_.empty()) {
    fn(0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    pending_ = int(workers_.size());
    ++generation_;
    for (auto& e : errors_) e = nullptr;
  }
  start_.notify_all();
  try {
    fn(0);
  } catch (...) {
    errors_[0] = std::current_exception();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
  for (auto& e : errors_)
    if (e) std::rethrow_exception(e);
}

void Trainer::run_parallel(const std::function<void(int)>& fn) { pool_->run(fn); }

void Trainer::broadcast_params() {
  for (std::size_t t = 1; t < replicas_.size(); ++t)
    for (std::size_t i = 0; i < replica_params_[0].size(); ++i)
      replica_params_[t][i]->value.assign(replica_params_[0][i]->value);
}

void Trainer::sync_replicas() {
  const std::size_t T = replicas_.size();
  if (T == 1) return;
  // Buffers: the mean over replicas, in replica order.
  std::vector<std::vector<Buffer*>> bufs;
  for (auto& r : replicas_) bufs.push_back(r->buffers());
  for (std::size_t i = 0; i < bufs[0].size(); ++i) {
    Tensor& m = bufs[0][i]->value;
    for (std::size_t t = 1; t < T; ++t) m.vec() += bufs[t][i]->value.vec();
    m.vec() *= 1.0f / float(T);
    for (std::size_t t = 1; t < T; ++t) bufs[t][i]->value.assign(m);
  }
  broadcast_params();
}

void Trainer::diverged(const std::string& what, int layer, bool forward) {
  std::ostringstream m;
  m << "training diverged at step " << step_ + 1 << " (epoch " << epoch_ + 1 << ", batch "
    << batch_in_epoch_ + 1 << "): " << what << "; ";
  if (layer < 0) {
    m << "every layer's " << (forward ? "output" : "gradient") << " is finite";
  } else {
    m << "the first non-finite value is the " << (forward ? "output" : "gradient")
      << " of layer \"" << net_.layers[size_t(layer)].name << "\""
      << (forward ? "" : " (in backward order)");
  }
  throw TrainingDiverged(m.str());
}

double Trainer::train_step(const Batch& batch) {
  const int n = batch.size;
  MIXPREC_CHECK(n > 0, "train_step: empty batch");
  const bool regression = opt_.task == Task::Regression;
  MIXPREC_CHECK(regression ? !batch.targets.empty() : int(batch.labels.size()) == n,
                "train_step: labels/targets");
  const int T = int(replicas_.size());
  const int k = std::min(opt_.spec.micro_batches, n);
  const bool quantize_grads = replicas_[0]->quantized();
  const bool lowp = quantize_grads && !opt_.spec.fp32_gradient_buffers;
  std::vector<Param*>& master = replica_params_[0];
  for (auto& r : replicas_) r->set_training(true);
  for (auto& r : replicas_) r->zero_grad();
  if (lowp) {
    lowp_acc_.resize(master.size());
    for (std::size_t i = 0; i < master.size(); ++i)
      lowp_acc_[i].assign(size_t(master[i]->grad.size()), 0.0f);
  }
  auto reduce_into_master = [&] {
    for (int t = 1; t < T; ++t)
      for (std::size_t i = 0; i < master.size(); ++i) {
        master[i]->grad.vec() += replica_params_[size_t(t)][i]->grad.vec();
        replica_params_[size_t(t)][i]->grad.set_zero();
      }
  };

  double loss_total = 0;
  for (int j = 0; j < k; ++j) {
    const int lo = int(std::int64_t(j) * n / k), hi = int(std::int64_t(j + 1) * n / k);
    const int m = hi - lo;
    run_parallel([&](int t) {
      const int s0 = lo + int(std::int64_t(t) * m / T), s1 = lo + int(std::int64_t(t + 1) * m / T);
      shard_loss_[size_t(t)] = 0;
      shard_correct_[size_t(t)] = 0;
      shard_sq_[size_t(t)] = 0;
      if (s1 <= s0) return;
      Batch& sb = shard_batch_[size_t(t)];
      slice(batch, s0, s1, sb);
      Graph& g = *replicas_[size_t(t)];
      const Tensor& y = g.forward(sb.x);
      const double scale = double(s1 - s0) / double(n);
      double loss;
      if (regression) {
        Tensor& tgt = shard_target_[size_t(t)];
        tgt.resize(y.dims());
        MIXPREC_CHECK(std::int64_t(sb.targets.size()) == y.size(),
                      "train_step: " + std::to_string(sb.targets.size()) + " targets for output " +
                          y.dims().str());
        std::copy(sb.targets.begin(), sb.targets.end(), tgt.data());
        loss = mse_[size_t(t)].forward(y, tgt);
        shard_sq_[size_t(t)] = loss * double(y.size());
        if (!std::isfinite(loss)) {
          shard_loss_[size_t(t)] = loss;
          return;
        }
        mse_[size_t(t)].backward(shard_dy_[size_t(t)], scale);
      } else {
        loss = ce_[size_t(t)].forward(y, sb.labels);
        shard_correct_[size_t(t)] = ce_[size_t(t)].correct();
        if (!std::isfinite(loss)) {
          shard_loss_[size_t(t)] = loss;
          return;
        }
        ce_[size_t(t)].backward(shard_dy_[size_t(t)], scale);
      }
      shard_loss_[size_t(t)] = loss;
      g.backward(shard_dy_[size_t(t)]);
    });
    for (int t = 0; t < T; ++t) {
      const double l = shard_loss_[size_t(t)];
      if (!std::isfinite(l)) {
        diverged("the loss is " + value_name(l), replicas_[size_t(t)]->first_nonfinite_output(), true);
      }
      const int s0 = lo + int(std::int64_t(t) * m / T), s1 = lo + int(std::int64_t(t + 1) * m / T);
      loss_total += l * double(s1 - s0) / double(n);
      epoch_correct_ += shard_correct_[size_t(t)];
      epoch_sq_err_ += shard_sq_[size_t(t)];
    }
    if (lowp) {
      // The ablation: this micro-batch's gradient quantized, the running sum re-quantized.
      reduce_into_master();
      for (std::size_t i = 0; i < master.size(); ++i) {
        Tensor& g = master[i]->grad;
        quantize_gradient(g.data(), g.size(), param_grad_op_[i], opt_.grad_rounding, rng_);
        float* acc = lowp_acc_[i].data();
        for (std::int64_t e = 0; e < g.size(); ++e) acc[e] += g[e];
        quantize_gradient(acc, g.size(), param_grad_op_[i], opt_.grad_rounding, rng_);
        g.set_zero();
      }
    }
  }
  if (lowp) {
    for (std::size_t i = 0; i < master.size(); ++i)
      std::copy(lowp_acc_[i].begin(), lowp_acc_[i].end(), master[i]->grad.data());
  } else {
    reduce_into_master();
    if (quantize_grads)
      for (std::size_t i = 0; i < master.size(); ++i) {
        Tensor& g = master[i]->grad;
        quantize_gradient(g.data(), g.size(), param_grad_op_[i], opt_.grad_rounding, rng_);
      }
  }
  const double norm = global_grad_norm(master);
  if (!std::isfinite(norm)) {
    diverged("the gradient norm is " + value_name(norm), replicas_[0]->first_nonfinite_gradient(), false);
  }
  if (opt_.clip_norm > 0) clip_grad_norm(master, opt_.clip_norm);
  optimizer_->set_lr(current_lr());
  optimizer_->step();
  ++step_;
  sync_replicas();
  epoch_loss_sum_ += loss_total * n;
  epoch_samples_ += n;
  epoch_outputs_ += regression ? std::int64_t(batch.targets.size()) : 0;
  return loss_total;
}

EvalMetrics Trainer::evaluate(BatchSource& src, int batch_size, bool per_example) {
  if (batch_size <= 0) batch_size = opt_.spec.batch_size;
  const bool regression = opt_.task == Task::Regression;
  const int T = int(replicas_.size());
  for (auto& r : replicas_) r->set_training(false);
  src.start_epoch(0);
  Batch b;
  double loss_sum = 0, sq = 0;
  std::int64_t correct = 0, outputs = 0, samples = 0;
  std::vector<double> examples;
  int outputs_per_example = 1;
  while (src.next_batch(batch_size, b)) {
    if (per_example) examples.resize(size_t(samples + b.size));
    run_parallel([&](int t) {
      const int s0 = int(std::int64_t(t) * b.size / T), s1 = int(std::int64_t(t + 1) * b.size / T);
      shard_loss_[size_t(t)] = 0;
      shard_correct_[size_t(t)] = 0;
      shard_sq_[size_t(t)] = 0;
      if (s1 <= s0) return;
      Batch& sb = shard_batch_[size_t(t)];
      slice(b, s0, s1, sb);
      const Tensor& y = replicas_[size_t(t)]->forward(sb.x);
      if (regression) {
        Tensor& tgt = shard_target_[size_t(t)];
        tgt.resize(y.dims());
        std::copy(sb.targets.begin(), sb.targets.end(), tgt.data());
        const double l = mse_[size_t(t)].forward(y, tgt);
        shard_loss_[size_t(t)] = l * (s1 - s0);
        shard_sq_[size_t(t)] = l * double(y.size());
        if (per_example) {
          const std::int64_t per = y.size() / (s1 - s0);
          if (t == 0) outputs_per_example = int(per);
          for (int i = 0; i < s1 - s0; ++i) {
            double e = 0;
            for (std::int64_t j = i * per; j < (i + 1) * per; ++j)
              e += (double(y[j]) - tgt[j]) * (double(y[j]) - tgt[j]);
            examples[size_t(samples + s0 + i)] = e;
          }
        }
      } else {
        SoftmaxCrossEntropy& ce = ce_[size_t(t)];
        shard_loss_[size_t(t)] = ce.forward(y, sb.labels) * (s1 - s0);
        shard_correct_[size_t(t)] = ce.correct();
        if (per_example) {
          const std::size_t per = ce.row_correct().size() / size_t(s1 - s0);
          for (int i = 0; i < s1 - s0; ++i) {
            int c = 0;
            for (std::size_t j = size_t(i) * per; j < size_t(i + 1) * per; ++j) c += ce.row_correct()[j];
            examples[size_t(samples + s0 + i)] = double(c) / double(per);
          }
        }
      }
    });
    for (int t = 0; t < T; ++t) {
      loss_sum += shard_loss_[size_t(t)];
      correct += shard_correct_[size_t(t)];
      sq += shard_sq_[size_t(t)];
    }
    samples += b.size;
    outputs += std::int64_t(b.targets.size());
  }
  for (auto& r : replicas_) r->set_training(true);
  EvalMetrics m;
  m.samples = int(samples);
  if (samples > 0) {
    m.loss = loss_sum / double(samples);
    m.accuracy = regression ? 0 : double(correct) / double(samples);
    m.rmse = regression && outputs > 0 ? std::sqrt(sq / double(outputs)) : 0;
  }
  m.per_example = std::move(examples);
  m.outputs_per_example = outputs_per_example;
  return m;
}

bool Trainer::fit(BatchSource& train, BatchSource* val, std::int64_t stop_after_steps) {
  const int bs = opt_.spec.batch_size;
  const std::int64_t per_epoch = (std::int64_t(train.size()) + bs - 1) / bs;
  const std::int64_t total = per_epoch * opt_.spec.epochs;
  set_total_steps(total);
  const bool regression = opt_.task == Task::Regression;
  const std::string last_path = opt_.checkpoint_dir.empty() ? "" : opt_.checkpoint_dir + "/last.ckpt";
  const std::string best_path = opt_.checkpoint_dir.empty() ? "" : opt_.checkpoint_dir + "/best.ckpt";
  bool wrote_last = false;
  auto save_last = [&] {
    if (last_path.empty()) return;
    save_checkpoint(last_path);
    wrote_last = true;
  };
  const auto run_start = Clock::now();
  const std::int64_t run_start_step = step_;
  auto last_print = Clock::now() - std::chrono::hours(1);
  Batch b;
  while (epoch_ < opt_.spec.epochs) {
    train.start_epoch(epoch_);
    for (int i = 0; i < batch_in_epoch_; ++i) train.next_batch(bs, b);  // resume position
    const auto epoch_start = Clock::now();
    std::int64_t epoch_new_samples = 0;
    while (train.next_batch(bs, b)) {
      try {
        train_step(b);
      } catch (const TrainingDiverged& e) {
        std::string kept = " (no checkpoint was written)";
        if (!last_path.empty() && (wrote_last || std::ifstream(last_path).good()))
          kept = " (the last good checkpoint is kept: " + last_path + ")";
        if (opt_.progress) opt_.progress("", false);  // ends the running line
        throw TrainingDiverged(e.what() + kept);
      }
      ++batch_in_epoch_;
      epoch_new_samples += b.size;
      if (opt_.progress && seconds_since(last_print) > kTransientSeconds) {
        last_print = Clock::now();
        const double el = seconds_since(run_start);
        const double done = double(step_ - run_start_step);
        const double sps = el > 0 ? double(epoch_new_samples) / seconds_since(epoch_start) : 0;
        const double eta = done > 0 ? el / done * double(total - step_) : -1;
        char line[256];
        std::snprintf(line, sizeof line,
                      "epoch %d/%d  step %lld/%lld  loss %.4f  %.0f samples/s  ETA %s",
                      epoch_ + 1, opt_.spec.epochs, (long long)step_, (long long)total,
                      epoch_samples_ > 0 ? epoch_loss_sum_ / double(epoch_samples_) : 0.0, sps,
                      hms(eta).c_str());
        opt_.progress(line, true);
      }
      if (opt_.checkpoint_every_steps > 0 && step_ % opt_.checkpoint_every_steps == 0) save_last();
      if (stop_after_steps > 0 && step_ >= stop_after_steps) {
        save_last();
        if (opt_.progress) opt_.progress("", false);
        return false;
      }
    }
    EpochMetrics em;
    em.epoch = epoch_;
    em.step = step_;
    em.lr = step_ > 0 ? schedule_.at(step_ - 1) : schedule_.at(0);
    em.train_loss = epoch_samples_ > 0 ? epoch_loss_sum_ / double(epoch_samples_) : 0;
    em.train_accuracy = !regression && epoch_samples_ > 0 ? double(epoch_correct_) / double(epoch_samples_) : 0;
    em.train_rmse = regression && epoch_outputs_ > 0 ? std::sqrt(epoch_sq_err_ / double(epoch_outputs_)) : 0;
    em.seconds = seconds_since(epoch_start);
    em.samples_per_second = em.seconds > 0 ? double(epoch_new_samples) / em.seconds : 0;
    if (val) {
      em.has_val = true;
      em.val = evaluate(*val);
    }
    // Best: validation accuracy (classification) / RMSE (regression); training if no validation.
    const double value = regression ? (val ? em.val.rmse : em.train_rmse)
                                    : (val ? em.val.accuracy : em.train_accuracy);
    const bool better = best_epoch_ < 0 || (regression ? value < best_value_ : value > best_value_);
    history_.push_back(em);
    epoch_loss_sum_ = epoch_sq_err_ = 0;
    epoch_samples_ = epoch_correct_ = epoch_outputs_ = 0;
    batch_in_epoch_ = 0;
    ++epoch_;
    if (better) {
      best_epoch_ = em.epoch;
      best_value_ = value;
      if (!best_path.empty()) save_checkpoint(best_path);
    }
    save_last();
    if (opt_.progress) {
      char line[320];
      if (regression)
        std::snprintf(line, sizeof line, "epoch %d/%d: train loss %.4f rmse %.4f | val loss %.4f rmse %.4f | %.1f s",
                      em.epoch + 1, opt_.spec.epochs, em.train_loss, em.train_rmse, em.val.loss,
                      em.val.rmse, em.seconds);
      else
        std::snprintf(line, sizeof line, "epoch %d/%d: train loss %.4f acc %.4f | val loss %.4f acc %.4f | %.1f s",
                      em.epoch + 1, opt_.spec.epochs, em.train_loss, em.train_accuracy, em.val.loss,
                      em.val.accuracy, em.seconds);
      opt_.progress(line, false);
    }
    if (on_epoch) on_epoch(em);
  }
  return true;
}

// ------------------------------------------------------------------ checkpoints

std::string Trainer::notes_json() const {
  nlohmann::json j;
  j["threads"] = int(replicas_.size());
  j["best_epoch"] = best_epoch_;
  j["best_value"] = best_value_;
  j["epoch_loss_sum"] = epoch_loss_sum_;
  j["epoch_sq_err"] = epoch_sq_err_;
  j["epoch_samples"] = epoch_samples_;
  j["epoch_correct"] = epoch_correct_;
  j["epoch_outputs"] = epoch_outputs_;
  nlohmann::json h = nlohmann::json::array();
  for (const EpochMetrics& e : history_) {
    h.push_back({{"epoch", e.epoch}, {"step", e.step}, {"lr", e.lr}, {"train_loss", e.train_loss},
                 {"train_accuracy", e.train_accuracy}, {"train_rmse", e.train_rmse},
                 {"has_val", e.has_val}, {"val_loss", e.val.loss},
                 {"val_accuracy", e.val.accuracy}, {"val_rmse", e.val.rmse},
                 {"val_samples", e.val.samples}, {"seconds", e.seconds},
                 {"samples_per_second", e.samples_per_second}});
  }
  j["history"] = h;
  return j.dump();
}

void Trainer::restore_notes(const std::string& text) {
  const nlohmann::json j = JsonDoc::parse(text, "checkpoint notes").root();
  best_epoch_ = j.at("best_epoch").get<int>();
  best_value_ = j.at("best_value").get<double>();
  epoch_loss_sum_ = j.at("epoch_loss_sum").get<double>();
  epoch_sq_err_ = j.at("epoch_sq_err").get<double>();
  epoch_samples_ = j.at("epoch_samples").get<std::int64_t>();
  epoch_correct_ = j.at("epoch_correct").get<std::int64_t>();
  epoch_outputs_ = j.at("epoch_outputs").get<std::int64_t>();
  history_.clear();
  for (const auto& e : j.at("history")) {
    EpochMetrics m;
    m.epoch = e.at("epoch").get<int>();
    m.step = e.at("step").get<std::int64_t>();
    m.lr = e.at("lr").get<double>();
    m.train_loss = e.at("train_loss").get<double>();
    m.train_accuracy = e.at("train_accuracy").get<double>();
    m.train_rmse = e.at("train_rmse").get<double>();
    m.has_val = e.at("has_val").get<bool>();
    m.val.loss = e.at("val_loss").get<double>();
    m.val.accuracy = e.at("val_accuracy").get<double>();
    m.val.rmse = e.at("val_rmse").get<double>();
    m.val.samples = e.at("val_samples").get<int>();
    m.seconds = e.at("seconds").get<double>();
    m.samples_per_second = e.at("samples_per_second").get<double>();
    history_.push_back(m);
  }
}

void Trainer::save_checkpoint(const std::string& path) {
  CheckpointData c;
  c.network = net_.name;
  c.layer_count = std::uint32_t(net_.layers.size());
  for (Param* p : replica_params_[0])
    c.params.push_back({p->name, p->value.dims(), std::vector<float>(p->value.data(), p->value.data() + p->value.size())});
  for (Buffer* b : replicas_[0]->buffers())
    c.buffers.push_back({b->name, b->value.dims(), std::vector<float>(b->value.data(), b->value.data() + b->value.size())});
  c.optimizer = optimizer_->kind();
  c.optimizer_steps = optimizer_->steps();
  for (Eigen::VectorXf* v : optimizer_->state())
    c.optimizer_state.emplace_back(v->data(), v->data() + v->size());
  std::ostringstream r;
  r << rng_;
  c.rng = r.str();
  c.step = step_;
  c.epoch = epoch_;
  c.batch_in_epoch = batch_in_epoch_;
  c.notes = notes_json();
  write_checkpoint(path, c);
}

void Trainer::load_checkpoint(const std::string& path) {
  const CheckpointData c = read_checkpoint(path);
  auto fail = [&](const std::string& msg) { throw CheckpointError(path, msg); };
  if (c.network != net_.name)
    fail("checkpoint is for network \"" + c.network + "\", not \"" + net_.name + "\"");
  if (c.layer_count != net_.layers.size())
    fail("checkpoint has " + std::to_string(c.layer_count) + " layers, the network " +
         std::to_string(net_.layers.size()));
  std::vector<Param*>& ps = replica_params_[0];
  std::vector<Buffer*> bs = replicas_[0]->buffers();
  if (c.params.size() != ps.size())
    fail("checkpoint has " + std::to_string(c.params.size()) + " parameters, the network " +
         std::to_string(ps.size()) + " (different precision or quantizer settings?)");
  if (c.buffers.size() != bs.size())
    fail("checkpoint has " + std::to_string(c.buffers.size()) + " buffers, the network " +
         std::to_string(bs.size()));
  auto check = [&](const NamedTensor& t, const std::string& name, const Dims& d) {
    if (t.name != name) fail("entry \"" + t.name + "\" where the network has \"" + name + "\"");
    if (t.dims != d) fail("\"" + name + "\" has dims " + t.dims.str() + ", the network " + d.str());
  };
  for (std::size_t i = 0; i < ps.size(); ++i) check(c.params[i], ps[i]->name, ps[i]->value.dims());
  for (std::size_t i = 0; i < bs.size(); ++i) check(c.buffers[i], bs[i]->name, bs[i]->value.dims());
  if (c.optimizer != optimizer_->kind())
    fail("checkpoint optimizer \"" + c.optimizer + "\", the run uses \"" + optimizer_->kind() + "\"");
  std::vector<Eigen::VectorXf*> st = optimizer_->state();
  if (c.optimizer_state.size() != st.size()) fail("optimizer state does not match the parameters");
  for (std::size_t i = 0; i < st.size(); ++i)
    if (std::int64_t(c.optimizer_state[i].size()) != st[i]->size())
      fail("optimizer state does not match the parameters");
  try {
    restore_notes(c.notes);
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("malformed trainer notes: ") + e.what());
  } catch (const SpecError& e) {
    fail(std::string("malformed trainer notes: ") + e.what());
  }
  for (std::size_t i = 0; i < ps.size(); ++i)
    std::copy(c.params[i].values.begin(), c.params[i].values.end(), ps[i]->value.data());
  for (std::size_t i = 0; i < bs.size(); ++i)
    std::copy(c.buffers[i].values.begin(), c.buffers[i].values.end(), bs[i]->value.data());
  for (std::size_t i = 0; i < st.size(); ++i)
    std::copy(c.optimizer_state[i].begin(), c.optimizer_state[i].end(), st[i]->data());
  optimizer_->set_steps(c.optimizer_steps);
  std::istringstream r(c.rng);
  r >> rng_;
  if (!r) fail("malformed RNG state");
  step_ = c.step;
  epoch_ = c.epoch;
  batch_in_epoch_ = c.batch_in_epoch;
  // Every replica starts from the restored state.
  for (std::size_t t = 1; t < replicas_.size(); ++t) {
    std::vector<Buffer*> rb = replicas_[t]->buffers();
    for (std::size_t i = 0; i < bs.size(); ++i) rb[i]->value.assign(bs[i]->value);
  }
  broadcast_params();
}

std::vector<NamedTensor> named_params(Graph& g) {
  std::vector<NamedTensor> out;
  for (Param* p : g.params())
    out.push_back(NamedTensor{p->name, p->value.dims(), std::vector<float>(p->value.data(), p->value.data() + p->value.size())});
  return out;
}

std::vector<NamedTensor> named_buffers(Graph& g) {
  std::vector<NamedTensor> out;
  for (Buffer* b : g.buffers())
    out.push_back(NamedTensor{b->name, b->value.dims(), std::vector<float>(b->value.data(), b->value.data() + b->value.size())});
  return out;
}

std::vector<std::string> assign_weights(Graph& g, const std::vector<NamedTensor>& params,
                                        const std::vector<NamedTensor>& buffers, const std::string& source,
                                        std::vector<RankTruncation>* truncations) {
  std::unordered_map<std::string, const NamedTensor*> param_by_name;
  for (const NamedTensor& t : params) param_by_name.emplace(t.name, &t);
  // Factorized layers stored at larger ranks: their cores truncated into `done`.
  std::unordered_map<std::string, std::vector<float>> done;
  if (truncations) {
    for (const mixprec::Layer& l : g.network().layers) {
      if (!l.factorization.active()) continue;
      const TensorNetwork tn = make_tensor_network(l.factorization);
      std::vector<const NamedTensor*> src;
      std::vector<std::vector<int>> dims;
      bool same = true;
      for (const TensorCore& c : tn.cores) {
        auto it = param_by_name.find(l.name + "." + c.name);
        if (it == param_by_name.end()) break;
        src.push_back(it->second);
        const Dims& d = it->second->dims;
        dims.push_back({int(d.n), int(d.c), int(d.h), int(d.w)});
        for (std::size_t k = 0; k < c.axes.size(); ++k)
          same = same && dims.back()[k] == tn.axis_size[size_t(c.axes[k])];
      }
      if (src.size() != tn.cores.size() || same) continue;  // missing, or the graph's own ranks
      const std::optional<Factorization> from = factorization_from_core_dims(l.factorization, dims);
      if (!from)
        throw CheckpointError(source, "the cores of factorized layer \"" + l.name +
                                          "\" do not fit its modes (" + rank_label(l.factorization) + ")");
      if (!ranks_at_most(l.factorization, *from))
        throw CheckpointError(source, "factorized layer \"" + l.name + "\" has ranks " + rank_label(*from) +
                                          ", smaller than the network's " + rank_label(l.factorization) +
                                          " (cores can be truncated to smaller ranks, not grown)");
      std::vector<std::vector<float>> cores;
      for (const NamedTensor* t : src) cores.push_back(t->values);
      TruncatedCores tc = truncate_ranks(*from, cores, l.factorization);
      for (std::size_t c = 0; c < tn.cores.size(); ++c) done[l.name + "." + tn.cores[c].name] = std::move(tc.cores[c]);
      truncations->push_back(RankTruncation{l.name, *from, l.factorization, tc.relative_error_bound()});
    }
  }
  std::unordered_map<std::string, const NamedTensor*> buffer_by_name;
  for (const NamedTensor& t : buffers) buffer_by_name.emplace(t.name, &t);
  std::vector<std::string> missing;
  auto copy = [&](const std::unordered_map<std::string, const NamedTensor*>& from, const std::string& name, Tensor& to) {
    auto d = done.find(name);
    if (d != done.end()) {
      MIXPREC_CHECK(std::int64_t(d->second.size()) == to.size(), "truncated core size");
      std::copy(d->second.begin(), d->second.end(), to.data());
      return;
    }
    auto it = from.find(name);
    if (it == from.end()) {
      missing.push_back(name);
      return;
    }
    const NamedTensor& t = *it->second;
    if (t.dims != to.dims())
      throw CheckpointError(source, "\"" + name + "\" has dims " + t.dims.str() + ", the network " + to.dims().str());
    std::copy(t.values.begin(), t.values.end(), to.data());
  };
  for (Param* p : g.params()) copy(param_by_name, p->name, p->value);
  for (Buffer* b : g.buffers()) copy(buffer_by_name, b->name, b->value);
  return missing;
}

namespace {

bool is_onnx_path(const std::string& path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

// An ONNX file's weights (core/onnx_import.hpp): its network must be the graph's (same layer
// names, kinds and shapes), and it must supply every weight, bias and BatchNorm statistic.
}  // namespace

std::vector<std::string> assign_onnx_weights(Graph& g, const OnnxImport& imp, const std::string& path) {
  const Network other = build_network(imp.network, path);
  const Network& net = g.network();
  if (other.layers.size() != net.layers.size())
    throw CheckpointError(path, "the ONNX graph has " + std::to_string(other.layers.size()) +
                                    " layers, the scenario's network " + std::to_string(net.layers.size()));
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const mixprec::Layer &a = net.layers[i], &b = other.layers[i];
    if (a.name != b.name || a.kind != b.kind || a.in != b.in || a.out != b.out)
      throw CheckpointError(path, "layer " + std::to_string(i) + " of the ONNX graph is " + to_string(b.kind) +
                                      " \"" + b.name + "\", the scenario's network has " + to_string(a.kind) +
                                      " \"" + a.name + "\" (or their shapes differ)");
  }
  auto named = [](const std::vector<ImportedTensor>& ts) {
    std::vector<NamedTensor> out;
    for (const ImportedTensor& t : ts) out.push_back(NamedTensor{t.name, Dims{t.dims[0], t.dims[1], t.dims[2], t.dims[3]}, t.values});
    return out;
  };
  std::vector<std::string> missing = assign_weights(g, named(imp.params), named(imp.buffers), path);
  std::set<std::string> required;
  for (Param* p : g.params())
    if (p->role != ParamRole::QuantStep && p->value.size() > 0) required.insert(p->name);
  for (Buffer* b : g.buffers())
    if (b->name.size() > 8 && (b->name.rfind(".running_mean") != std::string::npos ||
                               b->name.rfind(".running_var") != std::string::npos))
      required.insert(b->name);
  for (const std::string& m : missing)
    if (required.count(m)) throw CheckpointError(path, "the ONNX file has no values for \"" + m + "\"");
  return missing;
}

std::vector<std::string> load_weights(Graph& g, const std::string& path, std::vector<RankTruncation>* truncations) {
  if (is_onnx_path(path)) return assign_onnx_weights(g, import_onnx_file(path), path);
  const CheckpointData c = read_checkpoint(path);
  if (c.network != g.network().name)
    throw CheckpointError(path, "checkpoint is for network \"" + c.network + "\", not \"" +
                                    g.network().name + "\"");
  return assign_weights(g, c.params, c.buffers, path, truncations);
}

std::vector<std::string> Trainer::load_weights(const std::string& path, std::vector<RankTruncation>* truncations) {
  std::vector<std::string> missing = model::load_weights(*replicas_[0], path, truncations);
  std::vector<Buffer*> bs = replicas_[0]->buffers();
  for (std::size_t t = 1; t < replicas_.size(); ++t) {
    std::vector<Buffer*> rb = replicas_[t]->buffers();
    for (std::size_t i = 0; i < bs.size(); ++i) rb[i]->value.assign(bs[i]->value);
  }
  broadcast_params();
  return missing;
}

}  // namespace mixprec::model
