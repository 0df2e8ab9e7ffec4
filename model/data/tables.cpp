#include "model/data/tables.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <sstream>

#include "model/data/window.hpp"

namespace mixprec::data {

namespace {

// --- line and field splitting -------------------------------------------------------------

class LineReader {
 public:
  LineReader(std::string_view text, std::string file) : text_(text), file_(std::move(file)) {
    if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
  }
  // Next non-blank line (without its CR/LF); false at the end.
  bool next(std::string_view& out) {
    while (pos_ < text_.size()) {
      std::size_t end = text_.find('\n', pos_);
      if (end == std::string_view::npos) end = text_.size();
      std::string_view l = text_.substr(pos_, end - pos_);
      pos_ = end + 1;
      ++line_;
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (l.find_first_not_of(" \t") == std::string_view::npos) continue;
      out = l;
      return true;
    }
    return false;
  }
  int line() const { return line_; }
  const std::string& file() const { return file_; }
  [[noreturn]] void fail(const std::string& msg) const { throw DataError(file_, line_, msg); }

 private:
  std::string_view text_;
  std::string file_;
  std::size_t pos_ = 0;
  int line_ = 0;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Comma-separated fields; a field may be "quoted" ("" inside quotes is one quote).
std::vector<std::string> split_fields(std::string_view line, const LineReader& r) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string f;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            f += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        f += line[i++];
      }
      if (!closed) r.fail("field " + std::to_string(out.size() + 1) + ": expected a closing quote, found the end of the line");
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',')
        r.fail("field " + std::to_string(out.size() + 1) +
               ": expected a comma after the closing quote, found '" + std::string(1, line[i]) + "'");
    } else {
      std::size_t end = line.find(',', i);
      if (end == std::string_view::npos) end = line.size();
      f = std::string(trim(line.substr(i, end - i)));
      i = end;
    }
    out.push_back(std::move(f));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return out;
}

std::string quoted(const std::string& s) {
  std::string t = s.size() > 40 ? s.substr(0, 40) + "..." : s;
  return "\"" + t + "\"";
}

std::string field_label(int index, const std::string& name) {
  return "field " + std::to_string(index + 1) + (name.empty() ? "" : " (" + name + ")");
}

double number(const std::string& s, int index, const std::string& name, const LineReader& r) {
  double v = 0;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  auto res = std::from_chars(b, e, v);
  if (s.empty() || res.ec != std::errc() || res.ptr != e || !std::isfinite(v))
    r.fail(field_label(index, name) + ": expected a number, found " + quoted(s));
  return v;
}

// A sensor reading: a number, or an empty field (a missing reading, NaN until filled).
float reading(const std::string& s, int index, const std::string& name, const LineReader& r) {
  if (s.empty()) return std::nanf("");
  return float(number(s, index, name, r));
}

// Missing readings take the column's previous value (leading ones the first value present).
void fill_missing(Table& t) {
  const std::size_t cols = t.columns.size();
  for (std::size_t c = 0; c < cols; ++c) {
    int first = -1;
    for (int i = 0; i < t.rows() && first < 0; ++i)
      if (!std::isnan(t.values[std::size_t(i) * cols + c])) first = i;
    if (first < 0)
      throw DataError(t.file, 0, "column " + t.columns[c] + ": expected at least one reading, found none");
    float last = t.values[std::size_t(first) * cols + c];
    for (int i = 0; i < t.rows(); ++i) {
      float& v = t.values[std::size_t(i) * cols + c];
      if (std::isnan(v)) {
        v = last;
        ++t.filled;
      } else {
        last = v;
      }
    }
  }
}

void check_count(const std::vector<std::string>& f, std::size_t want, const LineReader& r) {
  if (f.size() != want)
    r.fail("expected " + std::to_string(want) + " fields, found " + std::to_string(f.size()));
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

// --- timestamps ---------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-compatible
// low-level date algorithms").
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return std::int64_t(era) * 146097 + doe - 719468;
}

bool parse_int(std::string_view s, int& v) {
  if (s.empty() || s.size() > 4) return false;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

std::string fmt_time(std::int64_t t) {
  std::int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  std::int64_t sod = t - days * 86400;
  // civil_from_days
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = unsigned(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = std::int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld", (long long)y, m, d,
                (long long)(sod / 3600), (long long)(sod / 60 % 60), (long long)(sod % 60));
  return buf;
}

void check_time_order(Table& t, std::int64_t ts, const LineReader& r) {
  if (!t.time_s.empty() && ts <= t.time_s.back())
    r.fail("expected a timestamp after " + fmt_time(t.time_s.back()) + " (rows in time order), found " +
           fmt_time(ts));
  t.time_s.push_back(ts);
}

const char* kOccupancyHeader[7] = {"date", "Temperature", "Humidity", "Light", "CO2",
                                   "HumidityRatio", "Occupancy"};
const char* kRoomHeader[19] = {"Date",       "Time",       "S1_Temp",     "S2_Temp",
                               "S3_Temp",    "S4_Temp",    "S1_Light",    "S2_Light",
                               "S3_Light",   "S4_Light",   "S1_Sound",    "S2_Sound",
                               "S3_Sound",   "S4_Sound",   "S5_CO2",      "S5_CO2_Slope",
                               "S6_PIR",     "S7_PIR",     "Room_Occupancy_Count"};

}  // namespace

bool parse_timestamp(std::string_view date, std::string_view time, std::int64_t& seconds) {
  date = trim(date);
  time = trim(time);
  if (date.size() != 10 || (date[4] != '-' && date[4] != '/') || date[7] != date[4]) return false;
  int y, mo, d, h, mi, s;
  if (!parse_int(date.substr(0, 4), y) || !parse_int(date.substr(5, 2), mo) ||
      !parse_int(date.substr(8, 2), d))
    return false;
  const std::size_t c1 = time.find(':');
  if (c1 == std::string_view::npos || c1 == 0 || c1 > 2) return false;
  const std::size_t c2 = time.find(':', c1 + 1);
  if (c2 != c1 + 3 || time.size() != c2 + 3) return false;
  if (!parse_int(time.substr(0, c1), h) || !parse_int(time.substr(c1 + 1, 2), mi) ||
      !parse_int(time.substr(c2 + 1, 2), s))
    return false;
  static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60) return false;
  seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  return true;
}

Table parse_uci_occupancy(std::string_view text, const std::string& file) {
  LineReader r(text, file);
  Table t;
  t.file = file;
  std::string_view l;
  if (!r.next(l)) throw DataError(file, 0, "expected a header line, found an empty file");
  std::vector<std::string> head = split_fields(l, r);
  const std::vector<std::string> want(kOccupancyHeader, kOccupancyHeader + 7);
  // The published header omits the row-number column; accept it when present as well.
  std::vector<std::string> names = head;
  if (names.size() == 8) names.erase(names.begin());
  if (names != want)
    r.fail("expected the header " + join(want) + " (optionally after a row-number column), found " +
           quoted(std::string(l)));
  t.columns.assign(want.begin() + 1, want.begin() + 6);
  while (r.next(l)) {
    std::vector<std::string> f = split_fields(l, r);
    check_count(f, 8, r);
    number(f[0], 0, "row number", r);
    const std::string& ts = f[1];
    const std::size_t sp = ts.find(' ');
    std::int64_t sec = 0;
    if (sp == std::string::npos ||
        !parse_timestamp(std::string_view(ts).substr(0, sp), std::string_view(ts).substr(sp + 1), sec))
      r.fail(field_label(1, "date") + ": expected a timestamp YYYY-MM-DD HH:MM:SS, found " + quoted(ts));
    for (int c = 2; c <= 6; ++c) t.values.push_back(reading(f[std::size_t(c)], c, want[std::size_t(c - 1)], r));
    const double occ = number(f[7], 7, "Occupancy", r);
    if (occ != 0 && occ != 1) r.fail(field_label(7, "Occupancy") + ": expected 0 or 1, found " + quoted(f[7]));
    check_time_order(t, sec, r);
    t.label.push_back(int(occ));
    t.line.push_back(r.line());
  }
  if (t.rows() == 0) throw DataError(file, 0, "expected data rows after the header, found none");
  fill_missing(t);
  return t;
}

Table parse_uci_room(std::string_view text, const std::string& file) {
  LineReader r(text, file);
  Table t;
  t.file = file;
  std::string_view l;
  if (!r.next(l)) throw DataError(file, 0, "expected a header line, found an empty file");
  const std::vector<std::string> want(kRoomHeader, kRoomHeader + 19);
  if (split_fields(l, r) != want)
    r.fail("expected the header " + join(want) + ", found " + quoted(std::string(l)));
  t.columns.assign(want.begin() + 2, want.begin() + 18);
  while (r.next(l)) {
    std::vector<std::string> f = split_fields(l, r);
    check_count(f, 19, r);
    std::int64_t sec = 0;
    if (!parse_timestamp(f[0], f[1], sec))
      r.fail("fields 1-2 (Date, Time): expected YYYY-MM-DD and HH:MM:SS, found " + quoted(f[0]) + " and " +
             quoted(f[1]));
    for (int c = 2; c < 18; ++c) t.values.push_back(reading(f[std::size_t(c)], c, want[std::size_t(c)], r));
    const double n = number(f[18], 18, want[18], r);
    if (n != std::floor(n) || n < 0 || n > 3)
      r.fail(field_label(18, want[18]) + ": expected a count 0 to 3, found " + quoted(f[18]));
    check_time_order(t, sec, r);
    t.label.push_back(int(n));
    t.line.push_back(r.line());
  }
  if (t.rows() == 0) throw DataError(file, 0, "expected data rows after the header, found none");
  fill_missing(t);
  return t;
}

Table parse_los_speed(std::string_view text, const std::string& file) {
  LineReader r(text, file);
  Table t;
  t.file = file;
  std::string_view l;
  if (!r.next(l)) throw DataError(file, 0, "expected a header line of sensor ids, found an empty file");
  t.columns = split_fields(l, r);
  for (std::size_t i = 0; i < t.columns.size(); ++i)
    if (t.columns[i].empty()) r.fail(field_label(int(i), "") + ": expected a sensor id, found an empty field");
  while (r.next(l)) {
    std::vector<std::string> f = split_fields(l, r);
    check_count(f, t.columns.size(), r);
    for (std::size_t c = 0; c < f.size(); ++c)
      t.values.push_back(reading(f[c], int(c), "sensor " + t.columns[c], r));
    t.line.push_back(r.line());
  }
  if (t.rows() == 0) throw DataError(file, 0, "expected rows of speeds after the header, found none");
  fill_missing(t);
  return t;
}

// --- loaders ------------------------------------------------------------------------------

namespace {

std::string dir_origin(const DataSpec& spec) {
  if (!spec.path.empty()) return "data.path";
  if (const char* env = std::getenv("MIXPREC_DATA_DIR"); env && *env) return "MIXPREC_DATA_DIR";
  return "the default ../shared/data";
}

std::string join_path(const std::string& dir, const std::string& rel) {
  if (dir.empty()) return rel;
  return dir.back() == '/' ? dir + rel : dir + "/" + rel;
}

std::string read_data_file(const DataSpec& spec, const std::string& rel) {
  const std::string dir = resolve_data_dir(spec);
  const std::string path = join_path(dir, rel);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw DataError(path, 0,
                    "cannot open the data file (data folder \"" + dir + "\" from " + dir_origin(spec) +
                        "; set data.path in the scenario or MIXPREC_DATA_DIR)");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void check_features(const InputShape& shape, int features, const std::string& source,
                    const std::string& names, const LoadOptions& opt) {
  const bool seq_ok = shape.is_sequence() && shape.features == features;
  const bool img_ok = !shape.is_sequence() && shape.channels == features && shape.height == 1 &&
                      shape.width == 1;
  if (seq_ok || img_ok) return;
  const std::string found = shape.is_sequence()
                                ? std::to_string(shape.features) + " features"
                                : std::to_string(shape.channels) + " x " + std::to_string(shape.height) +
                                      " x " + std::to_string(shape.width) + " frames";
  throw SpecError(opt.scenario_file, "/network/input",
                  std::to_string(features) + " values per step for " + source + " (" + names +
                      "): \"features\": " + std::to_string(features) + ", or \"channels\": " +
                      std::to_string(features) + " with height 1 and width 1",
                  found);
}

// Concatenates tables sorted by their first timestamp into one series and assigns each row
// a split (0 train, 1 validation, 2 test) with split_of(table, row). A new run starts at each
// table, at every gap longer than max_gap_s and where the split changes, so no window spans
// two splits.
template <class SplitOf>
detail::Series series_of(std::vector<Table>& tables, std::int64_t max_gap_s, SplitOf split_of,
                         std::vector<int>& split) {
  std::sort(tables.begin(), tables.end(),
            [](const Table& a, const Table& b) { return a.time_s.front() < b.time_s.front(); });
  detail::Series s;
  s.frame_size = int(tables.front().columns.size());
  split.clear();
  int run = -1;
  for (const Table& t : tables) {
    ++run;
    for (int i = 0; i < t.rows(); ++i) {
      const int sp = split_of(t, i);
      if (i > 0 && (t.time_s[std::size_t(i)] - t.time_s[std::size_t(i - 1)] > max_gap_s || sp != split.back()))
        ++run;
      s.run.push_back(run);
      s.label.push_back(t.label[std::size_t(i)]);
      split.push_back(sp);
    }
    s.values.insert(s.values.end(), t.values.begin(), t.values.end());
  }
  return s;
}

// DataSpec::sensor_changes: every column as its change since the previous row of the same run
// (0 on a run's first row). Runs never span splits, so no split sees another's values.
void difference_columns(detail::Series& s) {
  const int f = s.frame_size;
  for (int r = s.rows() - 1; r >= 0; --r) {
    float* row = s.values.data() + std::ptrdiff_t(r) * f;
    const bool first = r == 0 || s.run[std::size_t(r)] != s.run[std::size_t(r - 1)];
    for (int c = 0; c < f; ++c) row[c] = first ? 0.0f : row[c] - row[c - f];
  }
}

// DataSpec::label_history: the row's label as one more column.
void append_label_column(detail::Series& s) {
  const int f = s.frame_size, rows = s.rows();
  std::vector<float> v;
  v.reserve(std::size_t(rows) * std::size_t(f + 1));
  for (int r = 0; r < rows; ++r) {
    v.insert(v.end(), s.values.begin() + std::ptrdiff_t(r) * f, s.values.begin() + std::ptrdiff_t(r + 1) * f);
    v.push_back(float(s.label[std::size_t(r)]));
  }
  s.values = std::move(v);
  s.frame_size = f + 1;
}

std::vector<detail::WindowRef> refs_of(const std::vector<int>& starts, int series = 0) {
  std::vector<detail::WindowRef> w;
  w.reserve(starts.size());
  for (int s : starts) w.push_back({series, s});
  return w;
}

void fill_classification(Dataset& ds, const detail::Series& s, const std::vector<int>& split,
                         const DataSpec& spec, const LoadOptions& opt) {
  const int T = ds.shape.frames, h = ds.horizon_steps;
  std::vector<int> starts[3];
  for (int st : detail::window_starts(s, 0, s.rows(), T, h)) starts[split[std::size_t(st)]].push_back(st);
  std::vector<const detail::Series*> ser{&s};
  detail::fill_split(ds.train, ser, refs_of(detail::evenly_spaced(starts[0], spec.samples)), T, h, false);
  detail::fill_split(ds.val, ser, refs_of(starts[1]), T, h, false);
  detail::fill_split(ds.test, ser, refs_of(starts[2]), T, h, false);
  if (ds.train.n == 0)
    throw SpecError(opt.scenario_file, "/data", "enough rows for training windows of " + std::to_string(T) + " + " +
                                     std::to_string(h) + " steps in " + ds.name,
                    "none");
  detail::finalize(ds);
}

std::string filled_text(int filled) {
  return filled > 0 ? " (" + std::to_string(filled) + " missing readings filled with the previous value)" : "";
}

std::string task_text(const Dataset& ds, const std::string& what) {
  return what + " " + std::to_string(ds.horizon_steps) + " step(s) (" +
         std::to_string(ds.horizon_steps * ds.step_seconds) + " s) after the last of " +
         std::to_string(ds.shape.frames) + " steps";
}

}  // namespace

Dataset load_uci_occupancy(const DataSpec& spec, const InputShape& shape, const LoadOptions& opt) {
  check_features(shape, 5 + spec.label_history, "uci_occupancy",
                 spec.label_history ? "Temperature, Humidity, Light, CO2, HumidityRatio, current occupancy"
                                    : "Temperature, Humidity, Light, CO2, HumidityRatio",
                 opt);
  std::vector<Table> tables;
  int rows = 0, filled = 0;
  for (const char* f : {"datatraining.txt", "datatest.txt", "datatest2.txt"}) {
    const std::string rel = std::string("uci_occupancy_detection/") + f;
    tables.push_back(parse_uci_occupancy(read_data_file(spec, rel), join_path(resolve_data_dir(spec), rel)));
    rows += tables.back().rows();
    filled += tables.back().filled;
  }
  // The authors' split by file: train datatraining.txt (4-10 Feb), validation datatest.txt
  // (2-4 Feb), test datatest2.txt (11-18 Feb). A 70/15/15 cut of the time-ordered rows would
  // leave the validation split on a weekend with no occupied minute.
  auto split_of = [](const Table& t, int) {
    auto ends = [&](const char* suffix) {
      const std::string sfx(suffix);
      return t.file.size() >= sfx.size() && t.file.compare(t.file.size() - sfx.size(), sfx.size(), sfx) == 0;
    };
    return ends("datatraining.txt") ? 0 : ends("datatest.txt") ? 1 : 2;
  };
  std::vector<int> split;
  detail::Series s = series_of(tables, 210, split_of, split);  // a gap over 3.5 min breaks a run
  if (spec.sensor_changes) difference_columns(s);
  if (spec.label_history) append_label_column(s);
  Dataset ds;
  ds.name = "uci_occupancy/occupancy";
  ds.shape = shape;
  ds.classes = 2;
  ds.class_names = {"empty", "occupied"};
  ds.channel_names = tables.front().columns;
  if (spec.label_history) ds.channel_names.push_back("occupancy_now");
  ds.step_seconds = 60;
  ds.horizon_steps = spec.horizon_steps;
  fill_classification(ds, s, split, spec, opt);
  ds.description = "UCI Occupancy Detection (Candanedo & Feldheim 2016, CC BY 4.0): " +
                   std::to_string(rows) +
                   " one-minute rows (2-18 Feb 2015), 5 sensor features" + (spec.sensor_changes ? std::string(" (as changes per step)") : std::string()) +
                   (spec.label_history ? " + the current occupancy" : "") + filled_text(filled) + "; " +
                   task_text(ds, "occupancy (0/1)") +
                   "; split by file: train datatraining.txt, validation datatest.txt, test datatest2.txt; " +
                   detail::split_summary(ds) + ".";
  return ds;
}

Dataset load_uci_room(const DataSpec& spec, const InputShape& shape, const LoadOptions& opt) {
  check_features(shape, 16 + spec.label_history, "uci_room",
                 spec.label_history ? "S1-S4 temperature, light, sound; S5 CO2 and slope; S6-S7 PIR; current count"
                                    : "S1-S4 temperature, light, sound; S5 CO2 and slope; S6-S7 PIR",
                 opt);
  const std::string rel = "uci_room_occupancy/Occupancy_Estimation.csv";
  std::vector<Table> tables{parse_uci_room(read_data_file(spec, rel), join_path(resolve_data_dir(spec), rel))};
  const int rows = tables.front().rows(), filled = tables.front().filled;
  // Split by calendar day: the recording of 10-11 Jan 2018 is the test split, 23 Dec 2017
  // validation, the other days (22, 24-26 Dec) train. Occupied periods exist only on 22 Dec,
  // 23 Dec and 10 Jan; a 70/15/15 cut of the rows would leave the test split empty-room only.
  const std::int64_t val_day = 17523, test_from_day = 17541;  // 2017-12-23, 2018-01-10
  auto split_of = [&](const Table& t, int row) {
    const std::int64_t day = t.time_s[std::size_t(row)] / 86400;
    return day >= test_from_day ? 2 : day == val_day ? 1 : 0;
  };
  std::vector<int> split;
  detail::Series s = series_of(tables, 105, split_of, split);  // a gap over 105 s breaks a run
  if (spec.sensor_changes) difference_columns(s);
  if (spec.label_history) append_label_column(s);
  Dataset ds;
  ds.name = "uci_room/occupancy";
  ds.shape = shape;
  ds.classes = 4;
  ds.class_names = {"0 people", "1 person", "2 people", "3 people"};
  ds.channel_names = tables.front().columns;
  if (spec.label_history) ds.channel_names.push_back("count_now");
  ds.step_seconds = 30;
  ds.horizon_steps = spec.horizon_steps;
  fill_classification(ds, s, split, spec, opt);
  ds.description = "UCI Room Occupancy Estimation (Singh et al. 2018, CC BY 4.0): " + std::to_string(rows) +
                   " rows every 30 s, 16 sensor features" + (spec.sensor_changes ? std::string(" (as changes per step)") : std::string()) +
                   (spec.label_history ? " + the current count" : "") + filled_text(filled) + "; " +
                   task_text(ds, "people count (0-3)") +
                   "; split by day: train 22 and 24-26 Dec 2017, validation 23 Dec, test 10-11 Jan 2018; " +
                   detail::split_summary(ds) + ".";
  return ds;
}

Dataset load_los_loop(const DataSpec& spec, const InputShape& shape, const LoadOptions& opt) {
  check_features(shape, 1, "los_loop", "the speed of one sensor", opt);
  const std::string rel = "los_loop_traffic/los_speed.csv";
  const Table t = parse_los_speed(read_data_file(spec, rel), join_path(resolve_data_dir(spec), rel));
  const int n_sensors = int(t.columns.size());
  if (opt.traffic_sensor < -1 || opt.traffic_sensor >= n_sensors)
    throw UsageError("traffic sensor " + std::to_string(opt.traffic_sensor) + " out of range: " +
                     t.file + " has sensors 0 to " + std::to_string(n_sensors - 1) + " (-1 pools all)");
  std::vector<int> sensors;
  if (opt.traffic_sensor >= 0) {
    sensors.push_back(opt.traffic_sensor);
  } else {
    sensors.resize(std::size_t(n_sensors));
    std::iota(sensors.begin(), sensors.end(), 0);
  }
  std::vector<detail::Series> cols(sensors.size());
  for (std::size_t k = 0; k < sensors.size(); ++k) {
    detail::Series& s = cols[k];
    s.frame_size = 1;
    for (int r = 0; r < t.rows(); ++r) s.values.push_back(t.at(r, sensors[k]));
    s.target = s.values;
    s.run.assign(std::size_t(t.rows()), 0);
  }
  std::vector<const detail::Series*> ser;
  for (const auto& s : cols) ser.push_back(&s);

  Dataset ds;
  ds.name = "los_loop/traffic";
  ds.shape = shape;
  ds.classes = 1;
  ds.regression = true;
  ds.channel_names = {"speed_mph"};
  ds.target_unit = "mph";
  ds.step_seconds = 300;
  ds.horizon_steps = spec.horizon_steps;
  const int T = shape.frames, h = spec.horizon_steps;
  const detail::SplitRows sr = detail::chronological_split(t.rows());
  // Time-major order (every sensor at a step, then the next step), so an evenly spaced subset
  // covers all sensors and all times.
  auto windows = [&](int begin, int end) {
    std::vector<detail::WindowRef> w;
    const std::vector<int> starts = detail::window_starts(cols[0], begin, end, T, h);
    for (int st : starts)
      for (std::size_t k = 0; k < cols.size(); ++k) w.push_back({int(k), st});
    return w;
  };
  detail::fill_split(ds.train, ser, detail::evenly_spaced(windows(0, sr.train_end), spec.samples), T, h, true);
  detail::fill_split(ds.val, ser, windows(sr.train_end, sr.val_end), T, h, true);
  detail::fill_split(ds.test, ser, windows(sr.val_end, t.rows()), T, h, true);
  if (ds.train.n == 0)
    throw SpecError(opt.scenario_file, "/data", "enough rows for training windows of " + std::to_string(T) +
                                                    " + " + std::to_string(h) + " steps in los_loop",
                    "none");
  detail::finalize(ds);
  char buf[160];
  std::snprintf(buf, sizeof buf, "; naive last-value forecast on test: RMSE %.3f mph, MAE %.3f mph",
                ds.naive_test.rmse, ds.naive_test.mae);
  ds.description = "Los-loop traffic speed (T-GCN packaging of METR-LA, MIT): " + std::to_string(t.rows()) +
                   " five-minute rows x " + std::to_string(n_sensors) + " sensors" + filled_text(t.filled) + ", " +
                   (opt.traffic_sensor >= 0 ? "sensor " + std::to_string(opt.traffic_sensor) + " (id " +
                                                  t.columns[std::size_t(opt.traffic_sensor)] + ")"
                                            : std::string("all sensors pooled (one sensor per window)")) +
                   "; " + task_text(ds, "speed (mph)") + "; rows split 70/15/15 in time; " +
                   detail::split_summary(ds) + buf + ".";
  return ds;
}

}  // namespace mixprec::data
