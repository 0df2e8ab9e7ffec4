// `mixprec export FILE --checkpoint C [--precision P.json | --qat] [--lstm quantized|operator]
// --out model.onnx`: the trained
// model of scenario FILE (checkpoint C, as `mixprec train` writes it) as an ONNX file at the
// precision it was trained at (model/onnx_export.hpp, docs/onnx.md): quantized weights and
// activations in the QCDQ convention, so `mixprec import` reads the layers and bits back.
// Precision: fp32 by default; --precision P.json or --qat (the scenario's own section) as for
// train. LSQ steps are used when the checkpoint has them. Bad input exits 2; the file is
// written atomically.
#include <iostream>
#include <string>

#include "apps/common.hpp"
#include "apps/registry.hpp"
#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/scenario.hpp"
#include "model/checkpoint.hpp"
#include "model/onnx_export.hpp"
#include "model/trainer.hpp"

namespace mixprec::app {

namespace {

struct ExportOpts {
  std::string file, checkpoint, precision, out, lstm = "quantized";
  bool qat = false;
};

ExportOpts g_export;

bool ends_with(const std::string& s, const std::string& t) {
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

int run_export() {
  const ExportOpts& o = g_export;
  if (!o.precision.empty() && o.qat) throw UsageError("give either --precision or --qat, not both");
  Scenario sc = load_scenario(o.file);
  std::vector<LayerPrecision> precision;
  std::string label = "fp32";
  if (!o.precision.empty()) {
    precision = precision_for(sc, o.precision);
    label = o.precision;
  } else if (o.qat) {
    precision = sc.layer_precision;
    label = "scenario";
  }
  if (const std::string why = model::qat_unsupported(sc.net, precision); !why.empty())
    throw UsageError(label + ": " + why);
  // Learned step sizes when the checkpoint carries them (train --lsq), else running ranges.
  model::GraphOptions gopt;
  if (!ends_with(o.checkpoint, ".onnx"))
    for (const model::NamedTensor& t : model::read_checkpoint(o.checkpoint).params)
      if (ends_with(t.name, ".input_step")) gopt.range = model::RangeMethod::Lsq;
  model::Graph g(sc.net, precision, gopt);
  for (const std::string& m : model::load_weights(g, o.checkpoint))
    if (!ends_with(m, "_step") && !ends_with(m, "_range") && m.find("_step_") == std::string::npos &&
        m.find("_range_") == std::string::npos)
      throw model::CheckpointError(o.checkpoint, "no tensor \"" + m + "\" (a checkpoint of another network?)");
  model::OnnxExportOptions xo;
  xo.lstm = o.lstm == "operator" ? model::LstmExport::Operator : model::LstmExport::Quantized;
  const model::OnnxExport e = model::export_onnx(g, o.checkpoint, xo);
  write_file_atomic(o.out, e.bytes);
  for (const std::string& n : e.notes) std::cerr << "note: " << n << "\n";
  std::cerr << "wrote " << o.out << " (" << sc.net.layers.size() << " layers, opset "
            << model::kOnnxExportOpset << ", precision " << label << ")\n";
  return 0;
}

void setup_export(CLI::App& app) {
  CLI::App* c = app.add_subcommand("export", "Write a trained (mixed-precision) model as ONNX (QCDQ)");
  c->add_option("file", g_export.file, "Scenario file")->required();
  c->add_option("--checkpoint", g_export.checkpoint, "Checkpoint (best.ckpt / last.ckpt)")->required();
  c->add_option("--precision", g_export.precision, "Precision file the model was trained at");
  c->add_flag("--qat", g_export.qat, "The scenario's precision section");
  c->add_option("--out", g_export.out, "ONNX file to write (atomically)")->required();
  c->add_option("--lstm", g_export.lstm,
                "quantized: what mixprec trained (steps unrolled, gates and cell state quantized; default); "
                "operator: the ONNX LSTM operator (internals in float)")
      ->check(CLI::IsMember({"quantized", "operator"}));
}

const CommandRegistrar reg("export", setup_export, run_export);

}  // namespace

}  // namespace mixprec::app
