// Renders the reproducibility report (`report.json`, docs/report_schema.md) of `mixprec reproduce`
// as Markdown (`report.md`) and as one self-contained HTML file with inline SVG plots
// (`report.html`). Both carry the same content, verdict first; neither adds a number that is not
// in the JSON or computed from it (savings against the baseline, totals). Output is
// deterministic: the same JSON gives byte-identical text.
//
// Required (anything else may be missing, null or empty and is shown as "—" or left out):
//   /mixprec_report (= 1), /task ("classification" | "regression"), /scenario/name,
//   /claim/energy_saving_pct ([lo, hi]), /claim/max_accuracy_drop_pp,
//   /models (non-empty; each with name and energy_uj), /baseline (a name in /models),
//   /chosen/energy_uj, /chosen/layers (each with name),
//   /verdict/energy_saving_pct, /verdict/accuracy_drop_pp, /verdict/energy_claim_held,
//   /verdict/accuracy_claim_held, /verdict/claim_held.
// Optional sections, when present, need their own keys: energy_breakdown (components, entries
// with name and one value per component), pareto[] (energy_uj, sensitivity), ablations[] (name,
// energy_uj), budget_sweep[] (budget_fraction, energy_uj), manifest.phases[] (name),
// models[].curves[] (epoch). A missing or mistyped value throws mixprec::SpecError (a
// std::runtime_error) naming the JSON pointer, e.g. "report.json: /models/1/energy_uj: expected
// a number, found nothing (the key is missing)".
//
// Regression reports (task "regression") read `rmse` / `rmse_ci` instead of `accuracy` /
// `accuracy_ci`, and `rmse_increase_pct` (falling back to `accuracy_drop_pp`) for the drop.
// Training curves plot val_accuracy (classification) or val_rmse (regression) when present,
// else val_loss, else train_loss.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace mixprec::report {

// Element ids in report.html; report.md links to the figures by these anchors. The two
// energy panels are drawn with svg::Frame{} and shade the claim band (energies between
// (1 - hi/100) and (1 - lo/100) times the baseline's, from /claim/energy_saving_pct) in
// <rect id="band-pareto"> and <rect id="band-measured">.
inline constexpr char kFigPareto[] = "fig-pareto";
inline constexpr char kFigFrontier[] = "fig-frontier";
inline constexpr char kFigMeasured[] = "fig-measured";
inline constexpr char kFigBitwidths[] = "fig-bitwidths";
inline constexpr char kFigBreakdown[] = "fig-breakdown";
inline constexpr char kFigCurves[] = "fig-curves";

std::string render_report_md(const nlohmann::json& report);
std::string render_report_html(const nlohmann::json& report);

}  // namespace mixprec::report
