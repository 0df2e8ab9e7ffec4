// A network layer's loop nests as nest::Problems, at one precision option: what the mapper maps.
// Derived from sim::derive_work (the one place that turns a layer into GEMMs), so every engine
// prices the same work:
//   * convolution -> dims N K C P Q R S (G when grouped), strides from the layer; zero padding is
//     not a loop (the input footprint is the unpadded window, as in Timeloop's cnn-layer);
//   * linear -> GEMM M N K;
//   * LSTM -> its input-projection GEMM(s) and the recurrent GEMM, run `repeats` times (time
//     steps x directions: identical, independent nests that the mapper maps once); a factorized
//     (TT/HT) projection -> one GEMM per contraction step, named "tt_step<k>_<core>";
//   * training (phase Training) adds the workload's backward GEMMs: GEMM nests for linear and
//     LSTM layers (backward_data, weight_grad, backward_recurrent, weight_grad_recurrent; a
//     factorized step's "<step>.weight_grad" / "<step>.backward_data"); a convolution's
//     backward_data is the transposed convolution (make_conv over the input positions, stride 1)
//     and its weight_grad make_conv_weight_grad. Each nest has its GEMM's MACs (checked).
// Bits per tensor from the option: inputs at the activation bits, weights at the weight (or
// recurrent-weight) bits, outputs at the output bits.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/precision.hpp"
#include "core/spec.hpp"
#include "sim/nest/nest.hpp"

namespace mixprec::sim::nest {

struct LayerNest {
  std::string pass;  // forward | input_proj | recurrent | tt_step1_core3 | weight_grad ...
  Problem problem;
  std::int64_t repeats = 1;
};

// Loop nests of layer `layer` in `phase` (empty for layers without MACs), one per GEMM of
// sim::derive_work, in its order.
std::vector<LayerNest> layer_nests(const Network& net, int layer, const LayerPrecision& p,
                                   const HardwareSpec* hw, Phase phase = Phase::Inference);

}  // namespace mixprec::sim::nest
