#include "sim/nest/nest_json.hpp"

#include <cmath>

namespace mixprec::sim::nest {

namespace {

std::int64_t read_count(const json& v, const JsonCtx& ctx, const std::string& ptr, std::int64_t min) {
  const double x = read_number(v, ctx, ptr, Range{double(min), std::nullopt, std::nullopt});
  if (x != std::floor(x) || x > 9.0e15)
    throw SpecError(ctx.file, ptr, "an integer >= " + std::to_string(min), format_number(x));
  return std::int64_t(x);
}

int dim_of(const Problem& p, const std::string& name, const JsonCtx& ctx, const std::string& ptr) {
  const int d = p.dim_index(name);
  if (d < 0) {
    const std::string near = nearest(name, p.dims);
    throw SpecError(ctx.file, ptr,
                    "a problem dimension" + (near.empty() ? "" : " (did you mean \"" + near + "\"?)"),
                    "\"" + name + "\"");
  }
  return d;
}

std::uint32_t dataspace_mask(const ObjectReader& r, const std::string& key, const json& list,
                             const Problem& p) {
  std::uint32_t mask = 0;
  std::vector<std::string> names;
  for (const Dataspace& d : p.dataspaces) names.push_back(d.name);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string ptr = pointer_join(r.at(key), i);
    const std::string n = read_string(list[i], r.ctx(), ptr);
    const int d = p.dataspace_index(n);
    if (d < 0) {
      const std::string near = nearest(n, names);
      throw SpecError(r.ctx().file, ptr,
                      "a data space name" + (near.empty() ? "" : " (did you mean \"" + near + "\"?)"),
                      "\"" + n + "\"");
    }
    mask |= 1u << d;
  }
  return mask;
}

json mask_names(std::uint32_t mask, const Problem& p) {
  json a = json::array();
  for (std::size_t d = 0; d < p.dataspaces.size(); ++d)
    if (mask >> d & 1u) a.push_back(p.dataspaces[d].name);
  return a;
}

}  // namespace

Problem parse_problem(const json& j, const JsonCtx& ctx, const std::string& pointer) {
  ObjectReader r(j, ctx, pointer);
  Problem p;
  p.name = r.string_or("name", "problem");
  const json& dims = r.array("dimensions");
  for (std::size_t i = 0; i < dims.size(); ++i) p.dims.push_back(read_string(dims[i], ctx, pointer_join(r.at("dimensions"), i)));
  if (p.dims.empty() || int(p.dims.size()) > kMaxDims)
    r.fail("dimensions", "1 to " + std::to_string(kMaxDims) + " dimensions", std::to_string(p.dims.size()));
  {
    const json& inst = r.object("instance");
    ObjectReader ir(inst, ctx, r.at("instance"));
    for (const std::string& d : p.dims) p.bounds.push_back(read_count(ir.any(d), ctx, ir.at(d), 1));
    ir.finish(p.dims);
  }
  if (r.has("coefficients")) {
    const json& co = r.object("coefficients");
    for (auto it = co.begin(); it != co.end(); ++it)
      p.coefficients.push_back({it.key(), read_count(it.value(), ctx, pointer_join(r.at("coefficients"), it.key()), 1)});
  }
  std::vector<std::string> coef_names;
  for (const Coefficient& c : p.coefficients) coef_names.push_back(c.name);
  const json& dss = r.array("data_spaces");
  for (std::size_t i = 0; i < dss.size(); ++i) {
    const std::string at = pointer_join(r.at("data_spaces"), i);
    ObjectReader dr(dss[i], ctx, at);
    Dataspace ds;
    ds.name = dr.string("name");
    ds.bits = dr.integer("bits", Range{1, 64, std::nullopt});
    ds.read_write = dr.boolean_or("read_write", false);
    const json& proj = dr.array("projection");
    for (std::size_t rk = 0; rk < proj.size(); ++rk) {
      const std::string rp = pointer_join(dr.at("projection"), rk);
      if (!proj[rk].is_array() || proj[rk].empty())
        throw SpecError(ctx.file, rp, "a rank: a non-empty array of terms [dim] or [dim, coefficient]", describe_json(proj[rk]));
      Rank rank;
      for (std::size_t t = 0; t < proj[rk].size(); ++t) {
        const json& term = proj[rk][t];
        const std::string tp = pointer_join(rp, t);
        if (!term.is_array() || term.empty() || term.size() > 2)
          throw SpecError(ctx.file, tp, "a term [dim] or [dim, coefficient]", describe_json(term));
        ProjectionTerm pt;
        pt.dim = dim_of(p, read_string(term[0], ctx, pointer_join(tp, 0)), ctx, pointer_join(tp, 0));
        if (term.size() == 2) {
          const std::string cn = read_string(term[1], ctx, pointer_join(tp, 1));
          int ci = -1;
          for (std::size_t c = 0; c < p.coefficients.size(); ++c)
            if (p.coefficients[c].name == cn) ci = int(c);
          if (ci < 0) {
            const std::string near = nearest(cn, coef_names);
            throw SpecError(ctx.file, pointer_join(tp, 1),
                            "a coefficient named in /coefficients" + (near.empty() ? "" : " (did you mean \"" + near + "\"?)"),
                            "\"" + cn + "\"");
          }
          pt.coefficient = ci;
        }
        rank.terms.push_back(pt);
      }
      ds.ranks.push_back(rank);
    }
    dr.finish();
    for (const Dataspace& o : p.dataspaces)
      if (o.name == ds.name) throw SpecError(ctx.file, at + "/name", "a unique data space name", "\"" + ds.name + "\" twice");
    p.dataspaces.push_back(ds);
  }
  r.accept("coefficients");
  r.finish();
  validate(p, ctx.file, pointer);
  return p;
}

Architecture parse_architecture(const json& j, const JsonCtx& ctx, const std::string& pointer,
                                const Problem& p) {
  ObjectReader r(j, ctx, pointer);
  Architecture a;
  a.name = r.string_or("name", "architecture");
  const json& levels = r.array("levels");
  for (std::size_t i = 0; i < levels.size(); ++i) {
    ObjectReader lr(levels[i], ctx, pointer_join(r.at("levels"), i));
    StorageLevel s;
    s.name = lr.string("name");
    s.depth = lr.has("depth") ? read_count(lr.any("depth"), ctx, lr.at("depth"), 0) : 0;
    s.block_bits = lr.integer("block_bits", Range{1, std::nullopt, std::nullopt});
    s.word_bits = lr.has("word_bits") ? lr.integer("word_bits", Range{1, 64, std::nullopt}) : 0;
    s.instances = lr.has("instances") ? read_count(lr.any("instances"), ctx, lr.at("instances"), 1) : 1;
    s.mesh_x = lr.has("mesh_x") ? read_count(lr.any("mesh_x"), ctx, lr.at("mesh_x"), 1) : s.instances;
    s.read_bandwidth_bits = lr.number_or("read_bandwidth_bits", 0, Range{0, std::nullopt, std::nullopt});
    s.write_bandwidth_bits = lr.number_or("write_bandwidth_bits", 0, Range{0, std::nullopt, std::nullopt});
    s.shared_bandwidth_bits = lr.number_or("shared_bandwidth_bits", 0, Range{0, std::nullopt, std::nullopt});
    s.banks = lr.integer_or("banks", 1, Range{1, std::nullopt, std::nullopt});
    s.multiple_buffering = lr.number_or("multiple_buffering", 1, Range{1, std::nullopt, std::nullopt});
    if (lr.has("keep")) s.keep_mask = dataspace_mask(lr, "keep", lr.array("keep"), p);
    else s.keep_mask = (1u << p.dataspaces.size()) - 1;
    const json& e = lr.object("energy_pj");
    ObjectReader er(e, ctx, lr.at("energy_pj"));
    const Range nonneg{0, std::nullopt, std::nullopt};
    s.read_pj = er.number("read", nonneg);
    s.write_pj = er.number("write", nonneg);
    s.update_pj = er.number_or("update", s.write_pj, nonneg);
    s.leak_pj = er.number_or("leak", 0, nonneg);
    er.finish();
    for (const char* k : {"depth", "word_bits", "instances", "mesh_x", "keep"}) lr.accept(k);
    lr.finish();
    a.levels.push_back(s);
  }
  {
    ObjectReader cr(r.object("compute"), ctx, r.at("compute"));
    a.compute.name = cr.string_or("name", "MAC");
    a.compute.instances = cr.has("instances") ? read_count(cr.any("instances"), ctx, cr.at("instances"), 1) : 1;
    a.compute.mesh_x = cr.has("mesh_x") ? read_count(cr.any("mesh_x"), ctx, cr.at("mesh_x"), 1) : a.compute.instances;
    a.compute.energy_pj = cr.number("energy_pj", Range{0, std::nullopt, std::nullopt});
    for (const char* k : {"instances", "mesh_x"}) cr.accept(k);
    cr.finish();
  }
  r.finish();
  validate(a, p, ctx.file, pointer);
  return a;
}

Mapping parse_mapping(const json& j, const JsonCtx& ctx, const std::string& pointer,
                      const Problem& p, const Architecture& a) {
  if (!j.is_array()) throw SpecError(ctx.file, pointer, "an array of per-level mappings", describe_json(j));
  Mapping m;
  m.n_levels = int(a.levels.size());
  for (int l = 0; l < m.n_levels; ++l) m.levels[std::size_t(l)].keep_mask = a.levels[std::size_t(l)].keep_mask;
  std::vector<std::string> level_names;
  for (const StorageLevel& s : a.levels) level_names.push_back(s.name);
  std::vector<bool> seen(a.levels.size(), false);
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string at = pointer_join(pointer, i);
    ObjectReader r(j[i], ctx, at);
    const std::string name = r.string("level");
    const int l = a.level_index(name);
    if (l < 0) {
      const std::string near = nearest(name, level_names);
      r.fail("level", "an architecture level" + (near.empty() ? "" : " (did you mean \"" + near + "\"?)"), "\"" + name + "\"");
    }
    if (seen[std::size_t(l)]) r.fail("level", "each level mapped once", "\"" + name + "\" again");
    seen[std::size_t(l)] = true;
    LevelMapping& lm = m.levels[std::size_t(l)];
    auto factors = [&](const std::string& key, std::array<std::int64_t, kMaxDims>& f) {
      if (!r.has(key)) return;
      const json& o = r.object(key);
      for (auto it = o.begin(); it != o.end(); ++it) {
        const std::string fp = pointer_join(r.at(key), it.key());
        f[std::size_t(dim_of(p, it.key(), ctx, fp))] = read_count(it.value(), ctx, fp, 1);
      }
    };
    factors("temporal", lm.temporal);
    factors("spatial_x", lm.spatial_x);
    factors("spatial_y", lm.spatial_y);
    if (r.has("permutation")) {
      const json& perm = r.array("permutation");
      std::uint32_t used = 0;
      int n = 0;
      for (std::size_t k = 0; k < perm.size(); ++k) {
        const std::string pp = pointer_join(r.at("permutation"), k);
        const int d = dim_of(p, read_string(perm[k], ctx, pp), ctx, pp);
        if (used >> d & 1u) throw SpecError(ctx.file, pp, "each dimension once", "\"" + p.dims[std::size_t(d)] + "\" again");
        used |= 1u << d;
        lm.permutation[std::size_t(n++)] = std::int8_t(d);
      }
      for (int d = 0; d < int(p.dims.size()); ++d)
        if (!(used >> d & 1u)) lm.permutation[std::size_t(n++)] = std::int8_t(d);
    }
    if (r.has("keep")) {
      lm.keep_mask = dataspace_mask(r, "keep", r.array("keep"), p);
      const std::uint32_t allowed = a.levels[std::size_t(l)].keep_mask;
      if (lm.keep_mask & ~allowed)
        r.fail("keep", "data spaces the architecture lets \"" + name + "\" hold", mask_names(lm.keep_mask & ~allowed, p).dump());
      if (l == 0 && lm.keep_mask != (1u << p.dataspaces.size()) - 1)
        r.fail("keep", "every data space at the outermost level (the backing store)", mask_names(lm.keep_mask, p).dump());
    }
    for (const char* k : {"temporal", "spatial_x", "spatial_y", "permutation", "keep"}) r.accept(k);
    r.finish();
  }
  return m;
}

NestSpec parse_nest_spec(const JsonDoc& doc) {
  ObjectReader r(doc.root(), doc.ctx(), "");
  const int version = r.integer("mixprec_nest");
  if (version != 1) r.fail("mixprec_nest", "format version 1", std::to_string(version));
  NestSpec s;
  s.problem = parse_problem(r.object("problem"), doc.ctx(), "/problem");
  s.architecture = parse_architecture(r.object("architecture"), doc.ctx(), "/architecture", s.problem);
  s.mapping = parse_mapping(r.array("mapping"), doc.ctx(), "/mapping", s.problem, s.architecture);
  r.finish();
  return s;
}

NestSpec load_nest_spec(const std::string& path) { return parse_nest_spec(JsonDoc::load(path)); }

json to_json(const Problem& p) {
  json j;
  j["name"] = p.name;
  j["dimensions"] = p.dims;
  json inst = json::object();
  for (std::size_t d = 0; d < p.dims.size(); ++d) inst[p.dims[d]] = p.bounds[d];
  j["instance"] = inst;
  if (!p.coefficients.empty()) {
    json co = json::object();
    for (const Coefficient& c : p.coefficients) co[c.name] = c.value;
    j["coefficients"] = co;
  }
  json dss = json::array();
  for (const Dataspace& ds : p.dataspaces) {
    json proj = json::array();
    for (const Rank& r : ds.ranks) {
      json rank = json::array();
      for (const ProjectionTerm& t : r.terms) {
        json term = json::array();
        term.push_back(p.dims[std::size_t(t.dim)]);
        if (t.coefficient >= 0) term.push_back(p.coefficients[std::size_t(t.coefficient)].name);
        rank.push_back(term);
      }
      proj.push_back(rank);
    }
    json d = {{"name", ds.name}, {"bits", ds.bits}, {"projection", proj}};
    if (ds.read_write) d["read_write"] = true;
    dss.push_back(d);
  }
  j["data_spaces"] = dss;
  return j;
}

json to_json(const Architecture& a, const Problem& p) {
  json j;
  j["name"] = a.name;
  json levels = json::array();
  for (const StorageLevel& s : a.levels) {
    json l = {{"name", s.name}, {"depth", s.depth}, {"block_bits", s.block_bits}, {"instances", s.instances},
              {"mesh_x", s.mesh_x}};
    if (s.read_bandwidth_bits > 0) l["read_bandwidth_bits"] = s.read_bandwidth_bits;
    if (s.write_bandwidth_bits > 0) l["write_bandwidth_bits"] = s.write_bandwidth_bits;
    if (s.shared_bandwidth_bits > 0) l["shared_bandwidth_bits"] = s.shared_bandwidth_bits;
    if (s.word_bits > 0) l["word_bits"] = s.word_bits;
    if (s.banks != 1) l["banks"] = s.banks;
    if (s.multiple_buffering != 1) l["multiple_buffering"] = s.multiple_buffering;
    l["keep"] = mask_names(s.keep_mask, p);
    l["energy_pj"] = {{"read", s.read_pj}, {"write", s.write_pj}, {"update", s.update_pj}, {"leak", s.leak_pj}};
    levels.push_back(l);
  }
  j["levels"] = levels;
  j["compute"] = {{"name", a.compute.name}, {"instances", a.compute.instances}, {"mesh_x", a.compute.mesh_x},
                  {"energy_pj", a.compute.energy_pj}};
  return j;
}

json to_json(const Mapping& m, const Problem& p, const Architecture& a) {
  json arr = json::array();
  const int D = int(p.dims.size());
  for (int l = 0; l < m.n_levels; ++l) {
    const LevelMapping& lm = m.levels[std::size_t(l)];
    json e;
    e["level"] = a.levels[std::size_t(l)].name;
    auto factors = [&](const std::array<std::int64_t, kMaxDims>& f) {
      json o = json::object();
      for (int d = 0; d < D; ++d)
        if (f[std::size_t(d)] != 1) o[p.dims[std::size_t(d)]] = f[std::size_t(d)];
      return o;
    };
    e["temporal"] = factors(lm.temporal);
    json perm = json::array();
    for (int i = 0; i < D; ++i) perm.push_back(p.dims[std::size_t(lm.permutation[std::size_t(i)])]);
    e["permutation"] = perm;
    const json sx = factors(lm.spatial_x), sy = factors(lm.spatial_y);
    if (!sx.empty()) e["spatial_x"] = sx;
    if (!sy.empty()) e["spatial_y"] = sy;
    e["keep"] = mask_names(lm.keep_mask, p);
    arr.push_back(e);
  }
  return arr;
}

json to_json(const NestSpec& s) {
  json j;
  j["mixprec_nest"] = 1;
  j["problem"] = to_json(s.problem);
  j["architecture"] = to_json(s.architecture, s.problem);
  j["mapping"] = to_json(s.mapping, s.problem, s.architecture);
  return j;
}

json result_to_json(const Problem& p, const Architecture& a, const Result& r) {
  json j;
  j["ok"] = r.status.ok();
  if (!r.status.ok()) {
    j["reason"] = describe(r.status, p, a);
    return j;
  }
  j["macs"] = r.macs;
  j["utilized_compute"] = r.utilized_compute;
  j["compute_cycles"] = r.compute_cycles;
  j["cycles"] = r.cycles;
  j["utilization"] = r.utilization;
  j["compute_energy_pj"] = r.compute_energy_pj;
  j["energy_pj"] = r.energy_pj;
  json levels = json::array();
  for (int l = 0; l < r.n_levels; ++l) {
    const LevelStats& ls = r.levels[std::size_t(l)];
    json lj = {{"name", a.levels[std::size_t(l)].name}, {"cycles", ls.cycles},
               {"bandwidth_throttling", ls.bandwidth_throttling}, {"leak_pj", ls.leak_pj},
               {"energy_pj", ls.energy_pj}};
    json dss = json::object();
    for (std::size_t d = 0; d < p.dataspaces.size(); ++d) {
      const DataspaceStats& ds = ls.ds[d];
      if (!ds.kept) continue;
      dss[p.dataspaces[d].name] = {{"utilized_capacity", ds.utilized_capacity},
                                   {"utilized_instances", ds.utilized_instances},
                                   {"reads", ds.reads},
                                   {"fills", ds.fills},
                                   {"updates", ds.updates},
                                   {"temporal_reductions", ds.temporal_reductions},
                                   {"multicast_factor", ds.multicast_factor},
                                   {"spatial_reductions", ds.spatial_reductions},
                                   {"energy_pj", ds.energy_pj}};
    }
    lj["data_spaces"] = dss;
    levels.push_back(lj);
  }
  j["levels"] = levels;
  return j;
}

}  // namespace mixprec::sim::nest
