// Layer sensitivity to quantization, two ways.
//
// Hessian (HAWQ-V2, Dong et al., NeurIPS 2020; HAWQ-V3, Yao et al., ICML 2021): the average
// Hessian trace of the loss with respect to a layer's weights, Tr(H_l) / n_l, times the
// quantization perturbation ||Q_b(W_l) - W_l||^2 of a precision option; plus the same for the
// layer's input activations: the per-element trace of the Hessian of a sample's loss with
// respect to the input that the layer quantizes, times that option's activation perturbation
// ||Q_a(x) - x||^2 averaged over samples. (No factor 1/2, as HAWQ writes it: the second-order
// loss change is about half of this proxy.)
//
// The traces come from Hutchinson's estimator with Rademacher vectors v, Tr(H) = E[v^T H v],
// one v over every layer's weights and every layer's input at once (cross terms vanish in
// expectation, so one Hessian-vector product serves every block; their variance does not).
// Variance reduction: each vector is used with K Walsh sign patterns. The blocks (the input of
// the j-th weight layer is block 2j, its weights 2j + 1) fall into K groups (block mod K);
// pattern k flips block q's part of v by (-1)^popcount(k & group(q)). Averaged over the K
// patterns, the cross terms v_q^T H_qr v_r between blocks of different groups cancel exactly
// (the patterns' columns are orthogonal), leaving only those between blocks K apart: in
// particular a layer's weights and its input (the largest, first-order cross term) never share
// a group for K >= 2. Cost: 2 K forward/backward passes per vector and batch.
//
// H v is a central finite difference of gradients, (g(z + eps v) - g(z - eps v)) / (2 eps),
// z = (weights, inputs). (Unlike autograd's exact HVP, a finite difference also sees ReLU kinks
// that the step crosses: the curvature of the loss smoothed at the step's scale.) The input
// gradients come from Graph::set_input_gradient_capture and the input perturbations from
// Graph::set_input_perturbation, which perturb the copy of an input that one layer reads (what
// its input quantizer would change) and return the gradient that layer alone passes back. The
// graph runs in evaluation mode (BatchNorm on running statistics, not folded), so samples are
// independent and the loss is a fixed function of (weights, inputs): per batch b the estimate
// adds v_b^T H_b v_b, H_b the Hessian of the mean loss restricted to the batch's terms.
//
// Measured: the increase in mean loss over validation samples when only one layer runs at one
// option (a QAT graph whose other layers are fp32), its quantizer ranges calibrated on
// validation batches first (Graph::set_calibration). Layers before the quantized one are shared
// fp32 work: their outputs are computed once per layer and batch and the quantized graphs run
// from that layer on (Graph::forward_from).
//
// Determinism: every estimate is a sum over batches in batch order of per-batch terms that do
// not depend on which thread computed them, so results are identical for any thread count.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "core/precision.hpp"
#include "model/graph.hpp"
#include "model/trainer.hpp"

namespace mixprec::model {

struct SensitivityOptions {
  int samples = 8;          // Rademacher vectors per batch
  int sign_patterns = 4;    // Walsh sign patterns per vector (a power of two), see above
  float epsilon = 1e-3f;    // finite-difference step per weight / input value
  int max_samples = 256;    // data samples the loss is averaged over
  int batch_size = 32;
  std::uint64_t seed = 1;
  int threads = 1;          // graph replicas, one batch at a time each
};

// Up to max_samples samples spread evenly over src's epoch 0 (sample floor(k n / m) for the k-th
// of m = min(max_samples, n); every sample when max_samples >= n), in epoch order, in batches of
// batch_size. Spread rather than the first m: a time series' validation split is contiguous, and
// its first windows cover a few hours (on the venue data the first 32 made a TT-LSTM truncated
// to rank 4 look harmless, 5e-5 KL, when over 512 spread samples it costs 0.21).
std::vector<Batch> take_batches(BatchSource& src, int max_samples, int batch_size);

// Per core layer (0 for layers without weights):
//  weight[l]     = Tr(H_W_l) / n_l, the mean loss's Hessian in the layer's weights;
//  activation[l] = E_s[Tr(H_x_l,s)] / m_l, the Hessian of one sample's loss in the input the
//                  layer reads (m_l values per sample), averaged over samples.
struct HessianTraces {
  std::vector<double> weight, activation;
};
// g supplies the network, parameters and buffers (it is not modified); the work runs on
// opt.threads evaluation-mode replicas. `regression`: MSE on targets, else softmax
// cross-entropy on labels.
HessianTraces hessian_traces(Graph& g, const std::vector<Batch>& data, bool regression,
                             const SensitivityOptions& opt);

// The same traces of the generalized Gauss-Newton matrix G = J^T H_out J in place of the Hessian
// (Schraudolph, Neural Computation 2002; the "ggn" sensitivity method): J the Jacobian of one
// sample's network output in the weights (or in the layer's input), H_out the Hessian of the loss
// in that output. Computed exactly, without finite differences or random probes: per sample,
// Tr(G) = sum_r sum_c p_rc ||J_r^T (e_c - p_r)||^2 / R for softmax cross-entropy over R output
// rows of probabilities p_r (H_out = (diag p - p p^T) / R = sum_c p_c (e_c - p)(e_c - p)^T / R),
// and sum_k (2 / m) ||J_k^T e_k||^2 for the mean squared error over m outputs: one backward
// pass per (row, class) or output, from the sample's single forward. Where every layer after the
// perturbed one is piecewise linear (conv, linear, BatchNorm in evaluation mode, ReLU, pooling)
// the network output's own Hessian vanishes almost everywhere and G is the loss's exact Hessian
// (the one an R-operator HVP gives, without the finite difference's kink smoothing); through
// sigmoid / tanh gates (LSTM) G drops their second-derivative term and is positive
// semi-definite. Deterministic; parallel over samples on opt.threads replicas, reduced in sample
// order (opt.samples, sign_patterns and epsilon are unused).
HessianTraces ggn_traces(Graph& g, const std::vector<Batch>& data, bool regression, const SensitivityOptions& opt);

// The weight traces alone, over up to opt.max_samples samples of `data`.
std::vector<double> hessian_trace_per_weight(Graph& g, BatchSource& data, bool regression,
                                             const SensitivityOptions& opt);

// ||Q(W) - W||^2 summed over the layer's weight parameters at precision p: symmetric integer
// grids per output channel (rows), recurrent weights at their own bits, floats by rounding.
double weight_perturbation(Graph& g, int layer, const LayerPrecision& p);

// layers x options, row-major: the mean over `data` samples of ||Q_a(x) - x||^2 for the input x
// that the layer reads, Q_a the option's activation quantizer as QAT applies it (ActQuant: per
// tensor, unsigned after a ReLU), its range the running min/max statistics collected over
// `calibration` exactly as QAT collects them. 0 for layers without weights.
std::vector<double> activation_perturbation(Graph& g, const std::vector<Batch>& calibration,
                                            const std::vector<Batch>& data,
                                            const std::vector<LayerPrecision>& options);

// layers x options, row-major: trace_per_weight[l] * weight_perturbation(l, option).
std::vector<double> hessian_sensitivity(Graph& g, const std::vector<double>& trace_per_weight,
                                        const std::vector<LayerPrecision>& options);

// Both terms (layers x options, row-major): weight = max(0, traces.weight[l]) x
// weight_perturbation, activation = max(0, traces.activation[l]) x act_perturbation; total =
// their sum.
struct SensitivityTerms {
  std::vector<double> weight, activation, total;
};
SensitivityTerms hessian_sensitivity(Graph& g, const HessianTraces& traces,
                                     const std::vector<double>& act_perturbation,
                                     const std::vector<LayerPrecision>& options);

// layers x options, row-major: the increase in loss over `data` when only layer l is at
// options[o] (QAT graph, quantizer ranges calibrated on `calibration`, every other layer fp32),
// measured against the fp32 model's own outputs as targets: the mean KL divergence of the
// softmax outputs (classification; the cross-entropy increase against the fp32 soft labels) or
// the mean squared output difference (regression). Against the hard labels the increase of one
// layer's quantization is buried in sampling noise (on the default network most of the 552
// entries came out <= 0 with 32 validation samples, so the solver saw no difference between
// 2 and 16 bits); against the fp32 outputs it is >= 0 and the same samples give a low-noise
// ranking. 0 for layers without weights. g supplies the fp32 parameters and buffers. Parallel
// over a layer's options.
std::vector<double> measured_sensitivity(Graph& g, const std::vector<Batch>& calibration,
                                         const std::vector<Batch>& data, bool regression,
                                         const std::vector<LayerPrecision>& options, int threads = 1);

// The "clado" method's pairs of weight layers (i < j): every pair, or (neighbours_only) those
// where j reads i's output directly or through weight-less layers only (adjacent along the graph).
std::vector<std::pair<int, int>> clado_pairs(const Network& net, bool neighbours_only);

// Cross-layer interaction terms (CLADO: Deng, Sharify, Wang and Orshansky, "Mixed-Precision
// Quantization for Deep Vision Models with Integer Quadratic Programming", DAC 2025, arXiv
// 2307.05657, first titled "Mixed-Precision Quantization with Cross-Layer Dependencies"), from
// forward passes only: per pair k = (i, j) and options (a, b), at values[k * O * O + a * O + b],
// Omega(i,a; j,b) = D(i at a and j at b) - D(i at a) - D(j at b), D the measured method's output
// divergence from the fp32 model (the same measurement, every other layer fp32) and `single` its
// layers x options table (measured_sensitivity on the same data). CLADO writes the loss change
// of a configuration as these singles plus the pair terms (the second-order cross terms), to
// be minimised as an integer quadratic program. Cost: options^2 quantized forward passes per pair
// over the data (0 where either option is fp32). Any sign. Parallel over a pair's option pairs.
std::vector<double> measured_pair_interactions(Graph& g, const std::vector<Batch>& calibration,
                                               const std::vector<Batch>& data, bool regression,
                                               const std::vector<LayerPrecision>& options,
                                               const std::vector<double>& single,
                                               const std::vector<std::pair<int, int>>& pairs, int threads = 1);

// The measured method for a factorized layer at other ranks (scenario search.ranks):
// candidates x options, row-major: the output divergence when only `layer` differs from the fp32
// model, its cores truncated to the candidate's ranks (model::truncate_ranks, none larger than
// its own) and quantized to the option -- fp32 included (truncation alone). The fp32 reference
// and the layers before `layer` are computed once for all candidates. `relative_error_bounds`:
// per candidate, the truncation's bound on ||W' - W|| / ||W||.
std::vector<double> measured_rank_sensitivity(Graph& g, const std::vector<Factorization>& candidates, int layer,
                                              const std::vector<Batch>& calibration, const std::vector<Batch>& data,
                                              bool regression, const std::vector<LayerPrecision>& options,
                                              int threads = 1, std::vector<double>* relative_error_bounds = nullptr);

// Mean over the n samples of a batch: KL(softmax(ref) || softmax(y)) per sample
// (classification; y and ref hold n rows of logits), or the mean squared difference per output
// (regression).
double output_divergence(const Tensor& y, const Tensor& ref, int n, bool regression);

// Mean loss of the fp32 graph over `data` (evaluation mode).
double mean_loss(Graph& g, const std::vector<Batch>& data, bool regression);

}  // namespace mixprec::model
