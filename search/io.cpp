#include "search/io.hpp"

#include <map>
#include <tuple>

#include "core/json_reader.hpp"
#include "core/scenario.hpp"

namespace mixprec::search {

namespace {
using Key = std::tuple<std::string, int, int, int>;  // layer, format, weights, activations
Key key_of(const std::string& layer, const LayerPrecision& p) {
  return Key{layer, int(p.format), p.weights().bits, p.activations().bits};
}
}  // namespace

SensitivityTable load_sensitivity(const std::string& path, const Network& net,
                                  const std::vector<LayerPrecision>& options) {
  JsonDoc doc = JsonDoc::load(path);
  ObjectReader r(doc.root(), doc.ctx(), "");
  int v = r.integer("mixprec_sensitivity", Range{1.0, std::nullopt, std::nullopt});
  if (v != kSensitivityVersion)
    r.fail("mixprec_sensitivity", "version " + std::to_string(kSensitivityVersion), std::to_string(v));
  SensitivityTable t;
  t.method = r.string("method");
  t.checkpoint = r.string_or("checkpoint", "");
  const std::string network = r.string_or("network", net.name);
  if (network != net.name)
    r.fail("network", "sensitivities of network \"" + net.name + "\"", "\"" + network + "\"");
  std::map<Key, double> values;
  const json& entries = r.array("entries");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string ptr = pointer_join("/entries", i);
    ObjectReader e(entries[i], doc.ctx(), ptr);
    std::string layer = e.string("layer");
    if (net.find(layer) < 0) e.fail("layer", "a layer of network \"" + net.name + "\"", "\"" + layer + "\"");
    LayerPrecision p;
    p.format = e.has("format") ? parse_format(e.any("format"), doc.ctx(), e.at("format")) : NumFormat::Int;
    if (p.format == NumFormat::Int) {
      p.weight_bits = e.integer("weights", Range{1.0, 32.0, std::nullopt});
      p.activation_bits = e.integer("activations", Range{1.0, 32.0, std::nullopt});
    }
    e.accept("format");
    double value = e.number("value", Range{0.0, std::nullopt, std::nullopt});
    e.finish();
    values[key_of(layer, p)] = value;
  }
  r.finish();
  t.options = options;
  for (const Layer& l : net.layers) {
    t.layers.push_back(l.name);
    for (const LayerPrecision& o : options) {
      auto it = values.find(key_of(l.name, o));
      if (it == values.end()) {
        if (!l.has_weights()) {  // weight-less layers have no weights to perturb
          t.values.push_back(0.0);
          continue;
        }
        throw SpecError(path, "/entries",
                        "an entry for layer \"" + l.name + "\" at " + to_string(o.format) + " w" +
                            std::to_string(o.weights().bits) + "a" + std::to_string(o.activations().bits),
                        "none");
      }
      t.values.push_back(it->second);
    }
  }
  return t;
}

nlohmann::json sensitivity_to_json(const SensitivityTable& t, const std::string& network_name) {
  json j;
  j["mixprec_sensitivity"] = kSensitivityVersion;
  j["method"] = t.method;
  j["checkpoint"] = t.checkpoint;
  j["network"] = network_name;
  json entries = json::array();
  for (std::size_t l = 0; l < t.layers.size(); ++l)
    for (std::size_t o = 0; o < t.options.size(); ++o) {
      const LayerPrecision& p = t.options[o];
      json e{{"layer", t.layers[l]}, {"format", to_string(p.format)}, {"value", t.at(l, o)}};
      if (p.format == NumFormat::Int) {
        e["weights"] = p.weight_bits;
        e["activations"] = p.activation_bits;
      }
      entries.push_back(e);
    }
  j["entries"] = entries;
  return j;
}

}  // namespace mixprec::search
