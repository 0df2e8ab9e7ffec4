#include "pipeline/sensitivity_run.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>

#include "pipeline/session.hpp"
#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "model/graph.hpp"
#include "model/quant.hpp"
#include "model/sensitivity.hpp"
#include "model/trainer.hpp"
#include "search/io.hpp"

namespace mixprec::pipeline {

namespace {

// 2: measured against the fp32 outputs; 3: samples spread over the validation split (take_batches);
// 4: TT / HT intermediate products quantized in QAT graphs.
constexpr int kSettingsVersion = 4;  // bump when an estimator changes its numbers

int resolved_samples(const SensitivityRequest& req) {
  if (req.samples > 0) return req.samples;
  return req.method == "measured" || req.method == "clado" ? 32 : 64;
}

}  // namespace

void set_method(SensitivityRequest& req, const std::string& name) {
  const bool neighbours = name == "clado:neighbours";
  req.method = neighbours ? "clado" : name;
  req.clado_pairs = neighbours ? "neighbours" : "all";
}

namespace {

void check_request(const Scenario& sc, const std::vector<LayerPrecision>& options, const SensitivityRequest& req) {
  if (req.method != "hessian" && req.method != "measured" && req.method != "ggn" && req.method != "clado")
    throw UsageError("sensitivity method must be \"hessian\", \"measured\", \"ggn\" or \"clado\", found \"" +
                     req.method + "\"");
  if (req.clado_pairs != "all" && req.clado_pairs != "neighbours")
    throw UsageError("clado pairs must be \"all\" or \"neighbours\", found \"" + req.clado_pairs + "\"");
  if (req.checkpoint.empty()) throw UsageError("computing sensitivities needs a checkpoint");
  if (!std::ifstream(req.checkpoint).good())
    throw UsageError("checkpoint " + req.checkpoint + " does not exist or is unreadable");
  if (!sc.search.ranks.empty() && req.method != "measured")
    throw SpecError(sc.file, "/search/sensitivity",
                    "\"measured\" when /search/ranks is given (a rank candidate is priced by truncating the "
                    "trained cores and measuring the outputs)",
                    "\"" + req.method + "\"");
  if (req.threads < 1) throw UsageError("threads must be at least 1, found " + std::to_string(req.threads));
  if (req.samples < 0 || req.calibration_samples < 0 || req.batch_size < 1 || req.hutchinson_vectors < 1 ||
      req.sign_patterns < 1 || (req.sign_patterns & (req.sign_patterns - 1)) != 0 || !(req.epsilon > 0))
    throw UsageError("sensitivity settings: samples >= 0, calibration samples >= 0, batch size >= 1, "
                     "Hutchinson vectors >= 1, sign patterns a power of two, epsilon > 0");
  // The quantizers represent integer grids of 2 to 16 bits (model/quant.hpp).
  auto check_bits = [&](int bits, const char* pointer, const char* what) {
    if (bits < model::kMinQuantBits || bits > model::kMaxQuantBits)
      throw SpecError(sc.file, pointer,
                      std::string(what) + " of 2 to 16 bits when sensitivities are computed from a checkpoint",
                      std::to_string(bits) + " bits");
  };
  for (const LayerPrecision& o : options) {
    if (o.format != NumFormat::Int) continue;
    check_bits(o.weight_bits, "/search/weight_bits", "integer weights");
    check_bits(o.recurrent_weight_bits, "/search/weight_bits", "integer recurrent weights");
    check_bits(o.activation_bits, "/search/activation_bits", "integer activations");
    if (req.method == "measured" || req.method == "clado") {
      // The QAT graph quantizes the LSTM cell state and gates too.
      const std::string why = model::qat_unsupported(sc.net, std::vector<LayerPrecision>(sc.net.layers.size(), o));
      if (!why.empty()) throw SpecError(sc.file, "/search", "options that quantization-aware graphs support", why);
    }
  }
}

}  // namespace

nlohmann::json sensitivity_settings(const Scenario& sc, const std::vector<LayerPrecision>& options,
                                    const SensitivityRequest& req) {
  nlohmann::json opts = nlohmann::json::array();
  for (const LayerPrecision& o : options) opts.push_back(layer_precision_to_json(o, true));
  nlohmann::json s;
  s["version"] = kSettingsVersion;
  s["method"] = req.method;
  s["network"] = sc.net.name;
  if (req.synthetic > 0)
    s["data"] = {{"synthetic", req.synthetic}, {"seed", sc.data.seed}};
  else
    s["data"] = {{"source", sc.data.source}, {"path", sc.data.path},       {"task", sc.data.task},
                 {"seed", sc.data.seed},     {"samples", sc.data.samples}, {"horizon_steps", sc.data.horizon_steps}};
  s["split"] = "validation";
  s["samples"] = resolved_samples(req);
  s["calibration_samples"] = req.calibration_samples;
  s["batch_size"] = req.batch_size;
  if (req.method == "hessian") {
    s["hutchinson_vectors"] = req.hutchinson_vectors;
    s["sign_patterns"] = req.sign_patterns;
    s["epsilon"] = req.epsilon;
    s["seed"] = req.seed;
  }
  if (req.method == "clado") s["pairs"] = req.clado_pairs;
  s["options"] = opts;
  if (!sc.search.ranks.empty()) {
    nlohmann::json ranks = nlohmann::json::object();
    for (const SearchSpec::RankSearch& rs : sc.search.ranks) {
      nlohmann::json labels = nlohmann::json::array();
      for (const Factorization& f : rs.candidates) labels.push_back(rank_label(f));
      ranks[rs.layer] = labels;
    }
    s["ranks"] = ranks;
  }
  return s;
}

std::string sensitivity_cache_path(const Scenario& sc, const std::vector<LayerPrecision>& options,
                                   const SensitivityRequest& req) {
  const std::string h = hex16(fnv1a64(sensitivity_settings(sc, options, req).dump()));
  return req.checkpoint + ".sens-" + req.method + "-" + h.substr(0, 12) + ".json";
}

SensitivityResult compute_sensitivity(const Scenario& sc, const std::vector<LayerPrecision>& options,
                                      const SensitivityRequest& req) {
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  check_request(sc, options, req);
  SensitivityResult res;
  res.settings = sensitivity_settings(sc, options, req);
  const std::string settings_hash = hex16(fnv1a64(res.settings.dump()));
  const std::string ckpt_hash = file_hash(req.checkpoint);
  res.cache_status = "off";
  if (req.use_cache) {
    res.cache_path = sensitivity_cache_path(sc, options, req);
    res.cache_status = "miss";
    if (std::ifstream(res.cache_path).good()) {
      try {
        search::SensitivityTable t = search::load_sensitivity(res.cache_path, sc.net, options, sc.search.ranks);
        if (t.method == req.method && t.checkpoint_hash == ckpt_hash && t.settings_hash == settings_hash) {
          const JsonDoc doc = JsonDoc::load(res.cache_path);
          res.compute_seconds = doc.root().value("seconds", 0.0);
          res.table = std::move(t);
          res.from_cache = true;
          res.cache_status = "hit";
          res.seconds = elapsed();
          return res;
        }
        res.cache_status = "stale";
      } catch (const SpecError& e) {
        // Said, not silently replaced: recomputed and overwritten below.
        if (req.log) req.log(std::string("sensitivity cache unreadable, recomputing: ") + e.what(), false);
        res.cache_status = "unreadable";
      }
    }
  }

  // The fp32 model at the checkpoint's weights.
  model::Graph g(sc.net);
  const std::vector<std::string> missing = model::load_weights(g, req.checkpoint);
  if (!missing.empty())
    throw SpecError(req.checkpoint, "", "a checkpoint with every parameter of network \"" + sc.net.name + "\"",
                    "none for \"" + missing.front() + "\"" +
                        (missing.size() > 1 ? " and " + std::to_string(missing.size() - 1) + " more" : ""));
  DataSources ds = load_sources(sc, g, req.synthetic);
  if (!ds.val || ds.val->size() == 0)
    throw SpecError(sc.file, "/data", "a non-empty validation split", "0 samples");
  const std::vector<model::Batch> data = model::take_batches(*ds.val, resolved_samples(req), req.batch_size);
  const std::vector<model::Batch> calibration =
      model::take_batches(*ds.val, req.calibration_samples, req.batch_size);

  search::SensitivityTable& t = res.table;
  t.method = req.method;
  t.checkpoint = req.checkpoint;
  t.checkpoint_hash = ckpt_hash;
  t.settings_hash = settings_hash;
  t.options = options;
  for (const Layer& l : sc.net.layers) t.layers.push_back(l.name);
  if (req.method == "hessian" || req.method == "ggn") {
    model::SensitivityOptions so;
    so.samples = req.hutchinson_vectors;
    so.sign_patterns = req.sign_patterns;
    so.epsilon = float(req.epsilon);
    so.max_samples = resolved_samples(req);
    so.batch_size = req.batch_size;
    so.seed = req.seed;
    so.threads = req.threads;
    const model::HessianTraces traces = req.method == "ggn" ? model::ggn_traces(g, data, ds.regression, so)
                                                             : model::hessian_traces(g, data, ds.regression, so);
    const std::vector<double> act = model::activation_perturbation(g, calibration, data, options);
    model::SensitivityTerms terms = model::hessian_sensitivity(g, traces, act, options);
    t.values = std::move(terms.total);
    t.weight_terms = std::move(terms.weight);
    t.activation_terms = std::move(terms.activation);
  } else {
    t.values = model::measured_sensitivity(g, calibration, data, ds.regression, options, req.threads);
    if (req.method == "clado") {
      const std::vector<std::pair<int, int>> pairs = model::clado_pairs(sc.net, req.clado_pairs == "neighbours");
      const std::vector<double> omega = model::measured_pair_interactions(g, calibration, data, ds.regression, options,
                                                                          t.values, pairs, req.threads);
      const std::size_t O2 = options.size() * options.size();
      for (std::size_t k = 0; k < pairs.size(); ++k)
        t.pairs.push_back({pairs[k].first, pairs[k].second,
                           std::vector<double>(omega.begin() + long(k * O2), omega.begin() + long((k + 1) * O2))});
    }
    // Rank candidates: the layer's cores truncated to each, at every option.
    for (const SearchSpec::RankSearch& rs : sc.search.ranks) {
      search::SensitivityTable::RankRows rows;
      rows.layer = rs.layer;
      for (const Factorization& f : rs.candidates) rows.labels.push_back(rank_label(f));
      rows.values = model::measured_rank_sensitivity(g, rs.candidates, sc.net.find(rs.layer), calibration, data,
                                                     ds.regression, options, req.threads);
      t.rank_rows.push_back(std::move(rows));
    }
  }
  res.compute_seconds = elapsed();
  if (req.use_cache) {
    const nlohmann::json j = search::sensitivity_to_json(
        t, sc.net.name, {{"settings", res.settings}, {"seconds", res.compute_seconds}});
    write_file_atomic(res.cache_path, j.dump(1) + "\n");
  }
  res.seconds = elapsed();
  return res;
}

}  // namespace mixprec::pipeline
