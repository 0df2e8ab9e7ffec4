#include "energy_models/table.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <mutex>
#include <sstream>

#include "core/json_reader.hpp"
#include "energy_models/laws.hpp"
#include "energy_models/shipped_text.hpp"

namespace mixprec::energy {

namespace {

const Range kPositive{std::nullopt, std::nullopt, 0.0};
const Range kNonNegative{0.0, std::nullopt, std::nullopt};
const Range kOpBits{1.0, 64.0, std::nullopt};
const Range kWordBits{1.0, 4096.0, std::nullopt};
constexpr int kMaxExtendsDepth = 8;

const std::vector<std::string> kTopKeys{
    "mixprec_energy_table", "name",      "description",       "notes",
    "extends",              "node_nm",   "ops",               "sram",
    "dram",                 "eyeriss_hierarchy", "composable_overhead", "nonlinear",
    "technology_scaling",   "components"};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string quoted_list(const std::vector<std::string>& v) {
  std::string s = "one of ";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
  return s;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string near = nearest(word, candidates);
  return near.empty() ? std::string() : " (did you mean \"" + near + "\"?)";
}

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

class Parser {
 public:
  Parser(const JsonCtx& ctx, bool shipped) : ctx_(ctx), shipped_(shipped) {}

  Provenance provenance(ObjectReader& r) const {
    Provenance p;
    p.file = ctx_.file;
    p.pointer = r.pointer();
    if (shipped_) {
      p.source = r.string("source");
      if (p.source.empty()) r.fail("source", "a non-empty citation", "\"\"");
    } else {
      p.source = r.string_or("source", "");
    }
    p.derived = r.string_or("derived", "");
    return p;
  }

  // {"<value_key>": number, "source": ..., "derived": ...}
  ValueEntry value(ObjectReader& parent, const std::string& key, const std::string& value_key,
                   const Range& range) const {
    ObjectReader r(parent.object(key), ctx_, parent.at(key));
    ValueEntry e;
    e.value = r.number(value_key, range);
    e.from = provenance(r);
    r.finish();
    return e;
  }

  std::vector<BitsEntry> bits_list(ObjectReader& parent, const std::string& key) const {
    const json& a = parent.array(key);
    if (a.empty()) parent.fail(key, "a non-empty array of {\"bits\", \"pj\"} entries", "an empty array");
    std::vector<BitsEntry> out;
    for (std::size_t i = 0; i < a.size(); ++i) {
      ObjectReader r(a[i], ctx_, pointer_join(parent.at(key), i));
      BitsEntry e;
      e.bits = r.integer("bits", kOpBits);
      for (const auto& o : out)
        if (o.bits == e.bits)
          r.fail("bits", "a width not already listed in " + parent.at(key), std::to_string(e.bits));
      e.pj = r.number("pj", kPositive);
      e.from = provenance(r);
      r.finish();
      out.push_back(e);
    }
    std::sort(out.begin(), out.end(), [](const BitsEntry& x, const BitsEntry& y) { return x.bits < y.bits; });
    return out;
  }

  void ops(ObjectReader& top, EnergyTable& t, bool extending) const {
    ObjectReader r(top.object("ops"), ctx_, "/ops");
    if (!extending || r.has("int_add")) t.int_add = bits_list(r, "int_add");
    if (!extending || r.has("int_multiply")) t.int_multiply = bits_list(r, "int_multiply");
    struct F {
      const char* key;
      ValueEntry* dst;
    };
    for (F f : {F{"fp16_add", &t.fp16_add}, F{"fp16_multiply", &t.fp16_multiply},
                F{"bf16_add", &t.bf16_add}, F{"bf16_multiply", &t.bf16_multiply},
                F{"fp32_add", &t.fp32_add}, F{"fp32_multiply", &t.fp32_multiply}})
      if (!extending || r.has(f.key)) *f.dst = value(r, f.key, "pj", kPositive);
    r.finish({"int_add", "int_multiply", "fp16_add", "fp16_multiply", "bf16_add", "bf16_multiply",
              "fp32_add", "fp32_multiply"});
  }

  void sram(ObjectReader& top, EnergyTable& t, bool extending) const {
    ObjectReader r(top.object("sram"), ctx_, "/sram");
    if (!extending || r.has("points")) {
      // A curve is one measurement set: given points replace the inherited ones.
      t.sram_row_bits = r.integer_or("row_bits", 64, kWordBits);
      const json& a = r.array("points");
      if (a.empty()) r.fail("points", "a non-empty array of {\"size_kib\", \"pj\"} entries", "an empty array");
      std::vector<SramPoint> pts;
      for (std::size_t i = 0; i < a.size(); ++i) {
        ObjectReader e(a[i], ctx_, pointer_join(r.at("points"), i));
        SramPoint p;
        p.size_kib = e.number("size_kib", kPositive);
        for (const auto& o : pts)
          if (o.size_kib == p.size_kib)
            e.fail("size_kib", "a capacity not already listed in /sram/points", fmt(p.size_kib));
        p.pj = e.number("pj", kPositive);
        p.from = provenance(e);
        e.finish();
        pts.push_back(p);
      }
      std::sort(pts.begin(), pts.end(),
                [](const SramPoint& x, const SramPoint& y) { return x.size_kib < y.size_kib; });
      for (std::size_t i = 1; i < pts.size(); ++i)
        if (pts[i].pj < pts[i - 1].pj)
          throw SpecError(ctx_.file, pts[i].from.pointer + "/pj",
                          "an energy >= " + fmt(pts[i - 1].pj) + " pJ (that of the smaller " +
                              fmt(pts[i - 1].size_kib) + " KiB point)",
                          "number " + fmt(pts[i].pj));
      t.sram_points = pts;
    } else if (r.has("row_bits")) {
      r.fail("row_bits", "\"row_bits\" only together with \"points\" (it is their access width)",
             describe_json(r.any("row_bits")));
    }
    if (!extending || r.has("ratio_per_doubling"))
      t.sram_ratio_per_doubling = value(r, "ratio_per_doubling", "value", Range{1.0, std::nullopt, std::nullopt});
    r.finish({"row_bits", "points", "ratio_per_doubling"});
  }

  void dram(ObjectReader& top, EnergyTable& t, bool extending) const {
    const json& obj = top.object("dram");
    ObjectReader r(obj, ctx_, "/dram");
    if (!extending && obj.empty()) top.fail("dram", "an object with at least one DRAM kind", "an empty object");
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      DramKind k;
      k.kind = lower(it.key());
      ObjectReader e(it.value(), ctx_, r.at(it.key()));
      k.pj_per_bit = e.number("pj_per_bit", kPositive);
      k.from = provenance(e);
      e.finish();
      r.accept(it.key());
      auto old = std::find_if(t.dram.begin(), t.dram.end(),
                              [&](const DramKind& d) { return d.kind == k.kind; });
      if (old != t.dram.end()) *old = k;
      else t.dram.push_back(k);
    }
    std::sort(t.dram.begin(), t.dram.end(), [](const DramKind& x, const DramKind& y) { return x.kind < y.kind; });
    for (std::size_t i = 1; i < t.dram.size(); ++i)
      if (t.dram[i].kind == t.dram[i - 1].kind)
        throw SpecError(ctx_.file, t.dram[i].from.pointer, "a DRAM kind listed once (kinds ignore case)",
                        "\"" + t.dram[i].kind + "\" twice");
  }

  void eyeriss(ObjectReader& top, EnergyTable& t, bool extending) const {
    ObjectReader r(top.object("eyeriss_hierarchy"), ctx_, "/eyeriss_hierarchy");
    struct F {
      const char* key;
      ValueEntry* dst;
    };
    for (F f : {F{"register_file", &t.eyeriss_register_file}, F{"interconnect", &t.eyeriss_interconnect},
                F{"global_buffer", &t.eyeriss_global_buffer}, F{"dram", &t.eyeriss_dram}})
      if (!extending || r.has(f.key)) *f.dst = value(r, f.key, "ratio", kPositive);
    r.finish({"register_file", "interconnect", "global_buffer", "dram"});
  }

  void overhead(ObjectReader& top, EnergyTable& t) const {
    const json& a = top.array("composable_overhead");
    std::vector<OverheadEntry> out;
    for (std::size_t i = 0; i < a.size(); ++i) {
      ObjectReader r(a[i], ctx_, pointer_join("/composable_overhead", i));
      OverheadEntry e;
      e.fused_bits = r.integer("fused_bits", kOpBits);
      e.brick_bits = r.integer("brick_bits", kOpBits);
      if (e.fused_bits % e.brick_bits != 0)
        r.fail("fused_bits", "a multiple of brick_bits (" + std::to_string(e.brick_bits) + ")",
               std::to_string(e.fused_bits));
      for (const auto& o : out)
        if (o.fused_bits * e.brick_bits == e.fused_bits * o.brick_bits)
          r.fail("fused_bits", "a fused_bits / brick_bits ratio not already listed",
                 std::to_string(e.fused_bits) + " / " + std::to_string(e.brick_bits));
      e.factor = r.number("factor", kPositive);
      e.from = provenance(r);
      r.finish();
      out.push_back(e);
    }
    std::sort(out.begin(), out.end(), [](const OverheadEntry& x, const OverheadEntry& y) {
      return x.fused_bits * y.brick_bits < y.fused_bits * x.brick_bits;
    });
    t.composable_overhead = out;  // a list replaces the inherited one
  }

  void nonlinear(ObjectReader& top, EnergyTable& t) const {
    ObjectReader r(top.object("nonlinear"), ctx_, "/nonlinear");
    t.lut_index_bits = r.integer("lut_index_bits", Range{1.0, 16.0, std::nullopt});
    t.nonlinear_from = provenance(r);
    r.finish();
  }

  void technology(ObjectReader& top, EnergyTable& t) const {
    const json& a = top.array("technology_scaling");
    if (a.empty())
      top.fail("technology_scaling", "a non-empty array of {\"nm\", \"factor\"} entries", "an empty array");
    std::vector<TechNode> out;
    for (std::size_t i = 0; i < a.size(); ++i) {
      ObjectReader r(a[i], ctx_, pointer_join("/technology_scaling", i));
      TechNode n;
      n.nm = r.integer("nm", Range{1.0, 1000.0, std::nullopt});
      for (const auto& o : out)
        if (o.nm == n.nm) r.fail("nm", "a node not already listed in /technology_scaling", std::to_string(n.nm));
      n.factor = r.number("factor", kPositive);
      n.from = provenance(r);
      r.finish();
      out.push_back(n);
    }
    std::sort(out.begin(), out.end(), [](const TechNode& x, const TechNode& y) { return x.nm < y.nm; });
    t.technology = out;  // factors share one reference: a list replaces the inherited one
  }

  void components(ObjectReader& top, EnergyTable& t) const {
    ObjectReader r(top.object("components"), ctx_, "/components");
    Components& c = t.components;
    struct B {
      const char* key;
      std::optional<BufferComponent>* dst;
    };
    for (B b : {B{"weight_buffer", &c.weight_buffer}, B{"input_buffer", &c.input_buffer},
                B{"output_buffer", &c.output_buffer}}) {
      if (!r.has(b.key)) continue;
      ObjectReader e(r.object(b.key), ctx_, r.at(b.key));
      BufferComponent v;
      v.read_pj = e.number("read_pj", kNonNegative);
      v.write_pj = e.number_or("write_pj", v.read_pj, kNonNegative);
      v.word_bits = e.integer("word_bits", kWordBits);
      v.from = provenance(e);
      e.finish();
      *b.dst = v;
    }
    struct W {
      const char* key;
      const char* pj_key;
      std::optional<WordComponent>* dst;
    };
    for (W w : {W{"register_file", "access_pj", &c.register_file}, W{"interconnect", "hop_pj", &c.interconnect}}) {
      if (!r.has(w.key)) continue;
      ObjectReader e(r.object(w.key), ctx_, r.at(w.key));
      WordComponent v;
      v.pj = e.number(w.pj_key, kNonNegative);
      v.word_bits = e.integer("word_bits", kWordBits);
      v.from = provenance(e);
      e.finish();
      *w.dst = v;
    }
    if (r.has("mac")) {
      ObjectReader e(r.object("mac"), ctx_, "/components/mac");
      MacComponent v;
      v.pj = e.number("pj", kNonNegative);
      v.bits_w = e.integer("bits_w", kOpBits);
      v.bits_a = e.integer("bits_a", kOpBits);
      v.acc_bits = e.integer_or("acc_bits", v.bits_w + v.bits_a, Range{1.0, 256.0, std::nullopt});
      v.from = provenance(e);
      e.finish();
      c.mac = v;
    }
    if (r.has("dram")) {
      ObjectReader e(r.object("dram"), ctx_, "/components/dram");
      DramComponent v;
      v.pj_per_bit = e.number("pj_per_bit", kNonNegative);
      v.from = provenance(e);
      e.finish();
      c.dram = v;
    }
    r.finish({"weight_buffer", "input_buffer", "output_buffer", "register_file", "interconnect",
              "mac", "dram"});
  }

 private:
  const JsonCtx& ctx_;
  bool shipped_;
};

// Rescales every technology-dependent energy of an inherited table (DRAM excluded: it belongs
// to the DRAM device, not to the accelerator's logic node).
void rescale(EnergyTable& t, double s, int from_nm, int to_nm) {
  const std::string note = " Scaled from " + std::to_string(from_nm) + " nm to " +
                           std::to_string(to_nm) + " nm by the technology factors (x" + fmt(s) + ").";
  auto touch = [&](double& v, Provenance& p) {
    v *= s;
    p.derived += note;
  };
  for (auto& e : t.int_add) touch(e.pj, e.from);
  for (auto& e : t.int_multiply) touch(e.pj, e.from);
  for (ValueEntry* e : {&t.fp16_add, &t.fp16_multiply, &t.bf16_add, &t.bf16_multiply, &t.fp32_add,
                        &t.fp32_multiply})
    touch(e->value, e->from);
  for (auto& p : t.sram_points) touch(p.pj, p.from);
  Components& c = t.components;
  for (auto* b : {&c.weight_buffer, &c.input_buffer, &c.output_buffer})
    if (*b) {
      (*b)->read_pj *= s;
      touch((*b)->write_pj, (*b)->from);  // one note for the pair
    }
  for (auto* w : {&c.register_file, &c.interconnect})
    if (*w) touch((*w)->pj, (*w)->from);
  if (c.mac) touch(c.mac->pj, c.mac->from);
}

std::shared_ptr<const EnergyTable> parse_doc(const json& root, const JsonCtx& ctx, bool shipped,
                                             int depth);

std::shared_ptr<const EnergyTable> parse_shipped(const std::string& name, int depth) {
  JsonDoc doc = JsonDoc::parse(shipped_table_text(name), shipped_table_label(name));
  auto t = parse_doc(doc.root(), doc.ctx(), true, depth);
  MIXPREC_CHECK(t->name == name, "shipped table file " + name + ".json names itself " + t->name);
  return t;
}

std::shared_ptr<const EnergyTable> parse_doc(const json& root, const JsonCtx& ctx, bool shipped,
                                             int depth) {
  Parser p(ctx, shipped);
  ObjectReader r(root, ctx, "");
  const int version = r.integer("mixprec_energy_table");
  if (version != kEnergyTableVersion)
    r.fail("mixprec_energy_table",
           std::to_string(kEnergyTableVersion) + " (the energy table format this mixprec reads)",
           std::to_string(version));

  auto t = std::make_shared<EnergyTable>();
  const bool extending = r.has("extends");
  if (extending) {
    const std::string base = r.string("extends");
    if (!is_shipped_table(base)) {
      auto names = shipped_table_names();
      r.fail("extends", "the name of a shipped table (" + quoted_list(names) + ")" + did_you_mean(base, names),
             describe_json(r.any("extends")));
    }
    if (depth >= kMaxExtendsDepth)
      r.fail("extends", "a chain of at most " + std::to_string(kMaxExtendsDepth) + " extending tables",
             "a longer chain (does a table extend itself?)");
    *t = *parse_shipped(base, depth + 1);  // every section, components included, is inherited
  }
  t->file = ctx.file;
  t->name = shipped ? r.string("name") : r.string_or("name", ctx.file);
  t->description = r.string_or("description", "");
  for (const auto& n : r.string_list_or("notes", {})) t->notes.push_back(n);

  if (!extending || r.has("technology_scaling")) p.technology(r, *t);
  const int base_node = t->node_nm;
  if (!extending || r.has("node_nm")) t->node_nm = r.integer("node_nm", Range{1.0, 1000.0, std::nullopt});
  const std::string range = "[" + std::to_string(t->technology_min_nm()) + ", " +
                            std::to_string(t->technology_max_nm()) + "] nm";
  auto f_node = t->technology_factor(t->node_nm);
  if (!f_node) {
    if (r.has("node_nm"))
      r.fail("node_nm", "a node within the table's technology scaling range " + range,
             std::to_string(t->node_nm));
    r.fail("technology_scaling", "a list covering the inherited node " + std::to_string(t->node_nm) + " nm",
           "nodes " + range);
  }
  if (extending && t->node_nm != base_node) {
    auto f_base = t->technology_factor(base_node);
    if (!f_base)
      r.fail("technology_scaling", "a list covering the extended table's node " + std::to_string(base_node) + " nm",
             "nodes " + range);
    rescale(*t, *f_node / *f_base, base_node, t->node_nm);
  }

  if (!extending || r.has("ops")) p.ops(r, *t, extending);
  if (!extending || r.has("sram")) p.sram(r, *t, extending);
  if (!extending || r.has("dram")) p.dram(r, *t, extending);
  if (!extending || r.has("eyeriss_hierarchy")) p.eyeriss(r, *t, extending);
  if (!extending || r.has("composable_overhead")) p.overhead(r, *t);
  if (!extending || r.has("nonlinear")) p.nonlinear(r, *t);
  if (r.has("components")) p.components(r, *t);
  r.finish(kTopKeys);
  return t;
}

}  // namespace

std::optional<double> EnergyTable::technology_factor(double nm) const {
  if (technology.empty() || nm < technology.front().nm || nm > technology.back().nm) return std::nullopt;
  std::vector<laws::Point> pts;
  pts.reserve(technology.size());
  for (const auto& n : technology) pts.push_back({double(n.nm), n.factor});
  return laws::loglog_interpolate(pts, nm, 1.0);
}

const DramKind* EnergyTable::find_dram(const std::string& kind) const {
  const std::string k = lower(kind);
  for (const auto& d : dram)
    if (d.kind == k) return &d;
  return nullptr;
}

std::vector<std::string> shipped_table_names() {
  std::vector<std::string> v;
  for (std::size_t i = 0; i < detail::kShippedTableCount; ++i) v.emplace_back(detail::kShippedTables[i].name);
  std::sort(v.begin(), v.end());
  return v;
}

bool is_shipped_table(const std::string& name) {
  for (std::size_t i = 0; i < detail::kShippedTableCount; ++i)
    if (name == detail::kShippedTables[i].name) return true;
  return false;
}

const std::string& shipped_table_text(const std::string& name) {
  // Built once; the texts are static data, so this is thread-safe after initialization.
  static const std::vector<std::pair<std::string, std::string>> texts = [] {
    std::vector<std::pair<std::string, std::string>> v;
    for (std::size_t i = 0; i < detail::kShippedTableCount; ++i)
      v.emplace_back(detail::kShippedTables[i].name, detail::kShippedTables[i].text);
    return v;
  }();
  for (const auto& [n, text] : texts)
    if (n == name) return text;
  throw InternalError("no shipped energy table named \"" + name + "\"");
}

std::string shipped_table_label(const std::string& name) {
  return "energy_models/tables/" + name + ".json";
}

std::shared_ptr<const EnergyTable> load_shipped_table(const std::string& name) {
  // Parsed once per process: shipped tables are immutable (a sweep builds thousands of energy
  // models from the same table).
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const EnergyTable>> parsed;
  std::lock_guard<std::mutex> lock(mu);
  auto it = parsed.find(name);
  if (it == parsed.end()) it = parsed.emplace(name, parse_shipped(name, 0)).first;
  return it->second;
}

std::shared_ptr<const EnergyTable> load_table_file(const std::string& path) {
  JsonDoc doc = JsonDoc::load(path);
  return parse_doc(doc.root(), doc.ctx(), false, 0);
}

std::shared_ptr<const EnergyTable> parse_table(const std::string& text, const std::string& file_label,
                                               bool shipped) {
  JsonDoc doc = JsonDoc::parse(text, file_label);
  return parse_doc(doc.root(), doc.ctx(), shipped, 0);
}

}  // namespace mixprec::energy
