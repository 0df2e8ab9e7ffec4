// Real data sets' files: the UCI occupancy (datatraining.txt ...), UCI room
// (Occupancy_Estimation.csv) and Los-loop (los_speed.csv) parsers, the same bytes to each.
#include "fuzz/fuzz_contract.hpp"
#include "model/data/tables.hpp"

void fuzz_one(const std::string& bytes) {
  for (int which = 0; which < 3; ++which) {
    try {
      if (which == 0) (void)mixprec::data::parse_uci_occupancy(bytes, "datatraining.txt");
      if (which == 1) (void)mixprec::data::parse_uci_room(bytes, "Occupancy_Estimation.csv");
      if (which == 2) (void)mixprec::data::parse_los_speed(bytes, "los_speed.csv");
    } catch (const mixprec::data::DataError& e) {
      if (e.file().empty() || e.line() < 0) throw;
    }
  }
}
