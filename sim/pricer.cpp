#include "sim/pricer.hpp"

#include "core/errors.hpp"
#include "sim/mapping_engine.hpp"

namespace mixprec::sim {

nest::Objective objective_of(MapperObjective o) {
  nest::Objective obj;
  switch (o) {
    case MapperObjective::Energy: obj.metrics = {nest::Metric::energy, nest::Metric::delay}; break;
    case MapperObjective::Delay: obj.metrics = {nest::Metric::delay, nest::Metric::energy}; break;
    case MapperObjective::Edp: obj.metrics = {nest::Metric::edp, nest::Metric::energy}; break;
  }
  return obj;
}

Pricer::Pricer(const Scenario& sc, nest::MapperCache* shared_cache)
    : Pricer(sc, sc.cost_model.engine, shared_cache) {}

Pricer::Pricer(const Scenario& sc, CostEngine engine, nest::MapperCache* shared_cache)
    : hw_(sc.hardware), file_(sc.file), engine_(engine) {
  if (hw_.kind != HardwareKind::Asic)
    throw SpecError(sc.file, "/hardware/kind",
                    "\"asic\" (per-layer pricing expands the systolic-array template; the fpga "
                    "template is priced as a whole design by sim/fpga)",
                    "\"fpga\"");
  em_ = std::make_unique<energy::EnergyModel>(energy::EnergyModel::from_hardware(hw_, file_));
  if (engine_ == CostEngine::Mapping) {
    mapping_ = std::make_unique<MappingEngine>(hw_, *em_, file_, objective_of(sc.cost_model.objective),
                                               shared_cache);
    mapping_->set_residency(sc.cost_model.residency);
    mapping_->set_timing(sc.cost_model.timing);
  } else {
    if (sc.cost_model.phased_stated())
      throw SpecError(sc.file, "/cost_model/timing",
                      "\"overlap\" with the analytical engine (the phased timing prices the mapping engine's "
                      "loop nests: use the mapping engine)",
                      std::string("\"") + to_string(sc.cost_model.timing) + "\"");
    if (sc.cost_model.residency != Residency::None)
      throw SpecError(sc.file, "/cost_model/residency",
                      "\"none\" with the analytical engine (residency needs the consumer's mapping: "
                      "use the mapping engine)",
                      std::string("\"") + to_string(sc.cost_model.residency) + "\"");
    analytical_ = std::make_unique<AnalyticalEngine>(hw_, *em_);
  }
}

Pricer::~Pricer() = default;

ResidencyModel Pricer::residency() const { return mapping_ ? mapping_->residency() : ResidencyModel{}; }

LayerCost Pricer::layer_cost(const Network& net, int layer, const LayerPrecision& p, Phase phase) {
  return mapping_ ? mapping_->layer_cost(net, layer, p, phase) : analytical_->layer_cost(net, layer, p, phase);
}

LayerCost Pricer::layer_cost_resident(const Network& net, int layer, const LayerPrecision& p, Phase phase,
                                      const ResidentSides& sides) {
  MIXPREC_CHECK(mapping_ != nullptr, "re-timing with hand-overs needs the mapping engine");
  return mapping_->layer_cost_resident(net, layer, p, phase, sides);
}

NetworkCost Pricer::network_cost(const Network& net, const std::vector<LayerPrecision>& p, Phase phase) {
  return mapping_ ? mapping_->network_cost(net, p, phase) : analytical_->network_cost(net, p, phase);
}

}  // namespace mixprec::sim
