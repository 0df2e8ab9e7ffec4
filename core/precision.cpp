#include "core/precision.hpp"

namespace mixprec {

const char* to_string(NumFormat f) {
  switch (f) {
    case NumFormat::Int: return "int";
    case NumFormat::Fp16: return "fp16";
    case NumFormat::Bf16: return "bf16";
    case NumFormat::Fp32: return "fp32";
  }
  return "?";
}

int float_format_bits(NumFormat f) {
  switch (f) {
    case NumFormat::Fp16:
    case NumFormat::Bf16: return 16;
    case NumFormat::Fp32: return 32;
    case NumFormat::Int: return 0;
  }
  return 0;
}

LayerPrecision LayerPrecision::uniform(NumFormat f, int bits) {
  LayerPrecision p;
  p.format = f;
  int b = f == NumFormat::Int ? bits : float_format_bits(f);
  p.weight_bits = p.activation_bits = p.output_bits = p.recurrent_weight_bits = b;
  p.gate_bits = b;
  // Integer LSTMs keep the cell state at least 16 bits wide (TFLite/CMSIS-NN practice).
  p.cell_state_bits = f == NumFormat::Int ? (b < 16 ? 16 : b) : b;
  p.gradient_bits = f == NumFormat::Int ? (b < 16 ? 16 : b) : b;
  return p;
}

bool LayerPrecision::operator==(const LayerPrecision& o) const {
  return format == o.format && weight_bits == o.weight_bits &&
         activation_bits == o.activation_bits && output_bits == o.output_bits &&
         recurrent_weight_bits == o.recurrent_weight_bits &&
         cell_state_bits == o.cell_state_bits && gate_bits == o.gate_bits &&
         accumulator_bits == o.accumulator_bits && gradient_bits == o.gradient_bits &&
         fraction_bits == o.fraction_bits;
}

void PrecisionPatch::apply_to(LayerPrecision& p) const {
  if (format) p.format = *format;
  // `activations` also sets the stored output width unless `output` is given explicitly.
  if (activation_bits) p.activation_bits = p.output_bits = *activation_bits;
  if (weight_bits) p.weight_bits = p.recurrent_weight_bits = *weight_bits;
  if (output_bits) p.output_bits = *output_bits;
  if (recurrent_weight_bits) p.recurrent_weight_bits = *recurrent_weight_bits;
  if (cell_state_bits) p.cell_state_bits = *cell_state_bits;
  if (gate_bits) p.gate_bits = *gate_bits;
  if (accumulator_bits) p.accumulator_bits = *accumulator_bits;
  if (gradient_bits) p.gradient_bits = *gradient_bits;
  if (fraction_bits) p.fraction_bits = *fraction_bits;
}

bool glob_match(const std::string& pattern, const std::string& text) {
  // Iterative wildcard match with backtracking on the last '*'.
  std::size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace mixprec
