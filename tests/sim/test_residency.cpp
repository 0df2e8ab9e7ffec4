// Between-layer residency (scenario cost_model.residency, sim/residency.hpp): the option's parse
// errors, a hand-computed saving on a 2-layer network, the capacity boundary, the exact solver with
// pairwise terms against brute force, search's evaluation against simulate's, and the default
// figures with residency off.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <random>

#include "core/errors.hpp"
#include "energy_models/energy_model.hpp"
#include "pipeline/search_run.hpp"
#include "search/io.hpp"
#include "search/problem.hpp"
#include "search/solver.hpp"
#include "sim/hierarchy.hpp"
#include "sim/mapping_engine.hpp"
#include "sim/pricer.hpp"
#include "sim/residency.hpp"
#include "sim/systemc/mapping_sim.hpp"
#include "search/random_problem.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::sim;

namespace {

// A 4x4 array of 8-bit bit-parallel MACs at 100 MHz; 64-bit buffer rows, single-buffered; DRAM
// 64-byte bursts. `cost_model` is spliced in as given.
std::string two_linear_scenario(const std::string& cost_model, double in_kib = 64) {
  return R"({"mixprec_scenario": 1, "name": "t",
    "hardware": {"name": "tiny", "clock_mhz": 100,
      "pe_array": {"rows": 4, "cols": 4, "dataflow": "weight_stationary",
                   "mac": {"style": "bit_parallel", "native_bits": 8}},
      "buffers": {"weight": {"size_kib": 64, "row_bits": 64, "double_buffered": false},
                  "input": {"size_kib": )" + std::to_string(in_kib) + R"(, "row_bits": 64, "double_buffered": false},
                  "output": {"size_kib": 64, "row_bits": 64, "double_buffered": false}},
      "dram": {"kind": "lpddr4", "bandwidth_gbps": 1.6, "latency_ns": 100, "burst_bytes": 64}},
    "network": {"name": "two", "input": {"frames": 1, "features": 32},
                "layers": [{"name": "fc1", "kind": "linear", "out_features": 16},
                           {"name": "fc2", "kind": "linear", "out_features": 8}]},
    "precision": {"default": {"weights": 8, "activations": 8}})" +
         (cost_model.empty() ? "" : R"(, "cost_model": )" + cost_model) + "}";
}

// Three linear layers 32 -> 16 -> 8 -> 4 on the same hardware with DRAM at `dram_gbps`.
std::string three_linear_scenario(const std::string& cost_model, double dram_gbps) {
  std::string s = two_linear_scenario(cost_model);
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    s.replace(at, from.size(), to);
  };
  replace(R"("bandwidth_gbps": 1.6)", R"("bandwidth_gbps": )" + std::to_string(dram_gbps));
  replace(R"({"name": "fc2", "kind": "linear", "out_features": 8}])",
          R"({"name": "fc2", "kind": "linear", "out_features": 8},
             {"name": "fc3", "kind": "linear", "out_features": 4}])");
  return s;
}

}  // namespace

TEST_CASE("residency: parsed, default none, errors name the pointer", "[residency]") {
  CHECK(test::scenario_from_text(two_linear_scenario("")).cost_model.residency == Residency::None);
  CHECK(test::scenario_from_text(two_linear_scenario(R"({"residency": "chain"})")).cost_model.residency ==
        Residency::Chain);
  CHECK(test::scenario_from_text(two_linear_scenario(R"({"residency": "none"})")).cost_model.residency ==
        Residency::None);
  CHECK(test::spec_error(two_linear_scenario(R"({"residency": "chian"})")) ==
        "inline.json: /cost_model/residency: expected one of \"none\", \"chain\" (did you mean \"chain\"?), "
        "found string \"chian\"");
  CHECK(test::spec_error(two_linear_scenario(R"({"residency": true})")) ==
        "inline.json: /cost_model/residency: expected one of \"none\", \"chain\", found boolean true");
  CHECK(test::spec_error(two_linear_scenario(R"({"engine": "analytical", "residency": "chain"})")) ==
        "inline.json: /cost_model/residency: expected \"none\" with the analytical engine (residency needs the "
        "consumer's mapping: use the mapping engine), found \"chain\"");
}

TEST_CASE("residency: fc1 -> fc2 by hand (8-bit tensor of 16 values, 64-bit rows, 512-bit bursts)",
          "[residency]") {
  const Scenario off = test::scenario_from_text(two_linear_scenario(""));
  const Scenario on = test::scenario_from_text(two_linear_scenario(R"({"residency": "chain"})"));
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(on.hardware, on.file);
  MappingEngine e_off(off.hardware, em, off.file), e_on(on.hardware, em, on.file);
  e_on.set_residency(on.cost_model.residency);
  const NetworkCost a = e_off.network_cost(off.net, off.layer_precision, off.phase);
  const NetworkCost b = e_on.network_cost(on.net, on.layer_precision, on.phase);
  REQUIRE(a.handovers.empty());
  REQUIRE(b.handovers.size() == 1);
  const HandoverOutcome& h = b.handovers[0];
  CHECK(h.producer == 0);
  CHECK(h.consumer == 1);
  REQUIRE(h.on_chip);
  // The mapping's counts the hand count starts from: fc1 writes its 16 outputs to DRAM once; fc2's
  // mapping reads its inputs R times in all (refetches included).
  REQUIRE(a.layers[0].dram[std::size_t(Tensor::Outputs)].writes == 16);
  const std::int64_t R = a.layers[1].dram[std::size_t(Tensor::Inputs)].reads;
  REQUIRE(R >= 16);
  // Values move in whole rows (the nest's vector accesses): a 512-bit DRAM burst holds 64 8-bit
  // values, a 64-bit buffer row 8. DRAM: the 16 values written (1 burst) and the R read
  // (ceil(R / 64) bursts) are saved; the input buffer: 2 rows written, ceil(R / 8) rows read; no
  // re-quantization (both at 8 bits).
  const double burst_pj = em.dram_pj_per_bit(on.hardware.dram) * 512;
  const double row_w = em.buffer_access_pj(energy::BufferId::Input, on.hardware.input_buffer, 64, true);
  const double row_r = em.buffer_access_pj(energy::BufferId::Input, on.hardware.input_buffer, 64, false);
  const double dram_saved = burst_pj + double((R + 63) / 64) * burst_pj;
  const double buffer_added = 2 * row_w + double((R + 7) / 8) * row_r;
  const double saving_pj = dram_saved - buffer_added;
  CHECK(saving_pj > 0);
  CHECK(-h.delta_pj() == Approx(saving_pj).epsilon(1e-12));
  // The total adds the static energy of the cycles the hand-over saves (re-timed layers; the
  // cycles themselves: the three-layer case below).
  CHECK((a.energy_uj - b.energy_uj) * 1e6 ==
        Approx(saving_pj + static_energy_pj(on.hardware, a.cycles - b.cycles)).epsilon(1e-9));
  CHECK(h.requant_ops == 0);
  CHECK(a.energy_pj[std::size_t(Component::Dram)] - b.energy_pj[std::size_t(Component::Dram)] ==
        Approx(dram_saved).epsilon(1e-12));
  CHECK(b.energy_pj[std::size_t(Component::InputBuffer)] - a.energy_pj[std::size_t(Component::InputBuffer)] ==
        Approx(buffer_added).epsilon(1e-12));
  CHECK(b.layers[0].dram[std::size_t(Tensor::Outputs)].writes == 0);
  CHECK(b.layers[1].dram[std::size_t(Tensor::Inputs)].reads == 0);
  CHECK(b.layers[1].buffer[std::size_t(Tensor::Inputs)].reads ==
        a.layers[1].buffer[std::size_t(Tensor::Inputs)].reads + R);

  // fc1 writing at 4 bits while fc2 reads at 8: stored at 4 bits, re-quantized per value read.
  Scenario mixed = on;
  mixed.layer_precision[0].output_bits = 4;
  const NetworkCost c = e_on.network_cost(mixed.net, mixed.layer_precision, mixed.phase);
  REQUIRE(c.handovers.size() == 1);
  CHECK(c.handovers[0].stored_bits == 4);
  CHECK(c.handovers[0].requant_ops == R);
  const Handover& pc = c.layers[1].handover;
  CHECK(pc.requant_pj == Approx(em.nonlinear_pj(energy::NonlinearOp::Multiply, pc.in) +
                                em.nonlinear_pj(energy::NonlinearOp::Add, pc.in)));
}

TEST_CASE("residency: cycles and static energy re-timed, fc1 -> fc2 -> fc3 with DRAM the bottleneck (by hand)",
          "[residency]") {
  // DRAM at 0.1 GB/s and 100 MHz: 1 byte = 8 bits per cycle, far below what the 4x4 array
  // consumes, so every layer's nest time is its DRAM level's: ceil(DRAM bits / 8) (nest::level_time)
  // + the first tiles' bits / 8 + the latency (100 ns = 10 cycles). All tensors are 8-bit, so
  // every bit count below is a multiple of 8 and each removed value saves exactly one cycle.
  const Scenario off = test::scenario_from_text(three_linear_scenario("", 0.1));
  const Scenario on = test::scenario_from_text(three_linear_scenario(R"({"residency": "chain"})", 0.1));
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(on.hardware, on.file);
  MappingEngine e_off(off.hardware, em, off.file), e_on(on.hardware, em, on.file);
  e_on.set_residency(Residency::Chain);
  // The overlap timing, by hand below (phased with hand-overs is held against the SystemC
  // simulation: tests/systemc/test_nest_sim.cpp "systemc-mapping: timing phased").
  e_off.set_timing(Timing::Overlap);
  e_on.set_timing(Timing::Overlap);
  std::vector<std::vector<NestMapping>> maps;
  const NetworkCost a = e_off.network_cost(off.net, off.layer_precision, off.phase, &maps);
  const NetworkCost b = e_on.network_cost(on.net, on.layer_precision, on.phase);
  REQUIRE(b.handovers.size() == 2);
  REQUIRE(b.handovers[0].on_chip);  // fc1 -> fc2
  REQUIRE(b.handovers[1].on_chip);  // fc2 -> fc3
  const std::size_t I = std::size_t(Tensor::Inputs), O = std::size_t(Tensor::Outputs);
  // DRAM-bound without residency: each layer's cycles exceed its compute by far.
  for (const LayerCost& l : a.layers) REQUIRE(l.cycles > 4 * l.compute_cycles);
  // From the mappings (as in the fc1 -> fc2 case): R_k, the DRAM reads of layer k's input, and
  // F_k, the values of its input's first tile (the first on-chip level keeping the inputs, all
  // instances; 0 when the mapping streams them from DRAM to the PEs), fetched before the first MAC.
  auto first_tile = [&](std::size_t k) {
    const NestMapping& nm = maps[k].at(0);
    for (std::size_t d = 0; d < nm.result.problem.dataspaces.size(); ++d) {
      if (tensor_of(nm.result.problem, int(d)) != Tensor::Inputs) continue;
      for (int lv = 1; lv < nm.result.result.n_levels; ++lv) {
        const nest::DataspaceStats& ds = nm.result.result.levels[std::size_t(lv)].ds[d];
        if (ds.kept) return double(ds.utilized_capacity * std::max<std::int64_t>(1, ds.utilized_instances));
      }
    }
    return 0.0;
  };
  const double R2 = double(a.layers[1].dram[I].reads), R3 = double(a.layers[2].dram[I].reads);
  const double F2 = first_tile(1), F3 = first_tile(2);
  REQUIRE(R2 >= 16);
  REQUIRE(R3 >= 8);
  // fc1: its 16 outputs (128 bits) no longer written to DRAM: 16 cycles fewer (the 2 input-buffer
  // rows written instead take 2 of the buffer's 64-bit cycles, under the compute).
  CHECK(b.layers[0].cycles == a.layers[0].cycles - 16);
  // fc2: its R2 input reads and F2 first-tile values no longer from DRAM, and its 8 outputs not
  // written there: R2 + F2 + 8 cycles fewer.
  CHECK(b.layers[1].cycles == a.layers[1].cycles - R2 - F2 - 8);
  // fc3 (its 4 outputs still go to DRAM): R3 + F3 cycles fewer.
  CHECK(b.layers[2].cycles == a.layers[2].cycles - R3 - F3);
  CHECK(b.cycles == a.cycles - 16 - (R2 + F2 + 8) - (R3 + F3));
  // Static energy is static power x each layer's new time (static_energy_pj, once per layer).
  for (std::size_t k = 0; k < 3; ++k)
    CHECK(b.layers[k].energy_pj[std::size_t(Component::Static)] ==
          Approx(static_energy_pj(on.hardware, b.layers[k].cycles)).epsilon(1e-12));
  const double dynamic_saving = -(b.handovers[0].delta_pj() + b.handovers[1].delta_pj());
  CHECK((a.energy_uj - b.energy_uj) * 1e6 ==
        Approx(dynamic_saving + static_energy_pj(on.hardware, a.cycles - b.cycles)).epsilon(1e-9));
  CHECK(b.layers[0].dram[O].writes == 0);
  CHECK(b.layers[2].dram[I].reads == 0);

  // With DRAM fast enough (1.6 GB/s, 128 bits per cycle) the same hand-overs still save their
  // first tiles and bandwidth, but never make a layer faster than its compute.
  const Scenario fast = test::scenario_from_text(three_linear_scenario(R"({"residency": "chain"})", 1.6));
  const energy::EnergyModel em_fast = energy::EnergyModel::from_hardware(fast.hardware, fast.file);
  MappingEngine e_fast(fast.hardware, em_fast, fast.file);
  e_fast.set_residency(Residency::Chain);
  for (const LayerCost& l : e_fast.network_cost(fast.net, fast.layer_precision, fast.phase).layers)
    CHECK(l.cycles >= l.compute_cycles);
}

TEST_CASE("residency: the capacity boundary (k T + F against the input buffer's effective capacity)",
          "[residency]") {
  const Scenario on = test::scenario_from_text(two_linear_scenario(R"({"residency": "chain"})"));
  const energy::EnergyModel em = energy::EnergyModel::from_hardware(on.hardware, on.file);
  const ResidencyModel m = residency_model(on.hardware, em, Residency::Chain);
  // 64 KiB single-buffered: the whole buffer, as the tiles' check sees it.
  CHECK(m.capacity_bits == 64 * 1024 * 8);
  Scenario dbl = on;
  dbl.hardware.input_buffer.double_buffered = true;
  CHECK(residency_model(dbl.hardware, em, Residency::Chain).capacity_bits == 32 * 1024 * 8);
  CHECK_FALSE(residency_model(on.hardware, em, Residency::None).enabled);

  Handover p, c;
  p.can_produce = c.can_consume = true;
  p.out = c.in = Operand{NumFormat::Int, 8};
  p.out_values = 1000;
  p.out_dram_pj = 1e6;  // DRAM far dearer than the buffer: the hand-over pays when it fits
  c.in_reads = 1000;
  c.in_dram_pj = 1e6;
  p.in_tile_bits = 3000;
  c.in_tile_bits = 5000;  // F = max = 5000
  ResidencyModel exact = m;
  exact.capacity_bits = 2 * 1000 * 8 + 5000;
  const HandoverEdge e{0, 1, 0, 2};  // a chain: each layer receives and hands over
  CHECK(evaluate_handover(exact, e, p, c).fits);
  CHECK(evaluate_handover(exact, e, p, c).on_chip);
  ResidencyModel one_word_short = exact;
  one_word_short.capacity_bits -= 1;
  CHECK_FALSE(evaluate_handover(one_word_short, e, p, c).fits);
  CHECK(evaluate_handover(one_word_short, e, p, c).delta_pj() == 0);
  // One more value in the tensor does not fit either; at 4 bits the same tensor does.
  Handover p1 = p;
  p1.out_values += 1;
  CHECK_FALSE(evaluate_handover(exact, e, p1, c).fits);
  Handover p4 = p;
  p4.out = Operand{NumFormat::Int, 4};
  one_word_short.capacity_bits = 2 * 1000 * 4 + 5000 - 1;
  CHECK_FALSE(evaluate_handover(one_word_short, e, p4, c).fits);
  one_word_short.capacity_bits += 1;
  CHECK(evaluate_handover(one_word_short, e, p4, c).fits);
  // Fits but saves nothing: through DRAM.
  Handover cheap = p;
  cheap.out_dram_pj = 0;
  Handover cheap_c = c;
  cheap_c.in_dram_pj = 0;
  const HandoverOutcome z = evaluate_handover(exact, e, cheap, cheap_c);
  CHECK(z.fits);
  CHECK_FALSE(z.on_chip);
  CHECK(z.delta_pj() == 0);

  // End to end: an input buffer too small for T + F keeps the tensor in DRAM.
  const Scenario small = test::scenario_from_text(two_linear_scenario(R"({"residency": "chain"})", 0.03125));
  const energy::EnergyModel em2 = energy::EnergyModel::from_hardware(small.hardware, small.file);
  MappingEngine eng(small.hardware, em2, small.file);
  eng.set_residency(Residency::Chain);
  const NetworkCost nc = eng.network_cost(small.net, small.layer_precision, small.phase);
  REQUIRE(nc.handovers.size() == 1);
  CHECK(nc.handovers[0].capacity_bits == 256);
  CHECK(nc.handovers[0].share == 1);  // fc1's input and fc2's output are in DRAM
  CHECK(nc.handovers[0].tensor_bits + nc.handovers[0].footprint_bits > 256);
  CHECK_FALSE(nc.handovers[0].on_chip);
}

TEST_CASE("residency: edges are producer -> single consumer, through views", "[residency]") {
  const Scenario sc = test::default_scenario_with(R"({"cost_model": {"residency": "chain"}})");
  const std::vector<HandoverEdge> edges = handover_edges(sc.net);
  auto name = [&](int i) { return sc.net.layers[std::size_t(i)].name; };
  bool pool_to_lstm = false, stem = false;
  for (const HandoverEdge& e : edges) {
    pool_to_lstm = pool_to_lstm || (sc.net.layers[std::size_t(e.producer)].kind == LayerKind::Pool &&
                                    sc.net.layers[std::size_t(e.consumer)].kind == LayerKind::Lstm);
    stem = stem || name(e.producer) == "cnn.stem";  // read by the first block's conv and its add
    INFO(name(e.producer) << " -> " << name(e.consumer));
    CHECK(sc.net.layers[std::size_t(e.producer)].kind != LayerKind::FramesToSequence);
  }
  CHECK(pool_to_lstm);
  CHECK_FALSE(stem);
  for (const HandoverEdge& e : edges) CHECK(e.share == 2);  // every layer: at most one in, one out
  // The tiny network's last block ends in a downsample: its add receives two tensors on chip and
  // hands its output to the pool, three resident tensors.
  const Scenario tiny = test::default_scenario_with(std::string(R"({"network": )") + test::kTinyNetworkPatch +
                                                    R"(, "precision": {"layers": []}})");
  int threes = 0;
  for (const HandoverEdge& e : handover_edges(tiny.net))
    threes += e.share == 3 && tiny.net.layers[std::size_t(e.consumer)].kind == LayerKind::Add ? 1 : 0;
  CHECK(threes == 2);
}

namespace {

search::Problem random_pair_problem(std::mt19937_64& rng, int groups, int options, bool all_pairs) {
  search::Problem p = test::random_single_layer_groups(rng, groups, options);
  std::uniform_real_distribution<double> v(0, 1);
  auto add_pair = [&](int a, int b) {
    search::Term pt = test::zero_term(p, {a, b});
    for (std::size_t k = 0; k < pt.cost.size(); ++k)
      // Savings (negative) as residency gives, and some positive entries: any sign stays exact.
      pt.cost[k] = search::Costs{-4 * v(rng) + (rng() % 5 == 0 ? 3 * v(rng) : 0.0), rng() % 4 == 0 ? -v(rng) : 0.0, 0.0};
    p.terms.push_back(pt);
  };
  for (int g = 0; g + 1 < groups; ++g) {
    if (all_pairs || rng() % 3 != 0) add_pair(g, g + 1);
    // Skip edges (a residual block's downsample -> add, pool -> LSTM past a downsample group).
    if (g + 2 < groups && rng() % 3 == 0) add_pair(g, g + 2);
  }
  if (groups > 3 && rng() % 4 == 0) add_pair(0, groups - 1);
  return p;
}

}  // namespace

TEST_CASE("residency: the exact solver with pair terms (chain and skip edges) equals brute force", "[residency][solver]") {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    std::mt19937_64 rng(seed);
    int feasible = 0, infeasible = 0;
    for (int trial = 0; trial < 40; ++trial) {
      const int groups = 2 + int(rng() % 4), options = 2 + int(rng() % 4);
      const search::Problem p = random_pair_problem(rng, groups, options, trial % 2 == 0);
      // Budgets: none, energy, energy + latency, energy + latency + size, between the extremes
      // of the brute-force totals.
      const int nb = trial % 4;
      const search::Budget b = test::random_budget(rng, p, nb);
      const search::ExactResult ex = search::solve_exact(p, b);
      const search::Solution bf = search::solve_brute_force(p, b);
      INFO("seed " << seed << " trial " << trial << " groups " << groups << " budgets " << nb);
      REQUIRE(ex.best.feasible == bf.feasible);
      if (!bf.feasible) {
        ++infeasible;
        continue;
      }
      ++feasible;
      CHECK(ex.best.sensitivity == Approx(bf.sensitivity).epsilon(1e-12));
      for (int r = 0; r < search::kResources; ++r) CHECK(ex.best.cost[r] <= b.limit[r] * (1 + 1e-12));
      // The exact solution's totals are the one evaluation's (pair terms included).
      std::vector<int> items(p.groups.size());
      const search::Solution re = search::evaluate_choice(p, ex.front.empty() ? items : ex.front.back().item_of_group, b);
      if (!ex.front.empty()) CHECK(re.sensitivity == Approx(ex.front.back().sensitivity));
      // Every front point is the optimum under its own energy budget (no other budget).
      if (nb == 0)
        for (std::size_t k = 0; k < ex.front.size(); k += 1 + ex.front.size() / 6) {
          const search::ParetoPoint& pt = ex.front[k];
          search::Budget eb;
          // (the DP adds item and pair terms in another order than evaluate_choice: rounding)
          eb.limit[search::kEnergy] = pt.cost[search::kEnergy] + 1e-9 * std::max(1.0, std::abs(pt.cost[search::kEnergy]));
          CHECK(search::solve_brute_force(p, eb).sensitivity == Approx(pt.sensitivity).epsilon(1e-12));
          CHECK(search::evaluate_choice(p, pt.item_of_group, eb).cost[search::kEnergy] ==
                Approx(pt.cost[search::kEnergy]).epsilon(1e-12));
        }
      // Heuristics evaluate with the pair terms and never beat the optimum.
      for (const search::Solution& s : {search::solve_uniform(p, b), search::solve_greedy(p, b),
                                        search::solve_random(p, b, 300, seed), search::solve_evolutionary(p, b, 300, seed)}) {
        INFO(s.method);
        if (!s.feasible) continue;
        CHECK(s.sensitivity >= bf.sensitivity - 1e-9);
        std::vector<int> choice(p.groups.size());
        for (std::size_t g = 0; g < p.groups.size(); ++g) {
          const auto& its = p.groups[g].items;
          for (std::size_t j = 0; j < its.size(); ++j)
            if (its[j].option == s.option_of_layer[g]) choice[g] = int(j);
        }
        CHECK(search::evaluate_choice(p, choice, b).cost[search::kEnergy] == Approx(s.cost[search::kEnergy]));
      }
    }
    CHECK(feasible > 10);
    (void)infeasible;
  }
}

TEST_CASE("residency: the search problem's energy and cycles are simulate's, for random configurations",
          "[residency][solver]") {
  // Three networks: the default one, the tiny one (a block ending in a downsample: an add with two
  // inputs on chip) and a dense LSTM one.
  struct Case {
    std::string name, patch;
  };
  const std::string chain = R"("cost_model": {"residency": "chain"})";
  const std::vector<Case> cases{
      {"default", "{" + chain + R"(, "search": {"weight_bits": [2, 4, 8], "activation_bits": [4, 8]}})"},
      {"tiny", std::string(R"({"network": )") + test::kTinyNetworkPatch +
                   R"(, "precision": {"default": {"format": "int", "weights": 8, "activations": 8}, "layers": []}, )" +
                   chain + R"(, "search": {"weight_bits": [4, 8], "activation_bits": [4, 6, 8]}})"},
      {"venue_dense_lstm", ""}};
  std::mt19937_64 rng(11);
  for (const Case& c : cases) {
    Scenario sc;
    if (c.name == "venue_dense_lstm") {
      nlohmann::json j = test::read_json(test::source_path("scenarios/venue_dense_lstm.json"));
      j["cost_model"]["residency"] = "chain";
      j["search"]["weight_bits"] = {4, 8};
      sc = test::scenario_from_text(j.dump());
    } else {
      sc = test::default_scenario_with(c.patch);
    }
    INFO(c.name);
    Pricer eng(sc);
    LayerPrecision base;
    sc.precision.defaults.apply_to(base);
    const std::vector<LayerPrecision> options = candidate_options(sc.search, base);
    const CostTable table = build_cost_table(eng, sc.net, options, sc.phase);
    REQUIRE(table.residency.enabled);
    REQUIRE_FALSE(table.handover_edges.empty());
    search::SensitivityTable sens;
    sens.layers = table.layers;
    sens.options = options;
    sens.values.assign(table.layers.size() * options.size(), 0.0);
    const search::Problem p =
        search::make_problem(table, sens, sc.net, search::Rules{}, std::vector<int>(sc.net.layers.size(), 0));
    std::size_t widest = 0;
    for (const search::Term& t : p.terms) widest = std::max(widest, t.groups.size());
    // A layer's re-timing over its group and its neighbours': three groups where a layer hands
    // over on both sides to layers of other groups (weight-less layers fold into their producer's
    // group: the tiny network's add and pool join its last conv2); the dense LSTM network's one
    // edge, lstm -> head, gives two-group terms only.
    CHECK(widest == (c.name == "venue_dense_lstm" ? 2u : 3u));
    int on_chip = 0, retimed = 0;
    for (int trial = 0; trial < 8; ++trial) {
      std::vector<int> items(p.groups.size());
      for (std::size_t g = 0; g < p.groups.size(); ++g) items[g] = int(rng() % p.groups[g].items.size());
      const std::vector<int> opt = search::expand_choice(p, items);
      std::vector<LayerPrecision> prec;
      for (int o : opt) prec.push_back(options[std::size_t(o)]);
      const NetworkCost nc = eng.network_cost(sc.net, prec, sc.phase);
      for (const HandoverOutcome& h : nc.handovers) on_chip += h.on_chip ? 1 : 0;
      double own_cycles = 0;
      for (std::size_t l = 0; l < sc.net.layers.size(); ++l)
        own_cycles += eng.layer_cost(sc.net, int(l), prec[l], sc.phase).cycles;
      retimed += own_cycles != nc.cycles ? 1 : 0;
      // The search's figures are simulate's: hand-over energy and the touched layers' re-timing.
      const search::Solution s = search::evaluate_choice(p, items, search::Budget{});
      CHECK(s.cost[search::kEnergy] * 1e-6 == Approx(nc.energy_uj).epsilon(1e-12));
      CHECK(s.cost[search::kCycles] == Approx(nc.cycles).epsilon(1e-12));
      const DesignPoint d = evaluate(table, opt.data());
      CHECK(d.energy_uj == Approx(nc.energy_uj).epsilon(1e-12));
      CHECK(d.latency_ms == Approx(nc.latency_ms).epsilon(1e-12));
    }
    CHECK(on_chip > 0);
    CHECK(retimed > 0);  // the hand-overs' first tiles at least are no longer fetched from DRAM
  }
}

TEST_CASE("residency: off by default, default figures unchanged",
          "[residency]") {
  const Scenario sc = test::scenario_from_text(two_linear_scenario(""));
  const SimulationResult r = simulate_mapping(sc, sc.layer_precision);
  CHECK(r.cost.handovers.empty());
  const Scenario none = test::scenario_from_text(two_linear_scenario(R"({"residency": "none"})"));
  CHECK(simulate_mapping(none, none.layer_precision).cost.energy_uj == r.cost.energy_uj);
  // The default scenario as committed (README, docs/mapper.md): 273.2797 uJ, 367,125 cycles.
  const Scenario def = test::default_scenario_with("{}");
  const SimulationResult d = simulate_mapping(def, def.layer_precision);
  CHECK(d.cost.energy_uj == Approx(273.2797).margin(5e-5));
  CHECK(d.cost.cycles == 367125);
  CHECK(d.cost.handovers.empty());
}

// Measurement, not a check (hidden: run with "[.residency_timing]"): the exact solver's time on the
// default scenario's problem with residency off and on, the committed measured sensitivities.
TEST_CASE("residency: exact solve time on the default scenario", "[.residency_timing]") {
  for (const char* mode : {"none", "chain"}) {
    const Scenario sc = test::default_scenario_with(std::string(R"({"cost_model": {"residency": ")") + mode + "\"}}");
    const pipeline::SearchSetup s = pipeline::prepare_search(sc);
    const search::SensitivityTable sens = search::load_sensitivity(
        test::source_path("results/venue_cnn_lstm/sensitivity_measured.json"), sc.net, s.options);
    const search::Problem p = search::make_problem(s.table, sens, sc.net, s.rules, s.default_option);
    const search::Budget b = pipeline::make_budget(sc, s);
    const auto t0 = std::chrono::steady_clock::now();
    const search::ExactResult ex = search::solve_exact(p, b);
    const auto t1 = std::chrono::steady_clock::now();
    search::Budget fb = b;
    fb.limit[search::kEnergy] = std::numeric_limits<double>::infinity();
    const search::ExactResult front = search::solve_exact(p, fb);
    const auto t2 = std::chrono::steady_clock::now();
    std::cout << "residency " << mode << ": groups " << p.groups.size() << ", terms " << p.terms.size()
              << ", budgeted solve " << std::chrono::duration<double>(t1 - t0).count() << " s ("
              << ex.states << " states, energy " << ex.best.cost[search::kEnergy] * 1e-6 << " uJ, sensitivity "
              << ex.best.sensitivity << "), front solve " << std::chrono::duration<double>(t2 - t1).count()
              << " s (" << front.front.size() << " points)\n";
    CHECK(ex.best.feasible);
  }
}

TEST_CASE("residency: chain is refused in a training-phase scenario", "[residency]") {
  std::string text = two_linear_scenario(R"({"residency": "chain"})");
  text.insert(text.rfind('}'), R"(, "phase": "training")");
  const Scenario sc = test::scenario_from_text(text);
  REQUIRE(sc.phase == Phase::Training);
  CHECK_THROWS_WITH(simulate_mapping(sc, sc.layer_precision),
                    "inline.json: /cost_model/residency: expected \"none\" in a training-phase scenario (a "
                    "training step keeps every layer's activations in DRAM for its backward pass; \"chain\" "
                    "hands over inference outputs only), found \"chain\"");
  // Without residency the same training scenario is priced.
  const Scenario none = test::scenario_from_text(
      [&] {
        std::string t = two_linear_scenario("");
        t.insert(t.rfind('}'), R"(, "phase": "training")");
        return t;
      }());
  CHECK(simulate_mapping(none, none.layer_precision).cost.energy_uj > 0);
}
