// Nest analysis (see nest.hpp and docs/architecture.md, "sim/nest").
#include "sim/nest/nest.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/errors.hpp"

namespace mixprec::sim::nest {

// ------------------------------------------------------------------------------------ problem
int Problem::dim_index(const std::string& n) const {
  for (std::size_t i = 0; i < dims.size(); ++i)
    if (dims[i] == n) return int(i);
  return -1;
}
int Problem::dataspace_index(const std::string& n) const {
  for (std::size_t i = 0; i < dataspaces.size(); ++i)
    if (dataspaces[i].name == n) return int(i);
  return -1;
}
std::int64_t Problem::macs() const {
  std::int64_t m = 1;
  for (std::int64_t b : bounds) m *= b;
  return m;
}
std::int64_t Problem::dataspace_size(int d) const {
  std::int64_t size = 1;
  for (const Rank& r : dataspaces[std::size_t(d)].ranks) {
    std::int64_t extent = 1;
    for (const ProjectionTerm& t : r.terms) {
      const std::int64_t c = t.coefficient < 0 ? 1 : coefficients[std::size_t(t.coefficient)].value;
      extent += c * (bounds[std::size_t(t.dim)] - 1);
    }
    size *= extent;
  }
  return size;
}
int Architecture::level_index(const std::string& n) const {
  for (std::size_t i = 0; i < levels.size(); ++i)
    if (levels[i].name == n) return int(i);
  return -1;
}

namespace {
Rank rank_of(std::initializer_list<ProjectionTerm> terms) { return Rank{std::vector<ProjectionTerm>(terms)}; }
}  // namespace

Problem make_conv(const ConvShape& s) {
  Problem p;
  p.name = "conv";
  const bool grouped = s.groups > 1;
  p.dims = {"N", "K", "C", "P", "Q", "R", "S"};
  p.bounds = {s.n, s.k, s.c, s.p, s.q, s.r, s.s};
  if (grouped) {
    p.dims.push_back("G");
    p.bounds.push_back(s.groups);
  }
  enum { N, K, C, P, Q, R, S, G };
  p.coefficients = {{"Hstride", s.h_stride}, {"Wstride", s.w_stride}, {"Hdilation", s.h_dilation},
                    {"Wdilation", s.w_dilation}};
  Dataspace w{"Weights", {}, false, s.weight_bits};
  Dataspace in{"Inputs", {}, false, s.input_bits};
  Dataspace out{"Outputs", {}, true, s.output_bits};
  if (grouped) {
    w.ranks.push_back(rank_of({{G, -1}}));
    in.ranks.push_back(rank_of({{N, -1}}));
    in.ranks.push_back(rank_of({{G, -1}}));
    out.ranks.push_back(rank_of({{N, -1}}));
    out.ranks.push_back(rank_of({{G, -1}}));
  } else {
    in.ranks.push_back(rank_of({{N, -1}}));
    out.ranks.push_back(rank_of({{N, -1}}));
  }
  w.ranks.push_back(rank_of({{K, -1}}));
  w.ranks.push_back(rank_of({{C, -1}}));
  w.ranks.push_back(rank_of({{R, -1}}));
  w.ranks.push_back(rank_of({{S, -1}}));
  in.ranks.push_back(rank_of({{C, -1}}));
  in.ranks.push_back(rank_of({{P, 0}, {R, 2}}));
  in.ranks.push_back(rank_of({{Q, 1}, {S, 3}}));
  out.ranks.push_back(rank_of({{K, -1}}));
  out.ranks.push_back(rank_of({{P, -1}}));
  out.ranks.push_back(rank_of({{Q, -1}}));
  p.dataspaces = {w, in, out};
  return p;
}

Problem make_conv_weight_grad(const ConvShape& s) {
  Problem p = make_conv(s);
  p.name = "conv_weight_grad";
  Dataspace dw = p.dataspaces[0], x = p.dataspaces[1], dy = p.dataspaces[2];
  x.name = "A";
  dy.name = "B";
  dy.read_write = false;
  dw.name = "Z";
  dw.read_write = true;
  p.dataspaces = {x, dy, dw};
  return p;
}

Problem make_gemm(std::int64_t m, std::int64_t n, std::int64_t k, int a_bits, int b_bits,
                  int z_bits) {
  Problem p;
  p.name = "gemm";
  p.dims = {"M", "N", "K"};
  p.bounds = {m, n, k};
  p.dataspaces = {Dataspace{"A", {rank_of({{0, -1}}), rank_of({{2, -1}})}, false, a_bits},
                  Dataspace{"B", {rank_of({{2, -1}}), rank_of({{1, -1}})}, false, b_bits},
                  Dataspace{"Z", {rank_of({{0, -1}}), rank_of({{1, -1}})}, true, z_bits}};
  return p;
}

LevelMapping::LevelMapping() {
  temporal.fill(1);
  spatial_x.fill(1);
  spatial_y.fill(1);
  for (int i = 0; i < kMaxDims; ++i) permutation[std::size_t(i)] = std::int8_t(i);
}

// --------------------------------------------------------------------------------- validation
void validate(const Problem& p, const std::string& file, const std::string& where) {
  auto fail = [&](const std::string& ptr, const std::string& expected, const std::string& found) {
    throw SpecError(file, where + ptr, expected, found);
  };
  if (p.dims.empty() || int(p.dims.size()) > kMaxDims)
    fail("/dimensions", "1 to " + std::to_string(kMaxDims) + " dimensions",
         std::to_string(p.dims.size()));
  if (p.bounds.size() != p.dims.size())
    fail("/instance", "a bound for every dimension", std::to_string(p.bounds.size()) + " bounds");
  for (std::size_t i = 0; i < p.dims.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j)
      if (p.dims[i] == p.dims[j]) fail("/dimensions/" + std::to_string(i), "distinct names", "\"" + p.dims[i] + "\" twice");
    if (p.bounds[i] < 1) fail("/instance/" + p.dims[i], "a bound >= 1", std::to_string(p.bounds[i]));
  }
  if (p.dataspaces.empty() || int(p.dataspaces.size()) > kMaxDataspaces)
    fail("/data_spaces", "1 to " + std::to_string(kMaxDataspaces) + " data spaces",
         std::to_string(p.dataspaces.size()));
  for (std::size_t d = 0; d < p.dataspaces.size(); ++d) {
    const Dataspace& ds = p.dataspaces[d];
    const std::string at = "/data_spaces/" + std::to_string(d);
    if (ds.bits < 1 || ds.bits > 64) fail(at + "/bits", "bits 1..64", std::to_string(ds.bits));
    if (ds.ranks.empty() || int(ds.ranks.size()) > kMaxRanks)
      fail(at + "/projection", "1 to " + std::to_string(kMaxRanks) + " ranks", std::to_string(ds.ranks.size()));
    for (std::size_t r = 0; r < ds.ranks.size(); ++r) {
      const auto& terms = ds.ranks[r].terms;
      if (terms.empty() || int(terms.size()) > kMaxTerms)
        fail(at + "/projection/" + std::to_string(r), "1 to " + std::to_string(kMaxTerms) + " terms",
             std::to_string(terms.size()));
      for (const ProjectionTerm& t : terms) {
        if (t.dim < 0 || t.dim >= int(p.dims.size()))
          fail(at + "/projection/" + std::to_string(r), "a known dimension", "index " + std::to_string(t.dim));
        if (t.coefficient >= int(p.coefficients.size()) || t.coefficient < -1)
          fail(at + "/projection/" + std::to_string(r), "a known coefficient", "index " + std::to_string(t.coefficient));
      }
    }
  }
  for (std::size_t c = 0; c < p.coefficients.size(); ++c)
    if (p.coefficients[c].value < 1)
      fail("/coefficients/" + std::to_string(c), "a coefficient >= 1", std::to_string(p.coefficients[c].value));
}

void validate(const Architecture& a, const Problem& p, const std::string& file,
              const std::string& where) {
  auto fail = [&](const std::string& ptr, const std::string& expected, const std::string& found) {
    throw SpecError(file, where + ptr, expected, found);
  };
  if (a.levels.empty() || int(a.levels.size()) > kMaxLevels)
    fail("/levels", "1 to " + std::to_string(kMaxLevels) + " storage levels", std::to_string(a.levels.size()));
  const std::uint32_t all = (1u << p.dataspaces.size()) - 1;
  if ((a.levels.front().keep_mask & all) != all)
    fail("/levels/0/keep", "every data space at the outermost level (the backing store)", "a subset");
  std::int64_t prev_instances = 1, prev_mesh_x = 1;
  for (std::size_t l = 0; l <= a.levels.size(); ++l) {
    const bool compute = l == a.levels.size();
    const std::string at = compute ? "/compute" : "/levels/" + std::to_string(l);
    const std::int64_t inst = compute ? a.compute.instances : a.levels[l].instances;
    const std::int64_t mx = compute ? a.compute.mesh_x : a.levels[l].mesh_x;
    if (inst < 1) fail(at + "/instances", "instances >= 1", std::to_string(inst));
    if (mx < 1 || inst % mx != 0)
      fail(at + "/mesh_x", "a divisor of instances (" + std::to_string(inst) + ")", std::to_string(mx));
    if (inst % prev_instances != 0)
      fail(at + "/instances", "a multiple of the enclosing level's instances (" + std::to_string(prev_instances) + ")",
           std::to_string(inst));
    if (mx % prev_mesh_x != 0 || (inst / mx) % (prev_instances / prev_mesh_x) != 0)
      fail(at + "/mesh_x", "a mesh that refines the enclosing level's " + std::to_string(prev_mesh_x) + " x " +
                               std::to_string(prev_instances / prev_mesh_x),
           std::to_string(mx) + " x " + std::to_string(inst / mx));
    prev_instances = inst;
    prev_mesh_x = mx;
    if (compute) {
      if (a.compute.energy_pj < 0) fail(at + "/energy_pj", "energy >= 0", std::to_string(a.compute.energy_pj));
      break;
    }
    const StorageLevel& s = a.levels[l];
    for (std::size_t j = 0; j < l; ++j)
      if (a.levels[j].name == s.name) fail(at + "/name", "a unique level name", "\"" + s.name + "\" twice");
    if (s.depth < 0) fail(at + "/depth", "depth >= 0 (0 = unbounded)", std::to_string(s.depth));
    if (s.block_bits < 1) fail(at + "/block_bits", "block_bits >= 1", std::to_string(s.block_bits));
    if (s.word_bits < 0 || s.word_bits > 64) fail(at + "/word_bits", "word_bits 1..64 (or absent)", std::to_string(s.word_bits));
    if (s.banks < 1) fail(at + "/banks", "banks >= 1", std::to_string(s.banks));
    if (s.multiple_buffering < 1) fail(at + "/multiple_buffering", "a factor >= 1", std::to_string(s.multiple_buffering));
    if (s.read_bandwidth_bits < 0 || s.write_bandwidth_bits < 0 || s.shared_bandwidth_bits < 0)
      fail(at, "bandwidths >= 0 (0 = unlimited)", "a negative bandwidth");
    if (s.read_pj < 0 || s.write_pj < 0 || s.update_pj < 0 || s.leak_pj < 0)
      fail(at + "/energy", "energies >= 0", "a negative energy");
  }
}

// ------------------------------------------------------------------------------------ describe
std::string describe(const Status& s, const Problem& p, const Architecture& a) {
  auto lvl = [&](int l) {
    return l >= 0 && l < int(a.levels.size()) ? "level \"" + a.levels[std::size_t(l)].name + "\"" : std::string("level ?");
  };
  auto ds = [&](int d) {
    return d >= 0 && d < int(p.dataspaces.size()) ? "\"" + p.dataspaces[std::size_t(d)].name + "\"" : std::string("?");
  };
  std::ostringstream o;
  switch (s.fail) {
    case Fail::none: return "ok";
    case Fail::factor_product:
      o << "the factors of dimension " << (s.dim >= 0 && s.dim < int(p.dims.size()) ? p.dims[std::size_t(s.dim)] : "?")
        << " multiply to " << s.value << ", not its bound " << s.limit;
      break;
    case Fail::capacity:
      o << lvl(s.level) << ": the tiles need " << s.value << " bits, more than its effective capacity of " << s.limit << " bits";
      break;
    case Fail::fanout_x:
      o << lvl(s.level) << ": spatial X factors multiply to " << s.value << ", more than its X fan-out " << s.limit;
      break;
    case Fail::fanout_y:
      o << lvl(s.level) << ": spatial Y factors multiply to " << s.value << ", more than its Y fan-out " << s.limit;
      break;
    case Fail::keep_not_allowed:
      o << lvl(s.level) << ": the mapping keeps " << ds(s.dataspace) << ", which the architecture does not let this level hold";
      break;
    case Fail::bad_permutation: o << lvl(s.level) << ": the permutation does not list every dimension once"; break;
    case Fail::level_count:
      o << "the mapping has " << s.value << " levels, the architecture " << s.limit;
      break;
    case Fail::block_too_narrow:
      o << lvl(s.level) << ": a block of " << s.limit << " bits cannot hold one " << s.value << "-bit value of "
        << ds(s.dataspace);
      break;
  }
  return o.str();
}

// ------------------------------------------------------------------------------------- engine
namespace {
TestHooks g_test_hooks;  // see nest.hpp: test-only, null by default
}  // namespace

struct Evaluator::Compiled {
  int n_dims = 0, n_ds = 0, n_levels = 0;
  std::int64_t bounds[kMaxDims] = {};
  struct Term { int dim; std::int64_t coef; };
  struct CRank { int n; Term t[kMaxTerms]; };
  struct CDs { int n_ranks; CRank r[kMaxRanks]; bool rw; int bits; std::uint32_t dim_mask; };
  CDs ds[kMaxDataspaces];
  std::int64_t fanout_x[kMaxLevels] = {}, fanout_y[kMaxLevels] = {};
  std::int64_t values_per_block[kMaxLevels][kMaxDataspaces] = {};
  int value_bits[kMaxLevels][kMaxDataspaces] = {};  // bits of one value of d held at level l
  std::int64_t instances[kMaxLevels + 1] = {};
  std::int64_t capacity_limit_bits[kMaxLevels] = {};  // depth x block / multiple buffering (depth > 0)

  std::int64_t footprint(int d, const std::int64_t* ext) const {
    std::int64_t size = 1;
    const CDs& s = ds[d];
    for (int r = 0; r < s.n_ranks; ++r) {
      std::int64_t e = 1;
      for (int t = 0; t < s.r[r].n; ++t) e += s.r[r].t[t].coef * (ext[s.r[r].t[t].dim] - 1);
      size *= e;
    }
    return size;
  }
};

void Evaluator::CompiledDeleter::operator()(Compiled* c) const { delete c; }

Evaluator::Evaluator(const Problem& p, const Architecture& a) : p_(p), a_(a), c_(new Compiled) {
  validate(p, "<problem>", "/problem");
  validate(a, p, "<architecture>", "/architecture");
  Compiled& c = *c_;
  MIXPREC_CHECK(!p.dims.empty() && int(p.dims.size()) <= kMaxDims, "dimension count");
  MIXPREC_CHECK(!p.dataspaces.empty() && int(p.dataspaces.size()) <= kMaxDataspaces, "dataspace count");
  MIXPREC_CHECK(!a.levels.empty() && int(a.levels.size()) <= kMaxLevels, "level count");
  c.n_dims = int(p.dims.size());
  c.n_ds = int(p.dataspaces.size());
  c.n_levels = int(a.levels.size());
  for (int i = 0; i < c.n_dims; ++i) c.bounds[i] = p.bounds[std::size_t(i)];
  for (int d = 0; d < c.n_ds; ++d) {
    const Dataspace& ds = p.dataspaces[std::size_t(d)];
    MIXPREC_CHECK(!ds.ranks.empty() && int(ds.ranks.size()) <= kMaxRanks, "rank count");
    Compiled::CDs& cd = c.ds[d];
    cd.n_ranks = int(ds.ranks.size());
    cd.rw = ds.read_write;
    cd.bits = ds.bits;
    cd.dim_mask = 0;
    for (int r = 0; r < cd.n_ranks; ++r) {
      const Rank& rk = ds.ranks[std::size_t(r)];
      MIXPREC_CHECK(!rk.terms.empty() && int(rk.terms.size()) <= kMaxTerms, "term count");
      cd.r[r].n = int(rk.terms.size());
      for (int t = 0; t < cd.r[r].n; ++t) {
        const ProjectionTerm& pt = rk.terms[std::size_t(t)];
        cd.r[r].t[t].dim = pt.dim;
        cd.r[r].t[t].coef = pt.coefficient < 0 ? 1 : p.coefficients[std::size_t(pt.coefficient)].value;
        cd.dim_mask |= 1u << pt.dim;
      }
    }
  }
  for (int l = 0; l < c.n_levels; ++l) {
    const StorageLevel& s = a.levels[std::size_t(l)];
    const bool last = l + 1 == c.n_levels;
    const std::int64_t child_inst = last ? a.compute.instances : a.levels[std::size_t(l + 1)].instances;
    const std::int64_t child_mx = last ? a.compute.mesh_x : a.levels[std::size_t(l + 1)].mesh_x;
    c.fanout_x[l] = child_mx / s.mesh_x;
    c.fanout_y[l] = (child_inst / child_mx) / (s.instances / s.mesh_x);
    c.instances[l] = s.instances;
    if (s.depth > 0)
      c.capacity_limit_bits[l] = s.effective_capacity_bits();
    for (int d = 0; d < c.n_ds; ++d) {
      c.value_bits[l][d] = s.word_bits > 0 ? s.word_bits : c.ds[d].bits;
      c.values_per_block[l][d] = s.block_bits / c.value_bits[l][d];
    }
  }
  c.instances[c.n_levels] = a.compute.instances;
}

namespace {

// One loop of the flattened nest, innermost first.
struct Loop {
  std::int8_t dim;
  bool spatial;
  std::int8_t level;
  std::int64_t factor;
  std::int64_t stride;  // extent of `dim` covered by the loops inside this one
};

// The temporal delta sequence of one tile under the loops above it (innermost first), as the
// function sweep(k, entry state) -> (values delivered, exit state) over one full sweep of loops
// 0..k: sweep(k) = sweep(k-1), then (f_k - 1) x [step k, sweep(k-1)]. Memoized per (k, state)
// and evaluated on demand; a repetition that returns to its entry state repeats identically, so
// a loop costs a few steps, not f_k.
struct Sweep {
  static constexpr int kMaxLoops = kMaxLevels * kMaxDims;
  int n = 0, n_ranks = 0;
  std::int64_t tile = 0;
  std::int64_t reps[kMaxLoops];
  std::int64_t tr[kMaxLoops][kMaxRanks];
  bool zero[kMaxLoops];
  std::int64_t overlap_delta[kMaxLoops];  // values new after a move with the overlap kept
  std::int64_t memo_delta[kMaxLoops][kMaxLoops + 2];
  int memo_exit[kMaxLoops][kMaxLoops + 2];
  bool memo_valid[kMaxLoops][kMaxLoops + 2];

  void reset_memo() {
    for (int k = 0; k < n; ++k)
      for (int s = 0; s < n + 2; ++s) memo_valid[k][s] = false;
  }
  bool same(int a, int b) const {
    for (int r = 0; r < n_ranks; ++r)
      if (tr[a][r] != tr[b][r]) return false;
    return true;
  }
  // One transition of type k from state s: -1 = no previous translation, 0..n-1 = the
  // translation of that type, n = the zero translation. Rule of the Timeloop that produced the
  // reference outputs (SaveAndSubtractIfSameStride before NVlabs/timeloop#297): with no previous
  // translation, keep the overlap and remember this translation (zero included); with the same
  // translation, keep the overlap; otherwise refetch the whole tile and forget the translation.
  // A zero (stationary) step after a moving one therefore resets, and a stationary inner loop
  // defeats sliding-window reuse by an outer one (docs/validation.md).
  std::int64_t step(int k, int& s) const {
    const std::int64_t kept_overlap = zero[k] ? 0 : overlap_delta[k];
    if (s < 0) {
      s = zero[k] ? n : k;
      return kept_overlap;
    }
    const bool same_translation = s == n ? zero[k] : (!zero[k] && same(s, k));
    if (same_translation) return kept_overlap;
    s = -1;
    return tile;
  }
  std::int64_t run(int k, int s, int& exit_state) {
    if (k < 0) {
      exit_state = s;
      return 0;
    }
    if (memo_valid[k][s + 1]) {
      exit_state = memo_exit[k][s + 1];
      return memo_delta[k][s + 1];
    }
    int cur = 0;
    std::int64_t acc = run(k - 1, s, cur);
    for (std::int64_t r = 0; r < reps[k]; ++r) {
      int ss = cur;
      std::int64_t dlt = step(k, ss);
      int next = 0;
      dlt += run(k - 1, ss, next);
      acc += dlt;
      if (next == cur) {  // this repetition returns to its entry state: the rest repeat it
        acc += dlt * (reps[k] - r - 1);
        break;
      }
      cur = next;
    }
    memo_valid[k][s + 1] = true;
    memo_exit[k][s + 1] = cur;
    memo_delta[k][s + 1] = acc;
    exit_state = cur;
    return acc;
  }
};

}  // namespace

Status Evaluator::evaluate(const Mapping& m, Result& out) const {
  const Compiled& c = *c_;
  out = Result{};
  Status st;
  const int L = c.n_levels, D = c.n_dims, NDS = c.n_ds;
  out.n_levels = L;
  auto finish = [&](Status s) {
    out.status = s;
    return s;
  };
  if (m.n_levels != L) {
    st.fail = Fail::level_count;
    st.value = m.n_levels;
    st.limit = L;
    return finish(st);
  }
  // Factor products, permutations, fan-outs.
  for (int d = 0; d < D; ++d) {
    std::int64_t prod = 1;
    for (int l = 0; l < L; ++l) {
      const LevelMapping& lm = m.levels[std::size_t(l)];
      prod *= lm.temporal[std::size_t(d)] * lm.spatial_x[std::size_t(d)] * lm.spatial_y[std::size_t(d)];
    }
    if (prod != c.bounds[d]) {
      st.fail = Fail::factor_product;
      st.dim = std::int8_t(d);
      st.value = prod;
      st.limit = c.bounds[d];
      return finish(st);
    }
  }
  for (int l = 0; l < L; ++l) {
    const LevelMapping& lm = m.levels[std::size_t(l)];
    std::uint32_t seen = 0;
    for (int i = 0; i < D; ++i) {
      const int d = lm.permutation[std::size_t(i)];
      if (d < 0 || d >= D || (seen & (1u << d))) {
        st.fail = Fail::bad_permutation;
        st.level = std::int8_t(l);
        return finish(st);
      }
      seen |= 1u << d;
    }
    std::int64_t sx = 1, sy = 1;
    for (int d = 0; d < D; ++d) {
      sx *= lm.spatial_x[std::size_t(d)];
      sy *= lm.spatial_y[std::size_t(d)];
    }
    const std::int64_t used[2] = {sx, sy}, fanout[2] = {c.fanout_x[l], c.fanout_y[l]};
    for (int axis = 0; axis < 2; ++axis) {
      if (used[axis] <= fanout[axis]) continue;
      st.fail = axis == 0 ? Fail::fanout_x : Fail::fanout_y;
      st.level = std::int8_t(l);
      st.value = used[axis];
      st.limit = fanout[axis];
      return finish(st);
    }
    const std::uint32_t allowed = a_.levels[std::size_t(l)].keep_mask;
    for (int d = 0; d < NDS; ++d) {
      if ((lm.keep_mask >> d & 1u) && !(allowed >> d & 1u)) {
        st.fail = Fail::keep_not_allowed;
        st.level = std::int8_t(l);
        st.dataspace = std::int8_t(d);
        return finish(st);
      }
    }
  }
  // The outermost level holds every tensor (it is the backing store).

  // Flattened nest, innermost first: per level, spatial X, spatial Y, then temporal loops in
  // permutation order. ext[l][dim]: extent of dim covered by level l's tile (its loops and all
  // inner ones); sext[l][dim]: the child tile expanded by level l's spatial loops only.
  Loop loops[kMaxLevels * 3 * kMaxDims];
  int n_loops = 0;

  int level_end[kMaxLevels];           // one past level l's last loop
  std::int64_t ext[kMaxLevels][kMaxDims], sext[kMaxLevels][kMaxDims];
  std::int64_t cur[kMaxDims];
  for (int d = 0; d < D; ++d) cur[d] = 1;
  std::int64_t spatial_above[kMaxLevels + 1];  // product of spatial factors outside level l
  std::int64_t mc_below[kMaxLevels][kMaxDataspaces];  // multicast of level l's spatial loops
  std::int64_t n_below[kMaxLevels];                   // level l's spatial fan-out in use
  for (int l = L - 1; l >= 0; --l) {
    const LevelMapping& lm = m.levels[std::size_t(l)];
    n_below[l] = 1;
    for (int d = 0; d < NDS; ++d) mc_below[l][d] = 1;
    for (int axis = 0; axis < 2; ++axis) {
      const auto& f = axis == 0 ? lm.spatial_x : lm.spatial_y;
      for (int d = 0; d < D; ++d) {
        const std::int64_t fac = f[std::size_t(d)];
        if (fac == 1) continue;
        loops[n_loops++] = Loop{std::int8_t(d), true, std::int8_t(l), fac, cur[d]};
        cur[d] *= fac;
        n_below[l] *= fac;
        for (int s = 0; s < NDS; ++s)
          if (!(c.ds[s].dim_mask >> d & 1u)) mc_below[l][s] *= fac;
      }
    }
    for (int d = 0; d < D; ++d) sext[l][d] = cur[d];

    for (int i = 0; i < D; ++i) {
      const int d = lm.permutation[std::size_t(i)];
      const std::int64_t fac = lm.temporal[std::size_t(d)];
      if (fac == 1) continue;
      loops[n_loops++] = Loop{std::int8_t(d), false, std::int8_t(l), fac, cur[d]};
      cur[d] *= fac;
    }
    level_end[l] = n_loops;
    for (int d = 0; d < D; ++d) ext[l][d] = cur[d];
  }
  spatial_above[0] = 1;
  for (int l = 0; l < L; ++l) spatial_above[l + 1] = spatial_above[l] * n_below[l];

  const std::int64_t macs = [&] {
    std::int64_t x = 1;
    for (int d = 0; d < D; ++d) x *= c.bounds[d];
    return x;
  }();
  const std::int64_t used_compute = spatial_above[L];
  const std::int64_t compute_cycles = macs / used_compute;
  out.macs = macs;
  out.utilized_compute = used_compute;
  out.compute_cycles = compute_cycles;

  // Tile sizes and capacity.
  std::int64_t size[kMaxLevels][kMaxDataspaces];
  for (int l = 0; l < L; ++l) {
    const LevelMapping& lm = m.levels[std::size_t(l)];
    const StorageLevel& s = a_.levels[std::size_t(l)];
    std::int64_t bits = 0;
    for (int d = 0; d < NDS; ++d) {
      size[l][d] = c.footprint(d, ext[l]);
      const bool kept = l == 0 || (lm.keep_mask >> d & 1u);
      if (!kept) continue;
      if (c.values_per_block[l][d] < 1) {
        st.fail = Fail::block_too_narrow;
        st.level = std::int8_t(l);
        st.dataspace = std::int8_t(d);
        st.value = c.value_bits[l][d];
        st.limit = s.block_bits;
        return finish(st);
      }
      bits += size[l][d] * c.value_bits[l][d];
    }
    if (s.depth > 0) {
      const std::int64_t limit = c.capacity_limit_bits[l];
      if (bits > limit) {
        st.fail = Fail::capacity;
        st.level = std::int8_t(l);
        st.value = bits;
        st.limit = limit;
        return finish(st);
      }
    }
  }

  // Per dataspace: temporal delta sums of every level's tile, partition sizes, then the
  // Timeloop accounting over the chain of levels that keep it.
  Sweep sweep_storage;
  Sweep* const sweep = &sweep_storage;
  for (int d = 0; d < NDS; ++d) {
    const Compiled::CDs& cd = c.ds[d];
    // delta_sum[l]: values delivered into one instance of level l over the whole run (needed
    // only where d is kept below the outermost level).
    std::int64_t delta_sum[kMaxLevels];
    for (int l = 0; l < L; ++l) {
      delta_sum[l] = 0;
      if (l == 0 || !(m.levels[std::size_t(l)].keep_mask >> d & 1u)) continue;
      Sweep& sw = *sweep;
      sw.tile = size[l][d];
      sw.n_ranks = cd.n_ranks;
      // Temporal loops above level l, innermost first.
      int n = 0;
      for (int i = level_end[l]; i < n_loops; ++i)
        if (!loops[i].spatial) sw.reps[n++] = loops[i].factor - 1;
      sw.n = n;
      // Tile extent per rank (for overlaps).
      std::int64_t rank_ext[kMaxRanks];
      for (int r = 0; r < cd.n_ranks; ++r) {
        std::int64_t e = 1;
        for (int t = 0; t < cd.r[r].n; ++t) e += cd.r[r].t[t].coef * (ext[l][cd.r[r].t[t].dim] - 1);
        rank_ext[r] = e;
      }
      // Translation (per rank) of transition type k: loop k advances, loops below wrap.
      std::int64_t wrap[kMaxDims];
      for (int dd = 0; dd < D; ++dd) wrap[dd] = 0;
      int k = 0;
      for (int i = level_end[l]; i < n_loops; ++i) {
        const Loop& lp = loops[i];
        if (lp.spatial) continue;
        // The move of each dim: -wrap, plus the stride along the advancing loop's dim (computed
        // per term: a move[] array written then read back stalls on store forwarding).
        bool z = true;
        std::int64_t ov = 1;
        for (int r = 0; r < cd.n_ranks; ++r) {
          std::int64_t v = 0;
          for (int t = 0; t < cd.r[r].n; ++t) {
            const int td = cd.r[r].t[t].dim;
            v += cd.r[r].t[t].coef * ((td == lp.dim ? lp.stride : 0) - wrap[td]);
          }
          sw.tr[k][r] = v;
          if (v != 0) z = false;
          const std::int64_t o = rank_ext[r] - (v < 0 ? -v : v);
          ov *= o > 0 ? o : 0;
        }
        sw.zero[k] = z;
        sw.overlap_delta[k] = sw.tile - ov;
        wrap[lp.dim] += (lp.factor - 1) * lp.stride;
        ++k;
      }
      sw.reset_memo();
      int exit_state = -1;
      // The first tile is filled whole; then every transition of the loops above.
      delta_sum[l] = sw.tile + (n > 0 ? sw.run(n - 1, -1, exit_state) : 0);
    }

    // Partition sizes (Timeloop's ComputePartitionSizes over every tiling level).
    std::int64_t partition[kMaxLevels];  // used by read-write dataspaces only
    partition[0] = size[0][d];
    for (int l = 1; l < L && cd.rw; ++l) {
      const std::int64_t denom = n_below[l - 1] > 1 ? c.footprint(d, sext[l - 1]) : size[l][d];
      partition[l] = partition[l - 1] * size[l][d] / denom;
    }

    // Chain of levels keeping d, outermost first (level 0 always keeps).
    int chain[kMaxLevels];
    int nc = 0;
    for (int l = 0; l < L; ++l)
      if (l == 0 || (m.levels[std::size_t(l)].keep_mask >> d & 1u)) chain[nc++] = l;
    for (int i = 0; i < nc; ++i) {
      const int l = chain[i];
      const bool innermost = i + 1 == nc;
      const int child = innermost ? L : chain[i + 1];
      // Spatial loops between l and its child (those of l and of bypassing levels between).
      std::int64_t n_children = 1, mc = 1;
      for (int b = l; b < child; ++b) {
        n_children *= n_below[b];
        mc *= mc_below[b][d];
      }
      const std::int64_t child_deltas = innermost ? compute_cycles : delta_sum[child];
      const std::int64_t content = child_deltas * (n_children / mc);
      DataspaceStats& ds = out.levels[std::size_t(l)].ds[std::size_t(d)];
      ds.kept = true;
      ds.utilized_capacity = size[l][d];
      ds.utilized_instances = spatial_above[l];
      ds.multicast_factor = double(mc);
      if (cd.rw) {
        ds.updates = content;
        ds.reads = content - partition[l];
        ds.temporal_reductions = ds.reads;
        ds.fills = i == 0 ? 0 : delta_sum[l] - partition[l];
        ds.spatial_reductions = child_deltas * (n_children / mc) * (mc - 1);
      } else {
        ds.reads = content;
        if (g_test_hooks.reads) ds.reads = g_test_hooks.reads(l, d, ds.reads);
        ds.fills = i == 0 ? 0 : delta_sum[l];
      }
    }
  }

  // Cycles: bandwidth throttling per level (Timeloop ComputePerformance, bits per cycle here).
  std::int64_t cycles = compute_cycles;
  for (int l = 0; l < L; ++l) {
    const StorageLevel& s = a_.levels[std::size_t(l)];
    LevelStats& ls = out.levels[std::size_t(l)];
    double rd = 0, wr = 0;
    std::int64_t inst = 0;
    for (int d = 0; d < NDS; ++d) {
      const DataspaceStats& ds = ls.ds[std::size_t(d)];
      if (!ds.kept) continue;
      rd += double(ds.reads) * c.value_bits[l][d];
      wr += double(ds.fills + ds.updates) * c.value_bits[l][d];
      inst = std::max(inst, ds.utilized_instances);
    }
    ls.utilized_instances = inst;
    const LevelTime t = level_time(s, rd, wr, double(compute_cycles));
    ls.bandwidth_throttling = t.throttling;
    ls.cycles = t.cycles;
    cycles = std::max(cycles, std::int64_t(ls.cycles));
  }
  out.cycles = cycles;
  out.utilization = double(used_compute) / double(a_.compute.instances) * double(compute_cycles) / double(cycles);

  // Energy: vector accesses (ceil of scalar accesses / values per block) x energy per action,
  // per instance, times utilized instances; leakage per instance-cycle.
  double total = 0;
  for (int l = 0; l < L; ++l) {
    const StorageLevel& s = a_.levels[std::size_t(l)];
    LevelStats& ls = out.levels[std::size_t(l)];
    double e = 0;
    for (int d = 0; d < NDS; ++d) {
      DataspaceStats& ds = ls.ds[std::size_t(d)];
      if (!ds.kept) continue;
      const std::int64_t vpb = c.values_per_block[l][d];
      auto vec = [&](std::int64_t x) { return vector_accesses(x, vpb); };
      const double per_instance = vec(ds.reads) * s.read_pj + vec(ds.fills) * s.write_pj + vec(ds.updates) * s.update_pj;
      ds.energy_pj = per_instance * double(ds.utilized_instances);
      e += ds.energy_pj;
    }
    ls.leak_pj = s.leak_pj * double(cycles) * double(std::max<std::int64_t>(1, ls.utilized_instances));
    ls.energy_pj = e + ls.leak_pj;
    total += ls.energy_pj;
  }
  out.compute_energy_pj = double(macs) * a_.compute.energy_pj;
  out.energy_pj = total + out.compute_energy_pj;
  return finish(st);
}

TestHooks& test_hooks() { return g_test_hooks; }

LevelTime level_time(const StorageLevel& s, double rd, double wr, double cyc) {
  double throttle = 1;
  for_each_port(s, rd, wr, [&](double bits_per_cycle, double bits) {
    if (bits > 0) throttle = std::min(throttle, bits_per_cycle * cyc / bits);
  });
  return LevelTime{throttle, throttle < 1 ? std::ceil(cyc / throttle) : cyc};
}

Result evaluate(const Problem& p, const Architecture& a, const Mapping& m) {
  Evaluator ev(p, a);
  Result r;
  ev.evaluate(m, r);
  return r;
}

Mapping trivial_mapping(const Problem& p, const Architecture& a) {
  Mapping m;
  m.n_levels = int(a.levels.size());
  for (int l = 0; l < m.n_levels; ++l) m.levels[std::size_t(l)].keep_mask = a.levels[std::size_t(l)].keep_mask;
  for (std::size_t d = 0; d < p.bounds.size(); ++d) m.levels[0].temporal[d] = p.bounds[d];
  return m;
}

std::string render_loop_nest(const Problem& p, const Architecture& a, const Mapping& m, const Result& r) {
  std::ostringstream o;
  int depth = 0;
  const int D = int(p.dims.size());
  for (int l = 0; l < m.n_levels && l < int(a.levels.size()); ++l) {
    const LevelMapping& lm = m.levels[std::size_t(l)];
    std::ostringstream head;
    head << a.levels[std::size_t(l)].name << " [";
    for (std::size_t d = 0; d < p.dataspaces.size(); ++d) {
      const DataspaceStats& ds = r.levels[std::size_t(l)].ds[d];
      if (ds.kept) head << " " << p.dataspaces[d].name << ":" << ds.utilized_capacity;
    }
    head << " ]";
    const std::string h = head.str();
    o << h << "\n" << std::string(h.size(), '-') << "\n";
    // Temporal loops outermost first (the permutation lists innermost first).
    for (int i = D - 1; i >= 0; --i) {
      const int d = lm.permutation[std::size_t(i)];
      if (lm.temporal[std::size_t(d)] == 1) continue;
      o << "|" << std::string(std::size_t(2 * depth + 1), ' ') << "for " << p.dims[std::size_t(d)] << " in [0:"
        << lm.temporal[std::size_t(d)] << ")\n";
      ++depth;
    }
    for (int axis = 0; axis < 2; ++axis) {
      const auto& f = axis == 0 ? lm.spatial_x : lm.spatial_y;
      for (int d = 0; d < D; ++d) {
        if (f[std::size_t(d)] == 1) continue;
        o << "|" << std::string(std::size_t(2 * depth + 1), ' ') << "for " << p.dims[std::size_t(d)] << " in [0:"
          << f[std::size_t(d)] << ") (Spatial-" << (axis == 0 ? "X" : "Y") << ")\n";
        ++depth;
      }
    }
    o << "\n";
  }
  o << "|" << std::string(std::size_t(2 * depth + 1), ' ') << "<< Compute >>\n";
  return o.str();
}

}  // namespace mixprec::sim::nest
