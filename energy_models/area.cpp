#include "energy_models/area.hpp"

#include <algorithm>
#include <cmath>

namespace mixprec::energy {

namespace {
// Horowitz, ISSCC 2014 (45 nm): area of integer multipliers and adders.
constexpr double kMul8 = 282.0, kMul32 = 3495.0;  // µm²
constexpr double kAdd8 = 36.0, kAdd32 = 137.0;    // µm²
// Mistry et al., IEDM 2007: 45 nm 6T SRAM cell.
constexpr double kSramCellUm2 = 0.346;
constexpr double kSramArrayEfficiency = 0.70;  // assumption (see area.hpp)
// Sharma et al., ISCA 2018: a fusible (2-bit brick) cell costs 1.9x a fixed 8-bit cell.
constexpr double kFusibleOverhead = 1.9;
}  // namespace

double multiplier_area_um2(int bits_a, int bits_b) {
  // Power law through (8x8, 282) and (32x32, 3495) in the product of the operand widths.
  const double k = std::log(kMul32 / kMul8) / std::log(32.0 * 32.0 / 64.0);
  return kMul8 * std::pow(double(bits_a) * double(bits_b) / 64.0, k);
}

double adder_area_um2(int bits) {
  const double k = std::log(kAdd32 / kAdd8) / std::log(32.0 / 8.0);
  return kAdd8 * std::pow(double(bits) / 8.0, k);
}

double sram_area_um2(double bits) { return bits * kSramCellUm2 / kSramArrayEfficiency; }

AreaProxy area_proxy(const HardwareSpec& hw) {
  const MacSpec& m = hw.pe_array.mac;
  // One PE's multiplier at the widths it multiplies per cycle, and its accumulator.
  double mul = 0;
  int acc_bits = 0;
  switch (m.style) {
    case MacStyle::BitParallel:
      mul = multiplier_area_um2(m.native_bits, m.native_bits);
      acc_bits = 2 * m.native_bits + 8;
      break;
    case MacStyle::Composable:
      mul = kFusibleOverhead * multiplier_area_um2(m.fused_bits, m.fused_bits);
      acc_bits = 2 * m.fused_bits + 8;
      break;
    case MacStyle::BitSerial: {
      // Stripes: serial activation bits x a full-width weight; Loom: both operands serial.
      const int w = m.serial_operand == SerialOperand::Both ? m.serial_bits_per_cycle : m.native_bits;
      mul = multiplier_area_um2(m.serial_bits_per_cycle, w);
      acc_bits = 2 * m.native_bits + 8;
      break;
    }
  }
  const double pe_um2 = mul + adder_area_um2(acc_bits);
  const double pes = double(hw.pe_array.rows) * double(hw.pe_array.cols);
  const double shrink = std::pow(double(hw.technology_nm) / 45.0, 2.0);
  AreaProxy a;
  a.mac_mm2 = pes * pe_um2 * shrink * 1e-6;
  double sram_bits = 0;
  for (const BufferSpec* b : {&hw.weight_buffer, &hw.input_buffer, &hw.output_buffer})
    sram_bits += b->size_bytes() * 8.0;
  sram_bits += pes * double(hw.pe_array.register_file_bytes) * 8.0;
  a.sram_mm2 = sram_area_um2(sram_bits) * shrink * 1e-6;
  return a;
}

}  // namespace mixprec::energy
