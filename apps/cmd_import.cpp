// `mixprec import MODEL.onnx [--into BASE.json] [--out FILE]`: the network an ONNX file
// describes as mixprec's explicit `layers` list (core/onnx_import.hpp), with the precisions its
// quantization nodes carry, so a user can see and edit what import made of the graph.
// Without --into: {"network": {...}, "precision": {...}} to paste into a scenario; with it, the
// whole scenario BASE.json with its network replaced (and the imported precision overrides
// placed before BASE's own). Prints to stdout, or writes --out atomically. Bad input exits 2.
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "core/json_reader.hpp"
#include "core/onnx_import.hpp"
#include "core/scenario.hpp"

namespace mixprec::app {

namespace {

struct ImportOpts {
  std::string model, into, out;
};

ImportOpts g_import;

nlohmann::ordered_json patch_json(const PrecisionOverride& o) {
  nlohmann::ordered_json j;
  j["match"] = o.match;
  const PrecisionPatch& p = o.patch;
  if (p.format) j["format"] = to_string(*p.format);
  if (p.weight_bits) j["weights"] = *p.weight_bits;
  if (p.activation_bits) j["activations"] = *p.activation_bits;
  if (p.recurrent_weight_bits) j["recurrent_weights"] = *p.recurrent_weight_bits;
  if (p.gate_bits) j["gates"] = *p.gate_bits;
  if (p.cell_state_bits) j["cell_state"] = *p.cell_state_bits;
  return j;
}

int run_import() {
  const ImportOpts& o = g_import;
  const OnnxImport imp = import_onnx_file(o.model);
  build_network(imp.network, o.model);  // shape check: the same errors a scenario would give
  const auto network = nlohmann::ordered_json::parse(network_spec_to_json(imp.network));
  nlohmann::ordered_json prec = nlohmann::ordered_json::array();
  for (const PrecisionOverride& p : imp.precision) prec.push_back(patch_json(p));
  nlohmann::ordered_json out;
  if (o.into.empty()) {
    out["network"] = network;
    if (!prec.empty()) out["precision"] = {{"layers", prec}};
  } else {
    JsonDoc base = JsonDoc::load(o.into);
    out = nlohmann::ordered_json::parse(base.root().dump());
    out["network"] = network;
    if (!prec.empty()) {
      nlohmann::ordered_json& layers = out["precision"]["layers"];
      if (!layers.is_array()) layers = nlohmann::ordered_json::array();
      for (auto it = prec.rbegin(); it != prec.rend(); ++it) layers.insert(layers.begin(), *it);
    }
  }
  for (const std::string& n : imp.notes) std::cerr << "note: " << n << "\n";
  emit(out.dump(2) + "\n", o.out);
  if (!o.out.empty())
    std::cerr << "wrote " << o.out << " (" << imp.network.layers.size() << " layers, "
              << imp.precision.size() << " quantized)\n";
  return 0;
}

void setup_import(CLI::App& app) {
  CLI::App* c = app.add_subcommand("import", "An ONNX model as mixprec's explicit network layers");
  c->add_option("model", g_import.model, "ONNX file")->required();
  c->add_option("--into", g_import.into, "Write this scenario with its network replaced by the import");
  c->add_option("--out", g_import.out, "Write here (atomically) instead of stdout");
}

const CommandRegistrar reg("import", setup_import, run_import);

}  // namespace

}  // namespace mixprec::app
