// Workload: each layer as GEMMs (the systolic view) and nonlinear-unit work, at the layer's
// bitwidths. Derived from the network description only; shared by every engine so that the
// analytical and SystemC models price exactly the same work.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/precision.hpp"
#include "core/spec.hpp"

namespace mixprec::sim {

// How the streamed operand A (M x K) is stored: as im2col rows of a feature map (convolution:
// a tile of output rows needs its input rows plus the kernel halo) or as a plain matrix.
struct InputGeometry {
  bool conv = false;
  int images = 0, in_h = 0, in_w = 0, in_c = 0;  // per group
  int kh = 1, kw = 1, stride = 1, out_h = 0, out_w = 0;
  int pad = 0;  // rows of zero padding above and below (not fetched from memory)
  // plain operands: each distinct element appears `reuse` times in the M x K matrix
  // (an im2col operand of a training pass); 1 for an ordinary matrix.
  double reuse = 1.0;
};

struct GemmOp {
  std::string pass;  // forward | input_proj | recurrent | backward_data | weight_grad
  std::int64_t m = 0, n = 0, k = 0;  // per group
  int groups = 1;
  int repeats = 1;          // sequential repetitions (LSTM time steps); costs add up serially
  Operand a, b, out;        // a: streamed (M x K), b: stationary-side (K x N), out: stored result
  int acc_bits = 0;
  InputGeometry geom;
  bool a_from_dram = true;  // false: A is produced on chip (LSTM h_{t-1})
  bool out_to_dram = true;  // false: result consumed on chip (gate pre-activations)
  bool b_resident = false;  // B fetched once for all repeats if it fits its buffer
  // A factorized projection's contraction step ("tt_step2_core3": step 2 of the MAC-minimal plan,
  // contracting core tt_core3); empty for every other GEMM. Names the step's loop nests.
  std::string step;

  std::int64_t macs() const { return m * n * k * groups * std::int64_t(repeats); }
  std::int64_t a_elements() const;  // distinct A elements per group (feature map, not im2col)
};

enum class NonlinearKind { Sigmoid, Tanh, Multiply, Add };

struct NonlinearWork {
  NonlinearKind kind = NonlinearKind::Add;
  std::int64_t ops = 0;       // total ops
  Operand operand;            // bitwidth the unit works at
  int serial_groups = 1;      // ops split into this many dependent steps (LSTM time steps)
};

// Extra DRAM traffic not inside a GEMM (elementwise layers, LSTM state, optimizer state).
struct StreamTraffic {
  std::int64_t read_words = 0, write_words = 0;
  int bits = 8;
  int tensor = 1;  // sim::Tensor index
  bool dram = true;  // false: accesses to the on-chip output buffer (LSTM cell state)
};

struct LayerWork {
  int layer = -1;
  std::vector<GemmOp> gemms;
  std::vector<NonlinearWork> nonlinear;
  std::vector<StreamTraffic> streams;
  // Cycles of the stream traffic that goes through the input buffer instead of DRAM (between-layer
  // hand-overs, set by the mapping engine at that buffer's bandwidth; overlapped as the DRAM
  // streams are). 0 unless residency is on.
  double onchip_stream_cycles = 0;
  bool serial_steps = false;  // LSTM: GEMM repeats and nonlinear steps alternate (recurrence)
  int steps = 1;
};

LayerWork derive_work(const Network& net, int layer_index, const LayerPrecision& p, Phase phase);
// With the hardware: a factorized LSTM projection keeps intermediate products that fit the input
// buffer on chip (the short form sends them through DRAM). Identical for every other layer.
LayerWork derive_work(const Network& net, int layer_index, const LayerPrecision& p, Phase phase,
                      const HardwareSpec* hw);

}  // namespace mixprec::sim
