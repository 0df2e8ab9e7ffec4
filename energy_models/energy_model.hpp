// Energy per action for every component the cost models count.
//
// Contract: EnergyModel is built once from a HardwareSpec (validated) and is then immutable
// and thread-safe. Every query returns picojoules for ONE action at the given operand widths,
// already scaled to the hardware's technology node. Tables are data files under
// energy_models/tables/ (compiled into the binary); each number carries its citation there.
// Bad tables (shipped name unknown, user file unreadable or malformed) throw SpecError naming
// the file and JSON pointer.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/precision.hpp"
#include "core/spec.hpp"

namespace mixprec::energy {

enum class BufferId { Weight, Input, Output };
enum class NonlinearOp { Sigmoid, Tanh, Multiply, Add };

struct MacEnergy {
  double multiplier_pj = 0;
  double accumulator_pj = 0;
  double total_pj() const { return multiplier_pj + accumulator_pj; }
};

struct EnergyTable;  // parsed table data (energy_models/table.hpp)

class EnergyModel {
 public:
  // `scenario_file` is used for error messages and to resolve a relative user-table path.
  static EnergyModel from_hardware(const HardwareSpec& hw, const std::string& scenario_file);

  const std::string& table_name() const;
  int table_node_nm() const;
  double technology_scale() const;  // energy factor table node -> hardware node (1 at same node)

  // One product w x a and its accumulation into an acc_bits-wide accumulator, by MAC style.
  MacEnergy mac(const Operand& w, const Operand& a, int acc_bits, const MacSpec& mac) const;
  double multiply_pj(const Operand& w, const Operand& a) const;  // bitwidth law / float entry
  double add_pj(const Operand& x) const;                          // int by width, float by format

  // One read or write of `word_bits` bits from an on-chip buffer.
  double buffer_access_pj(BufferId id, const BufferSpec& buf, int word_bits, bool write) const;
  double register_file_pj(int word_bits) const;   // PE-local register file access
  double interconnect_pj(int word_bits) const;    // one operand hop over the array network
  // Not technology-scaled: DRAM energy belongs to the DRAM device and its interface.
  double dram_pj_per_bit(const DramSpec& dram) const;
  double nonlinear_pj(NonlinearOp op, const Operand& x) const;

  // Energy of one 16-bit integer MAC: the unit of the Eyeriss normalized hierarchy.
  double mac16_pj() const;
  // Citations of every entry this model reads (for reports).
  std::vector<std::string> citations() const;

 private:
  struct Precomputed;  // every law evaluated at construction (energy_model.cpp)
  static EnergyModel build(const HardwareSpec& hw, const std::string& scenario_file, bool want_cites);

  std::shared_ptr<const EnergyTable> table_;
  MemoryHierarchyModel hierarchy_ = MemoryHierarchyModel::Horowitz;
  double tech_scale_ = 1.0;
  std::shared_ptr<const Precomputed> pre_;
};

// PE throughput: products per cycle at these operand widths (composable MACs can exceed 1;
// bit-parallel passes and bit-serial steps make it below 1).
double products_per_cycle(const MacSpec& mac, const Operand& w, const Operand& a);

// Accumulator width that holds the products and a reduction of `reduction_length` terms
// without overflow: bits_w + bits_a + ceil(log2(reduction_length)); float formats accumulate
// in their own format (fp16/bf16 -> fp32 accumulation, as mixed-precision hardware does).
int accumulator_bits(const Operand& w, const Operand& a, std::int64_t reduction_length);

// Names of the tables compiled into the binary.
std::vector<std::string> shipped_tables();

}  // namespace mixprec::energy
