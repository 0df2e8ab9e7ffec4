// Implementation of stats_text.hpp.
#include "validation/stats_text.hpp"

#include <charconv>
#include <stdexcept>

namespace mixprec::test::stats_text {
namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }
bool digit(char c) { return c >= '0' && c <= '9'; }

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && blank(s[b])) ++b;
  while (e > b && blank(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// The first blank-separated token of `text`.
std::string first_token(const std::string& text) {
  std::size_t b = 0;
  while (b < text.size() && blank(text[b])) ++b;
  std::size_t e = b;
  while (e < text.size() && !blank(text[e])) ++e;
  return text.substr(b, e - b);
}

[[noreturn]] void not_a_number(const std::string& what, const std::string& kind, const std::string& text) {
  throw std::runtime_error(what + ": expected " + kind + ", found '" + text + "'");
}

// Length of the longest run of digits at `s[i]`.
std::size_t digits_at(const std::string& s, std::size_t i) {
  std::size_t n = 0;
  while (i + n < s.size() && digit(s[i + n])) ++n;
  return n;
}

// The values of the lines of `lines` that are fields with key `key`.
std::vector<std::string> values_of(const std::vector<std::string>& lines, const std::string& key, char sep) {
  std::vector<std::string> out;
  for (const std::string& line : lines)
    if (const auto f = field(line, sep); f && f->key == key) out.push_back(f->value);
  return out;
}

const std::string& one_value(const std::vector<std::string>& values, const std::string& key, char sep,
                             const std::string& where) {
  if (values.empty())
    throw std::runtime_error(where + ": key '" + key + "' not found (expected a line '" + key + " " + sep +
                             " <number>')");
  if (values.size() > 1)
    throw std::runtime_error(where + ": key '" + key + "' found " + std::to_string(values.size()) +
                             " times, expected once");
  return values.front();
}

}  // namespace

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t b = 0;
  while (b < text.size()) {
    const std::size_t e = text.find('\n', b);
    if (e == std::string::npos) {
      lines.push_back(text.substr(b));
      break;
    }
    lines.push_back(text.substr(b, e - b));
    b = e + 1;
  }
  return lines;
}

double parse_number(const std::string& text, const std::string& what) {
  const std::string t = first_token(text);
  // -? (D+ (. D*)? | . D+) ([eE] [+-]? D+)?
  std::size_t i = t.size() > 0 && t[0] == '-' ? 1 : 0;
  const std::size_t int_digits = digits_at(t, i);
  i += int_digits;
  std::size_t frac_digits = 0;
  if (i < t.size() && t[i] == '.') {
    frac_digits = digits_at(t, i + 1);
    i += 1 + frac_digits;
  }
  if (int_digits + frac_digits == 0) not_a_number(what, "a number", t);
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < t.size() && (t[j] == '+' || t[j] == '-')) ++j;
    const std::size_t exp_digits = digits_at(t, j);
    if (exp_digits == 0) not_a_number(what, "a number", t);
    i = j + exp_digits;
  }
  if (i != t.size()) not_a_number(what, "a number", t);
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) not_a_number(what, "a finite number", t);
  return v;
}

std::int64_t parse_integer(const std::string& text, const std::string& what) {
  const std::string t = first_token(text);
  const std::size_t sign = t.size() > 0 && t[0] == '-' ? 1 : 0;
  if (digits_at(t, sign) == 0 || sign + digits_at(t, sign) != t.size()) not_a_number(what, "an integer", t);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) not_a_number(what, "a 64-bit integer", t);
  return v;
}

std::optional<std::string> section_header(const std::string& line) {
  const std::string open = "=== ", close = " ===";
  if (line.size() <= open.size() + close.size() || line.compare(0, open.size(), open) != 0 ||
      line.compare(line.size() - close.size(), close.size(), close) != 0)
    return std::nullopt;
  return line.substr(open.size(), line.size() - open.size() - close.size());
}

std::optional<std::string> dataspace_header(const std::string& line) {
  const std::string indent = "    ";
  if (line.size() < indent.size() + 2 || line.compare(0, indent.size(), indent) != 0 || line.back() != ':')
    return std::nullopt;
  const std::string name = line.substr(indent.size(), line.size() - indent.size() - 1);
  for (const char c : name)
    if (!(digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) return std::nullopt;
  return name;
}

std::optional<Field> field(const std::string& line, char sep) {
  const std::size_t at = line.find(sep);
  if (at == std::string::npos) return std::nullopt;
  Field f{trim(line.substr(0, at)), trim(line.substr(at + 1))};
  if (f.key.empty()) return std::nullopt;
  return f;
}

std::vector<std::string> section(const std::vector<std::string>& lines, const std::string& title,
                                 const std::string& where) {
  std::size_t found = 0, at = 0;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i] == title) {
      ++found;
      at = i;
    }
  if (found != 1)
    throw std::runtime_error(where + ": " + (found == 0 ? "no" : std::to_string(found)) + " lines reading '" + title +
                             "', expected one");
  return std::vector<std::string>(lines.begin() + std::ptrdiff_t(at) + 1, lines.end());
}

double labelled_number(const std::vector<std::string>& lines, const std::string& key, char sep,
                       const std::string& where) {
  return parse_number(one_value(values_of(lines, key, sep), key, sep, where), where + ": key '" + key + "'");
}

std::int64_t labelled_integer(const std::vector<std::string>& lines, const std::string& key, char sep,
                              const std::string& where) {
  return parse_integer(one_value(values_of(lines, key, sep), key, sep, where), where + ": key '" + key + "'");
}

double Fields::number(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) throw std::runtime_error(where_ + ": key '" + key + "' not found");
  if (it->second.size() != 1)
    throw std::runtime_error(where_ + ": key '" + key + "' found " + std::to_string(it->second.size()) +
                             " times, expected once");
  return parse_number(it->second.front(), where_ + ": key '" + key + "'");
}

}  // namespace mixprec::test::stats_text
