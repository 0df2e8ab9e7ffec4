// mixprec.train, mixprec.eval and mixprec.reproduce: the CLI's runs as calls returning their
// summary dicts, with progress through an optional Python callback.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "core/progress.hpp"
#include "pipeline/reproduce.hpp"
#include "pipeline/training.hpp"
#include "core/errors.hpp"
#include "python/convert.hpp"
#include "python/scenario.hpp"

namespace mixprec::python {

namespace {

using nlohmann::json;

// The Python callback as a C++ one: called from the C++ run (GIL released), it takes the GIL for
// the call; an exception it raises stops the run and reaches the caller.
std::function<void(const json&)> callback_arg(py::object cb) {
  if (cb.is_none()) return {};
  if (!PyCallable_Check(cb.ptr())) throw py::type_error("progress: a callable taking one dict, or None");
  auto holder = std::make_shared<py::object>(std::move(cb));
  return [holder](const json& j) {
    py::gil_scoped_acquire gil;
    (*holder)(to_py(j));
  };
}

// A Python Scenario or a path.
PyScenario scenario_arg(py::handle s) {
  if (py::isinstance<PyScenario>(s)) return s.cast<PyScenario>();
  return PyScenario::load(path_arg(s));
}

// Runs `f` (returning a summary document) without the GIL; the summary as Python objects.
template <class F>
py::object released(F&& f) {
  json j;
  {
    py::gil_scoped_release nogil;
    j = f();
  }
  return to_py(j);
}

// A run's precision and its label (a path, or "<dict>"); none given: FP32.
template <class Request>
void set_precision(Request& r, py::handle precision) {
  if (precision.is_none()) return;
  r.precision = precision_arg(r.sc, precision);
  r.precision_label = py::isinstance<py::dict>(precision) ? "<dict>" : path_arg(precision);
}

}  // namespace

void register_runs(py::module_& m) {
  m.def("train", [](py::handle scenario, py::handle out, py::handle precision, py::handle init_from,
                    bool resume, int epochs, int threads, int synthetic, py::object progress, bool verbose) {
        const PyScenario s = scenario_arg(scenario);
        pipeline::TrainRequest r;
        r.scenario_file = s.sc->file;
        r.sc = *s.sc;
        if (epochs > 0) r.sc.training.epochs = epochs;
        set_precision(r, precision);
        r.out = out.is_none() ? r.sc.report.out_dir + "/" + r.sc.name + "-train" : path_arg(out);
        r.resume = resume;
        if (!init_from.is_none()) r.init_from = path_arg(init_from);
        if (r.resume && !r.init_from.empty()) throw UsageError("give either resume=True or init_from, not both");
        r.threads = threads;
        r.synthetic = synthetic;
        if (verbose) r.log = stderr_progress();
        r.progress = verbose;
        r.on_epoch = callback_arg(progress);
        return released([&] { return pipeline::run_training(r); });
      }, py::arg("scenario"), py::arg("out") = py::none(), py::arg("precision") = py::none(),
      py::arg("init_from") = py::none(), py::arg("resume") = false, py::arg("epochs") = 0, py::arg("threads") = 1,
      py::arg("synthetic") = 0, py::arg("progress") = py::none(), py::arg("verbose") = false,
      "`mixprec train`: FP32, or quantization-aware at `precision` (a precision file path or "
      "dict). Writes OUT/summary.json and checkpoints; returns the summary. progress(epoch_dict) "
      "is called after every epoch.");

  m.def("eval", [](py::handle scenario, py::handle checkpoint, py::handle precision, const std::string& split,
                   bool integer, int threads, int synthetic, int calibration_batches) {
        const PyScenario s = scenario_arg(scenario);
        pipeline::EvalRequest r;
        r.sc = *s.sc;
        r.checkpoint = path_arg(checkpoint);
        set_precision(r, precision);
        if (split != "train" && split != "val" && split != "test")
          throw UsageError("split: \"train\", \"val\" or \"test\", found \"" + split + "\"");
        r.split = split;
        r.integer = integer;
        r.threads = threads;
        r.synthetic = synthetic;
        r.calibration_batches = calibration_batches;
        return released([&] { return pipeline::run_eval(r); });
      }, py::arg("scenario"), py::arg("checkpoint"), py::arg("precision") = py::none(), py::arg("split") = "test",
      py::arg("integer") = false, py::arg("threads") = 1, py::arg("synthetic") = 0,
      py::arg("calibration_batches") = 8, "`mixprec eval`: evaluates a checkpoint; returns the metrics dict.");

  m.def("reproduce", [](py::handle scenario, py::handle out, bool quick, int threads, int jobs, int seeds,
                        bool full, py::handle budgets, bool resume, bool force, py::object progress) {
        pipeline::ReproduceOptions o;
        if (py::isinstance<PyScenario>(scenario)) {
          o.file = scenario.cast<PyScenario>().sc->file;
          if (o.file.empty() || o.file == "<dict>")
            throw UsageError("reproduce needs a scenario read from a file (its report records the file's "
                             "hash): save the dict as JSON and pass Scenario.load(path) or the path");
        } else {
          o.file = path_arg(scenario);
        }
        o.out = out.is_none() ? "" : path_arg(out);
        o.quick = quick;
        o.threads = threads;
        o.jobs = jobs;
        o.seeds = seeds;
        o.full = full;
        if (!budgets.is_none()) o.budgets = budgets.cast<std::vector<double>>();
        o.resume = resume;
        o.force = force;
        if (const auto cb = callback_arg(progress))
          o.progress = [cb](const std::string& line, bool transient) {
            if (!transient) cb(json{{"event", "stage"}, {"message", line}});
          };
        return released([&] { return pipeline::run_reproduce(o); });
      }, py::arg("scenario"), py::arg("out") = py::none(), py::arg("quick") = false, py::arg("threads") = 1,
      py::arg("jobs") = 0, py::arg("seeds") = 1, py::arg("full") = false, py::arg("budgets") = py::none(),
      py::arg("resume") = false, py::arg("force") = false, py::arg("progress") = py::none(),
      "`mixprec reproduce`: seeds, the frontier, the uniform ladder and the verdict; returns "
      "report.json's content. progress(event) gets {\"event\": \"stage\", \"message\"} for every "
      "stage line the CLI prints (from worker threads, with the GIL taken).");
}

}  // namespace mixprec::python
