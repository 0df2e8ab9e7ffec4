#include "search/io.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"

namespace mixprec::search {

namespace {
using Key = std::tuple<std::string, int, int, int>;  // layer, format, weights, activations

// Tables written by sensitivity_to_json carry the FNV-1a hash of their compact dump without this
// key, so a changed or corrupted number (still valid JSON) is detected, not reused.
constexpr const char* kContentChecksumKey = "content_fnv1a64";
std::string content_checksum(const json& j) { return json_checksum(j, kContentChecksumKey); }
Key key_of(const std::string& layer, const LayerPrecision& p) {
  return Key{layer, int(p.format), p.weights().bits, p.activations().bits};
}
// An entry's or a pair option's precision: "format" (default int) and, for int, "weights" and
// "activations" (1..32).
LayerPrecision read_precision_fields(ObjectReader& o, const JsonCtx& ctx) {
  LayerPrecision p;
  p.format = o.has("format") ? parse_format(o.any("format"), ctx, o.at("format")) : NumFormat::Int;
  if (p.format == NumFormat::Int) {
    p.weight_bits = o.integer("weights", Range{1.0, 32.0, std::nullopt});
    p.activation_bits = o.integer("activations", Range{1.0, 32.0, std::nullopt});
  }
  o.accept("format");
  return p;
}

}  // namespace

SensitivityTable load_sensitivity(const std::string& path, const Network& net,
                                  const std::vector<LayerPrecision>& options,
                                  const std::vector<SearchSpec::RankSearch>& ranks) {
  JsonDoc doc = JsonDoc::load(path);
  ObjectReader r(doc.root(), doc.ctx(), "");
  if (r.has(kContentChecksumKey)) {
    const std::string recorded = r.string(kContentChecksumKey);
    const std::string actual = content_checksum(doc.root());
    if (recorded != actual)
      r.fail(kContentChecksumKey, "the checksum of the table's content (" + actual + ")",
             "\"" + recorded + "\": the file was changed or corrupted");
  }
  int v = r.integer("mixprec_sensitivity", Range{1.0, std::nullopt, std::nullopt});
  if (v != kSensitivityVersion)
    r.fail("mixprec_sensitivity", "version " + std::to_string(kSensitivityVersion), std::to_string(v));
  SensitivityTable t;
  t.method = r.string("method");
  t.checkpoint = r.string_or("checkpoint", "");
  t.checkpoint_hash = r.string_or("checkpoint_hash", "");
  t.settings_hash = r.string_or("settings_hash", "");
  if (r.has("settings")) r.object("settings");  // free-form record of the estimator settings
  if (r.has("seconds")) r.number("seconds", Range{0.0, std::nullopt, std::nullopt});
  const std::string network = r.string_or("network", net.name);
  if (network != net.name)
    r.fail("network", "sensitivities of network \"" + net.name + "\"", "\"" + network + "\"");
  struct Value {
    double value = 0, weight_term = -1, activation_term = -1;  // terms: -1 when absent
  };
  std::map<Key, Value> values;
  std::map<std::pair<std::string, Key>, double> rank_values;  // (ranks label, key) -> value
  const json& entries = r.array("entries");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string ptr = pointer_join("/entries", i);
    ObjectReader e(entries[i], doc.ctx(), ptr);
    std::string layer = e.string("layer");
    if (net.find(layer) < 0) e.fail("layer", "a layer of network \"" + net.name + "\"", "\"" + layer + "\"");
    const LayerPrecision p = read_precision_fields(e, doc.ctx());
    if (e.has("ranks")) {
      const std::string label = e.string("ranks");
      rank_values[{label, key_of(layer, p)}] = e.number("value", Range{0.0, std::nullopt, std::nullopt});
      e.finish();
      continue;
    }
    Value v;
    v.value = e.number("value", Range{0.0, std::nullopt, std::nullopt});
    if (e.has("weight_term")) v.weight_term = e.number("weight_term", Range{0.0, std::nullopt, std::nullopt});
    if (e.has("activation_term")) v.activation_term = e.number("activation_term", Range{0.0, std::nullopt, std::nullopt});
    e.finish();
    values[key_of(layer, p)] = v;
  }
  // Pair terms (optional; tables of the other methods and older caches have none).
  struct RawPair {
    int a, b;
    std::string pointer;
    std::vector<Key> opts;  // the file's option order (keys with an empty layer)
    std::vector<double> values;
  };
  std::vector<RawPair> raw_pairs;
  if (r.has("pairs")) {
    const json& pairs = r.array("pairs");
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const std::string ptr = pointer_join("/pairs", i);
      ObjectReader e(pairs[i], doc.ctx(), ptr);
      const std::vector<std::string> names = e.string_list_or("layers", {});
      if (names.size() != 2) e.fail("layers", "two layer names", std::to_string(names.size()) + " names");
      RawPair rp{net.find(names[0]), net.find(names[1]), ptr, {}, {}};
      for (int k = 0; k < 2; ++k)
        if ((k == 0 ? rp.a : rp.b) < 0)
          e.fail("layers", "layers of network \"" + net.name + "\"", "\"" + names[size_t(k)] + "\"");
      if (rp.a >= rp.b)
        e.fail("layers", "two layers in network order", "\"" + names[0] + "\", \"" + names[1] + "\"");
      const json& opts = e.array("options");
      for (std::size_t k = 0; k < opts.size(); ++k) {
        ObjectReader o(opts[k], doc.ctx(), pointer_join(ptr + "/options", k));
        const LayerPrecision p = read_precision_fields(o, doc.ctx());
        o.finish();
        rp.opts.push_back(key_of("", p));
      }
      const json& vals = e.array("values");
      if (vals.size() != opts.size() * opts.size())
        e.fail("values", std::to_string(opts.size() * opts.size()) + " numbers (options x options)",
               std::to_string(vals.size()));
      for (std::size_t k = 0; k < vals.size(); ++k)
        rp.values.push_back(read_number(vals[k], doc.ctx(), pointer_join(ptr + "/values", k)));
      e.finish();
      raw_pairs.push_back(std::move(rp));
    }
  }
  r.finish();
  t.options = options;
  bool terms = true;  // every needed entry has both terms
  for (const Layer& l : net.layers) {
    t.layers.push_back(l.name);
    for (const LayerPrecision& o : options) {
      auto it = values.find(key_of(l.name, o));
      if (it == values.end()) {
        if (!l.has_weights()) {  // weight-less layers have no weights to perturb
          t.values.push_back(0.0);
          t.weight_terms.push_back(0.0);
          t.activation_terms.push_back(0.0);
          continue;
        }
        throw SpecError(path, "/entries",
                        "an entry for layer \"" + l.name + "\" at " + to_string(o.format) + " w" +
                            std::to_string(o.weights().bits) + "a" + std::to_string(o.activations().bits),
                        "none");
      }
      t.values.push_back(it->second.value);
      t.weight_terms.push_back(it->second.weight_term);
      t.activation_terms.push_back(it->second.activation_term);
      terms = terms && it->second.weight_term >= 0 && it->second.activation_term >= 0;
    }
  }
  if (!terms) {
    t.weight_terms.clear();
    t.activation_terms.clear();
  }
  for (const RawPair& rp : raw_pairs) {
    // In `options` order; every option needs a row and a column.
    std::vector<std::size_t> at(options.size());
    for (std::size_t o = 0; o < options.size(); ++o) {
      auto it = std::find(rp.opts.begin(), rp.opts.end(), key_of("", options[o]));
      if (it == rp.opts.end())
        throw SpecError(path, rp.pointer + "/options",
                        std::string("an option ") + to_string(options[o].format) + " w" + std::to_string(options[o].weights().bits) +
                            "a" + std::to_string(options[o].activations().bits),
                        "none");
      at[o] = std::size_t(it - rp.opts.begin());
    }
    SensitivityTable::PairRows pr;
    pr.a = rp.a;
    pr.b = rp.b;
    for (std::size_t oa = 0; oa < options.size(); ++oa)
      for (std::size_t ob = 0; ob < options.size(); ++ob) pr.values.push_back(rp.values[at[oa] * rp.opts.size() + at[ob]]);
    t.pairs.push_back(std::move(pr));
  }
  for (const SearchSpec::RankSearch& rs : ranks) {
    SensitivityTable::RankRows rows;
    rows.layer = rs.layer;
    for (const Factorization& f : rs.candidates) {
      rows.labels.push_back(rank_label(f));
      for (const LayerPrecision& o : options) {
        auto it = rank_values.find({rows.labels.back(), key_of(rs.layer, o)});
        if (it == rank_values.end())
          throw SpecError(path, "/entries",
                          "an entry for layer \"" + rs.layer + "\" at ranks \"" + rows.labels.back() + "\" and " +
                              to_string(o.format) + " w" + std::to_string(o.weights().bits) + "a" +
                              std::to_string(o.activations().bits),
                          "none");
        rows.values.push_back(it->second);
      }
    }
    t.rank_rows.push_back(std::move(rows));
  }
  return t;
}

nlohmann::json sensitivity_to_json(const SensitivityTable& t, const std::string& network_name,
                                   const nlohmann::json& extra) {
  json j;
  j["mixprec_sensitivity"] = kSensitivityVersion;
  j["method"] = t.method;
  j["checkpoint"] = t.checkpoint;
  if (!t.checkpoint_hash.empty()) j["checkpoint_hash"] = t.checkpoint_hash;
  if (!t.settings_hash.empty()) j["settings_hash"] = t.settings_hash;
  j["network"] = network_name;
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  const bool terms = t.weight_terms.size() == t.values.size() && t.activation_terms.size() == t.values.size();
  json entries = json::array();
  for (std::size_t l = 0; l < t.layers.size(); ++l)
    for (std::size_t o = 0; o < t.options.size(); ++o) {
      const LayerPrecision& p = t.options[o];
      json e{{"layer", t.layers[l]}, {"format", to_string(p.format)}, {"value", t.at(l, o)}};
      if (terms) {
        e["weight_term"] = t.weight_terms[l * t.options.size() + o];
        e["activation_term"] = t.activation_terms[l * t.options.size() + o];
      }
      if (p.format == NumFormat::Int) {
        e["weights"] = p.weight_bits;
        e["activations"] = p.activation_bits;
      }
      entries.push_back(e);
    }
  for (const SensitivityTable::RankRows& rows : t.rank_rows)
    for (std::size_t v = 0; v < rows.labels.size(); ++v)
      for (std::size_t o = 0; o < t.options.size(); ++o) {
        const LayerPrecision& p = t.options[o];
        json e{{"layer", rows.layer}, {"ranks", rows.labels[v]}, {"format", to_string(p.format)},
               {"value", rows.values[v * t.options.size() + o]}};
        if (p.format == NumFormat::Int) {
          e["weights"] = p.weight_bits;
          e["activations"] = p.activation_bits;
        }
        entries.push_back(e);
      }
  j["entries"] = entries;
  if (!t.pairs.empty()) {
    json opts = json::array();
    for (const LayerPrecision& p : t.options) {
      json o{{"format", to_string(p.format)}};
      if (p.format == NumFormat::Int) {
        o["weights"] = p.weight_bits;
        o["activations"] = p.activation_bits;
      }
      opts.push_back(o);
    }
    json pairs = json::array();
    for (const SensitivityTable::PairRows& pr : t.pairs)
      pairs.push_back({{"layers", {t.layers[size_t(pr.a)], t.layers[size_t(pr.b)]}}, {"options", opts}, {"values", pr.values}});
    j["pairs"] = pairs;
  }
  j[kContentChecksumKey] = content_checksum(j);
  return j;
}

}  // namespace mixprec::search
