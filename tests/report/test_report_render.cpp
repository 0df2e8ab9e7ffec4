// The report renderers (report/report_render.hpp) and the SVG helper (report/svg_plot.hpp) on small
// inline reports: the verdict's words and numbers, one row / one bar per layer, the claim band's
// pixel extent, escaping, pointer-naming errors, optional sections, and byte-identical output.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/report_render.hpp"
#include "report/svg_plot.hpp"
#include "core/errors.hpp"

using nlohmann::json;
using namespace mixprec;
using namespace mixprec::report;

namespace {

// A classification report: baseline 800 µJ, chosen 472 µJ (41.0% saving), six layers, one of
// them named "conv<&>x" to exercise escaping.
json classification_report() {
  return json::parse(R"json({
  "mixprec_report": 1,
  "run_id": "20261122-061500-seed1",
  "scenario": {"name": "venue_cnn_lstm", "file": "scenarios/venue_cnn_lstm.json", "hash": "fnv1a64:0123456789abcdef"},
  "task": "classification",
  "metric": "accuracy",
  "quick": false,
  "manifest": {"mixprec_version": "0.1.0-abc123", "compiler": "g++ 12.2.0", "cxx_standard": 201703,
               "cxx_flags": "-O3 -DNDEBUG", "seeds": [1, 2, 3], "threads": 2,
               "phases": [{"name": "fp32", "seconds": 301.2, "status": "done"},
                          {"name": "search", "seconds": 12.5, "status": "done"}]},
  "claim": {"energy_saving_pct": [35, 45], "max_accuracy_drop_pp": 2.0, "latency_ms": 5.0,
            "baseline": "int8", "pattern": "early CNN layers at higher precision than the LSTM layers"},
  "models": [
    {"name": "fp32", "label": "FP32 reference", "energy_uj": 2400, "latency_ms": 1.9, "size_bytes": 409600,
     "accuracy": 0.955, "accuracy_ci": [0.945, 0.965], "seeds": [{"seed": 1, "accuracy": 0.955}],
     "curves": [{"epoch": 1, "train_loss": 0.9, "val_loss": 0.8, "val_accuracy": 0.70},
                {"epoch": 2, "train_loss": 0.5, "val_loss": 0.45, "val_accuracy": 0.88},
                {"epoch": 3, "train_loss": 0.3, "val_loss": 0.3, "val_accuracy": 0.95}]},
    {"name": "baseline", "label": "uniform INT8", "energy_uj": 800, "latency_ms": 0.86, "size_bytes": 102400,
     "accuracy": 0.953, "accuracy_ci": [0.94, 0.965]},
    {"name": "chosen", "label": "mixed precision", "energy_uj": 472, "latency_ms": 0.8, "size_bytes": 61440,
     "accuracy": 0.940, "accuracy_ci": [0.93, 0.95], "predicted_sensitivity": 0.012345,
     "curves": [{"epoch": 1, "val_accuracy": 0.6}, {"epoch": 2, "val_accuracy": 0.9}]},
    {"name": "no_fp32_buffers", "label": "ablation", "energy_uj": 520, "accuracy": 0.938}
  ],
  "baseline": "baseline",
  "chosen": {
    "budget_fraction": 0.6, "solver": "exact", "sensitivity_method": "hessian",
    "sensitivity_source": "results/cache/sens.json",
    "energy_uj": 472, "latency_ms": 0.8, "size_bytes": 61440, "predicted_sensitivity": 0.01,
    "layers": [
      {"name": "cnn.stem", "group": "cnn", "format": "int", "weight_bits": 8, "activation_bits": 8, "energy_uj": 60.5, "latency_ms": 0.1, "sensitivity": 0.004},
      {"name": "cnn.stage1.block0.conv1", "group": "cnn", "format": "int", "weight_bits": 6, "activation_bits": 8, "energy_uj": 40.2, "latency_ms": 0.08, "sensitivity": 0.002},
      {"name": "conv<&>x", "group": "cnn", "format": "int", "weight_bits": 5, "activation_bits": 8, "energy_uj": 33.3, "latency_ms": 0.05, "sensitivity": 0.001},
      {"name": "lstm.l0", "group": "lstm", "format": "int", "weight_bits": 4, "activation_bits": 8, "energy_uj": 120, "latency_ms": 0.2, "sensitivity": 0.003},
      {"name": "lstm.l1", "group": "lstm", "format": "int", "weight_bits": 4, "activation_bits": 6, "energy_uj": 110, "latency_ms": 0.2, "sensitivity": 0.002},
      {"name": "head", "group": "head", "format": "fp16", "weight_bits": null, "activation_bits": null, "energy_uj": 1.5, "latency_ms": 0.01, "sensitivity": 0.0005}
    ]
  },
  "energy_breakdown": {"components": ["mac", "register_file", "weight_buffer", "dram"],
                       "entries": [{"name": "baseline", "values": [300, 100, 150, 250]},
                                   {"name": "chosen", "values": [150, 70, 90, 162]}]},
  "engines": {"analytical": {"cycles": 345896, "latency_ms": 0.86, "energy_uj": 589.0},
              "systemc": {"cycles": 345944, "latency_ms": 0.86, "energy_uj": 589.0},
              "cycles_difference_pct": 0.01, "energy_difference_pct": 0.0},
  "pareto": [{"energy_uj": 400, "sensitivity": 0.2, "latency_ms": 0.7, "size_bytes": 50000},
             {"energy_uj": 472, "sensitivity": 0.01},
             {"energy_uj": 600, "sensitivity": 0.004},
             {"energy_uj": 800, "sensitivity": 0.0}],
  "ablations": [{"name": "no_fp32_buffers", "label": "no FP32 buffers", "description": "buffers kept at INT8",
                 "energy_uj": 520, "energy_saving_pct": 35.0, "accuracy": 0.938, "accuracy_drop_pp": 1.5}],
  "budget_sweep": [{"budget_fraction": 0.5, "energy_uj": 400, "energy_saving_pct": 50.0, "predicted_sensitivity": 0.2, "accuracy": 0.925, "accuracy_drop_pp": 2.8},
                   {"budget_fraction": 0.6, "energy_uj": 472, "energy_saving_pct": 41.0, "predicted_sensitivity": 0.01, "accuracy": 0.94, "accuracy_drop_pp": 1.3},
                   {"budget_fraction": 0.7, "energy_uj": 560, "energy_saving_pct": 30.0, "predicted_sensitivity": 0.004, "accuracy": 0.948, "accuracy_drop_pp": 0.5}],
  "verdict": {"energy_saving_pct": 41.0, "accuracy_drop_pp": 1.3, "latency_ms": 0.8,
              "energy_claim_held": true, "accuracy_claim_held": true, "latency_claim_held": true,
              "pattern_held": true, "pattern_detail": "mean weight bits: CNN 6.3, LSTM 4.0",
              "claim_held": true, "summary": "The mixed-precision design met every part of the claim."}
})json");
}

// A regression report: RMSE instead of accuracy, no engines, no ablations, no breakdown.
json regression_report() {
  return json::parse(R"json({
  "mixprec_report": 1,
  "run_id": "reg-1",
  "scenario": {"name": "occupancy_lstm"},
  "task": "regression",
  "metric": "rmse",
  "claim": {"energy_saving_pct": [35, 45], "max_accuracy_drop_pp": 2.0},
  "models": [
    {"name": "baseline", "energy_uj": 200, "rmse": 0.512, "rmse_ci": [0.5, 0.524],
     "curves": [{"epoch": 1, "val_loss": 0.9}, {"epoch": 2, "val_loss": 0.4}]},
    {"name": "chosen", "energy_uj": 120, "rmse": 0.52, "rmse_ci": [0.51, 0.53]}
  ],
  "baseline": "baseline",
  "chosen": {"energy_uj": 120, "layers": [
    {"name": "lstm.l0", "group": "lstm", "format": "int", "weight_bits": 4, "activation_bits": 8}]},
  "ablations": [],
  "budget_sweep": [{"budget_fraction": 0.6, "energy_uj": 120, "rmse": 0.52, "rmse_increase_pct": 1.5}],
  "verdict": {"energy_saving_pct": 40.0, "accuracy_drop_pp": 1.5,
              "energy_claim_held": true, "accuracy_claim_held": true, "claim_held": false,
              "summary": "Energy and RMSE held; the pattern was not assessed."}
})json");
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

// The error message of rendering `report`, or "no error".
std::string render_error(const json& report) {
  try {
    render_report_md(report);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

// Numeric attribute `name` of the first element carrying `marker` (e.g. id="band-measured").
double attribute(const std::string& svg, const std::string& marker, const std::string& name) {
  std::size_t at = svg.find(marker);
  REQUIRE(at != std::string::npos);
  std::size_t start = svg.rfind('<', at), end = svg.find('>', at);
  std::string element = svg.substr(start, end - start);
  std::string key = " " + name + "=\"";
  std::size_t value = element.find(key);
  REQUIRE(value != std::string::npos);
  return std::strtod(element.c_str() + value + key.size(), nullptr);
}

}  // namespace

TEST_CASE("report md puts the verdict first with its words and numbers", "[report]") {
  std::string md = render_report_md(classification_report());
  CHECK(md.rfind("# mixprec reproducibility report: `venue_cnn_lstm`\n", 0) == 0);
  std::size_t verdict = md.find("## Verdict");
  REQUIRE(verdict != std::string::npos);
  CHECK(verdict < md.find("## Models"));
  CHECK(md.find("**The claim held.** The chosen mixed-precision design uses 41.0% less energy per "
                "inference than the baseline (472 µJ against 800 µJ), loses 1.30 pp of accuracy "
                "(94.0% against 95.3%), and runs in 0.800 ms per inference.") != std::string::npos);
  CHECK(md.find("**Claim:** 35–45% less energy than the int8 baseline, at most 2.00 pp accuracy "
                "loss, at most 5 ms per inference, and early CNN layers at higher precision than "
                "the LSTM layers.") != std::string::npos);
  CHECK(md.find("- Energy saving 41.0% (claimed 35–45%): **held**") != std::string::npos);
  CHECK(md.find("- Accuracy drop 1.30 pp (claimed at most 2.00 pp): **held**") != std::string::npos);
  CHECK(md.find("- Latency 0.800 ms (claimed at most 5 ms): **held**") != std::string::npos);
  CHECK(md.find("**held** — mean weight bits: CNN 6.3, LSTM 4.0") != std::string::npos);
  CHECK(md.find("The mixed-precision design met every part of the claim.") != std::string::npos);
  // The models table: energy, saving against the baseline, latency, size, predicted sensitivity
  // (a dash where the model has none), accuracy with its interval.
  CHECK(md.find("| `chosen` | mixed precision | 472 | 41.0% | 0.800 | 60.0 | 0.0123 | 94.0% (93.0–95.0%) | — |") !=
        std::string::npos);
  CHECK(md.find("| `baseline` | uniform INT8 | 800 | baseline | 0.860 | 100 | — | 95.3% (94.0–96.5%) | — |") !=
        std::string::npos);
  CHECK(md.find("| `fp32` | FP32 reference | 2400 | -200.0% | 1.90 | 400 | — | 95.5% (94.5–96.5%) | 1 |") !=
        std::string::npos);
}

TEST_CASE("report md has one precision row per layer and every section", "[report]") {
  std::string md = render_report_md(classification_report());
  CHECK(md.find("| `cnn.stem` | cnn | int | 8 | 8 | 60.5 | 0.100 | 0.00400 |") != std::string::npos);
  CHECK(md.find("| `cnn.stage1.block0.conv1` | cnn | int | 6 | 8 | 40.2 | 0.0800 | 0.00200 |") !=
        std::string::npos);
  CHECK(md.find("| `conv<&>x` | cnn | int | 5 | 8 | 33.3 |") != std::string::npos);
  CHECK(md.find("| `lstm.l0` | lstm | int | 4 | 8 | 120 |") != std::string::npos);
  CHECK(md.find("| `lstm.l1` | lstm | int | 4 | 6 | 110 |") != std::string::npos);
  CHECK(md.find("| `head` | head | fp16 | — | — | 1.50 |") != std::string::npos);
  // Breakdown with a total row, engines, ablations, sweep, provenance.
  CHECK(md.find("| `mac` | 300 | 150 |") != std::string::npos);
  CHECK(md.find("| total | 800 | 472 |") != std::string::npos);
  CHECK(md.find("| analytical | 345896 | 0.860 | 589 |") != std::string::npos);
  CHECK(md.find("cycles 0.01%, energy 0.00%") != std::string::npos);
  CHECK(md.find("| `no_fp32_buffers` | no FP32 buffers | buffers kept at INT8 | 520 | 35.0% | 93.8% | 1.50 |") !=
        std::string::npos);
  CHECK(md.find("| 0.5 | 400 | 50.0% | 0.200 | 92.5% | 2.80 |") != std::string::npos);
  CHECK(md.find("| `mixprec_version` | `0.1.0-abc123` |") != std::string::npos);
  CHECK(md.find("| `cxx_flags` | `-O3 -DNDEBUG` |") != std::string::npos);
  CHECK(md.find("| `seeds` | `1, 2, 3` |") != std::string::npos);
  CHECK(md.find("| fp32 | 301.2 | done |") != std::string::npos);
  CHECK(md.find("| total | 313.7 |  |") != std::string::npos);
  // The plots are referenced in report.html.
  for (const char* fig : {kFigPareto, kFigMeasured, kFigBitwidths, kFigBreakdown, kFigCurves})
    CHECK(md.find(std::string("(report.html#") + fig + ")") != std::string::npos);
}

TEST_CASE("report html is one self-contained page with the same content", "[report]") {
  std::string html = render_report_html(classification_report());
  CHECK(html.rfind("<!DOCTYPE html>\n", 0) == 0);
  CHECK(html.find("<style>") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find(" src=") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(count(html, "http://") == count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(html.find("<strong>The claim held.</strong> The chosen mixed-precision design uses 41.0% "
                  "less energy per inference than the baseline (472 µJ against 800 µJ)") !=
        std::string::npos);
  CHECK(html.find("<section id=\"verdict\" class=\"verdict held\">") < html.find("id=\"models\""));
  for (const char* fig : {kFigPareto, kFigMeasured, kFigBitwidths, kFigBreakdown, kFigCurves})
    CHECK(html.find(std::string("<figure id=\"") + fig + "\">") != std::string::npos);
  CHECK(html.find("<a href=\"#fig-measured\">energy vs accuracy</a>") != std::string::npos);
  CHECK(html.find("report.html#") == std::string::npos);
  CHECK(count(html, "<svg ") == 5);
  CHECK(count(html, "</svg>") == 5);
  CHECK(html.find("<td><code>cnn.stem</code></td><td>cnn</td><td>int</td><td class=\"num\">8</td>") !=
        std::string::npos);
}

TEST_CASE("report html draws one weight and one activation bar per layer", "[report]") {
  json report = classification_report();
  std::string html = render_report_html(report);
  std::size_t layers = report["chosen"]["layers"].size();
  CHECK(count(html, "class=\"bar bar-weight\"") == layers);
  CHECK(count(html, "class=\"bar bar-activation\"") == layers);
  // CNN and LSTM bars differ in colour.
  CHECK(html.find("<title>cnn.stem — weight bits: 8</title>") != std::string::npos);
  std::string stem = html.substr(html.rfind("<rect", html.find("<title>cnn.stem — weight bits")));
  std::string lstm = html.substr(html.rfind("<rect", html.find("<title>lstm.l0 — weight bits")));
  CHECK(stem.find("fill=\"#4e79a7\"") < stem.find("</rect>"));
  CHECK(lstm.find("fill=\"#f28e2b\"") < lstm.find("</rect>"));
  // The fp16 head has no bits in the JSON: its bars show the format's 16 bits.
  CHECK(html.find("<title>head — weight bits: 16</title>") != std::string::npos);
  // One stacked bar segment per component and entry.
  CHECK(count(html, "class=\"bar bar-component\"") == 8);
}

TEST_CASE("report html shades the claim band at 55 to 65 percent of the baseline energy", "[report]") {
  std::string html = render_report_html(classification_report());
  // The measured panel's x domain spans every plotted energy and the band (440..520 µJ).
  svg::Ticks xt = svg::nice_ticks(400, 2400);  // sweep minimum .. fp32
  CHECK(xt.lo == 0);
  CHECK(xt.hi == 2500);
  svg::Frame f;
  svg::LinearScale sx(xt.lo, xt.hi, f.plot_left(), f.plot_right());
  double x0 = sx(0.55 * 800), x1 = sx(0.65 * 800);
  CHECK(attribute(html, "id=\"band-measured\"", "x") == Approx(x0).margin(0.006));
  CHECK(attribute(html, "id=\"band-measured\"", "width") == Approx(x1 - x0).margin(0.011));
  CHECK(x0 == Approx(72 + 440.0 / 2500 * 544));

  // The Pareto panel: domain 400..800 µJ.
  svg::Ticks pt = svg::nice_ticks(400, 800);
  svg::LinearScale px(pt.lo, pt.hi, f.plot_left(), f.plot_right());
  CHECK(attribute(html, "id=\"band-pareto\"", "x") == Approx(px(440)).margin(0.006));
  CHECK(attribute(html, "id=\"band-pareto\"", "width") == Approx(px(520) - px(440)).margin(0.011));
  CHECK(html.find("claim: 35–45% saving vs baseline") != std::string::npos);
}

TEST_CASE("report renderers escape names and text", "[report]") {
  json report = classification_report();
  report["verdict"]["summary"] = "held <b>bold</b> & \"quoted\" | piped *starred*";
  std::string html = render_report_html(report);
  CHECK(html.find("conv<&>x") == std::string::npos);
  CHECK(html.find("<code>conv&lt;&amp;&gt;x</code>") != std::string::npos);        // table
  CHECK(html.find(">conv&lt;&amp;&gt;x</text>") != std::string::npos);             // bar label
  CHECK(html.find("<b>") == std::string::npos);
  CHECK(html.find("held &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; | piped *starred*") !=
        std::string::npos);
  std::string md = render_report_md(report);
  CHECK(md.find("held \\<b\\>bold\\</b\\> \\& \"quoted\" \\| piped \\*starred\\*") != std::string::npos);
  // A "|" in a layer name must not split the table row.
  report["chosen"]["layers"][0]["name"] = "a|b";
  md = render_report_md(report);
  CHECK(md.find("| `a\\|b` | cnn |") != std::string::npos);
}

TEST_CASE("report renderers name the JSON pointer of a missing required field", "[report]") {
  json report = classification_report();
  report["models"][1].erase("energy_uj");
  std::string e = render_error(report);
  CHECK(e.find("/models/1/energy_uj") != std::string::npos);
  CHECK(e.find("expected a number") != std::string::npos);
  CHECK_THROWS_AS(render_report_html(report), SpecError);

  report = classification_report();
  report["verdict"].erase("claim_held");
  CHECK(render_error(report).find("/verdict/claim_held") != std::string::npos);

  report = classification_report();
  report["chosen"]["layers"][2].erase("name");
  CHECK(render_error(report).find("/chosen/layers/2/name") != std::string::npos);

  report = classification_report();
  report["claim"]["energy_saving_pct"] = json::array({35});
  CHECK(render_error(report).find("/claim/energy_saving_pct") != std::string::npos);

  report = classification_report();
  report["baseline"] = "int4";
  CHECK(render_error(report).find("/baseline: expected the name of an entry in /models") !=
        std::string::npos);

  report = classification_report();
  report["energy_breakdown"]["entries"][1]["values"] = json::array({1, 2});
  CHECK(render_error(report).find("/energy_breakdown/entries/1/values") != std::string::npos);

  report = classification_report();
  report["models"][0]["accuracy"] = "high";
  CHECK(render_error(report).find("/models/0/accuracy: expected a number or null") != std::string::npos);

  CHECK(render_error(json::array()).find("/: expected an object") != std::string::npos);
  CHECK(render_error(json::object()).find("/mixprec_report") != std::string::npos);
}

TEST_CASE("report renderers render regression reports and tolerate missing sections", "[report]") {
  json report = regression_report();
  std::string md = render_report_md(report);
  CHECK(md.find("**The claim did not hold.** The chosen mixed-precision design uses 40.0% less "
                "energy per inference than the baseline (120 µJ against 200 µJ) and raises RMSE by "
                "1.50% (0.520 against 0.512).") != std::string::npos);
  CHECK(md.find("- RMSE increase 1.50% (claimed at most 2.00%): **held**") != std::string::npos);
  CHECK(md.find("| `baseline` |  | 200 | baseline | — | — | — | 0.512 (0.500–0.524) | — |") !=
        std::string::npos);
  CHECK(md.find("No ablations were run.") != std::string::npos);
  CHECK(md.find("The engines were not compared in this run.") != std::string::npos);
  CHECK(md.find("The report has no energy breakdown.") != std::string::npos);
  CHECK(md.find("| 0.6 | 120 | — | — | 0.520 | 1.50 |") != std::string::npos);
  CHECK(md.find("RMSE increase (%)") != std::string::npos);
  CHECK(md.find("report.html#fig-pareto") == std::string::npos);

  std::string html = render_report_html(report);
  CHECK(html.find("<section id=\"verdict\" class=\"verdict not-held\">") != std::string::npos);
  CHECK(html.find("Measured: energy vs RMSE") != std::string::npos);
  CHECK(html.find("Validation loss per epoch") != std::string::npos);
  CHECK(count(html, "class=\"bar bar-weight\"") == 1);
  CHECK(html.find("id=\"band-pareto\"") == std::string::npos);
  // Band: 110..130 µJ; points 120..200 µJ.
  svg::Ticks xt = svg::nice_ticks(110, 200);
  svg::Frame f;
  svg::LinearScale sx(xt.lo, xt.hi, f.plot_left(), f.plot_right());
  CHECK(attribute(html, "id=\"band-measured\"", "x") == Approx(sx(110)).margin(0.006));

  // Validation RMSE, when the curves carry it, is preferred to the loss.
  json with_rmse = report;
  with_rmse["models"][0]["curves"][1]["val_rmse"] = 0.6;
  CHECK(render_report_html(with_rmse).find("Validation RMSE per epoch") != std::string::npos);

  // Almost everything optional removed: still a report.
  for (const char* key : {"run_id", "manifest", "energy_breakdown", "engines", "pareto", "ablations",
                          "budget_sweep", "quick", "metric"})
    report.erase(key);
  report["models"][0].erase("curves");
  report["chosen"]["layers"] = json::array();
  md = render_report_md(report);
  CHECK(md.find("No budget sweep was run.") != std::string::npos);
  CHECK(md.find("The report has no training curves.") != std::string::npos);
  html = render_report_html(report);
  CHECK(count(html, "<svg ") == 1);
}

TEST_CASE("report renderers either render or throw SpecError for any damaged field", "[report]") {
  for (const json& original : {classification_report(), regression_report()}) {
    // Every value and every object or array holding it: removed, nulled, or given a wrong type.
    std::vector<std::string> pointers;
    const json flat = original.flatten();
    for (const auto& leaf : flat.items()) {
      json::json_pointer p(leaf.key());
      while (!p.empty()) {
        if (std::find(pointers.begin(), pointers.end(), p.to_string()) == pointers.end())
          pointers.push_back(p.to_string());
        p = p.parent_pointer();
      }
    }
    for (const std::string& ptr : pointers) {
      json::json_pointer p(ptr);
      for (int damage = 0; damage < 3; ++damage) {
        json report = original;
        json& parent = report.at(p.parent_pointer());
        if (damage == 0) {
          if (parent.is_object())
            parent.erase(p.back());
          else
            parent.erase(std::stoul(p.back()));
        } else {
          report.at(p) = damage == 1 ? json() : json("x");
        }
        INFO(ptr << " damage " << damage);
        try {
          std::string md = render_report_md(report), html = render_report_html(report);
          CHECK(!md.empty());
          CHECK(html.find("</html>") != std::string::npos);
        } catch (const SpecError& e) {
          CHECK(std::string(e.what()).find("report.json: /") == 0);
        }
      }
    }
  }
}

TEST_CASE("report renderers are deterministic", "[report]") {
  json report = classification_report();
  std::string md = render_report_md(report), html = render_report_html(report);
  json again = json::parse(report.dump(2));
  CHECK(render_report_md(again) == md);
  CHECK(render_report_html(again) == html);
  CHECK(render_report_html(regression_report()) == render_report_html(regression_report()));
}

TEST_CASE("svg helper formats numbers and picks nice ticks", "[report]") {
  CHECK(svg::fmt_sig(797.7) == "798");
  CHECK(svg::fmt_sig(0.8) == "0.800");
  CHECK(svg::fmt_sig(9.996) == "10.0");
  CHECK(svg::fmt_sig(12345.0) == "12345");
  CHECK(svg::fmt_sig(-0.0123) == "-0.0123");
  CHECK(svg::fmt_sig(1.2e-6) == "1.20e-06");
  CHECK(svg::fmt_sig(0) == "0.00");
  CHECK(svg::fmt_sig(2.5e300) == "2.50e+300");
  CHECK(svg::fmt_sig(std::nan("")) == "n/a");
  CHECK(svg::fmt_fixed(-0.001, 2) == "0.00");
  CHECK(svg::escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");

  svg::Ticks t = svg::nice_ticks(0.3, 9.7);
  CHECK(t.lo == 0);
  CHECK(t.hi == 10);
  CHECK(t.step == 2);
  CHECK(t.values.size() == 6);
  CHECK(t.decimals == 0);
  t = svg::nice_ticks(0.92, 0.96);
  CHECK(t.step == Approx(0.01));
  CHECK(t.decimals == 2);
  CHECK(t.lo == Approx(0.92));
  CHECK(t.hi == Approx(0.96));
  t = svg::nice_ticks(5, 5);  // a single value still gets a range around it
  CHECK(t.lo < 5);
  CHECK(t.hi > 5);

  svg::XYPlot p("p", "T", "x", "y");
  svg::Series s;
  s.name = "s";
  s.color = "#000000";
  s.mark = svg::Mark::LinePoints;
  s.x = {1, 2, std::nan(""), 4};
  s.y = {1, 4, 9, 16};
  p.add(s);
  std::string out = p.render();
  CHECK(count(out, "<circle") == 3);  // the non-finite point is skipped
  CHECK(count(out, "<polyline") == 1);
}
