// Energy tables: the parsed, merged and validated content of one table file
// (`"mixprec_energy_table": 1`). Shipped tables (energy_models/tables/*.json) are compiled into
// the binary; user tables are files that may extend a shipped one. The schema is described in
// energy_models/README.md.
//
// Contract: a returned EnergyTable is complete (every section present) and consistent; all its
// energies are at `node_nm` (an extending table that states its own node has the inherited
// energies rescaled to that node). Malformed tables throw SpecError naming the table file and
// the JSON pointer of the offending value.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mixprec::energy {

constexpr int kEnergyTableVersion = 1;

// Where a number came from.
struct Provenance {
  std::string source;   // citation ("" only in user tables that give none)
  std::string derived;  // how the value was derived from its source ("" for a published figure)
  std::string file;     // table file label and JSON pointer of the entry
  std::string pointer;
};

struct BitsEntry {
  int bits = 0;
  double pj = 0;
  Provenance from;
};
struct ValueEntry {
  double value = 0;
  Provenance from;
};
struct SramPoint {
  double size_kib = 0;
  double pj = 0;  // one access of EnergyTable::sram_row_bits bits
  Provenance from;
};
struct DramKind {
  std::string kind;  // lower case
  double pj_per_bit = 0;
  Provenance from;
};
struct OverheadEntry {
  int fused_bits = 0;
  int brick_bits = 0;
  double factor = 1;
  Provenance from;
};
struct TechNode {
  int nm = 0;
  double factor = 1;  // energy relative to the list's reference node
  Provenance from;
};

// Energy per action given directly for named components (like an Accelergy energy reference
// table). Each overrides the derived value and is scaled by the bitwidth laws from its widths.
struct BufferComponent {
  double read_pj = 0, write_pj = 0;
  int word_bits = 0;
  Provenance from;
};
struct WordComponent {  // register file access / interconnect hop of `word_bits`
  double pj = 0;
  int word_bits = 0;
  Provenance from;
};
struct MacComponent {  // one bits_w x bits_a product accumulated into acc_bits
  double pj = 0;
  int bits_w = 0, bits_a = 0, acc_bits = 0;
  Provenance from;
};
struct DramComponent {
  double pj_per_bit = 0;
  Provenance from;
};
struct Components {
  std::optional<BufferComponent> weight_buffer, input_buffer, output_buffer;
  std::optional<WordComponent> register_file, interconnect;
  std::optional<MacComponent> mac;
  std::optional<DramComponent> dram;
};

struct EnergyTable {
  std::string name;
  std::string file;  // label used in messages: "energy_models/tables/<name>.json" or a path
  std::string description;
  std::vector<std::string> notes;
  int node_nm = 45;

  std::vector<BitsEntry> int_add, int_multiply;  // sorted by bits, distinct
  ValueEntry fp16_add, fp16_multiply, bf16_add, bf16_multiply, fp32_add, fp32_multiply;

  int sram_row_bits = 64;             // access width of the SRAM points
  std::vector<SramPoint> sram_points; // sorted by size, energy non-decreasing
  ValueEntry sram_ratio_per_doubling; // extrapolation outside the points

  std::vector<DramKind> dram;  // sorted by kind

  ValueEntry eyeriss_register_file, eyeriss_interconnect, eyeriss_global_buffer, eyeriss_dram;

  std::vector<OverheadEntry> composable_overhead;  // sorted by fused_bits / brick_bits

  int lut_index_bits = 8;
  Provenance nonlinear_from;

  std::vector<TechNode> technology;  // sorted by nm

  Components components;

  // Energy factor of node `nm` relative to the technology list's reference, interpolated
  // log-log between listed nodes; nullopt outside [smallest, largest] listed node.
  std::optional<double> technology_factor(double nm) const;
  int technology_min_nm() const { return technology.front().nm; }
  int technology_max_nm() const { return technology.back().nm; }
  const DramKind* find_dram(const std::string& kind) const;  // case-insensitive
};

// Names of the tables compiled into the binary (file stems of energy_models/tables/*.json).
std::vector<std::string> shipped_table_names();
bool is_shipped_table(const std::string& name);
// The JSON text of a shipped table; InternalError if `name` is not shipped.
const std::string& shipped_table_text(const std::string& name);
// Label used for a shipped table in messages.
std::string shipped_table_label(const std::string& name);

std::shared_ptr<const EnergyTable> load_shipped_table(const std::string& name);
// A user table file; SpecError (file "", pointer "") when unreadable.
std::shared_ptr<const EnergyTable> load_table_file(const std::string& path);
// Parses table text. `shipped`: every entry must carry a "source".
std::shared_ptr<const EnergyTable> parse_table(const std::string& text,
                                               const std::string& file_label, bool shipped);

}  // namespace mixprec::energy
