// Number formats and per-layer precision: the contract read by every stage
// (scenario `precision` section, standalone precision files, search output, training).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/factorization.hpp"

namespace mixprec {

enum class NumFormat { Int, Fp16, Bf16, Fp32 };

const char* to_string(NumFormat f);
// Storage bits of a float format (16/16/32); 0 for Int (bits are given explicitly).
int float_format_bits(NumFormat f);

// One operand's representation: format plus storage bits (bits == float_format_bits for floats).
struct Operand {
  NumFormat format = NumFormat::Int;
  int bits = 8;
  bool is_float() const { return format != NumFormat::Int; }
  bool operator==(const Operand& o) const { return format == o.format && bits == o.bits; }
  bool operator!=(const Operand& o) const { return !(*this == o); }
};

// Resolved precision of one layer. For non-LSTM layers only weights/activations/output matter.
struct LayerPrecision {
  NumFormat format = NumFormat::Int;
  int weight_bits = 8;
  int activation_bits = 8;      // input activations
  int output_bits = 8;          // stored outputs (defaults to activation_bits)
  int recurrent_weight_bits = 8;  // LSTM: recurrent (hidden-to-hidden) weights
  int cell_state_bits = 16;       // LSTM: cell state c_t
  int gate_bits = 8;              // LSTM: gate activations (sigmoid/tanh outputs)
  int accumulator_bits = 0;       // 0: derived (products + log2(reduction length))
  int gradient_bits = 16;         // training: gradient bitwidth after FP32 accumulation
  // Fixed point (Int only): every quantized tensor of the layer on the two's-complement grid
  // of its bits with the fixed step 2^-fraction_bits (e.g. 16 bits, 8 fractional: Q7.8);
  // -1: steps from the data (per-channel / per-tensor ranges or learned), the default.
  int fraction_bits = -1;

  Operand weights() const { return op(weight_bits); }
  Operand activations() const { return op(activation_bits); }
  Operand outputs() const { return op(output_bits); }
  Operand recurrent_weights() const { return op(recurrent_weight_bits); }
  Operand cell_state() const { return op(cell_state_bits); }
  Operand gates() const { return op(gate_bits); }
  Operand gradients() const { return op(gradient_bits); }

  // A uniform configuration: every tensor at `bits` (or the float format's width).
  static LayerPrecision uniform(NumFormat f, int bits);
  bool operator==(const LayerPrecision& o) const;

 private:
  Operand op(int b) const { return Operand{format, format == NumFormat::Int ? b : float_format_bits(format)}; }
};

// A partial precision: the fields a default or an override sets; unset fields inherit.
struct PrecisionPatch {
  std::optional<NumFormat> format;
  std::optional<int> weight_bits, activation_bits, output_bits, recurrent_weight_bits,
      cell_state_bits, gate_bits, accumulator_bits, gradient_bits, fraction_bits;
  void apply_to(LayerPrecision& p) const;
};

struct PrecisionOverride {
  std::string match;     // exact layer name or glob pattern (`*`, `?`)
  std::string pointer;   // JSON pointer of the override (for error messages)
  PrecisionPatch patch;
};

// The `precision` section / a precision file, before it is resolved against a network.
struct PrecisionSpec {
  PrecisionPatch defaults;                 // applied over LayerPrecision{} (int8, cell 16)
  std::vector<PrecisionOverride> layers;   // applied in order; later entries win
  // Precision files only: ranks of factorized layers, e.g. as `mixprec search` chose them
  // ({"ranks": {"lstm.l0": [1, 4, 4, 1]}}; core/scenario.hpp apply_rank_overrides).
  struct RankOverride {
    std::string layer;
    RankSpec ranks;
  };
  std::vector<RankOverride> ranks;
};

bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace mixprec
