// A small scanner for Timeloop's stats text (timeloop-model.stats.txt, timeloop-mapper.stats.txt)
// for the validation tests: lines, "=== Component ===" headers, "    DataSpace:" blocks,
// "key : value" / "name = value" fields and strictly parsed numbers. It replaces std::regex, whose
// libstdc++ instantiation raises -Wmaybe-uninitialized in the sanitizer build (.ci/run).
//
// Contract: nothing defaults to 0. A key that is missing, a key found more than once where one is
// expected, or a value that is not a number in full throws std::runtime_error; the message names
// the key and the file (`where`: the file, plus the section / component / data space if any).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mixprec::test::stats_text {

// `text` cut at '\n' (terminators dropped; no empty line after a final '\n').
std::vector<std::string> split_lines(const std::string& text);

// The first blank-separated token of `text` (leading blanks skipped) read as a decimal number:
// optional '-', digits with an optional fraction, optional exponent ("1536", "0.86", "5.56e-04").
// What follows the token (a unit: "pJ", "words/cycle") is ignored. Throws, naming `what`, when the
// token is missing or is not such a number in full ("-", "1.2.3", "12abc", "inf").
double parse_number(const std::string& text, const std::string& what);
// As parse_number, for an integer token (optional '-', digits; must fit std::int64_t).
std::int64_t parse_integer(const std::string& text, const std::string& what);

// "=== NAME ===" -> NAME (the text between the markers, non-empty); otherwise nothing.
std::optional<std::string> section_header(const std::string& line);
// "    NAME:" (exactly four spaces, NAME of letters, digits and '_') -> NAME: a data space block
// inside a component's STATS; otherwise nothing.
std::optional<std::string> dataspace_header(const std::string& line);

struct Field {
  std::string key, value;
};
// "KEY SEP VALUE" with any blanks around: KEY is the text before the first `sep`, trimmed and
// non-empty; VALUE the text after it, trimmed (possibly empty). A line without `sep`, or with
// nothing but blanks before it, gives nothing.
std::optional<Field> field(const std::string& line, char sep);

// The lines after the one line that reads exactly `title`, to the end. Throws, naming `title` and
// `where`, if no line or more than one line reads `title`.
std::vector<std::string> section(const std::vector<std::string>& lines, const std::string& title,
                                 const std::string& where);

// The number in the one line of `lines` that is a field(line, sep) with key `key`
// ("Cycles: 1536" for key "Cycles", sep ':'). Throws, naming `key` and `where`, if no line or
// more than one line has that key, or if its value is not a number.
double labelled_number(const std::vector<std::string>& lines, const std::string& key, char sep,
                       const std::string& where);
std::int64_t labelled_integer(const std::vector<std::string>& lines, const std::string& key, char sep,
                              const std::string& where);

// The fields of one block (a data space in a component's STATS, the fJ/Compute table), kept as
// text and read as numbers on demand, so that fields nobody reads need not be numbers.
class Fields {
 public:
  explicit Fields(std::string where) : where_(std::move(where)) {}
  void add(const std::string& key, const std::string& value) { values_[key].push_back(value); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  // The value of `key`, which must occur exactly once, as a number (parse_number).
  double number(const std::string& key) const;
  const std::string& where() const { return where_; }

 private:
  std::string where_;
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace mixprec::test::stats_text
