#include "search/sweep_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <set>
#include <stdexcept>

#include "core/errors.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"

namespace mixprec::sweep {

using nlohmann::json;

const char* to_string(Sampling s) {
  switch (s) {
    case Sampling::Grid: return "grid";
    case Sampling::Random: return "random";
    case Sampling::LatinHypercube: return "latin_hypercube";
  }
  return "?";
}

namespace {

std::string dir_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

std::string resolve_relative(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  return base_dir + p;
}

// splitmix64: a portable, seedable generator (the same sequence on every standard library).
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(uniform() * double(n)); }
};

// A number printed without float noise: integers stay integers in the JSON.
json number_value(double v, bool integer) {
  if (integer) return static_cast<long long>(std::llround(v));
  // Round to 12 significant digits so that ranges such as 0.1 steps print as 0.3, not
  // 0.30000000000000004.
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  const double r = std::strtod(buf, nullptr);
  if (r == std::floor(r) && std::fabs(r) < 9e15) return static_cast<long long>(r);
  return r;
}

void check_pointer_syntax(const std::string& key, const JsonCtx& ctx, const std::string& at) {
  try {
    json::json_pointer p(key);
    if (key.empty()) throw std::invalid_argument("empty");
  } catch (const std::exception&) {
    throw SpecError(ctx.file, at, "a JSON pointer into the scenario such as \"/hardware/clock_mhz\"",
                    describe_json(json(key)));
  }
}


Axis parse_axis(const json& v, const JsonCtx& ctx, const std::string& at, const json& base) {
  ObjectReader r(v, ctx, at);
  Axis a;
  a.pointer = at;
  if (r.has("key") == r.has("keys"))
    r.fail_here("exactly one of \"key\" (a JSON pointer) or \"keys\" (pointers set together)",
                r.has("key") ? "both" : "neither");
  if (r.has("key")) {
    a.keys.push_back(r.string("key"));
    check_pointer_syntax(a.keys.back(), ctx, r.at("key"));
  } else {
    const json& ks = r.array("keys");
    if (ks.empty()) r.fail("keys", "a non-empty list of JSON pointers", "an empty list");
    for (std::size_t i = 0; i < ks.size(); ++i) {
      a.keys.push_back(read_string(ks[i], ctx, pointer_join(r.at("keys"), i)));
      check_pointer_syntax(a.keys.back(), ctx, pointer_join(r.at("keys"), i));
    }
  }
  // The parent of every key must exist in the base scenario: a typo in an intermediate name is
  // caught here (a typo in the last name is caught by the scenario parser's unknown-key check).
  for (std::size_t i = 0; i < a.keys.size(); ++i) {
    const json::json_pointer p(a.keys[i]);
    const json::json_pointer parent = p.parent_pointer();
    const std::string kat = r.has("key") ? r.at("key") : pointer_join(r.at("keys"), i);
    if (!base.contains(parent) || !(base.at(parent).is_object() || base.at(parent).is_array()))
      throw SpecError(ctx.file, kat,
                      "a key whose parent exists in the base scenario (" + parent.to_string() +
                          " is not there)",
                      describe_json(json(a.keys[i])));
  }
  const std::string last = json::json_pointer(a.keys[0]).back();
  a.name = r.string_or("name", last);
  if (a.name.empty()) r.fail("name", "a non-empty axis name", "\"\"");

  const int forms = int(r.has("values")) + int(r.has("range")) + int(r.has("uniform"));
  if (forms != 1)
    r.fail_here("exactly one of \"values\" (a list), \"range\" (start/stop/step or num) or "
                "\"uniform\" (min/max, for random or latin_hypercube sampling)",
                forms == 0 ? "none of them" : "more than one");
  if (r.has("values")) {
    const json& vs = r.array("values");
    if (vs.empty()) r.fail("values", "a non-empty list of values", "an empty list");
    for (const auto& x : vs) a.values.push_back(x);
    if (r.has("labels")) {
      const std::vector<std::string> labels = r.string_list_or("labels", {});
      if (labels.size() != a.values.size())
        r.fail("labels", "one label per value (" + std::to_string(a.values.size()) + ")",
               std::to_string(labels.size()) + " labels");
      if (std::set<std::string>(labels.begin(), labels.end()).size() != labels.size())
        r.fail("labels", "distinct labels", "a repeated label");
      a.labels = labels;
    }
  } else if (r.has("range")) {
    const std::string rat = r.at("range");
    ObjectReader rr(r.object("range"), ctx, rat);
    const double start = rr.number("start");
    const double stop = rr.number("stop");
    if (rr.has("step") == rr.has("num"))
      rr.fail_here("exactly one of \"step\" or \"num\"", rr.has("step") ? "both" : "neither");
    const std::string scale = rr.choice_or("scale", "linear", {"linear", "log"});
    const bool integer = rr.boolean_or("integer", false);
    if (rr.has("step")) {
      if (scale == "log") rr.fail("scale", "\"linear\" with \"step\" (use \"num\" for log ranges)", "\"log\"");
      const double step = rr.number("step", Range{std::nullopt, std::nullopt, 0.0});
      if (stop < start)
        rr.fail("stop", "a value >= start (" + format_number(start) + ") for a positive step",
                describe_json(json(stop)));
      const double n = std::floor((stop - start) / step * (1 + 1e-12) + 1e-9);
      if (n > 1e6) rr.fail("step", "a step giving at most 1,000,000 values", describe_json(json(step)));
      for (long i = 0; i <= static_cast<long>(n); ++i)
        a.values.push_back(number_value(start + double(i) * step, integer));
    } else {
      const int num = rr.integer("num", Range{1.0, 1000000.0, std::nullopt});
      if (scale == "log" && (start <= 0 || stop <= 0))
        rr.fail("start", "positive start and stop for a log range", describe_json(json(start)) +
                         " .. " + describe_json(json(stop)));
      for (int i = 0; i < num; ++i) {
        const double f = num == 1 ? 0.0 : double(i) / double(num - 1);
        const double x = scale == "log" ? start * std::pow(stop / start, f) : start + f * (stop - start);
        a.values.push_back(number_value(x, integer));
      }
    }
    if (integer) {  // rounding may repeat values; keep the first of each
      std::vector<json> uniq;
      for (const auto& x : a.values)
        if (std::find(uniq.begin(), uniq.end(), x) == uniq.end()) uniq.push_back(x);
      a.values = std::move(uniq);
    }
    rr.finish();
    if (r.has("labels")) r.fail("labels", "labels only with \"values\"", "labels on a range axis");
  } else {
    if (r.has("labels")) r.fail("labels", "labels only with \"values\"", "labels on a uniform axis");
    const std::string uat = r.at("uniform");
    ObjectReader ur(r.object("uniform"), ctx, uat);
    a.continuous = true;
    a.lo = ur.number("min");
    a.hi = ur.number("max");
    if (!(a.hi > a.lo))
      ur.fail("max", "a value > min (" + format_number(a.lo) + ")", describe_json(json(a.hi)));
    a.integer = ur.boolean_or("integer", false);
    a.log_scale = ur.choice_or("scale", "linear", {"linear", "log"}) == "log";
    if (a.log_scale && a.lo <= 0)
      ur.fail("min", "a positive min for a log scale", describe_json(json(a.lo)));
    ur.finish();
  }
  r.finish();
  return a;
}

// The value an axis shows in results and constraints: its label when it has labels.
json shown(const Axis& a, const json& v) {
  if (a.labels.empty()) return v;
  for (std::size_t i = 0; i < a.values.size(); ++i)
    if (a.values[i] == v) return a.labels[i];
  return v;
}

json continuous_value(const Axis& a, double u) {
  const double x = a.log_scale ? a.lo * std::pow(a.hi / a.lo, u) : a.lo + u * (a.hi - a.lo);
  return number_value(a.integer ? std::floor(x + 0.5) : x, a.integer);
}

// Sets every key of axis `a` to `value` in `doc`.
void set_axis(json& doc, const Axis& a, const json& value) {
  for (const auto& k : a.keys) doc[json::json_pointer(k)] = value;
}

// Parses a candidate scenario; a SpecError becomes one at the axis value's pointer.
void check_value(const SweepSpec& s, const JsonCtx& ctx, const Axis& a, const json& value,
                 const std::string& at) {
  json doc = s.base;
  set_axis(doc, a, value);
  try {
    const JsonCtx sctx{s.base_file};
    (void)parse_scenario(doc, sctx);
  } catch (const SpecError& e) {
    throw SpecError(ctx.file, at,
                    "setting " + a.keys[0] + (a.keys.size() > 1 ? " (and the axis' other keys)" : "") +
                        " to " + value.dump() + " makes the base scenario invalid: " + e.what());
  }
}

}  // namespace

SweepSpec load_sweep(const std::string& path) {
  const JsonDoc doc = JsonDoc::load(path);
  std::string name_default = path.substr(path.find_last_of('/') + 1);
  if (name_default.size() > 5 && name_default.substr(name_default.size() - 5) == ".json")
    name_default.resize(name_default.size() - 5);
  return parse_sweep(doc.root(), doc.ctx(), dir_of(path), name_default);
}

SweepSpec parse_sweep(const json& root, const JsonCtx& ctx, const std::string& base_dir,
                      const std::string& name_default) {
  static const json kEmpty = json::object();
  ObjectReader r(root, ctx, "");
  SweepSpec s;
  s.file = ctx.file;
  const int version = r.integer("mixprec_sweep");
  if (version != kSweepVersion)
    r.fail("mixprec_sweep", std::to_string(kSweepVersion), std::to_string(version));
  s.name = r.string_or("name", name_default);
  (void)r.string_or("description", "");
  s.base_file = resolve_relative(base_dir, r.string("base"));
  {
    const JsonDoc base = JsonDoc::load(s.base_file);
    s.base = base.root();
    try {
      (void)parse_scenario(s.base, base.ctx());
    } catch (const SpecError& e) {
      throw SpecError(ctx.file, "/base", std::string("a valid base scenario: ") + e.what());
    }
  }
  std::uint64_t h = fnv1a64(root.dump());
  h = fnv1a64(s.base.dump(), h);

  // compute (read before axes so that its files are part of the hash in a fixed order)
  {
    const json& cj = r.has("compute") ? r.object("compute") : kEmpty;
    ObjectReader c(cj, ctx, "/compute");
    const std::string kind = c.choice_or("kind", "simulate", {"simulate", "search"});
    s.compute.kind = kind == "search" ? ComputeKind::Search : ComputeKind::Simulate;
    s.compute.engine = c.choice_or("engine", "scenario", {"scenario", "mapping", "analytical", "systemc"});
    if (c.has("sensitivity")) {
      s.compute.sensitivity_file = resolve_relative(base_dir, c.string("sensitivity"));
      const std::string fh = file_hash(s.compute.sensitivity_file);
      if (fh.empty())
        c.fail("sensitivity", "a readable sensitivity table file",
               "\"" + s.compute.sensitivity_file + "\" (cannot be read)");
      h = fnv1a64(fh, h);
    } else if (s.compute.kind == ComputeKind::Search) {
      c.fail("sensitivity", "a sensitivity table file (as `mixprec search --sensitivity` reads) for "
                            "\"kind\": \"search\"", "nothing");
    }
    if (s.compute.kind == ComputeKind::Simulate) {
      s.compute.precision = c.string_or("precision", "scenario");
      static const std::set<std::string> named{"scenario", "int4", "int8", "int16", "fp16", "fp32"};
      if (!named.count(s.compute.precision)) {
        s.compute.precision_file = resolve_relative(base_dir, s.compute.precision);
        (void)load_precision_file(s.compute.precision_file);  // SpecError names that file
        h = fnv1a64(file_hash(s.compute.precision_file), h);
      }
    } else {
      s.compute.solver = c.choice_or("solver", "", {"exact", "greedy", "random", "evolutionary"});
    }
    c.finish();
  }

  // axes
  const json& axes = r.array("axes");
  if (axes.empty()) r.fail("axes", "a non-empty list of axes", "an empty list");
  std::set<std::string> names;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const std::string at = pointer_join("/axes", i);
    s.axes.push_back(parse_axis(axes[i], ctx, at, s.base));
    if (!names.insert(s.axes.back().name).second)
      throw SpecError(ctx.file, pointer_join(at, "name"), "a unique axis name",
                      "\"" + s.axes.back().name + "\" (used by an earlier axis; give \"name\")");
  }
  // Every value of a discrete axis, both ends of a continuous one, must keep the scenario valid.
  for (std::size_t i = 0; i < s.axes.size(); ++i) {
    const Axis& a = s.axes[i];
    const std::string at = pointer_join("/axes", i);
    if (a.continuous) {
      check_value(s, ctx, a, continuous_value(a, 0.0), pointer_join(pointer_join(at, "uniform"), "min"));
      check_value(s, ctx, a, continuous_value(a, 1.0), pointer_join(pointer_join(at, "uniform"), "max"));
    } else {
      const std::string vat = pointer_join(at, axes[i].contains("values") ? "values" : "range");
      for (std::size_t k = 0; k < a.values.size(); ++k)
        check_value(s, ctx, a, a.values[k],
                    axes[i].contains("values") ? pointer_join(vat, k) : vat);
    }
  }

  // sampling
  {
    const json& smj = r.has("sampling") ? r.object("sampling") : kEmpty;
    ObjectReader sm(smj, ctx, "/sampling");
    const std::string m = sm.choice_or("method", "grid", {"grid", "random", "latin_hypercube"});
    s.sampling = m == "grid" ? Sampling::Grid : m == "random" ? Sampling::Random : Sampling::LatinHypercube;
    if (s.sampling == Sampling::Grid) {
      for (std::size_t i = 0; i < s.axes.size(); ++i)
        if (s.axes[i].continuous)
          throw SpecError(ctx.file, pointer_join(pointer_join("/axes", i), "uniform"),
                          "\"values\" or \"range\" for grid sampling (\"uniform\" axes need "
                          "\"sampling\": {\"method\": \"random\" or \"latin_hypercube\"})",
                          "a uniform axis");
      if (sm.has("points")) sm.fail("points", "no point count for grid sampling (the grid sets it)", "a count");
      double total = 1;
      for (const auto& a : s.axes) total *= double(a.values.size());
      if (total > 1e8)
        throw SpecError(ctx.file, "/axes", "a grid of at most 100,000,000 points",
                        describe_json(json(total)) + " points");
    } else {
      s.samples = static_cast<std::size_t>(sm.integer("points", Range{1.0, 100000000.0, std::nullopt}));
    }
    s.seed = static_cast<unsigned long long>(sm.integer_or("seed", 1, Range{0.0, std::nullopt, std::nullopt}));
    sm.finish();
  }

  // constraints
  if (r.has("constraints")) {
    const json& cs = r.array("constraints");
    std::vector<std::string> axis_names;
    for (const auto& a : s.axes) axis_names.push_back(a.name);
    for (std::size_t i = 0; i < cs.size(); ++i) {
      const std::string at = pointer_join("/constraints", i);
      const std::string text = read_string(cs[i], ctx, at);
      try {
        s.constraints.push_back(Constraint{Expr::parse(text, axis_names), at});
      } catch (const std::invalid_argument& e) {
        throw SpecError(ctx.file, at, "a constraint expression over the axis names (" +
                                          std::string(e.what()) + ")",
                        describe_json(json(text)));
      }
    }
  }
  r.finish();
  s.hash = hex16(h);
  return s;
}

std::vector<Point> enumerate_points(const SweepSpec& s, std::size_t* discarded) {
  std::vector<std::vector<json>> raw;
  const std::size_t na = s.axes.size();
  if (s.sampling == Sampling::Grid) {
    std::size_t total = 1;
    for (const auto& a : s.axes) total *= a.values.size();
    raw.reserve(total);
    std::vector<std::size_t> idx(na, 0);
    for (std::size_t p = 0; p < total; ++p) {
      std::vector<json> v(na);
      for (std::size_t i = 0; i < na; ++i) v[i] = s.axes[i].values[idx[i]];
      raw.push_back(std::move(v));
      // odometer: the last axis varies fastest
      for (std::size_t i = na; i-- > 0;) {
        if (++idx[i] < s.axes[i].values.size()) break;
        idx[i] = 0;
      }
    }
  } else {
    Rng rng{s.seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL};
    const std::size_t n = s.samples;
    raw.assign(n, std::vector<json>(na));
    for (std::size_t i = 0; i < na; ++i) {
      const Axis& a = s.axes[i];
      std::vector<std::size_t> strata(n);
      std::iota(strata.begin(), strata.end(), std::size_t{0});
      if (s.sampling == Sampling::LatinHypercube)
        for (std::size_t k = n; k > 1; --k) std::swap(strata[k - 1], strata[rng.below(k)]);
      for (std::size_t p = 0; p < n; ++p) {
        const double u = s.sampling == Sampling::LatinHypercube
                             ? (double(strata[p]) + rng.uniform()) / double(n)
                             : rng.uniform();
        if (a.continuous)
          raw[p][i] = continuous_value(a, u);
        else
          raw[p][i] = a.values[std::min(a.values.size() - 1, static_cast<std::size_t>(u * double(a.values.size())))];
      }
    }
  }
  std::vector<Point> out;
  out.reserve(raw.size());
  std::size_t dropped = 0;
  for (auto& v : raw) {
    bool keep = true;
    std::vector<json> seen(na);
    for (std::size_t i = 0; i < na; ++i) seen[i] = shown(s.axes[i], v[i]);
    for (const auto& c : s.constraints) {
      try {
        keep = c.expr.holds(seen);
      } catch (const std::invalid_argument& e) {
        std::string at;
        for (std::size_t i = 0; i < na; ++i) at += (i ? ", " : "") + s.axes[i].name + "=" + seen[i].dump();
        throw SpecError(s.file, c.pointer, std::string("a constraint that evaluates to true or false: ") +
                                               e.what() + " at the point " + at);
      }
      if (!keep) break;
    }
    if (!keep) {
      ++dropped;
      continue;
    }
    Point p;
    p.index = out.size();
    p.values = std::move(v);
    p.key = hex16(fnv1a64(point_inputs(s, p).dump()));
    out.push_back(std::move(p));
  }
  if (discarded) *discarded = dropped;
  return out;
}

void set_point_values(const SweepSpec& s, const Point& p, json& doc) {
  for (std::size_t i = 0; i < s.axes.size(); ++i) set_axis(doc, s.axes[i], p.values[i]);
}

json apply_point(const SweepSpec& s, const Point& p) {
  json doc = s.base;
  set_point_values(s, p, doc);
  return doc;
}

json point_inputs(const SweepSpec& s, const Point& p) {
  json inputs = json::object();
  for (std::size_t i = 0; i < s.axes.size(); ++i) inputs[s.axes[i].name] = shown(s.axes[i], p.values[i]);
  return inputs;
}

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  auto bad = [&]() {
    return UsageError("--shard: expected i/N with 1 <= i <= N (e.g. 2/8), found \"" + text + "\"");
  };
  if (slash == std::string::npos) throw bad();
  try {
    std::size_t u1 = 0, u2 = 0;
    const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
    const long i = std::stol(a, &u1), n = std::stol(b, &u2);
    if (u1 != a.size() || u2 != b.size() || n < 1 || i < 1 || i > n || n > 1000000) throw bad();
    return Shard{static_cast<int>(i - 1), static_cast<int>(n)};
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception&) {
    throw bad();
  }
}

}  // namespace mixprec::sweep
