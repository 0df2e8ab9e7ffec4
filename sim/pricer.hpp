// The engine that prices a scenario for simulate, search, sweep and reproduce: the scenario's
// `cost_model` (core/spec.hpp CostModelSpec) picks it.
//
// Contract:
//   * engine "mapping" (the default on asic hardware): sim/mapping_engine.hpp, each layer's loop
//     nests mapped onto the hardware's storage hierarchy with the scenario's mapper objective.
//   * engine "analytical": sim/analytical.hpp (closed-form tiling); on fpga hardware the FPGA
//     template's analytical model (sim/fpga.hpp) prices whole networks (layer_cost is refused:
//     search does not run on fpga hardware).
//   * network_cost sets each layer's Static component once (static_energy_pj) and finalizes.
//   * Deterministic. Not thread-safe (the mapper's cache): one Pricer per thread. A caller may pass
//     a MapperCache to share mapper results between Pricers of one thread (a sweep's points: the
//     cache key holds the architecture, so points over other hardware do not collide).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/spec.hpp"
#include "energy_models/energy_model.hpp"
#include "sim/analytical.hpp"
#include "sim/cost_table.hpp"
#include "sim/mapper/mapper.hpp"

namespace mixprec::sim {

class MappingEngine;

// The mapper objective a scenario names (energy: delay breaks ties; delay: energy breaks ties;
// edp: energy breaks ties).
nest::Objective objective_of(MapperObjective o);

class Pricer final : public LayerPricer {
 public:
  explicit Pricer(const Scenario& sc, nest::MapperCache* shared_cache = nullptr);
  Pricer(const Scenario& sc, CostEngine engine, nest::MapperCache* shared_cache = nullptr);
  ~Pricer() override;
  Pricer(const Pricer&) = delete;
  Pricer& operator=(const Pricer&) = delete;

  LayerCost layer_cost(const Network& net, int layer, const LayerPrecision& p, Phase phase) override;
  const HardwareSpec& hardware() const override { return hw_; }
  ResidencyModel residency() const override;
  LayerCost layer_cost_resident(const Network& net, int layer, const LayerPrecision& p, Phase phase,
                                const ResidentSides& sides) override;
  NetworkCost network_cost(const Network& net, const std::vector<LayerPrecision>& p, Phase phase);

  CostEngine engine() const { return engine_; }
  const char* engine_name() const { return to_string(engine_); }
  const energy::EnergyModel& energy_model() const { return *em_; }
  // Null unless the engine is the mapping one.
  MappingEngine* mapping() { return mapping_.get(); }

 private:
  HardwareSpec hw_;
  std::string file_;
  CostEngine engine_;
  std::unique_ptr<energy::EnergyModel> em_;
  std::unique_ptr<AnalyticalEngine> analytical_;
  std::unique_ptr<MappingEngine> mapping_;
};

}  // namespace mixprec::sim
