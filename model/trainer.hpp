// Training loop: a Graph built from core's Network at a per-layer precision, trained on a
// BatchSource with SGD/AdamW, a learning-rate schedule, gradient clipping, hybrid-precision
// gradient accumulation, checkpoints and resume.
//
// One optimizer step consumes one batch of TrainingSpec::batch_size samples, split into
// `micro_batches` micro-batches (sizes differing by at most one). Each micro-batch's mean loss
// is scaled by its share of the batch (1/k for equal sizes, Micikevicius et al., "Mixed
// Precision Training", ICLR 2018), so the accumulated gradient is the gradient of the batch's
// mean loss. BatchNorm statistics are per micro-batch (and per thread shard, see below).
//
// Hybrid-precision gradient accumulation (TrainingSpec::fp32_gradient_buffers):
//  * true (default): the micro-batch gradients are summed in FP32 buffers (the "computational
//    memory unit"), then each layer's sum is quantized once to that layer's gradient operand
//    (LayerPrecision::gradients(): int grid of gradient_bits with a per-tensor step, fp16/bf16,
//    or fp32 = unchanged) with nearest or stochastic rounding before the optimizer step;
//  * false (the ablation): each micro-batch's gradient is quantized, and the running sum is
//    re-quantized at the same operand after every addition.
// With an empty precision vector (fp32 graph) nothing is quantized.
//
// Threads: with N > 1 threads the graph is replicated N times; every micro-batch is cut into N
// contiguous shards, shard t runs on replica t, and gradients and buffers (BN statistics,
// quantizer ranges) are reduced in replica order, so results are bit-identical for the same
// seed and thread count (they differ across thread counts only by BatchNorm shard statistics
// and float summation order).
//
// Non-finite values: a loss or gradient that is NaN/Inf stops training with TrainingDiverged,
// naming the step and the first layer whose output (forward) or gradient (backward order) is
// non-finite. Checkpoints are only written after good steps, so the last good one is kept.
#pragma once
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/onnx_import.hpp"
#include "core/precision.hpp"
#include "core/progress.hpp"
#include "core/spec.hpp"
#include "model/checkpoint.hpp"
#include "model/graph.hpp"
#include "model/loss.hpp"
#include "model/optim.hpp"
#include "model/quant.hpp"
#include "model/schedule.hpp"

namespace mixprec::model {

// A batch in the graph's input layout (Graph::input_dims(n)).
struct Batch {
  Tensor x;
  std::vector<int> labels;     // classification: one label per sample
  std::vector<float> targets;  // regression: outputs-per-sample values per sample
  int size = 0;                // samples
};

// Where batches come from. The order within an epoch must be a function of the source's own
// seed and the epoch number, so a resumed run sees the same batches.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int size() const = 0;  // samples per epoch
  virtual void start_epoch(int epoch) = 0;
  // Fills b with the next at most max_samples samples; false when the epoch is exhausted.
  virtual bool next_batch(int max_samples, Batch& b) = 0;
};

// Samples held in memory, each `sample_dims` (Graph::input_dims(1)) floats, contiguous.
// shuffle: a Fisher-Yates permutation per epoch from std::mt19937_64(seed + epoch) with our own
// uniform integers, so every standard library gives the same order.
class MemorySource final : public BatchSource {
 public:
  MemorySource(Dims sample_dims, std::vector<float> x, std::vector<int> labels,
               std::vector<float> targets, std::uint64_t seed, bool shuffle);
  int size() const override { return n_; }
  void start_epoch(int epoch) override;
  bool next_batch(int max_samples, Batch& b) override;

 private:
  Dims sample_;
  std::vector<float> x_;
  std::vector<int> labels_;
  std::vector<float> targets_;
  int n_ = 0, targets_per_sample_ = 0;
  std::uint64_t seed_;
  bool shuffle_;
  std::vector<int> order_;
  int pos_ = 0;
};

// A small synthetic task for a graph's input (when no data set is available, and for tests).
// Classification: sample = signal * pattern[label] + N(0, 1) noise. The class patterns are
// fixed N(0, 1) values drawn from task_seed: one per (frame, channel), constant over each
// frame's pixels, for image input (so per-frame CNNs with global pooling can see them); one per
// (step, feature) for sequence input. Regression: x ~ N(0, 1), each of `outputs` targets a fixed
// random linear function of x (unit variance) plus 0.1 N(0, 1) noise. Samples draw from
// sample_seed (use different ones for train/validation/test).
struct SyntheticOptions {
  int samples = 256;
  int outputs = 2;          // classes, or regression outputs
  bool regression = false;
  float signal = 0.5f;
  std::uint64_t task_seed = 1, sample_seed = 2;
  bool shuffle = true;      // batches in a per-epoch random order
};
std::unique_ptr<MemorySource> make_synthetic(const Graph& g, const SyntheticOptions& opt);

enum class Task { Classification, Regression };

struct TrainerOptions {
  TrainingSpec spec;
  Task task = Task::Classification;
  RangeMethod range = RangeMethod::RunningMinMax;  // QAT ranges
  GradRounding grad_rounding = GradRounding::Nearest;
  ScheduleKind schedule = ScheduleKind::Cosine;
  std::int64_t warmup_steps = 0;
  double clip_norm = 0;   // global gradient-norm clipping; 0 = off
  double momentum = 0.9;  // SGD
  int threads = 1;
  std::string checkpoint_dir;   // "" = no checkpoints; else DIR/last.ckpt and DIR/best.ckpt
  std::int64_t checkpoint_every_steps = 0;  // 0: at the end of each epoch only
  ProgressSink progress;        // epoch lines and a transient running line; null: silent
};

struct EvalMetrics {
  int samples = 0;
  double loss = 0;
  double accuracy = 0;  // classification
  double rmse = 0;      // regression, in the targets' units
  // With evaluate(..., per_example = true): one value per example in source order, for paired
  // comparisons between models (pipeline/stats.hpp): the fraction of the example's rows
  // classified correctly, or the squared error summed over its outputs (normalized units).
  std::vector<double> per_example;
  int outputs_per_example = 1;
};

struct EpochMetrics {
  int epoch = 0;              // 0-based
  std::int64_t step = 0;      // optimizer steps after this epoch
  double lr = 0;              // at the epoch's last step
  double train_loss = 0;
  double train_accuracy = 0;  // classification (running, training mode)
  double train_rmse = 0;      // regression
  bool has_val = false;
  EvalMetrics val;
  double seconds = 0;
  double samples_per_second = 0;
};

class TrainingDiverged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Persistent worker threads for batch shards (created once: a thread per call would also lose
// its thread-local GEMM buffers every time).
class WorkerPool {
 public:
  explicit WorkerPool(int threads);  // threads - 1 workers; the caller is thread 0
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  // Runs fn(0) on the caller and fn(t) on worker t; returns when all are done, rethrowing the
  // first exception (by thread index).
  void run(const std::function<void(int)>& fn);

 private:
  void loop(int t);
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  const std::function<void(int)>* job_ = nullptr;
  long generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::vector<std::exception_ptr> errors_;
};

// A factorized layer whose stored cores had larger ranks than the graph's: truncated on loading.
struct RankTruncation {
  std::string layer;
  Factorization from, to;
  double relative_error_bound = 0;  // bound on ||W' - W|| / ||W|| (model/rank_truncation.hpp)
};

// Copies named parameter and buffer values into g. Entries the graph lacks are ignored (e.g. an
// FP32 graph reading a QAT run), and the names of graph entries missing from the source are
// returned (e.g. a QAT graph's quantizer ranges when reading an FP32 run: they initialize from
// the first training batch). A name with different dims throws CheckpointError naming `source`
// -- except, when `truncations` is given, the cores of a factorized (TT / HT) layer stored at
// ranks no smaller than the graph's: they are truncated to the graph's ranks
// (model::truncate_ranks) and the change is recorded.
std::vector<std::string> assign_weights(Graph& g, const std::vector<NamedTensor>& params,
                                        const std::vector<NamedTensor>& buffers, const std::string& source,
                                        std::vector<RankTruncation>* truncations = nullptr);
// assign_weights from a checkpoint file, which must be of the same network.
std::vector<std::string> load_weights(Graph& g, const std::string& path,
                                      std::vector<RankTruncation>* truncations = nullptr);
// assign_weights from an imported ONNX model (core/onnx_import.hpp; load_weights calls it for a
// path ending in ".onnx"): its network must be the graph's (layer names, kinds, shapes) and it
// must supply every weight, bias and BatchNorm statistic, else CheckpointError naming `source`.
std::vector<std::string> assign_onnx_weights(Graph& g, const OnnxImport& imp, const std::string& source);
// The graph's parameters and buffers as named tensors (assign_weights' input).
std::vector<NamedTensor> named_params(Graph& g);
std::vector<NamedTensor> named_buffers(Graph& g);

class Trainer {
 public:
  Trainer(const Network& net, std::vector<LayerPrecision> precision, const TrainerOptions& opt,
          const GraphOptions& graph_opt = {});
  ~Trainer();

  Graph& graph() { return *replicas_[0]; }
  std::vector<Param*> params() { return replicas_[0]->params(); }
  const TrainerOptions& options() const { return opt_; }

  // One optimizer step on the batch; returns its mean loss. The schedule's total length comes
  // from set_total_steps (fit sets it from the source).
  double train_step(const Batch& batch);
  EvalMetrics evaluate(BatchSource& src, int batch_size = 0, bool per_example = false);

  // Trains the remaining epochs (from the current epoch/batch position, so after
  // load_checkpoint it resumes). stop_after_steps > 0 stops once step() reaches it (a simulated
  // interruption), saving DIR/last.ckpt. Returns true when all epochs finished.
  bool fit(BatchSource& train, BatchSource* val, std::int64_t stop_after_steps = 0);

  void save_checkpoint(const std::string& path);
  // Restores parameters, buffers, optimizer, RNG, position and history. Throws CheckpointError.
  void load_checkpoint(const std::string& path);
  // Starts from another run's weights (e.g. QAT fine-tuning from an FP32 checkpoint): see
  // model::load_weights. Optimizer, position and history stay fresh.
  std::vector<std::string> load_weights(const std::string& path,
                                        std::vector<RankTruncation>* truncations = nullptr);

  void set_total_steps(std::int64_t total);
  std::int64_t step() const { return step_; }
  int epoch() const { return epoch_; }
  const std::vector<EpochMetrics>& history() const { return history_; }
  int best_epoch() const { return best_epoch_; }
  // Called after each epoch's metrics are known (e.g. for a JSON log).
  std::function<void(const EpochMetrics&)> on_epoch;

 private:
  struct Shard;
  void run_parallel(const std::function<void(int)>& fn);
  void sync_replicas();     // buffers averaged over replicas, then broadcast_params()
  void broadcast_params();  // replica 0's parameter values to every replica
  double current_lr() const;
  [[noreturn]] void diverged(const std::string& what, int layer, bool forward);
  std::string notes_json() const;
  void restore_notes(const std::string& json);

  Network net_;
  TrainerOptions opt_;
  std::vector<std::unique_ptr<Graph>> replicas_;
  std::unique_ptr<WorkerPool> pool_;
  std::vector<std::vector<Param*>> replica_params_;
  std::vector<SoftmaxCrossEntropy> ce_;
  std::vector<MseLoss> mse_;
  std::unique_ptr<Optimizer> optimizer_;
  LrSchedule schedule_;
  std::mt19937_64 rng_;  // stochastic gradient rounding
  std::vector<Operand> param_grad_op_;   // gradient operand of each parameter
  std::vector<std::vector<float>> lowp_acc_;  // low-precision accumulation buffers
  std::int64_t step_ = 0;
  int epoch_ = 0, batch_in_epoch_ = 0;
  // Running sums of the current epoch (checkpointed for an exact resume of the metrics).
  double epoch_loss_sum_ = 0, epoch_sq_err_ = 0;
  std::int64_t epoch_samples_ = 0, epoch_correct_ = 0, epoch_outputs_ = 0;
  std::vector<EpochMetrics> history_;
  int best_epoch_ = -1;
  double best_value_ = 0;
  // per-step scratch
  std::vector<Batch> shard_batch_;
  std::vector<double> shard_loss_;
  std::vector<std::int64_t> shard_correct_;
  std::vector<double> shard_sq_;
  std::vector<Tensor> shard_dy_, shard_target_;
};

}  // namespace mixprec::model
