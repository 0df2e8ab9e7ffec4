// Layer sensitivity to quantization, as HAWQ-V2 measures it (Dong et al., NeurIPS 2020):
// the average Hessian trace of the loss with respect to a layer's weights, Tr(H_l) / n_l,
// times the quantization perturbation ||Q_b(W_l) - W_l||^2 of a precision option.
//
// The trace comes from Hutchinson's estimator with Rademacher vectors v:
//   Tr(H_l) = E[v_l^T (H v)_l],
// drawing one v over all layers at once (the cross terms vanish in expectation, so one
// Hessian-vector product serves every layer). H v is a central finite difference of gradients:
//   H v ~ (g(w + eps v) - g(w - eps v)) / (2 eps).
// The graph is evaluated in eval mode (BatchNorm on running statistics), so the loss is a fixed
// function of the weights.
#pragma once
#include <cstdint>
#include <vector>

#include "core/precision.hpp"
#include "model/graph.hpp"
#include "model/trainer.hpp"

namespace mixprec::model {

struct SensitivityOptions {
  int samples = 8;          // Rademacher vectors
  float epsilon = 1e-3f;    // finite-difference step per weight
  int max_samples = 256;    // data samples the loss is averaged over
  int batch_size = 32;
  std::uint64_t seed = 1;
};

// Per core layer: Tr(H_l) / n_l (0 for weight-less layers). `regression`: MSE loss on targets,
// else softmax cross-entropy on labels.
std::vector<double> hessian_trace_per_weight(Graph& g, BatchSource& data, bool regression,
                                             const SensitivityOptions& opt);

// ||Q(W) - W||^2 summed over the layer's weight parameters at precision p: symmetric integer
// grids per output channel (rows), recurrent weights at their own bits, floats by rounding.
double weight_perturbation(Graph& g, int layer, const LayerPrecision& p);

// layers x options, row-major: trace_per_weight[l] * weight_perturbation(l, option).
std::vector<double> hessian_sensitivity(Graph& g, const std::vector<double>& trace_per_weight,
                                        const std::vector<LayerPrecision>& options);

}  // namespace mixprec::model
