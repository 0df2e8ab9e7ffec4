#include "core/json_reader.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <fcntl.h>
#include <unistd.h>

#include "core/io.hpp"

namespace mixprec {

std::string format_number(double v) {
  std::ostringstream s;
  s.precision(12);
  s << v;
  return s.str();
}

namespace {

// Line and column of a byte offset, for parse errors.
std::pair<int, int> line_col(const std::string& text, std::size_t offset) {
  int line = 1, col = 1;
  for (std::size_t i = 0; i < text.size() && i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}
}  // namespace

namespace {

// Where the parser is, as a JSON pointer: one frame per open container, kept up to date from
// the parser's callback events (an object frame holds the key whose value comes next, an array
// frame the index of the next element).
class PointerTracker {
 public:
  void open(bool array) { frames_.push_back({array, 0, {}}); }
  void key(const std::string& k) { frames_.back().key = k; }
  void value_done() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }
  void close() {
    frames_.pop_back();
    value_done();
  }
  std::size_t depth() const { return frames_.size(); }
  // The pointer of the value being parsed (the container being opened, or the next value).
  std::string pointer() const {
    std::string p;
    for (std::size_t i = 0; i < frames_.size(); ++i)
      p = frames_[i].array ? pointer_join(p, frames_[i].index) : pointer_join(p, frames_[i].key);
    return p;
  }

 private:
  struct Frame {
    bool array;
    std::size_t index;
    std::string key;
  };
  std::vector<Frame> frames_;
};

std::string mib(std::size_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

[[noreturn]] void too_large(const std::string& file_label, std::size_t bytes) {
  throw SpecError(file_label, "", "a JSON document of at most " + mib(kJsonMaxBytes),
                  std::to_string(bytes) + " bytes");
}

// The text between the first pair of single quotes of a parser message ("... parsing '1e400'").
std::string quoted_token(const std::string& what) {
  const auto a = what.find('\'');
  const auto b = a == std::string::npos ? a : what.find('\'', a + 1);
  if (b == std::string::npos) return what;
  std::string t = what.substr(a + 1, b - a - 1);
  if (t.size() > 40) t = t.substr(0, 37) + "...";
  return t;
}
}  // namespace

// The one JSON parser of mixprec. Limits are enforced while parsing: the size before the parser
// starts, the depth at each container's opening (a deeper tree would be accepted by the parser
// but overflow the stack of every recursive copy, comparison or dump later), and numbers beyond
// a double are reported at their pointer instead of as the library's raw exception.
JsonDoc JsonDoc::parse(const std::string& text, const std::string& file_label) {
  if (text.size() > kJsonMaxBytes) too_large(file_label, text.size());
  JsonDoc d;
  d.ctx_.file = file_label;
  PointerTracker where;
  const json::parser_callback_t guard = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (where.depth() >= kJsonMaxDepth)
          throw SpecError(file_label, where.pointer(),
                          "JSON nested at most " + std::to_string(kJsonMaxDepth) + " levels deep",
                          "deeper nesting");
        where.open(event == json::parse_event_t::array_start);
        break;
      case json::parse_event_t::key: where.key(parsed.get_ref<const std::string&>()); break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end: where.close(); break;
      case json::parse_event_t::value: where.value_done(); break;
    }
    return true;
  };
  try {
    d.root_ = json::parse(text, guard);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based position of the offending byte.
    auto [line, col] = line_col(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 1, column 2:
    // syntax error while parsing value - invalid literal; last read: 'x'" -> keep the tail.
    auto pos = what.find("syntax error");
    std::string detail = pos == std::string::npos ? what : what.substr(pos);
    throw SpecError(file_label, "",
                    "valid JSON (line " + std::to_string(line) + ", column " +
                        std::to_string(col) + ")",
                    detail);
  } catch (const json::out_of_range& e) {
    // 406: a number literal beyond the range of a double ("1e400").
    throw SpecError(file_label, where.pointer(),
                    "a number within the range of a double (magnitude at most 1.8e308)",
                    quoted_token(e.what()));
  }
  return d;
}

JsonDoc JsonDoc::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SpecError(path, "", "a readable file", "no such file or unreadable");
  // The size first, so an oversized file is refused before it is read into memory.
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size > 0 && static_cast<std::uint64_t>(size) > kJsonMaxBytes)
    too_large(path, static_cast<std::size_t>(size));
  in.seekg(0, std::ios::beg);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

std::string describe_json(const json& v) {
  std::string kind;
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return std::string("boolean ") + (v.get<bool>() ? "true" : "false");
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number " + v.dump();
    case json::value_t::string: kind = "string "; break;
    case json::value_t::array: kind = "array "; break;
    case json::value_t::object: kind = "object "; break;
    default: kind = ""; break;
  }
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return kind + s;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // A suggestion only when it is plausibly a typo: at most a third of the longer word.
  std::size_t limit = std::max<std::size_t>(2, std::max(word.size(), best.size()) / 3);
  return best_d <= limit ? best : std::string();
}

std::string pointer_join(const std::string& base, const std::string& token) {
  std::string t;
  for (char ch : token) {
    if (ch == '~') t += "~0";
    else if (ch == '/') t += "~1";
    else t += ch;
  }
  return base + "/" + t;
}

std::string pointer_join(const std::string& base, std::size_t index) {
  return base + "/" + std::to_string(index);
}

std::string Range::describe() const {
  std::string s;
  auto add = [&](const std::string& part) { s += (s.empty() ? "" : " and ") + part; };
  if (min_exclusive) add("> " + format_number(*min_exclusive));
  if (min && max) return (s.empty() ? "" : s + " and ") + "in [" + format_number(*min) + ", " + format_number(*max) + "]";
  if (min) add(">= " + format_number(*min));
  if (max) add("<= " + format_number(*max));
  return s;
}

static void check_range(double x, const Range& r, const JsonCtx& ctx, const std::string& ptr,
                        const std::string& what, const json& v) {
  bool ok = std::isfinite(x);
  if (r.min_exclusive && !(x > *r.min_exclusive)) ok = false;
  if (r.min && x < *r.min) ok = false;
  if (r.max && x > *r.max) ok = false;
  if (!ok) {
    std::string d = r.describe();
    throw SpecError(ctx.file, ptr, what + (d.empty() ? "" : " " + d), describe_json(v));
  }
}

double read_number(const json& v, const JsonCtx& ctx, const std::string& ptr, const Range& r) {
  if (!v.is_number()) {
    std::string d = r.describe();
    throw SpecError(ctx.file, ptr, "a number" + (d.empty() ? "" : " " + d), describe_json(v));
  }
  double x = v.get<double>();
  check_range(x, r, ctx, ptr, "a number", v);
  return x;
}

int read_integer(const json& v, const JsonCtx& ctx, const std::string& ptr, const Range& r) {
  auto what = [&]() {  // built only for the message (sweeps parse thousands of scenarios)
    const std::string d = r.describe();
    return "an integer" + (d.empty() ? "" : " " + d);
  };
  if (!v.is_number()) throw SpecError(ctx.file, ptr, what(), describe_json(v));
  double x = v.get<double>();
  if (!std::isfinite(x) || x != std::floor(x) || std::fabs(x) > 2e9)
    throw SpecError(ctx.file, ptr, what(), describe_json(v));
  check_range(x, r, ctx, ptr, "an integer", v);
  return static_cast<int>(x);
}

std::string read_string(const json& v, const JsonCtx& ctx, const std::string& ptr) {
  if (!v.is_string()) throw SpecError(ctx.file, ptr, "a string", describe_json(v));
  return v.get<std::string>();
}

ObjectReader::ObjectReader(const json& obj, const JsonCtx& ctx, std::string pointer)
    : obj_(obj), ctx_(ctx), pointer_(std::move(pointer)) {
  if (!obj_.is_object()) throw SpecError(ctx_.file, pointer_, "an object", describe_json(obj_));
}

bool ObjectReader::has(const std::string& key) const { return obj_.contains(key); }

void ObjectReader::fail(const std::string& key, const std::string& expected,
                        const std::string& found) const {
  throw SpecError(ctx_.file, at(key), expected, found);
}

void ObjectReader::fail_here(const std::string& expected, const std::string& found) const {
  throw SpecError(ctx_.file, pointer_, expected, found);
}

const json& ObjectReader::get(const std::string& key) {
  seen_.insert(key);
  auto it = obj_.find(key);
  if (it == obj_.end()) {
    // A misspelt required key is reported as the typo it is, not as a missing key.
    for (auto o = obj_.begin(); o != obj_.end(); ++o)
      if (!seen_.count(o.key()) && nearest(o.key(), {key}) == key)
        throw SpecError(ctx_.file, at(o.key()), "a known key (did you mean \"" + key + "\"?)",
                        "unknown key \"" + o.key() + "\"");
    fail(key, "a value for required key \"" + key + "\"", "nothing");
  }
  return *it;
}

// Whether x satisfies r (the messages are built only when it does not).
static bool in_range(double x, const Range& r) {
  return std::isfinite(x) && !(r.min_exclusive && !(x > *r.min_exclusive)) && !(r.min && x < *r.min) &&
         !(r.max && x > *r.max);
}

double ObjectReader::number(const std::string& key, const Range& r) {
  const json& v = get(key);
  if (v.is_number()) {  // the common case without building the value's pointer
    const double x = v.get<double>();
    if (in_range(x, r)) return x;
  }
  return read_number(v, ctx_, at(key), r);
}
int ObjectReader::integer(const std::string& key, const Range& r) {
  const json& v = get(key);
  if (v.is_number_integer() && in_range(v.get<double>(), r) && std::fabs(v.get<double>()) <= 2e9)
    return static_cast<int>(v.get<std::int64_t>());
  return read_integer(v, ctx_, at(key), r);
}
bool ObjectReader::boolean(const std::string& key) {
  const json& v = get(key);
  if (!v.is_boolean()) fail(key, "true or false", describe_json(v));
  return v.get<bool>();
}
std::string ObjectReader::string(const std::string& key) {
  const json& v = get(key);
  if (v.is_string()) return v.get<std::string>();
  return read_string(v, ctx_, at(key));
}

static std::string one_of(const std::vector<std::string>& allowed) {
  std::string s = "one of ";
  for (std::size_t i = 0; i < allowed.size(); ++i) s += (i ? ", \"" : "\"") + allowed[i] + "\"";
  return s;
}

std::string ObjectReader::choice(const std::string& key, const std::vector<std::string>& allowed) {
  const json& v = get(key);
  if (!v.is_string()) fail(key, one_of(allowed), describe_json(v));
  std::string s = v.get<std::string>();
  if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
    std::string near = nearest(s, allowed);
    fail(key, one_of(allowed) + (near.empty() ? "" : " (did you mean \"" + near + "\"?)"),
         describe_json(v));
  }
  return s;
}

const json& ObjectReader::object(const std::string& key) {
  const json& v = get(key);
  if (!v.is_object()) fail(key, "an object", describe_json(v));
  return v;
}
const json& ObjectReader::array(const std::string& key) {
  const json& v = get(key);
  if (!v.is_array()) fail(key, "an array", describe_json(v));
  return v;
}
const json& ObjectReader::any(const std::string& key) { return get(key); }

double ObjectReader::number_or(const std::string& key, double dflt, const Range& r) {
  seen_.insert(key);
  return has(key) ? number(key, r) : dflt;
}
int ObjectReader::integer_or(const std::string& key, int dflt, const Range& r) {
  seen_.insert(key);
  return has(key) ? integer(key, r) : dflt;
}
bool ObjectReader::boolean_or(const std::string& key, bool dflt) {
  seen_.insert(key);
  return has(key) ? boolean(key) : dflt;
}
std::string ObjectReader::string_or(const std::string& key, const std::string& dflt) {
  seen_.insert(key);
  return has(key) ? string(key) : dflt;
}
std::string ObjectReader::choice_or(const std::string& key, const std::string& dflt,
                                    const std::vector<std::string>& allowed) {
  seen_.insert(key);
  return has(key) ? choice(key, allowed) : dflt;
}
std::optional<double> ObjectReader::opt_number(const std::string& key, const Range& r) {
  seen_.insert(key);
  if (!has(key)) return std::nullopt;
  return number(key, r);
}
std::optional<int> ObjectReader::opt_integer(const std::string& key, const Range& r) {
  seen_.insert(key);
  if (!has(key)) return std::nullopt;
  return integer(key, r);
}
std::vector<int> ObjectReader::int_list_or(const std::string& key, const std::vector<int>& dflt,
                                           const Range& r) {
  seen_.insert(key);
  if (!has(key)) return dflt;
  const json& a = array(key);
  if (a.empty()) fail(key, "a non-empty array of integers", "an empty array");
  std::vector<int> out;
  for (std::size_t i = 0; i < a.size(); ++i)
    out.push_back(read_integer(a[i], ctx_, pointer_join(at(key), i), r));
  return out;
}
std::vector<std::string> ObjectReader::string_list_or(const std::string& key,
                                                      const std::vector<std::string>& dflt) {
  seen_.insert(key);
  if (!has(key)) return dflt;
  const json& a = array(key);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < a.size(); ++i)
    out.push_back(read_string(a[i], ctx_, pointer_join(at(key), i)));
  return out;
}

void ObjectReader::accept(const std::string& key) { seen_.insert(key); }

void ObjectReader::finish(const std::vector<std::string>& known) {
  std::vector<std::string> cands(seen_.begin(), seen_.end());
  cands.insert(cands.end(), known.begin(), known.end());
  for (auto it = obj_.begin(); it != obj_.end(); ++it) {
    if (seen_.count(it.key())) continue;
    std::string near = nearest(it.key(), cands);
    std::sort(cands.begin(), cands.end());
    cands.erase(std::unique(cands.begin(), cands.end()), cands.end());
    std::string expected =
        near.empty() ? "a known key of " + (pointer_.empty() ? std::string("/") : pointer_) + " (" +
                           one_of(cands) + ")"
                     : "a known key (did you mean \"" + near + "\"?)";
    throw SpecError(ctx_.file, at(it.key()), expected, "unknown key \"" + it.key() + "\"");
  }
}

namespace {

// MIXPREC_FAULT_WRITE=N: the Nth atomic write of this process (1-based, counted over all
// threads) fails as a full disk would, after writing half its bytes to the temporary file. A test
// hook: tests run as root, where permissions cannot make a write fail.
bool injected_fault() {
  static const long nth = [] {
    const char* v = std::getenv("MIXPREC_FAULT_WRITE");
    return v && *v ? std::strtol(v, nullptr, 10) : 0L;
  }();
  static std::atomic<long> count{0};
  return nth > 0 && ++count == nth;
}

std::string reason(int err) { return std::strerror(err); }

}  // namespace

std::optional<std::string> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw WriteError(path, reason(errno));
  const bool fault = injected_fault();
  const std::size_t size = fault ? content.size() / 2 : content.size();
  int err = 0;
  for (std::size_t done = 0; done < size && !err;) {
    const ssize_t n = ::write(fd, content.data() + done, size - done);
    if (n < 0 && errno != EINTR) err = errno;
    if (n > 0) done += std::size_t(n);
  }
  if (!err && fault) err = ENOSPC;
  // Flushed to the device before the rename, so that after a crash the final name holds either
  // the previous content or the complete new content.
  if (!err && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (!err && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err) {
    std::remove(tmp.c_str());
    throw WriteError(path, reason(err));
  }
}

}  // namespace mixprec
