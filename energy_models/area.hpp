// A silicon area proxy for comparing hardware designs in sweeps: MAC datapaths plus on-chip
// SRAM (buffers and PE register files), in mm² at the design's technology node. It ranks
// designs; it is not a layout estimate (no control, interconnect wiring, I/O or DRAM PHY).
//
// Figures (45 nm; energy_models/README.md, "Area proxy"):
//  * integer multiply 8 bit 282 µm², 32 bit 3495 µm²; integer add 8 bit 36 µm², 32 bit 137 µm²
//    (M. Horowitz, "Computing's energy problem", ISSCC 2014, the area column of the same table
//    as the energies in horowitz_45nm.json); other widths by the power law through the two
//    points (multiplier area ∝ (bits_a·bits_b)^0.908, adder area ∝ bits^0.963).
//  * SRAM: 0.346 µm² per 6T bit cell (K. Mistry et al., "A 45nm logic technology with high-k +
//    metal gate transistors...", IEDM 2007), divided by an assumed 70% array efficiency
//    (periphery: decoders, sense amplifiers).
//  * Bit Fusion's fusible cell: the 1.9x cost of a fusible cell over a fixed 8-bit cell
//    (Sharma et al., ISCA 2018, synthesis table; REFERENCES.md) applied to area as well.
//  * Technology scaling: area ∝ (node / 45 nm)² (ideal shrink).
#pragma once
#include "core/spec.hpp"

namespace mixprec::energy {

struct AreaProxy {
  double mac_mm2 = 0;   // all PEs' multipliers and accumulators
  double sram_mm2 = 0;  // weight/input/output buffers and PE register files
  double total_mm2() const { return mac_mm2 + sram_mm2; }
};

AreaProxy area_proxy(const HardwareSpec& hw);

// Building blocks, µm² at 45 nm (exposed for tests).
double multiplier_area_um2(int bits_a, int bits_b);
double adder_area_um2(int bits);
double sram_area_um2(double bits);

}  // namespace mixprec::energy
