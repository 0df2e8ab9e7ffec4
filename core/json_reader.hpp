// Typed, strict reading of JSON objects with errors that name file, pointer, expected, found.
//
//   JsonDoc doc = JsonDoc::load(path);          // SpecError on unreadable file / bad JSON
//   ObjectReader r(doc.root(), doc.ctx(), "");  // SpecError if not an object
//   int rows = r.integer("rows", {.min = 1});   // required
//   double f = r.number_or("clock_mhz", 400, {.min_exclusive = 0});
//   r.finish();  // unknown keys -> SpecError suggesting the nearest known key
#pragma once
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/errors.hpp"

namespace mixprec {

using json = nlohmann::json;

struct JsonCtx {
  std::string file;  // shown in every message
};

class JsonDoc {
 public:
  static JsonDoc load(const std::string& path);
  static JsonDoc parse(const std::string& text, const std::string& file_label);
  const json& root() const { return root_; }
  const JsonCtx& ctx() const { return ctx_; }

 private:
  json root_;
  JsonCtx ctx_;
};

// A number for messages: up to 12 significant digits, no trailing zeros ("500", "0.3").
std::string format_number(double v);
// Short human description of a JSON value for "found ..." (type and a clipped rendering).
std::string describe_json(const json& v);
// Edit distance, for "did you mean".
std::size_t edit_distance(const std::string& a, const std::string& b);
// Nearest candidate within a sensible distance, or "".
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);
// JSON pointer escaping of one reference token (~ -> ~0, / -> ~1).
std::string pointer_join(const std::string& base, const std::string& token);
std::string pointer_join(const std::string& base, std::size_t index);

struct Range {
  std::optional<double> min, max;            // inclusive
  std::optional<double> min_exclusive;       // value must be > this
  std::string describe() const;              // e.g. "a number > 0"
};

class ObjectReader {
 public:
  ObjectReader(const json& obj, const JsonCtx& ctx, std::string pointer);

  bool has(const std::string& key) const;
  const std::string& pointer() const { return pointer_; }
  const JsonCtx& ctx() const { return ctx_; }
  std::string at(const std::string& key) const { return pointer_join(pointer_, key); }

  // Required values.
  double number(const std::string& key, const Range& r = {});
  int integer(const std::string& key, const Range& r = {});
  bool boolean(const std::string& key);
  std::string string(const std::string& key);
  std::string choice(const std::string& key, const std::vector<std::string>& allowed);
  const json& object(const std::string& key);  // must be an object
  const json& array(const std::string& key);   // must be an array
  const json& any(const std::string& key);

  // Optional values with defaults.
  double number_or(const std::string& key, double dflt, const Range& r = {});
  int integer_or(const std::string& key, int dflt, const Range& r = {});
  bool boolean_or(const std::string& key, bool dflt);
  std::string string_or(const std::string& key, const std::string& dflt);
  std::string choice_or(const std::string& key, const std::string& dflt,
                        const std::vector<std::string>& allowed);
  std::optional<double> opt_number(const std::string& key, const Range& r = {});
  std::optional<int> opt_integer(const std::string& key, const Range& r = {});
  std::vector<int> int_list_or(const std::string& key, const std::vector<int>& dflt,
                               const Range& r = {});
  std::vector<std::string> string_list_or(const std::string& key,
                                          const std::vector<std::string>& dflt);

  // Marks a key as known without reading it (e.g. handled elsewhere).
  void accept(const std::string& key);
  // Throws for the first key never read/accepted, suggesting the nearest known key.
  // `known` extends the suggestions with keys that exist but were absent here.
  void finish(const std::vector<std::string>& known = {});

  [[noreturn]] void fail(const std::string& key, const std::string& expected,
                         const std::string& found) const;
  [[noreturn]] void fail_here(const std::string& expected, const std::string& found) const;

 private:
  const json& get(const std::string& key);
  const json& obj_;
  const JsonCtx& ctx_;
  std::string pointer_;
  std::set<std::string> seen_;
};

// Stand-alone value checks (for array elements etc.).
double read_number(const json& v, const JsonCtx& ctx, const std::string& pointer,
                   const Range& r = {});
int read_integer(const json& v, const JsonCtx& ctx, const std::string& pointer,
                 const Range& r = {});
std::string read_string(const json& v, const JsonCtx& ctx, const std::string& pointer);

// Writes `content` to `path` atomically: a temporary file in the same directory, then rename.
void write_file_atomic(const std::string& path, const std::string& content);

// A whole file's bytes, or nothing when it cannot be opened (each caller names what the file was
// for in its own error).
std::optional<std::string> read_file_bytes(const std::string& path);

}  // namespace mixprec
