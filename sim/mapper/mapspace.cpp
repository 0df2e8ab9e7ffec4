#include "sim/mapper/mapspace.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "core/errors.hpp"

namespace mixprec::sim::nest {

Constraints unconstrained(const Architecture& a) {
  Constraints c;
  c.levels.resize(a.levels.size());
  return c;
}

Fanout fanout(const Architecture& a, int level) {
  const StorageLevel& s = a.levels[static_cast<std::size_t>(level)];
  const bool innermost = level + 1 == static_cast<int>(a.levels.size());
  const std::int64_t child_instances =
      innermost ? a.compute.instances : a.levels[static_cast<std::size_t>(level) + 1].instances;
  const std::int64_t child_mesh_x =
      innermost ? a.compute.mesh_x : a.levels[static_cast<std::size_t>(level) + 1].mesh_x;
  Fanout f;
  const std::int64_t total = std::max<std::int64_t>(1, child_instances / std::max<std::int64_t>(1, s.instances));
  f.x = std::max<std::int64_t>(1, child_mesh_x / std::max<std::int64_t>(1, s.mesh_x));
  if (f.x > total || total % f.x != 0) f.x = total;
  f.y = total / f.x;
  return f;
}

std::vector<std::int64_t> divisors(std::int64_t n) {
  std::vector<std::int64_t> lo, hi;
  for (std::int64_t i = 1; i * i <= n; ++i) {
    if (n % i != 0) continue;
    lo.push_back(i);
    if (i != n / i) hi.push_back(n / i);
  }
  lo.insert(lo.end(), hi.rbegin(), hi.rend());
  return lo;
}

std::uint32_t relevance(const Problem& p, int dim) {
  std::uint32_t mask = 0;
  for (std::size_t d = 0; d < p.dataspaces.size(); ++d)
    for (const Rank& r : p.dataspaces[d].ranks)
      for (const ProjectionTerm& t : r.terms)
        if (t.dim == dim) mask |= 1u << d;
  return mask;
}

bool multi_term(const Problem& p, int dim) {
  for (const Dataspace& ds : p.dataspaces)
    for (const Rank& r : ds.ranks) {
      if (r.terms.size() < 2) continue;
      for (const ProjectionTerm& t : r.terms)
        if (t.dim == dim) return true;
    }
  return false;
}

namespace {

// Splits `dims` into the constrained inner prefix, the free middle and the constrained outer
// suffix (each innermost first).
void split_by_constraint(const LevelConstraints& c, const std::vector<int>& dims,
                         std::vector<int>& prefix, std::vector<int>& middle,
                         std::vector<int>& suffix) {
  auto has = [&](int d) { return std::find(dims.begin(), dims.end(), d) != dims.end(); };
  for (int d : c.permutation_inner)
    if (has(d)) prefix.push_back(d);
  for (int d : c.permutation_outer)
    if (has(d) && std::find(prefix.begin(), prefix.end(), d) == prefix.end()) suffix.push_back(d);
  for (int d : dims)
    if (std::find(prefix.begin(), prefix.end(), d) == prefix.end() &&
        std::find(suffix.begin(), suffix.end(), d) == suffix.end())
      middle.push_back(d);
  std::sort(middle.begin(), middle.end());
}

std::vector<int> join(const std::vector<int>& a, const std::vector<int>& b, const std::vector<int>& c) {
  std::vector<int> out(a);
  out.insert(out.end(), b.begin(), b.end());
  out.insert(out.end(), c.begin(), c.end());
  return out;
}

}  // namespace

std::vector<std::vector<int>> all_orders(const LevelConstraints& c, const std::vector<int>& dims) {
  std::vector<int> prefix, middle, suffix;
  split_by_constraint(c, dims, prefix, middle, suffix);
  std::vector<std::vector<int>> out;
  do {
    out.push_back(join(prefix, middle, suffix));
  } while (std::next_permutation(middle.begin(), middle.end()));
  return out;
}

std::vector<std::vector<int>> canonical_orders(const Problem& p, const Architecture& a, int level,
                                               const LevelConstraints& c,
                                               const std::vector<int>& dims) {
  std::vector<int> prefix, middle, suffix;
  split_by_constraint(c, dims, prefix, middle, suffix);
  if (level + 1 == static_cast<int>(a.levels.size())) return {join(prefix, middle, suffix)};
  // Group id per dim: the relevance mask, or a unique id for a sliding-window dim.
  std::array<int, kMaxDims> group{};
  for (int d : middle)
    group[static_cast<std::size_t>(d)] =
        multi_term(p, d) ? 1000 + d : static_cast<int>(relevance(p, d));
  std::vector<std::vector<int>> out;
  do {
    bool canonical = true;
    for (std::size_t i = 0; i + 1 < middle.size() && canonical; ++i) {
      const int u = middle[i], v = middle[i + 1];
      if (group[static_cast<std::size_t>(u)] == group[static_cast<std::size_t>(v)] && u > v)
        canonical = false;
    }
    if (canonical) out.push_back(join(prefix, middle, suffix));
  } while (std::next_permutation(middle.begin(), middle.end()));
  return out;
}

void set_permutation(LevelMapping& lm, int n_dims, const std::vector<int>& order) {
  int k = 0;
  std::uint32_t used = 0;
  for (int d : order) {
    lm.permutation[static_cast<std::size_t>(k++)] = static_cast<std::int8_t>(d);
    used |= 1u << d;
  }
  for (int d = 0; d < n_dims; ++d)
    if (!(used & (1u << d))) lm.permutation[static_cast<std::size_t>(k++)] = static_cast<std::int8_t>(d);
}

std::vector<std::uint32_t> keep_choices(const Problem& p, const Architecture& a,
                                        const Constraints& c, int level) {
  const std::uint32_t all = (1u << p.dataspaces.size()) - 1;
  std::uint32_t allowed = a.levels[static_cast<std::size_t>(level)].keep_mask & all;
  // A dataspace wider than the level's block cannot be kept there (nest: block_too_narrow).
  const StorageLevel& s = a.levels[static_cast<std::size_t>(level)];
  for (std::size_t d = 0; d < p.dataspaces.size(); ++d)
    if ((s.word_bits > 0 ? s.word_bits : p.dataspaces[d].bits) > s.block_bits) allowed &= ~(1u << d);
  const LevelConstraints& lc = c.levels[static_cast<std::size_t>(level)];
  if (level == 0) return {allowed};
  std::vector<std::uint32_t> out;
  for (std::uint32_t m = 0; m <= all; ++m) {
    if ((m & ~allowed) != 0) continue;
    if ((m & lc.keep) != lc.keep) continue;  // a forced keep the level cannot hold: no choice
    if ((m & lc.bypass) != 0) continue;
    out.push_back(m);
  }
  return out;
}

bool satisfies_factor_constraints(const Problem& p, const Architecture& a, const Constraints& c,
                                  const Mapping& m) {
  const int n_dims = static_cast<int>(p.dims.size());
  std::int64_t spatial_product = 1;
  for (int l = 0; l < m.n_levels; ++l) {
    const LevelConstraints& lc = c.levels[static_cast<std::size_t>(l)];
    const LevelMapping& lm = m.levels[static_cast<std::size_t>(l)];
    for (int d = 0; d < n_dims; ++d) {
      const auto i = static_cast<std::size_t>(d);
      const std::int64_t sx = lm.spatial_x[i], sy = lm.spatial_y[i];
      if (!lc.temporal[i].allows(lm.temporal[i])) return false;
      if (!lc.spatial[i].allows(sx * sy) || !lc.spatial_x[i].allows(sx) || !lc.spatial_y[i].allows(sy))
        return false;
      if (sx > 1 && lc.spatial_axis[i] == SpatialAxis::y) return false;
      if (sy > 1 && lc.spatial_axis[i] == SpatialAxis::x) return false;
      spatial_product *= sx * sy;
    }
  }
  (void)a;
  if (c.min_utilization > 0 &&
      static_cast<double>(spatial_product) < c.min_utilization * static_cast<double>(a.compute.instances))
    return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Timeloop constraints (YAML).
namespace {

struct ParseCtx {
  const std::string& file;
  const Problem& p;
  const Architecture& a;
};

int dim_of(const ParseCtx& x, const std::string& name, const std::string& ptr) {
  const int d = x.p.dim_index(name);
  if (d < 0) {
    std::string dims;
    for (const auto& n : x.p.dims) dims += (dims.empty() ? "" : " ") + n;
    throw SpecError(x.file, ptr, "a dimension of the problem (" + dims + ")", "'" + name + "'");
  }
  return d;
}

int dataspace_of(const ParseCtx& x, const std::string& name, const std::string& ptr) {
  const int d = x.p.dataspace_index(name);
  if (d < 0) throw SpecError(x.file, ptr, "a dataspace of the problem", "'" + name + "'");
  return d;
}

// "R=1 P=16 K<=4", "N=1,C=1" or a list of such items.
std::string joined_scalar_or_list(const ParseCtx& x, const YAML::Node& n, const std::string& ptr) {
  if (n.IsScalar()) return n.as<std::string>();
  if (n.IsSequence()) {
    std::string s;
    for (const auto& e : n) {
      if (!e.IsScalar()) throw SpecError(x.file, ptr, "a list of strings", "a nested value");
      s += e.as<std::string>() + " ";
    }
    return s;
  }
  throw SpecError(x.file, ptr, "a string or a list", "a map");
}

// One item of a constraint's factors, NAME (<=|>=|=) DIGITS with white space allowed around
// the operator; it stands at [begin, end) of the text.
struct FactorItem {
  std::size_t begin = 0, end = 0;
  std::string name, op, digits;
};

bool is_ascii_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
// White space of the C locale (std::isspace there).
bool is_c_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// The leftmost item of s at or after `from`: the leftmost match of the regular expression
// [A-Za-z]+\s*(<=|>=|=)\s*[0-9]+ (names and digits taken whole). An item's name is a whole run
// of letters: a shorter one is followed by a letter, which no operator is, so when the run's
// end is not followed by an operator and digits, no item starts inside the run and the search
// goes on after it. One pass, no recursion: any length of input is safe. False if none.
bool next_factor_item(const std::string& s, std::size_t from, FactorItem& item) {
  const std::size_t n = s.size();
  std::size_t i = from;
  while (i < n) {
    if (!is_ascii_letter(s[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;  // end of the name
    while (j < n && is_ascii_letter(s[j])) ++j;
    std::size_t k = j;  // the operator
    while (k < n && is_c_space(s[k])) ++k;
    std::size_t op_len = 0;
    if (k + 1 < n && (s[k] == '<' || s[k] == '>') && s[k + 1] == '=')
      op_len = 2;
    else if (k < n && s[k] == '=')
      op_len = 1;
    if (op_len > 0) {
      std::size_t m = k + op_len;  // the digits
      while (m < n && is_c_space(s[m])) ++m;
      std::size_t e = m;
      while (e < n && is_ascii_digit(s[e])) ++e;
      if (e > m) {
        item = {i, e, s.substr(i, j - i), s.substr(k, op_len), s.substr(m, e - m)};
        return true;
      }
    }
    i = j;
  }
  return false;
}

void parse_factors(const ParseCtx& x, const YAML::Node& n, const std::string& ptr,
                   std::array<FactorBound, kMaxDims>& out) {
  std::string s = joined_scalar_or_list(x, n, ptr);
  s = s.substr(0, s.find('#'));
  std::string consumed;  // the text between and around the items
  std::size_t pos = 0;
  FactorItem m;
  while (next_factor_item(s, pos, m)) {
    consumed += s.substr(pos, m.begin - pos);
    const int d = dim_of(x, m.name, ptr);
    if (m.digits.size() > 15)
      throw SpecError(x.file, ptr, "a factor of " + m.name + " of at most 15 digits", m.digits);
    const std::int64_t v = std::stoll(m.digits);
    const std::int64_t bound = x.p.bounds[static_cast<std::size_t>(d)];
    FactorBound& fb = out[static_cast<std::size_t>(d)];
    if (m.op == "=") {
      const std::int64_t f = v == 0 ? bound : v;  // Timeloop: 0 = the whole dimension
      if (f > bound)
        throw SpecError(x.file, ptr, "a factor of " + m.name + " at most its bound " + std::to_string(bound),
                        std::to_string(f));
      fb.exact = f;
    } else if (m.op == "<=") {
      if (v < 1) throw SpecError(x.file, ptr, "a positive maximum factor", std::to_string(v));
      fb.max = v;
    } else {
      if (v < 1) throw SpecError(x.file, ptr, "a positive minimum factor", std::to_string(v));
      fb.min = v;
    }
    pos = m.end;
  }
  consumed += s.substr(pos);
  for (char ch : consumed)
    if (!std::isspace(static_cast<unsigned char>(ch)) && ch != ',')
      throw SpecError(x.file, ptr, "factors such as 'K=4 C<=8 P>=2'", "'" + s + "'");
}

// Permutation: a string of one-letter dims ("PRK", "NCP_QK") or a list of names.
void parse_permutation(const ParseCtx& x, const YAML::Node& n, const std::string& ptr,
                       std::vector<int>& inner, std::vector<int>& outer) {
  std::vector<std::string> tokens;
  if (n.IsSequence()) {
    for (const auto& e : n) tokens.push_back(e.as<std::string>());
  } else {
    std::string s = n.as<std::string>();
    s = s.substr(0, s.find('#'));
    bool has_sep = s.find_first_of(", ") != std::string::npos;
    if (has_sep) {
      std::string tok;
      for (char ch : s + ",") {
        if (ch == ',' || std::isspace(static_cast<unsigned char>(ch))) {
          if (!tok.empty()) tokens.push_back(tok);
          tok.clear();
        } else {
          tok += ch;
        }
      }
    } else {
      for (char ch : s) tokens.emplace_back(1, ch);
    }
  }
  bool after = false;
  std::uint32_t seen = 0;
  for (const std::string& t : tokens) {
    if (t == "_") {
      after = true;
      continue;
    }
    const int d = dim_of(x, t, ptr);
    if (seen & (1u << d)) throw SpecError(x.file, ptr, "each dimension at most once", "'" + t + "' twice");
    seen |= 1u << d;
    (after ? outer : inner).push_back(d);
  }
}

std::uint32_t parse_dataspace_list(const ParseCtx& x, const YAML::Node& n, const std::string& ptr) {
  if (!n.IsSequence()) throw SpecError(x.file, ptr, "a list of dataspace names", "another value");
  std::uint32_t mask = 0;
  for (std::size_t i = 0; i < n.size(); ++i)
    mask |= 1u << dataspace_of(x, n[i].as<std::string>(), ptr + "/" + std::to_string(i));
  return mask;
}

void parse_target(const ParseCtx& x, const YAML::Node& t, const std::string& ptr, Constraints& c,
                  const std::vector<LevelAlias>& aliases) {
  if (!t.IsMap()) throw SpecError(x.file, ptr, "a constraint (a map)", "another value");
  if (!t["target"]) throw SpecError(x.file, ptr + "/target", "the name of a level", "nothing");
  if (!t["type"]) throw SpecError(x.file, ptr + "/type", "a constraint type", "nothing");
  const std::string target = t["target"].as<std::string>();
  const std::string type = t["type"].as<std::string>();
  int level = x.a.level_index(target);
  SpatialAxis alias_axis = SpatialAxis::either;
  bool is_alias = false;
  if (level < 0) {
    for (const LevelAlias& al : aliases)
      if (al.timeloop_name == target) {
        level = al.level;
        alias_axis = al.axis;
        is_alias = true;
      }
  }
  if (level < 0) {
    std::string names;
    for (const auto& l : x.a.levels) names += (names.empty() ? "" : " ") + l.name;
    throw SpecError(x.file, ptr + "/target", "a level of the architecture (" + names + ")", "'" + target + "'");
  }
  static const char* known[] = {"target", "type", "factors", "permutation", "split", "keep", "bypass", "min"};
  for (const auto& kv : t) {
    const std::string key = kv.first.as<std::string>();
    if (std::find_if(std::begin(known), std::end(known), [&](const char* k) { return key == k; }) == std::end(known))
      throw SpecError(x.file, ptr + "/" + key,
                      "one of target, type, factors, permutation, split, keep, bypass, min "
                      "(mixprec's mapper does not model the others)",
                      "'" + key + "'");
  }
  LevelConstraints& lc = c.levels[static_cast<std::size_t>(level)];
  const std::size_t n_dims = x.p.dims.size();
  if (type == "temporal") {
    std::array<FactorBound, kMaxDims> f{};
    if (t["factors"]) parse_factors(x, t["factors"], ptr + "/factors", f);
    std::vector<int> inner, outer;
    if (t["permutation"]) parse_permutation(x, t["permutation"], ptr + "/permutation", inner, outer);
    if (is_alias) {
      // A container the importer folded away has no temporal loops: its constraint must say so.
      for (std::size_t d = 0; d < n_dims; ++d)
        if (!f[d].allows(1))
          throw SpecError(x.file, ptr + "/factors", "factors of 1 (this level has no temporal loops in mixprec)",
                          "a factor other than 1 for " + x.p.dims[d]);
      return;
    }
    for (std::size_t d = 0; d < n_dims; ++d)
      if (f[d].exact || f[d].max || f[d].min > 1) {
        if (lc.temporal[d].exact || lc.temporal[d].max || lc.temporal[d].min > 1)
          throw SpecError(x.file, ptr + "/factors", "one temporal factor constraint per dimension and level",
                          "a second one for " + x.p.dims[d] + " at " + target);
        lc.temporal[d] = f[d];
      }
    if (!inner.empty() || !outer.empty()) {
      if (!lc.permutation_inner.empty() || !lc.permutation_outer.empty())
        throw SpecError(x.file, ptr + "/permutation", "one permutation per level", "a second one at " + target);
      lc.permutation_inner = inner;
      lc.permutation_outer = outer;
    }
  } else if (type == "spatial") {
    std::array<FactorBound, kMaxDims> f{};
    if (t["factors"]) parse_factors(x, t["factors"], ptr + "/factors", f);
    std::vector<int> inner, outer;
    if (t["permutation"]) parse_permutation(x, t["permutation"], ptr + "/permutation", inner, outer);
    inner.insert(inner.end(), outer.begin(), outer.end());
    auto& bounds = alias_axis == SpatialAxis::x ? lc.spatial_x : alias_axis == SpatialAxis::y ? lc.spatial_y : lc.spatial;
    for (std::size_t d = 0; d < n_dims; ++d)
      if (f[d].exact || f[d].max || f[d].min > 1) bounds[d] = f[d];
    // A one-axis container (an alias) puts every dim on its axis: its split says nothing more.
    if (alias_axis == SpatialAxis::either && t["split"]) {
      const int split = t["split"].as<int>();
      if (split < 0) throw SpecError(x.file, ptr + "/split", "a non-negative split", std::to_string(split));
      for (std::size_t i = 0; i < inner.size(); ++i)
        lc.spatial_axis[static_cast<std::size_t>(inner[i])] =
            static_cast<int>(i) < split ? SpatialAxis::x : SpatialAxis::y;
    }
  } else if (type == "dataspace" || type == "bypass" || type == "datatype" || type == "bypassing") {
    std::uint32_t keep = 0, bypass = 0;
    if (t["keep"]) keep = parse_dataspace_list(x, t["keep"], ptr + "/keep");
    if (t["bypass"]) bypass = parse_dataspace_list(x, t["bypass"], ptr + "/bypass");
    if (keep & bypass) throw SpecError(x.file, ptr, "a dataspace either kept or bypassed", "both");
    if (is_alias) {
      if (keep != 0)
        throw SpecError(x.file, ptr + "/keep", "nothing kept (this level holds no data in mixprec)", "a kept dataspace");
      return;
    }
    if ((lc.keep | lc.bypass) & (keep | bypass))
      throw SpecError(x.file, ptr, "one keep/bypass setting per dataspace and level", "a second one at " + target);
    lc.keep |= keep;
    lc.bypass |= bypass;
  } else if (type == "utilization" || type == "parallelism") {
    if (!t["min"]) throw SpecError(x.file, ptr + "/min", "a minimum utilization", "nothing");
    const double m = t["min"].as<double>();
    if (m < 0 || m > 1) throw SpecError(x.file, ptr + "/min", "a fraction in [0, 1]", std::to_string(m));
    c.min_utilization = m;
  } else {
    throw SpecError(x.file, ptr + "/type", "temporal, spatial, dataspace (bypass) or utilization", "'" + type + "'");
  }
}

void parse_targets(const ParseCtx& x, const YAML::Node& targets, const std::string& ptr, Constraints& c,
                   const std::vector<LevelAlias>& aliases) {
  if (!targets) return;
  if (!targets.IsSequence()) throw SpecError(x.file, ptr, "a list of constraints", "another value");
  for (std::size_t i = 0; i < targets.size(); ++i)
    parse_target(x, targets[i], ptr + "/" + std::to_string(i), c, aliases);
}

}  // namespace

Constraints parse_timeloop_constraints_text(const std::string& yaml_text, const std::string& file,
                                            const Problem& p, const Architecture& a,
                                            const std::vector<LevelAlias>& level_alias) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw SpecError(file, "", "valid YAML", e.what());
  }
  if (root.IsDefined() && !root.IsMap() && !root.IsNull())
    throw SpecError(file, "/", "a map with mapspace_constraints, architecture_constraints or targets",
                    root.IsScalar() ? "\"" + root.Scalar() + "\"" : std::string("a list"));
  Constraints c = unconstrained(a);
  const ParseCtx x{file, p, a};
  bool any = false;
  // A value of the wrong YAML type where the reader converts it (a list where a name is due, a
  // word where a number is) is yaml-cpp's exception, reported at its line.
  try {
    for (const char* section : {"architecture_constraints", "mapspace_constraints"}) {
      const YAML::Node s = root[section];
      if (!s) continue;
      any = true;
      if (s.IsSequence()) {
        parse_targets(x, s, std::string("/") + section, c, level_alias);
      } else if (s.IsMap()) {
        for (const auto& kv : s) {
          const std::string key = kv.first.as<std::string>();
          if (key != "targets" && key != "version")
            throw SpecError(file, std::string("/") + section + "/" + key, "targets or version", "'" + key + "'");
        }
        parse_targets(x, s["targets"], std::string("/") + section + "/targets", c, level_alias);
      } else if (!s.IsNull()) {
        throw SpecError(file, std::string("/") + section, "a map with targets", "another value");
      }
    }
    if (!any && root["targets"]) {
      any = true;
      parse_targets(x, root["targets"], "/targets", c, level_alias);
    }
  } catch (const YAML::Exception& e) {
    throw SpecError(file, "line " + std::to_string(e.mark.line + 1), "a value of the type this key takes", e.msg);
  }
  if (!any)
    throw SpecError(file, "", "mapspace_constraints, architecture_constraints or targets", "none of them");
  return c;
}

Constraints parse_timeloop_constraints(const std::string& yaml_path, const Problem& p,
                                       const Architecture& a,
                                       const std::vector<LevelAlias>& level_alias) {
  std::ifstream in(yaml_path);
  if (!in) throw SpecError(yaml_path, "", "cannot open the file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_timeloop_constraints_text(ss.str(), yaml_path, p, a, level_alias);
}

}  // namespace mixprec::sim::nest
