// Renders the predictor report (`mixprec predictor`, pipeline/predictor.hpp) as Markdown and SVG.
// Reads only the report's JSON; the same JSON gives the same bytes.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace mixprec::report {

// report.md: the question, the rank agreement per method (all and held-out configurations), the
// picks' regret and domination, and every trained configuration with its predictions.
std::string predictor_markdown(const nlohmann::json& rep);

// Predicted sensitivity (log10 of the mean over seeds) against the mean test loss of every
// configuration, one colour per kind, with the loss's t-interval over seeds as error bars.
std::string predictor_scatter_svg(const nlohmann::json& rep, const std::string& method);

// Energy against the measured metric (accuracy or RMSE) of every configuration, one colour per
// kind, the exact solver's picks at the chosen budget ringed.
std::string predictor_energy_svg(const nlohmann::json& rep);

}  // namespace mixprec::report
