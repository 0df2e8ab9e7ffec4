#include "sim/nest/timeloop_import.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include <yaml-cpp/yaml.h>

namespace mixprec::sim::nest {

namespace {

struct Src {
  std::string file;
  YAML::Node node;
  std::string path;
};

std::string where(const Src& s) {
  const YAML::Mark m = s.node.Mark();
  return s.path + (m.line >= 0 ? " (line " + std::to_string(m.line + 1) + ")" : "");
}
[[noreturn]] void fail(const Src& s, const std::string& expected, const std::string& found) {
  throw SpecError(s.file, where(s), expected, found);
}
std::string show(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsScalar()) return "\"" + n.Scalar() + "\"";
  if (n.IsSequence()) return "a list";
  return "a map";
}
// A missing child, or one asked of a node that is not a map (list), is an undefined but valid node,
// which the readers report as "nothing" at its path. (yaml-cpp's own answer would be an invalid
// node whose every accessor throws InvalidNode, or BadSubscript for a scalar parent.)
Src child(const Src& s, const std::string& key) {
  YAML::Node c(YAML::NodeType::Undefined);
  if (s.node.IsDefined() && s.node.IsMap())
    for (auto it = s.node.begin(); it != s.node.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key) {
        c.reset(it->second);
        break;
      }
  return Src{s.file, c, s.path + "/" + key};
}
Src item(const Src& s, std::size_t i) {
  YAML::Node c(YAML::NodeType::Undefined);
  if (s.node.IsDefined() && s.node.IsSequence() && i < s.node.size()) c.reset(s.node[i]);
  return Src{s.file, c, s.path + "/" + std::to_string(i)};
}

std::string str(const Src& s) {
  if (!s.node.IsScalar()) fail(s, "a string", show(s.node));
  return s.node.Scalar();
}
double num(const Src& s) {
  if (!s.node.IsScalar()) fail(s, "a number", show(s.node));
  try {
    std::size_t pos = 0;
    const double v = std::stod(s.node.Scalar(), &pos);
    if (pos != s.node.Scalar().size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    fail(s, "a number", show(s.node));
  }
}
std::int64_t count(const Src& s, std::int64_t min) {
  const double v = num(s);
  if (v != std::floor(v) || v < double(min) || v > 9.0e15)
    fail(s, "an integer in [" + std::to_string(min) + ", 9e15]", show(s.node));
  return std::int64_t(v);
}
bool has(const Src& s, const std::string& key) {
  const Src c = child(s, key);
  return c.node.IsDefined() && !c.node.IsNull();
}

// Loads each file and merges their top-level keys (Timeloop reads all inputs as one document).
std::map<std::string, Src> load_all(const std::vector<std::string>& files) {
  std::map<std::string, Src> top;
  for (const std::string& f : files) {
    YAML::Node doc;
    try {
      doc = YAML::LoadFile(f);
    } catch (const YAML::BadFile&) {
      throw SpecError(f, "", "a readable YAML file", "a file that cannot be opened");
    } catch (const YAML::Exception& e) {
      throw SpecError(f, "line " + std::to_string(e.mark.line + 1), "valid YAML", e.msg);
    }
    if (!doc.IsMap()) throw SpecError(f, "/", "a map of Timeloop sections", show(doc));
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const std::string k = it->first.Scalar();
      top[k] = Src{f, it->second, "/" + k};
    }
  }
  return top;
}

Src section(const std::map<std::string, Src>& top, const std::string& key, const std::string& file_hint) {
  auto it = top.find(key);
  if (it == top.end()) throw SpecError(file_hint, "/" + key, "a top-level \"" + key + "\" section", "none");
  return it->second;
}

// "Name[a..N]" -> "Name" (an ERT table's name; its range is not read).
std::string base_name(const std::string& n) { return n.substr(0, n.find('[')); }

// A digits-only string of at most 15 digits (so that it fits an int64), else -1.
std::int64_t digits_value(const std::string& t) {
  const bool ok = !t.empty() && t.size() <= 15 &&
                  std::all_of(t.begin(), t.end(), [](unsigned char ch) { return std::isdigit(ch) != 0; });
  return ok ? std::stoll(t) : -1;
}

// A parsed-processed-input component name: "Name" -> ("Name", 1); "Name[a..N]" -> ("Name",
// N - a + 1): Timeloop v0.4 names a component's instances by the inclusive index range a..N
// ("PE[0..15]" and "PE[1..16]" are both 16 PEs). Anything else after the name ("[5..2]", "[1..n]",
// "[3]") is refused at `s`.
std::pair<std::string, std::int64_t> split_instances(const Src& s) {
  const std::string n = str(s);
  const auto b = n.find('[');
  if (b == std::string::npos) return {n, 1};
  const auto dots = n.find("..", b);
  const std::int64_t a = dots == std::string::npos ? -1 : digits_value(n.substr(b + 1, dots - b - 1));
  const std::int64_t last = dots == std::string::npos || n.back() != ']'
                                ? -1
                                : digits_value(n.substr(dots + 2, n.size() - dots - 3));
  if (a < 0 || last < a)
    fail(s, "a name \"Name\" or \"Name[a..N]\" with integers 0 <= a <= N (the inclusive instance range a..N: N - a + 1 instances)",
         show(s.node));
  return {n.substr(0, b), last - a + 1};
}

struct RawLevel {
  std::string name;
  Src src;
  bool compute = false, dummy = false;
  std::int64_t instances = 1, mesh_x = 1;
};

bool is_compute_class(const std::string& cls) {
  return cls.find("mac") != std::string::npos || cls == "compute";
}

// v0.4 nodes tree.
void walk_nodes(const Src& nodes, std::int64_t mx, std::int64_t my, std::vector<RawLevel>& out) {
  if (!nodes.node.IsSequence()) fail(nodes, "a list of nodes", show(nodes.node));
  for (std::size_t i = 0; i < nodes.node.size(); ++i) {
    const Src n = item(nodes, i);
    const std::string tag = n.node.Tag();
    if (tag == "!Parallel") {
      walk_nodes(child(n, "nodes"), mx, my, out);
    } else if (tag == "!Container") {
      if (has(n, "spatial")) {
        const Src sp = child(n, "spatial");
        const std::int64_t fx = has(sp, "meshX") ? count(child(sp, "meshX"), 1) : 1;
        const std::int64_t fy = has(sp, "meshY") ? count(child(sp, "meshY"), 1) : 1;
        if (fx * fy > 1) {
          RawLevel d{"inter_" + str(child(n, "name")) + "_spatial", n, false, true, mx * my, mx};
          out.push_back(d);
          mx *= fx;
          my *= fy;
        }
      }
    } else if (tag == "!Component") {
      RawLevel r{str(child(n, "name")), n, is_compute_class(str(child(n, "class"))), false, mx * my, mx};
      out.push_back(r);
    } else {
      fail(n, "a node tagged !Container, !Component or !Parallel", tag.empty() ? "no tag" : "tag " + tag);
    }
  }
}

// parsed-processed-input subtree form.
void walk_subtree(const Src& tree, std::vector<RawLevel>& out) {
  if (!tree.node.IsSequence()) fail(tree, "a list of subtrees", show(tree.node));
  for (std::size_t i = 0; i < tree.node.size(); ++i) {
    const Src t = item(tree, i);
    if (has(t, "local")) {
      const Src loc = child(t, "local");
      for (std::size_t j = 0; j < loc.node.size(); ++j) {
        const Src c = item(loc, j);
        auto [name, inst] = split_instances(child(c, "name"));
        const std::string cls = str(child(c, "class"));
        const Src at = child(c, "attributes");
        const std::int64_t mx = has(at, "meshX") ? count(child(at, "meshX"), 1) : 1;
        out.push_back(RawLevel{name, c, is_compute_class(cls), cls == "dummy_storage", inst, mx});
      }
    }
    if (has(t, "subtree")) walk_subtree(child(t, "subtree"), out);
  }
}

// "R=1 P=16,K=1" or "C1 M1 R3" -> map dim -> factor
std::map<std::string, std::int64_t> parse_factors(const Src& s, const Problem& p) {
  std::map<std::string, std::int64_t> f;
  std::vector<std::string> tokens;
  if (s.node.IsSequence()) {
    for (std::size_t i = 0; i < s.node.size(); ++i) tokens.push_back(str(item(s, i)));
  } else {
    std::string cur;
    for (char ch : str(s) + " ") {
      if (ch == ' ' || ch == ',' || ch == '\t') {
        if (!cur.empty()) tokens.push_back(cur);
        cur.clear();
      } else {
        cur += ch;
      }
    }
  }
  for (const std::string& t : tokens) {
    std::size_t k = 0;
    while (k < t.size() && (std::isalpha(static_cast<unsigned char>(t[k])) || t[k] == '_')) ++k;
    std::string dim = t.substr(0, k);
    std::string val = t.substr(k);
    if (!val.empty() && val[0] == '=') val = val.substr(1);
    if (p.dim_index(dim) < 0) fail(s, "factors of problem dimensions (DIM=N or DIMN)", "\"" + t + "\"");
    if (val.empty() || val.size() > 15 || val.find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(val) < 1)
      fail(s, "a positive integer factor for " + dim, "\"" + t + "\"");
    f[dim] = std::stoll(val);
  }
  return f;
}

std::vector<int> parse_permutation(const Src& s, const Problem& p) {
  std::vector<std::string> names;
  if (s.node.IsSequence()) {
    for (std::size_t i = 0; i < s.node.size(); ++i) names.push_back(str(item(s, i)));
  } else {
    // A string of dimension names; names may be longer than one letter, so match greedily.
    const std::string t = str(s);
    std::size_t k = 0;
    while (k < t.size()) {
      if (t[k] == ' ' || t[k] == ',') {
        ++k;
        continue;
      }
      std::size_t best = 0;
      for (const std::string& d : p.dims)
        if (d.size() > best && t.compare(k, d.size(), d) == 0) best = d.size();
      if (best == 0) fail(s, "a permutation of problem dimensions", "\"" + t + "\"");
      names.push_back(t.substr(k, best));
      k += best;
    }
  }
  std::vector<int> out;
  for (const std::string& n : names) {
    const int d = p.dim_index(n);
    if (d < 0) fail(s, "a permutation of problem dimensions", "\"" + n + "\"");
    out.push_back(d);
  }
  return out;
}

std::uint32_t ds_mask(const Src& s, const Problem& p) {
  std::uint32_t m = 0;
  if (!s.node.IsDefined() || s.node.IsNull()) return 0;
  if (!s.node.IsSequence()) fail(s, "a list of data space names", show(s.node));
  for (std::size_t i = 0; i < s.node.size(); ++i) {
    const std::string n = str(item(s, i));
    const int d = p.dataspace_index(n);
    if (d < 0) fail(item(s, i), "a data space of the problem", "\"" + n + "\"");
    m |= 1u << d;
  }
  return m;
}

Problem import_problem(const Src& prob) {
  Problem p;
  const Src shape = child(prob, "shape");
  const Src inst = child(prob, "instance");
  if (!shape.node.IsMap()) fail(shape, "a problem shape", show(shape.node));
  if (!inst.node.IsMap()) fail(inst, "a problem instance", show(inst.node));
  p.name = has(shape, "name") ? str(child(shape, "name")) : "problem";
  const Src dims = child(shape, "dimensions");
  if (!dims.node.IsSequence()) fail(dims, "a list of dimensions", show(dims.node));
  for (std::size_t i = 0; i < dims.node.size(); ++i) p.dims.push_back(str(item(dims, i)));
  for (const std::string& d : p.dims) {
    if (!has(inst, d)) fail(inst, "a bound for dimension " + d, "none");
    p.bounds.push_back(count(child(inst, d), 1));
  }
  if (has(shape, "coefficients")) {
    const Src co = child(shape, "coefficients");
    for (std::size_t i = 0; i < co.node.size(); ++i) {
      const Src c = item(co, i);
      Coefficient cf;
      cf.name = str(child(c, "name"));
      cf.value = has(c, "default") ? count(child(c, "default"), 1) : 1;
      if (has(inst, cf.name)) cf.value = count(child(inst, cf.name), 1);
      p.coefficients.push_back(cf);
    }
  }
  const Src dss = child(shape, "data_spaces");
  if (!dss.node.IsSequence()) fail(dss, "a list of data spaces", show(dss.node));
  for (std::size_t i = 0; i < dss.node.size(); ++i) {
    const Src d = item(dss, i);
    Dataspace ds;
    ds.name = str(child(d, "name"));
    ds.read_write = has(d, "read_write") && str(child(d, "read_write")) != "false" &&
                    str(child(d, "read_write")) != "False";
    const Src proj = child(d, "projection");
    if (!proj.node.IsSequence()) fail(proj, "a projection (list of ranks)", show(proj.node));
    for (std::size_t r = 0; r < proj.node.size(); ++r) {
      const Src rk = item(proj, r);
      if (!rk.node.IsSequence()) fail(rk, "a rank: a list of terms [dim] or [dim, coefficient]", show(rk.node));
      Rank rank;
      for (std::size_t t = 0; t < rk.node.size(); ++t) {
        const Src term = item(rk, t);
        if (!term.node.IsSequence() || term.node.size() < 1 || term.node.size() > 2)
          fail(term, "a term [dim] or [dim, coefficient]", show(term.node));
        ProjectionTerm pt;
        const std::string dn = str(item(term, 0));
        pt.dim = p.dim_index(dn);
        if (pt.dim < 0) fail(item(term, 0), "a problem dimension", "\"" + dn + "\"");
        if (term.node.size() == 2) {
          const std::string cn = str(item(term, 1));
          pt.coefficient = -1;
          for (std::size_t c = 0; c < p.coefficients.size(); ++c)
            if (p.coefficients[c].name == cn) pt.coefficient = int(c);
          if (pt.coefficient < 0) fail(item(term, 1), "a coefficient of the shape", "\"" + cn + "\"");
        }
        rank.terms.push_back(pt);
      }
      ds.ranks.push_back(rank);
    }
    p.dataspaces.push_back(ds);
  }
  return p;
}

}  // namespace

NestSpec import_timeloop(const TimeloopFiles& files) {
  if (files.arch.empty()) throw SpecError("", "--arch", "at least one architecture file", "none");
  std::vector<std::string> all = files.arch;
  for (const std::string& f : {files.problem, files.mapping, files.ert, files.constraints})
    if (!f.empty()) all.push_back(f);
  const auto top = load_all(all);
  NestSpec spec;

  // Problem.
  Problem& p = spec.problem;
  p = import_problem(section(top, "problem", files.problem));

  // Architecture.
  const Src arch = section(top, "architecture", files.arch.front());
  std::vector<RawLevel> raw;
  if (has(arch, "nodes")) walk_nodes(child(arch, "nodes"), 1, 1, raw);
  else if (has(arch, "subtree")) walk_subtree(child(arch, "subtree"), raw);
  else fail(arch, "\"nodes\" (v0.4) or \"subtree\" (parsed-processed-input)", "neither");
  Architecture& a = spec.architecture;
  a.name = "timeloop";
  // Tensors take the datawidth of the outermost storage level (the backing store); a level with
  // another datawidth holds its values at that width (StorageLevel::word_bits).
  int datawidth = 0;
  bool have_compute = false;
  for (const RawLevel& r : raw) {
    if (r.compute) {
      if (have_compute) fail(r.src, "one compute component", "a second one, \"" + r.name + "\"");
      have_compute = true;
      a.compute.name = r.name;
      a.compute.instances = r.instances;
      a.compute.mesh_x = r.mesh_x;
      continue;
    }
    if (have_compute) fail(r.src, "storage levels above the compute component", "\"" + r.name + "\" below it");
    StorageLevel s;
    s.name = r.name;
    s.instances = r.instances;
    s.mesh_x = r.mesh_x;
    s.keep_mask = (1u << p.dataspaces.size()) - 1;
    if (r.dummy || !r.src.node.IsMap() || r.src.node.Tag() == "!Container") {
      s.depth = 1;
      s.block_bits = 64;
      s.keep_mask = 0;
      a.levels.push_back(s);
      continue;
    }
    const Src at = child(r.src, "attributes");
    int dw = has(at, "datawidth") ? int(count(child(at, "datawidth"), 1)) : 0;
    if (dw == 0 && has(at, "word_bits")) dw = int(count(child(at, "word_bits"), 1));
    if (dw == 0) fail(at, "a \"datawidth\" (bits per value)", "none");
    if (datawidth == 0) datawidth = dw;
    if (dw != datawidth) s.word_bits = dw;
    if (has(at, "width")) s.block_bits = int(count(child(at, "width"), 1));
    else if (has(at, "block_size")) s.block_bits = int(count(child(at, "block_size"), 1)) * dw;
    else s.block_bits = dw;
    s.depth = has(at, "depth") ? count(child(at, "depth"), 0) : 0;
    if (has(at, "read_bandwidth")) s.read_bandwidth_bits = num(child(at, "read_bandwidth")) * dw;
    if (has(at, "write_bandwidth")) s.write_bandwidth_bits = num(child(at, "write_bandwidth")) * dw;
    if (has(at, "shared_bandwidth")) s.shared_bandwidth_bits = num(child(at, "shared_bandwidth")) * dw;
    if (has(at, "multiple_buffering")) s.multiple_buffering = num(child(at, "multiple_buffering"));
    // Attributes whose non-default values change Timeloop's figures in ways not modelled here.
    auto refuse_unless = [&](const char* key, const std::string& dflt, const std::string& what) {
      if (!has(at, key)) return;
      const Src v = child(at, key);
      std::string x = str(v);
      for (char& ch : x) ch = char(std::tolower(static_cast<unsigned char>(ch)));
      if (x != dflt && !(dflt == "0" && num(v) == 0.0) && !(dflt == "1" && num(v) == 1.0))
        fail(v, std::string(key) + ": " + dflt + " (" + what + " is not modelled)", show(v.node));
    };
    refuse_unless("allow_overbooking", "false", "overbooking");
    refuse_unless("reduction_supported", "true", "a level without in-place reduction");
    refuse_unless("cluster_size", "1", "clustered instances");
    refuse_unless("min_utilization", "0", "a minimum utilization");
    // Inline constraints on a v0.4 component: dataspace keep/bypass.
    if (has(r.src, "constraints") && has(child(r.src, "constraints"), "dataspace")) {
      const Src dsc = child(child(r.src, "constraints"), "dataspace");
      if (has(dsc, "bypass")) s.keep_mask &= ~ds_mask(child(dsc, "bypass"), p);
    }
    a.levels.push_back(s);
  }
  if (!have_compute) fail(arch, "a compute component (class *mac*)", "none");
  if (a.levels.empty() || int(a.levels.size()) > kMaxLevels)
    fail(arch, "1 to " + std::to_string(kMaxLevels) + " storage levels", std::to_string(a.levels.size()));
  for (Dataspace& d : p.dataspaces) d.bits = datawidth;
  validate(p, files.problem, "/problem");

  // Energy per action from the ERT (tables named "...<component>[1..N]").
  if (!files.ert.empty()) {
    const Src ert = section(top, "ERT", files.ert);
    const Src tables = child(ert, "tables");
    if (!tables.node.IsSequence()) fail(tables, "a list of ERT tables", show(tables.node));
    for (std::size_t i = 0; i < tables.node.size(); ++i) {
      const Src t = item(tables, i);
      const std::string full = str(child(t, "name"));
      const std::string base = base_name(full);  // "System.GLB[1..16]" -> "System.GLB"
      const auto dot = base.rfind('.');
      const std::string comp = dot == std::string::npos ? base : base.substr(dot + 1);
      std::map<std::string, double> e;
      const Src acts = child(t, "actions");
      for (std::size_t k = 0; k < acts.node.size(); ++k) {
        const Src act = item(acts, k);
        e[str(child(act, "name"))] = num(child(act, "energy"));
      }
      auto get = [&](const std::string& action) {
        auto it = e.find(action);
        if (it == e.end()) fail(t, "an energy for action \"" + action + "\" of " + comp, "none");
        return it->second;
      };
      if (comp == a.compute.name) {
        a.compute.energy_pj = get("compute");
        continue;
      }
      const int l = a.level_index(comp);
      if (l < 0) fail(child(t, "name"), "a component of the architecture", "\"" + full + "\"");
      StorageLevel& s = a.levels[std::size_t(l)];
      s.read_pj = get("read");
      s.write_pj = get("write");
      s.update_pj = get("update");
      s.leak_pj = e.count("leak") ? e["leak"] : 0.0;
    }
  }

  // Constraints file: bypass (keep sets); factor and permutation constraints are checked below.
  std::vector<Src> constraint_targets;
  if (!files.constraints.empty()) {
    Src c;
    auto it = top.find("constraints");
    if (it == top.end()) it = top.find("mapspace_constraints");
    if (it == top.end()) it = top.find("architecture_constraints");
    if (it == top.end()) throw SpecError(files.constraints, "/constraints", "a \"constraints\" section", "none");
    c = it->second;
    const Src targets = child(c, "targets");
    if (targets.node.IsDefined() && !targets.node.IsNull()) {
      if (!targets.node.IsSequence()) fail(targets, "a list of constraint targets", show(targets.node));
      for (std::size_t i = 0; i < targets.node.size(); ++i) constraint_targets.push_back(item(targets, i));
    }
  }
  auto level_of = [&](const Src& s) {
    std::string name = str(s);
    int l = a.level_index(name);
    if (l < 0) l = a.level_index("inter_" + name + "_spatial");
    if (l < 0) fail(s, "a storage level or spatial container of the architecture", "\"" + name + "\"");
    return l;
  };
  for (const Src& t : constraint_targets) {
    { const std::string ty = str(child(t, "type")); if (ty != "bypass" && ty != "datatype" && ty != "dataspace") continue; }
    StorageLevel& s = a.levels[std::size_t(level_of(child(t, "target")))];
    // `keep` leaves the mapping free to keep; `bypass` forbids it.
    if (has(t, "bypass")) s.keep_mask &= ~ds_mask(child(t, "bypass"), p);
  }
  a.levels[0].keep_mask = (1u << p.dataspaces.size()) - 1;
  validate(a, p, files.arch.front(), "/architecture");

  // Mapping.
  const Src map = section(top, "mapping", files.mapping);
  if (!map.node.IsSequence()) fail(map, "a list of mapping directives", show(map.node));
  Mapping& m = spec.mapping;
  m.n_levels = int(a.levels.size());
  for (int l = 0; l < m.n_levels; ++l) m.levels[std::size_t(l)].keep_mask = a.levels[std::size_t(l)].keep_mask;
  for (std::size_t i = 0; i < map.node.size(); ++i) {
    const Src e = item(map, i);
    const std::string type = str(child(e, "type"));
    const int l = level_of(child(e, "target"));
    LevelMapping& lm = m.levels[std::size_t(l)];
    if (type == "bypass" || type == "datatype" || type == "dataspace") {
      if (has(e, "keep")) lm.keep_mask |= ds_mask(child(e, "keep"), p);
      if (has(e, "bypass")) lm.keep_mask &= ~ds_mask(child(e, "bypass"), p);
      continue;
    }
    if (type != "temporal" && type != "spatial") fail(child(e, "type"), "temporal, spatial, bypass, datatype or dataspace", "\"" + type + "\"");
    const auto factors = has(e, "factors") ? parse_factors(child(e, "factors"), p) : std::map<std::string, std::int64_t>{};
    const std::vector<int> perm = has(e, "permutation") ? parse_permutation(child(e, "permutation"), p) : std::vector<int>{};
    if (type == "temporal") {
      for (const auto& [dn, f] : factors) lm.temporal[std::size_t(p.dim_index(dn))] = f;
      std::uint32_t used = 0;
      int n = 0;
      for (int d : perm) {
        if (used >> d & 1u) continue;
        used |= 1u << d;
        lm.permutation[std::size_t(n++)] = std::int8_t(d);
      }
      for (int d = 0; d < int(p.dims.size()); ++d)
        if (!(used >> d & 1u)) lm.permutation[std::size_t(n++)] = std::int8_t(d);
    } else {
      // Spatial: dims in permutation order; the first `split` go along X, the rest along Y.
      std::vector<int> order = perm;
      for (int d = 0; d < int(p.dims.size()); ++d)
        if (std::find(order.begin(), order.end(), d) == order.end()) order.push_back(d);
      const std::size_t split = has(e, "split") ? std::size_t(count(child(e, "split"), 0)) : order.size();
      for (std::size_t k = 0; k < order.size(); ++k) {
        const auto it = factors.find(p.dims[std::size_t(order[k])]);
        const std::int64_t f = it == factors.end() ? 1 : it->second;
        (k < split ? lm.spatial_x : lm.spatial_y)[std::size_t(order[k])] = f;
      }
    }
  }
  // Check the mapping against the constraints file: forced keeps and factors. (Permutation
  // constraints are not checked: Timeloop's mapper emits loop orders that differ from them where
  // the order does not change any count, e.g. 05-mapper "baked".)
  for (const Src& t : constraint_targets) {
    const std::string type = str(child(t, "type"));
    if (type == "bypass" || type == "datatype" || type == "dataspace") {
      const int l = level_of(child(t, "target"));
      const std::uint32_t want = has(t, "keep") ? ds_mask(child(t, "keep"), p) : 0;
      const std::uint32_t kept = m.levels[std::size_t(l)].keep_mask;
      if ((kept & want) != want)
        fail(child(t, "keep"), "the mapping to keep these data spaces at " + a.levels[std::size_t(l)].name,
             "a mapping in " + files.mapping + " that bypasses some of them");
      continue;
    }
    if ((type != "temporal" && type != "spatial") || !has(t, "factors")) continue;
    const int l = level_of(child(t, "target"));
    const LevelMapping& lm = m.levels[std::size_t(l)];
    for (const auto& [dn, f] : parse_factors(child(t, "factors"), p)) {
      const std::size_t d = std::size_t(p.dim_index(dn));
      const std::int64_t have = type == "temporal" ? lm.temporal[d] : lm.spatial_x[d] * lm.spatial_y[d];
      if (have != f)
        fail(child(t, "factors"), "the mapping to satisfy " + type + " factor " + dn + "=" + std::to_string(f) + " at " +
                                      a.levels[std::size_t(l)].name,
             "factor " + std::to_string(have) + " in " + files.mapping);
    }
  }
  return spec;
}

}  // namespace mixprec::sim::nest
