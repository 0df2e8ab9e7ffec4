// The ONE expansion of the scenario's hardware template (pe_array + weight/input/output buffers +
// dram + per-PE register file) into a nest::Architecture, for one layer nest at its bits.
//
// Contract (docs/architecture.md, "sim/hierarchy and the mapping engine"):
//   Levels, outermost first (the indices below are stable):
//     0 DRAM           keeps every tensor; row = burst (burst_bytes x 8 bits); energy per row =
//                      dram_pj_per_bit x row bits; bandwidth GB/s x 8e3 / clock MHz bits/cycle,
//                      shared by reads and writes (one channel).
//     1 WeightBuffer   keeps only the weights  } three levels, each keeping only its tensor (the
//     2 InputBuffer    keeps only the inputs   } others bypass it): the template's buffers are
//     3 OutputBuffer   keeps only the outputs  } separate SRAMs with their own capacity, row width
//                      and energy. Depth = size x 8 / row_bits; one row access per bank per
//                      cycle (shared read/write bandwidth row_bits per bank, `banks` banks);
//                      double_buffered -> multiple_buffering 2 (half the capacity holds a tile).
//                      Energy per row access from EnergyModel::buffer_access_pj at the row width.
//                      The output buffer holds partial sums at the hardware's accumulator width
//                      (word_bits = pe_array.accumulator_bits). A chain fixes which tensor's tile
//                      may span the others' loops: the weight tile (the largest buffer, the
//                      stationary operand) may span the input and output tiles' refills, the
//                      output tile (partial sums) spans the shortest stretch of the loop nest.
//     4 PERegisters    one per PE (rows x cols instances, mesh cols wide: the array's fan-out is
//                      below level 3); register_file_bytes each. Weight-stationary: holds weights
//                      and inputs (partial sums flow down the columns into the output buffer: the
//                      array's spatial reduction); output-stationary: holds the partial sums at
//                      accumulator width (operands stream through). Row = the widest value held
//                      (one register), energy EnergyModel::register_file_pj(row bits).
//   Compute: one MAC per PE x the MAC style's products per cycle when >= 1 (composable MACs at
//   low bits: extra lanes along mesh Y under each PE); energy per MAC = EnergyModel::mac at the
//   weight/input operands and the accumulator width. MAC styles slower than one product per cycle
//   (bit-serial, wide bit-parallel) are not lanes: `mac_slowdown()` gives the cycles per product.
//   Leakage: the DRAM level carries the chip's static power per cycle (static_energy_pj(hw, 1)), the
//   others 0, so that the mapper's energy objective weighs a mapping's time as the layer's energy
//   does; the engines drop level leakage from the energy components and count static energy once,
//   static power x the layer's time (sim/analytical.hpp static_energy_pj). No network (NoC)
//   energy: nest does not model it.
#pragma once
#include <cstdint>

#include "core/precision.hpp"
#include "core/spec.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/cost.hpp"
#include "sim/nest/nest.hpp"
#include "sim/residency.hpp"

namespace mixprec::sim {

enum HierarchyLevel : int {
  kLevelDram = 0,
  kLevelWeightBuffer = 1,
  kLevelInputBuffer = 2,
  kLevelOutputBuffer = 3,
  kLevelPeRegisters = 4,
  kHierarchyLevels = 5
};

// The tensor role of dataspace d of a layer nest (conv: Weights/Inputs/Outputs; GEMM: B/A/Z).
// Throws InternalError for a dataspace of another name.
Tensor tensor_of(const nest::Problem& p, int d);

// The dataspaces of `p` with tensor role `t`, as a keep mask.
std::uint32_t mask_of(const nest::Problem& p, Tensor t);

// The cost component level `level` of the expansion is priced as (PE registers: register_file).
Component component_of_level(int level);

// The buffer level that keeps tensor `t` (WeightBuffer, InputBuffer, OutputBuffer).
int buffer_level_of(Tensor t);

// The storage level of the template buffer that keeps tensor `t` (depth, row width, banks,
// multiple buffering and energy per row access), keeping every dataspace: the level
// expand_hierarchy builds (with its keep mask), for what prices that buffer outside a nest
// (between-layer residency, sim/residency.hpp).
nest::StorageLevel template_buffer_level(const HardwareSpec& hw, const energy::EnergyModel& em, Tensor t);

// The template's input buffer as the between-layer hand-over sees it (disabled unless `r` is chain).
ResidencyModel residency_model(const HardwareSpec& hw, const energy::EnergyModel& em, Residency r);

// Bits level `level` of `a` holds a value of dataspace `d` at: the level's word width when it
// fixes one (partial sums at the accumulator width), else the dataspace's own bits.
int held_bits(const nest::Architecture& a, const nest::Problem& p, int level, int d);

// The architecture for problem `p` (its dataspaces' bits) with weight operand `w` and input
// operand `a` (formats for the MAC energy).
nest::Architecture expand_hierarchy(const HardwareSpec& hw, const energy::EnergyModel& em,
                                    const nest::Problem& p, const Operand& w, const Operand& a);

// Cycles per product of the MAC style at these operands (1 when it does one or more products per
// cycle: those are compute lanes of the architecture).
std::int64_t mac_slowdown(const MacSpec& mac, const Operand& w, const Operand& a);

}  // namespace mixprec::sim
