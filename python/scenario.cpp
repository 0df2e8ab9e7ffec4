// mixprec.Scenario, SimulationResult, CostTable and SearchResult.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <limits>
#include <memory>

#include "pipeline/search_run.hpp"
#include "pipeline/sensitivity_run.hpp"
#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/scenario.hpp"
#include "python/convert.hpp"
#include "python/scenario.hpp"
#include "search/io.hpp"
#include "search/solver.hpp"
#include "sim/cost_json.hpp"
#include "sim/mapping_engine.hpp"
#include "sim/pricer.hpp"
#include "sim/simulate.hpp"
#include "sim/systemc/engine.hpp"

namespace mixprec::python {

namespace {

using nlohmann::json;

// A read-only NumPy view of `count` values of type T starting at `first`, one every `stride`
// bytes (a column of an array of structs), kept alive by `owner`.
template <class T>
py::array view_2d(const T* first, std::size_t rows, std::size_t cols, std::size_t row_stride,
                  std::size_t col_stride, py::handle owner) {
  py::array_t<T> a({rows, cols}, {row_stride, col_stride}, first, owner);
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return std::move(a);
}

// --- simulation results -------------------------------------------------------------------------

struct SimResult {
  std::shared_ptr<const Scenario> sc;
  sim::SimulationResult r;
  json doc;  // sim::network_to_json: the CLI's `simulate --format json` without the manifest
  std::vector<std::vector<sim::NestMapping>> mappings;  // the mapping engine's nests per layer
};

// The mapping engine's nest analysis as a long table, one row per (layer, nest, level, data space
// kept there): counts for one execution of the nest over all utilized instances (per-instance
// reads / fills / updates x utilized instances); the layer's counts are these x repeats.
py::dict level_records(const SimResult& s) {
  if (s.r.engine != "mapping")
    throw UsageError("level_records(): the per-level records come from the mapping engine (simulate(engine="
                     "\"mapping\")), this result is from \"" + s.r.engine + "\"");
  std::vector<std::int64_t> layer, nest_i, repeats, instances, capacity, reads, fills, updates;
  std::vector<double> energy;
  py::list pass, level, tensor;
  for (std::size_t i = 0; i < s.mappings.size(); ++i)
    for (std::size_t k = 0; k < s.mappings[i].size(); ++k) {
      const sim::NestMapping& nm = s.mappings[i][k];
      const sim::nest::Problem& pr = nm.result.problem;
      const sim::nest::Result& r = nm.result.result;
      for (int l = 0; l < r.n_levels; ++l)
        for (std::size_t d = 0; d < pr.dataspaces.size(); ++d) {
          const sim::nest::DataspaceStats& ds = r.levels[std::size_t(l)].ds[d];
          if (!ds.kept) continue;
          layer.push_back(std::int64_t(i));
          nest_i.push_back(std::int64_t(k));
          repeats.push_back(nm.repeats);
          pass.append(nm.pass);
          level.append(nm.arch.levels[std::size_t(l)].name);
          tensor.append(pr.dataspaces[d].name);
          instances.push_back(ds.utilized_instances);
          capacity.push_back(ds.utilized_capacity);
          reads.push_back(ds.reads * ds.utilized_instances);
          fills.push_back(ds.fills * ds.utilized_instances);
          updates.push_back(ds.updates * ds.utilized_instances);
          energy.push_back(ds.energy_pj);
        }
    }
  auto arr = [](const auto& v) { return py::array(py::cast(v)); };
  py::dict d;
  d["layer"] = arr(layer);
  d["nest"] = arr(nest_i);
  d["pass"] = pass;
  d["repeats"] = arr(repeats);
  d["level"] = level;
  d["tensor"] = tensor;
  d["utilized_instances"] = arr(instances);
  d["utilized_capacity"] = arr(capacity);
  d["reads"] = arr(reads);
  d["fills"] = arr(fills);
  d["updates"] = arr(updates);
  d["energy_pj"] = arr(energy);
  return d;
}

py::dict sim_to_numpy(const SimResult& s) {
  const std::vector<sim::LayerCost>& ls = s.r.cost.layers;
  const std::size_t n = ls.size();
  py::array_t<std::int64_t> macs(n), nonlinear(n), rf(n), hops(n);
  py::array_t<double> cycles(n), compute(n), util(n), energy_total(n);
  py::array_t<double> energy({n, sim::kComponents});
  py::array_t<double> stalls({n, std::size_t(4)});
  // traffic[layer, level (dram, buffer), tensor (weights, inputs, outputs)]
  const std::vector<std::size_t> tshape{n, 2, sim::kTensors};
  py::array_t<std::int64_t> reads(tshape), writes(tshape), read_bits(tshape), write_bits(tshape);
  py::array_t<bool> fits(n);
  auto m = macs.mutable_unchecked<1>();
  auto nl = nonlinear.mutable_unchecked<1>();
  auto rfa = rf.mutable_unchecked<1>();
  auto hp = hops.mutable_unchecked<1>();
  auto cy = cycles.mutable_unchecked<1>();
  auto cc = compute.mutable_unchecked<1>();
  auto ut = util.mutable_unchecked<1>();
  auto et = energy_total.mutable_unchecked<1>();
  auto e = energy.mutable_unchecked<2>();
  auto st = stalls.mutable_unchecked<2>();
  auto rd = reads.mutable_unchecked<3>();
  auto wr = writes.mutable_unchecked<3>();
  auto rb = read_bits.mutable_unchecked<3>();
  auto wb = write_bits.mutable_unchecked<3>();
  auto f = fits.mutable_unchecked<1>();
  for (std::size_t i = 0; i < n; ++i) {
    const sim::LayerCost& l = ls[i];
    m(i) = l.macs;
    nl(i) = l.nonlinear_ops;
    rfa(i) = l.register_file_accesses;
    hp(i) = l.interconnect_hops;
    cy(i) = l.cycles;
    cc(i) = l.compute_cycles;
    ut(i) = l.utilization;
    et(i) = l.energy_total_pj();
    f(i) = l.fits;
    for (std::size_t c = 0; c < sim::kComponents; ++c) e(i, c) = l.energy_pj[c];
    st(i, 0) = l.stalls.dram_stall_cycles;
    st(i, 1) = l.stalls.fill_drain_cycles;
    st(i, 2) = l.stalls.recurrent_cycles;
    st(i, 3) = l.stalls.contention_cycles;
    for (std::size_t lvl = 0; lvl < 2; ++lvl)
      for (std::size_t t = 0; t < sim::kTensors; ++t) {
        const sim::Traffic& tr = lvl == 0 ? l.dram[t] : l.buffer[t];
        rd(i, lvl, t) = tr.reads;
        wr(i, lvl, t) = tr.writes;
        rb(i, lvl, t) = tr.read_bits;
        wb(i, lvl, t) = tr.write_bits;
      }
  }
  py::dict d;
  d["macs"] = macs;
  d["nonlinear_ops"] = nonlinear;
  d["register_file_accesses"] = rf;
  d["interconnect_hops"] = hops;
  d["cycles"] = cycles;
  d["compute_cycles"] = compute;
  d["utilization"] = util;
  d["energy_pj"] = energy;
  d["energy_total_pj"] = energy_total;
  d["stall_cycles"] = stalls;
  d["reads"] = reads;
  d["writes"] = writes;
  d["read_bits"] = read_bits;
  d["write_bits"] = write_bits;
  d["fits"] = fits;
  return d;
}

// --- cost tables --------------------------------------------------------------------------------

struct CostTable {
  std::shared_ptr<const Scenario> sc;
  std::shared_ptr<const pipeline::SearchSetup> setup;
  const sim::CostTable& table() const { return setup->table; }
};

// A read-only [layer, option] view of one field of the table's entries.
template <class T>
py::array table_view(py::object self, T sim::CostEntry::*field) {
  const sim::CostTable& t = self.cast<const CostTable&>().table();
  const std::size_t row = sizeof(sim::CostEntry) * t.options.size();
  return view_2d(&(t.entries[0].*field), t.layers.size(), t.options.size(), row, sizeof(sim::CostEntry), self);
}

// A (layers,) or (points, layers) array of option indices, checked against the table.
py::array_t<int, py::array::c_style | py::array::forcecast> choices_arg(const CostTable& t, py::handle h,
                                                                         std::size_t* points) {
  auto a = py::array_t<int, py::array::c_style | py::array::forcecast>::ensure(h);
  if (!a) throw py::type_error("choice: an integer array of option indices");
  const std::size_t layers = t.table().layers.size(), options = t.table().options.size();
  if (a.ndim() == 1 && std::size_t(a.shape(0)) == layers) {
    *points = 1;
  } else if (a.ndim() == 2 && std::size_t(a.shape(1)) == layers) {
    *points = std::size_t(a.shape(0));
  } else {
    throw py::value_error("choice: shape (" + std::to_string(layers) + ",) or (points, " +
                          std::to_string(layers) + "): one option index per layer");
  }
  const int* p = a.data();
  for (std::size_t i = 0; i < *points * layers; ++i)
    if (p[i] < 0 || std::size_t(p[i]) >= options)
      throw py::index_error("choice: option index " + std::to_string(p[i]) + " at position " + std::to_string(i) +
                            " is outside [0, " + std::to_string(options) + ")");
  return a;
}

py::dict design_point_dict(const sim::DesignPoint& d) {
  py::dict r;
  r["energy_uj"] = d.energy_uj;
  r["latency_ms"] = d.latency_ms;
  r["dram_bytes"] = d.dram_bytes;
  r["size_bytes"] = d.size_bytes;
  r["fits"] = d.fits;
  return r;
}

// --- search -------------------------------------------------------------------------------------

struct SearchResult {
  py::object precision, chosen, pareto, solvers, sensitivity, budget;
};

search::SensitivityTable sensitivity_arg(const Scenario& sc, const pipeline::SearchSetup& setup, py::handle sensitivity,
                                         py::handle checkpoint, const std::string& method, int threads,
                                         int synthetic, std::string* file, json* info) {
  if (!sensitivity.is_none() && !checkpoint.is_none())
    throw UsageError("give either sensitivity= (a table file) or checkpoint=, not both");
  if (!sensitivity.is_none()) {
    *file = path_arg(sensitivity);
    py::gil_scoped_release nogil;
    search::SensitivityTable t = search::load_sensitivity(*file, sc.net, setup.options, sc.search.ranks);
    *info = {{"method", t.method}, {"source", "file"}, {"file", *file}};
    return t;
  }
  if (checkpoint.is_none())
    throw UsageError("search needs sensitivities: pass sensitivity=TABLE.json or checkpoint=CKPT");
  pipeline::SensitivityRequest req;
  pipeline::set_method(req, method.empty() ? sc.search.sensitivity : method);
  req.checkpoint = path_arg(checkpoint);
  req.threads = threads;
  req.synthetic = synthetic;
  py::gil_scoped_release nogil;
  pipeline::SensitivityResult r = pipeline::compute_sensitivity(sc, setup.options, req);
  *file = r.cache_path;
  *info = {{"method", r.table.method}, {"source", r.from_cache ? "cache" : "computed"},
           {"file", r.cache_path}, {"checkpoint", req.checkpoint}, {"cache_status", r.cache_status}};
  return std::move(r.table);
}

py::dict solution_dict(const search::Problem& p, const search::Solution& s, double base_uj) {
  py::dict d = to_py(pipeline::cost_summary(p, s.cost, s.sensitivity, base_uj));
  d["method"] = s.method;
  d["feasible"] = s.feasible;
  d["option_of_layer"] = s.option_of_layer;
  return d;
}

}  // namespace

std::shared_ptr<const Scenario> PyScenario::parsed() const { return sc; }

PyScenario PyScenario::load(const std::string& path) {
  PyScenario s;
  py::gil_scoped_release nogil;
  JsonDoc d = JsonDoc::load(path);
  s.sc = std::make_shared<const Scenario>(parse_scenario(d.root(), d.ctx()));
  s.doc = d.root();
  return s;
}

PyScenario PyScenario::from_json(json doc) {
  PyScenario s;
  py::gil_scoped_release nogil;
  s.sc = std::make_shared<const Scenario>(parse_scenario(doc, JsonCtx{"<dict>"}));
  s.doc = std::move(doc);
  return s;
}

void register_scenario(py::module_& m) {
  py::list components, tensors;
  for (std::size_t c = 0; c < sim::kComponents; ++c) components.append(sim::to_string(sim::Component(c)));
  for (std::size_t t = 0; t < sim::kTensors; ++t) tensors.append(sim::to_string(sim::Tensor(t)));
  m.attr("COMPONENTS") = py::tuple(components);
  m.attr("TENSORS") = py::tuple(tensors);
  m.attr("LEVELS") = py::make_tuple("dram", "buffer");
  m.attr("STALLS") = py::make_tuple("dram", "fill_drain", "recurrent", "contention");

  py::class_<SimResult, std::shared_ptr<SimResult>>(m, "SimulationResult",
      "A priced design point: per-layer records and totals as dicts (the CLI's `simulate --format "
      "json` content), and the same as NumPy columns (to_numpy()).")
      .def_property_readonly("engine", [](const SimResult& s) { return s.r.engine; })
      .def_property_readonly("layers", [](const SimResult& s) { return to_py(s.doc.at("layers")); })
      .def_property_readonly("total", [](const SimResult& s) { return to_py(s.doc.at("total")); })
      .def_property_readonly("baselines", [](const SimResult& s) { return to_py(s.doc.at("baselines")); })
      .def_property_readonly("layer_names", [](const SimResult& s) {
        std::vector<std::string> n;
        for (const auto& l : s.r.cost.layers) n.push_back(l.name);
        return n;
      })
      .def("to_dict", [](const SimResult& s) { return to_py(s.doc); },
           "The CLI's `simulate --format json` document without its manifest.")
      .def_property_readonly("mappings", [](const SimResult& s) {
        if (s.r.engine != "mapping")
          throw UsageError("mappings: the loop nests come from the mapping engine (simulate(engine=\"mapping\")), "
                           "this result is from \"" + s.r.engine + "\"");
        return to_py(sim::mappings_to_json(s.sc->net, s.mappings, sim::objective_of(s.sc->cost_model.objective)));
      }, "Every layer's priced loop nests (the mapping engine): the CLI's `simulate --show-mapping "
         "--format json` \"mappings\" list.")
      .def("level_records", &level_records,
           "The mapping engine's nest analysis as NumPy columns, one row per (layer, nest, level, "
           "tensor kept there): layer, nest, repeats, utilized_instances, utilized_capacity, reads, "
           "fills, updates (one execution of the nest, all instances; x repeats for the layer), "
           "energy_pj; pass, level, tensor as lists of str.")
      .def("to_numpy", &sim_to_numpy,
           "Per-layer columns: 1-D [layer] (macs, cycles, energy_total_pj, ...), energy_pj "
           "[layer, COMPONENTS], stall_cycles [layer, STALLS], reads / writes / read_bits / "
           "write_bits [layer, LEVELS, TENSORS].")
      .def("__repr__", [](const SimResult& s) {
        return "<mixprec.SimulationResult " + s.sc->name + " engine=" + s.r.engine + " energy_uj=" +
               format_number(s.r.cost.energy_uj) + ">";
      });

  py::class_<CostTable, std::shared_ptr<CostTable>>(m, "CostTable",
      "cost[layer, option] priced once by the scenario's engine (cost_model; what the search reads). The "
      "arrays are read-only views of the C++ table (no copy); evaluate() sums a design point "
      "in C++.")
      .def_property_readonly("layers", [](const CostTable& t) { return t.table().layers; })
      .def_property_readonly("options", [](const CostTable& t) {
        py::list l;
        for (const auto& o : t.table().options) l.append(sim::precision_label(o, false));
        return l;
      })
      .def_property_readonly("shape", [](const CostTable& t) {
        return py::make_tuple(t.table().layers.size(), t.table().options.size());
      })
      .def_property_readonly("clock_mhz", [](const CostTable& t) { return t.table().clock_mhz; })
      .def_property_readonly("baseline_energy_uj", [](const CostTable& t) { return t.setup->baseline_energy_uj; })
      .def_property_readonly("default_option", [](const CostTable& t) {
        return py::array_t<int>(py::ssize_t(t.setup->default_option.size()), t.setup->default_option.data());
      }, "Per layer, the index of its scenario precision among the options (-1: none).")
      .def_property_readonly("energy_pj", [](py::object self) { return table_view(self, &sim::CostEntry::energy_pj); })
      .def_property_readonly("cycles", [](py::object self) { return table_view(self, &sim::CostEntry::cycles); })
      .def_property_readonly("dram_bytes", [](py::object self) { return table_view(self, &sim::CostEntry::dram_bytes); })
      .def_property_readonly("weight_bytes", [](py::object self) { return table_view(self, &sim::CostEntry::weight_bytes); })
      .def_property_readonly("fits", [](py::object self) { return table_view(self, &sim::CostEntry::fits); })
      .def("evaluate", [](const CostTable& t, py::handle choice) -> py::object {
        std::size_t points = 0;
        const auto a = choices_arg(t, choice, &points);
        const std::size_t layers = t.table().layers.size();
        if (a.ndim() == 1) return design_point_dict(sim::evaluate(t.table(), a.data()));
        py::array_t<double> energy(points), latency(points), dram(points), size(points);
        py::array_t<bool> fits(points);
        {
          double *pe = energy.mutable_data(), *pl = latency.mutable_data(), *pd = dram.mutable_data(),
                 *ps = size.mutable_data();
          bool* pf = fits.mutable_data();
          const int* c = a.data();
          py::gil_scoped_release nogil;
          for (std::size_t i = 0; i < points; ++i) {
            const sim::DesignPoint d = sim::evaluate(t.table(), c + i * layers);
            pe[i] = d.energy_uj; pl[i] = d.latency_ms; pd[i] = d.dram_bytes; ps[i] = d.size_bytes; pf[i] = d.fits;
          }
        }
        py::dict r;
        r["energy_uj"] = energy; r["latency_ms"] = latency; r["dram_bytes"] = dram;
        r["size_bytes"] = size; r["fits"] = fits;
        return std::move(r);
      }, py::arg("choice"),
         "Sums one option per layer (sim::evaluate, no copy of the table): choice of shape "
         "(layers,) gives a dict of floats, (points, layers) a dict of arrays.");

  py::class_<SearchResult>(m, "SearchResult",
      "The chosen configuration (precision: a precision-file dict), its summary (chosen), every "
      "solver's pick (solvers) and the (energy, sensitivity) Pareto front as arrays (pareto).")
      .def_readonly("precision", &SearchResult::precision)
      .def_readonly("chosen", &SearchResult::chosen)
      .def_readonly("pareto", &SearchResult::pareto)
      .def_readonly("solvers", &SearchResult::solvers)
      .def_readonly("sensitivity", &SearchResult::sensitivity)
      .def_readonly("budget", &SearchResult::budget);

  py::class_<PyScenario>(m, "Scenario",
      "A validated scenario (the CLI's `validate`): load(path) or from_dict(d); to_dict() gives "
      "the document back. Invalid input raises mixprec.SpecError.")
      .def_static("load", [](py::handle path) { return PyScenario::load(path_arg(path)); }, py::arg("path"))
      .def_static("from_dict", [](py::handle d) { return PyScenario::from_json(from_py(d)); }, py::arg("d"))
      .def("to_dict", [](const PyScenario& s) { return to_py(s.doc); })
      .def_property_readonly("name", [](const PyScenario& s) { return s.sc->name; })
      .def_property_readonly("file", [](const PyScenario& s) { return s.sc->file; })
      .def_property_readonly("layers", [](const PyScenario& s) {
        std::vector<std::string> n;
        for (const auto& l : s.sc->net.layers) n.push_back(l.name);
        return n;
      })
      .def_property_readonly("parameters", [](const PyScenario& s) { return s.sc->net.parameter_count(); })
      .def("precision", [](const PyScenario& s, py::handle precision) {
        Scenario sc = *s.sc;
        const std::vector<LayerPrecision> p = precision_arg(sc, precision);
        return to_py(precision_to_json(sc.net, p));
      }, py::arg("precision") = py::none(),
         "The per-layer precision (the scenario's, or a precision file / dict resolved against "
         "the network) as a precision-file dict.")
      .def("simulate", [](const PyScenario& s, py::handle precision, py::object engine_arg) {
        const std::string engine =
            engine_arg.is_none() ? std::string(to_string(s.sc->cost_model.engine)) : engine_arg.cast<std::string>();
        if (engine != "mapping" && engine != "analytical" && engine != "systemc")
          throw UsageError("engine: \"mapping\", \"analytical\" or \"systemc\", found \"" + engine + "\"");
        auto out = std::make_shared<SimResult>();
        std::vector<LayerPrecision> p;
        if (precision.is_none()) {
          out->sc = s.sc;  // no copy: nothing changes the scenario's network
        } else {
          auto sc = std::make_shared<Scenario>(*s.sc);  // a precision file's ranks change sc->net
          p = precision_arg(*sc, precision);
          out->sc = sc;
        }
        {
          py::gil_scoped_release nogil;
          const Scenario& sc = *out->sc;
          if (precision.is_none()) p = sc.layer_precision;
          if (engine == "systemc")
            out->r = std::move(sim::systemc::simulate(sc, p).result);
          else if (engine == "mapping")
            out->r = sim::simulate_mapping(sc, p, &out->mappings);
          else
            out->r = sim::simulate_analytical(sc, p);
          out->doc = sim::network_to_json(sc, out->r.cost, out->r.baselines, out->r.engine);
        }
        return out;
      }, py::arg("precision") = py::none(), py::arg("engine") = py::none(),
         "Prices every layer and the uniform baselines (the CLI's `simulate`). precision: None "
         "(the scenario's), a precision file path or a precision-file dict. engine: None (the "
         "scenario's cost_model.engine, \"mapping\" on asic hardware), \"mapping\", "
         "\"analytical\" or \"systemc\". engine=\"systemc\" "
         "runs the one SystemC kernel of the process: such calls serialize (a lock), the others "
         "run in parallel.")
      .def("cost_table", [](const PyScenario& s, py::handle options) {
        auto out = std::make_shared<CostTable>();
        if (options.is_none()) {
          out->sc = s.sc;
        } else {
          // Candidate options as search-section keys (weight_bits, activation_bits,
          // float_formats, rules ...) over the scenario's own: validated by the scenario parser.
          json doc = s.doc;
          json over = from_py(options);
          if (!over.is_object()) throw py::type_error("options: a dict of search-section keys");
          if (!doc.contains("search")) doc["search"] = json::object();
          doc["search"].update(over);
          py::gil_scoped_release nogil;
          out->sc = std::make_shared<const Scenario>(parse_scenario(doc, JsonCtx{s.sc->file.empty() ? "<dict>" : s.sc->file}));
        }
        py::gil_scoped_release nogil;
        out->setup = std::make_shared<const pipeline::SearchSetup>(pipeline::prepare_search(*out->sc));
        return out;
      }, py::arg("options") = py::none(),
         "The search's cost table (options: None for the scenario's search section, or a dict of "
         "search-section keys that replace its own, e.g. {\"weight_bits\": [4, 8]}).")
      .def("search", [](const PyScenario& s, py::object budget, py::object sensitivity, py::object checkpoint,
                        const std::string& method, int threads, int synthetic) {
        Scenario sc = *s.sc;
        if (!budget.is_none()) {
          const double b = budget.cast<double>();
          if (!(b > 0 && b <= 1)) throw UsageError("budget must be in (0, 1], found " + format_number(b));
          sc.constraints.energy.fraction = b;
          sc.constraints.energy.energy_uj.reset();
        }
        std::shared_ptr<pipeline::SearchSetup> setup;
        {
          py::gil_scoped_release nogil;
          setup = std::make_shared<pipeline::SearchSetup>(pipeline::prepare_search(sc));
        }
        std::string sens_file;
        json sens_info;
        const search::SensitivityTable sens =
            sensitivity_arg(sc, *setup, sensitivity, checkpoint, method, threads, synthetic, &sens_file, &sens_info);
        std::unique_ptr<pipeline::SearchOutcome> out;
        {
          py::gil_scoped_release nogil;
          out = std::make_unique<pipeline::SearchOutcome>(pipeline::solve_search(sc, *setup, sens, sens_file));
        }
        const search::Problem& prob = out->problem;
        const search::Solution& chosen = out->chosen;
        const search::Budget& b = out->budget;
        const double base_uj = setup->baseline_energy_uj;
        SearchResult r;
        json prec = precision_to_json(sc.net, pipeline::chosen_precision(sc, *setup, chosen));
        if (!sc.search.ranks.empty()) {
          const std::vector<Factorization> f = pipeline::chosen_factorization(sc, chosen);
          json ranks = json::object();
          for (const SearchSpec::RankSearch& rs : sc.search.ranks)
            ranks[rs.layer] = ranks_to_json(f[std::size_t(sc.net.find(rs.layer))]);
          prec["ranks"] = ranks;
        }
        r.precision = to_py(prec);
        r.chosen = solution_dict(prob, chosen, base_uj);
        py::dict sd;
        sd["exact"] = solution_dict(prob, out->exact.best, base_uj);
        for (const auto& sol : out->baselines) sd[py::str(sol.method)] = solution_dict(prob, sol, base_uj);
        r.solvers = sd;
        // The front as columns (the CLI's pareto.json, one array per key).
        const std::vector<search::ParetoPoint>& front = out->front.front;
        const char* keys[] = {"energy_uj", "latency_ms", "size_bytes", "sensitivity", "saving_percent"};
        std::vector<py::array_t<double>> cols;
        for (std::size_t k = 0; k < 5; ++k) cols.emplace_back(front.size());
        for (std::size_t i = 0; i < front.size(); ++i) {
          const json pt = pipeline::cost_summary(prob, front[i].cost, front[i].sensitivity, base_uj);
          for (std::size_t k = 0; k < 5; ++k) cols[k].mutable_at(i) = pt.at(keys[k]).get<double>();
        }
        py::dict pd;
        for (std::size_t k = 0; k < 5; ++k) pd[keys[k]] = cols[k];
        r.pareto = pd;
        r.sensitivity = to_py(sens_info);
        py::dict bd;
        bd["energy_uj"] = b.active(search::kEnergy) ? py::object(py::float_(b.limit[search::kEnergy] * 1e-6)) : py::none();
        bd["baseline"] = sc.constraints.energy.baseline;
        bd["baseline_energy_uj"] = base_uj;
        r.budget = bd;
        return r;
      }, py::arg("budget") = py::none(), py::arg("sensitivity") = py::none(), py::arg("checkpoint") = py::none(),
         py::arg("method") = "", py::arg("threads") = 1, py::arg("synthetic") = 0,
         "Per-layer precisions under the scenario's budgets (the CLI's `search`): budget is a "
         "fraction of the baseline's energy (None: the scenario's constraint); sensitivities from "
         "a table file (sensitivity=) or computed from a checkpoint (checkpoint=, cached next to it).")
      .def("__repr__", [](const PyScenario& s) {
        return "<mixprec.Scenario " + s.sc->name + " (" + std::to_string(s.sc->net.layers.size()) + " layers)>";
      });
}

}  // namespace mixprec::python
