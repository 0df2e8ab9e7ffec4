// Real sensor tables: parsers for their file formats (with the quirks listed in
// /work/shared/data/README.md) and the loaders that turn them into data sets.
//
// Contract: parsers never crash on bad input; a malformed row throws DataError naming the
// file and the line ("FILE:LINE: field 3 (Temperature): expected a number, found \"abc\"").
// Blank lines are skipped; CRLF and LF are both accepted; a UTF-8 byte-order mark is ignored.
// An empty sensor field is a missing reading: it takes the column's previous value (the first
// value present when it leads the column); timestamps and labels may not be empty.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/data/dataset.hpp"

namespace mixprec::data {

// A parsed table in the file's own units, rows in file order.
struct Table {
  std::string file;
  std::vector<std::string> columns;  // feature columns kept in `values`
  std::vector<float> values;         // rows x columns.size()
  std::vector<std::int64_t> time_s;  // seconds since 1970-01-01 of the local timestamp; empty if none
  std::vector<int> label;            // per row; empty if none
  std::vector<int> line;             // 1-based source line of each row
  int filled = 0;                    // missing readings (empty fields) filled with the last value
  int rows() const { return int(line.size()); }
  float at(int row, int col) const { return values[std::size_t(row) * columns.size() + std::size_t(col)]; }
};

// UCI Occupancy Detection (datatraining.txt, datatest.txt, datatest2.txt): a header of 7
// quoted names (date, Temperature, Humidity, Light, CO2, HumidityRatio, Occupancy) and rows
// of 8 fields, a quoted row number first; the timestamp quoted or not. Keeps the 5 sensor
// columns; label = Occupancy (0/1). Timestamps must increase.
Table parse_uci_occupancy(std::string_view text, const std::string& file);
// UCI Room Occupancy Estimation (Occupancy_Estimation.csv): Date, Time, 16 sensor columns,
// Room_Occupancy_Count (0-3). Keeps the 16 sensor columns. Timestamps must increase.
Table parse_uci_room(std::string_view text, const std::string& file);
// Los-loop speeds (los_speed.csv): a header of sensor ids, then rows of one speed (mph) per
// sensor; no timestamp (rows are consecutive 5-minute steps).
Table parse_los_speed(std::string_view text, const std::string& file);

// Seconds since 1970-01-01 of "YYYY-MM-DD" (or "YYYY/MM/DD") and "H:MM:SS" / "HH:MM:SS";
// false when malformed.
bool parse_timestamp(std::string_view date, std::string_view time, std::int64_t& seconds);

// Loaders (files under resolve_data_dir(spec)); windows of shape.frames rows, label or
// target horizon_steps after the last row, chronological 70/15/15 row split, train bounded by
// spec.samples.
Dataset load_uci_occupancy(const DataSpec& spec, const InputShape& shape, const LoadOptions& opt);
Dataset load_uci_room(const DataSpec& spec, const InputShape& shape, const LoadOptions& opt);
Dataset load_los_loop(const DataSpec& spec, const InputShape& shape, const LoadOptions& opt);

}  // namespace mixprec::data
