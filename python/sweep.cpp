// mixprec.SweepRun (behind the mixprec.sweep generator), mixprec.run_sweep and mixprec.merge.
#include <pybind11/stl.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "pipeline/common.hpp"
#include "pipeline/sweep_run.hpp"
#include "core/json_reader.hpp"
#include "python/convert.hpp"
#include "search/sweep_plan.hpp"

namespace mixprec::python {

namespace {

using nlohmann::json;

// A sweep file path, or a dict in the sweep-file format whose relative paths ("base",
// "compute.sensitivity", a precision file) resolve against base_dir.
sweep::SweepSpec sweep_arg(py::handle spec, py::handle base_dir) {
  if (!py::isinstance<py::dict>(spec)) {
    const std::string path = path_arg(spec);
    py::gil_scoped_release nogil;
    return sweep::load_sweep(path);
  }
  const json doc = from_py(spec);
  std::string dir = base_dir.is_none() ? "" : path_arg(base_dir);
  if (!dir.empty() && dir.back() != '/') dir += '/';
  py::gil_scoped_release nogil;
  return sweep::parse_sweep(doc, JsonCtx{"<dict>"}, dir, "sweep");
}

py::dict summary_dict(const pipeline::SweepSummary& s) {
  py::dict d;
  d["total"] = s.total;
  d["skipped"] = s.skipped;
  d["evaluated"] = s.evaluated;
  d["errors"] = s.errors;
  d["discarded"] = s.discarded;
  d["pareto"] = s.pareto;
  d["seconds"] = s.seconds;
  d["out_dir"] = s.out_dir;
  d["complete"] = s.complete;
  return d;
}

// Evaluates a sweep's points on `jobs` C++ threads (pipeline::PointEvaluator, as `mixprec sweep`
// does) and hands them out in index order; waiting for the next point releases the GIL.
class SweepRun {
 public:
  SweepRun(sweep::SweepSpec spec, int jobs) : spec_(std::move(spec)) {
    {
      py::gil_scoped_release nogil;
      points_ = sweep::enumerate_points(spec_, &discarded_);
      eval_ = std::make_unique<pipeline::PointEvaluator>(spec_);
    }
    results_.resize(points_.size());
    const int n = std::max(1, std::min<int>(jobs, int(std::max<std::size_t>(1, points_.size()))));
    for (int t = 0; t < n; ++t) workers_.emplace_back([this] { work(); });
  }
  ~SweepRun() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    py::gil_scoped_release nogil;
    for (auto& w : workers_) w.join();
  }

  py::object next() {
    if (yielded_ == points_.size()) throw py::stop_iteration();
    json line;
    {
      py::gil_scoped_release nogil;
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return results_[yielded_].has_value() || error_; });
      if (!results_[yielded_] && error_) std::rethrow_exception(error_);
      line = std::move(*results_[yielded_]);
      results_[yielded_].reset();
    }
    ++yielded_;
    py::object out = to_py(line);
    lines_.push_back(std::move(line));
    return out;
  }

  // The final outputs (results.csv, pareto.csv, pareto.json) of the points handed out so far,
  // as `mixprec sweep` writes them (pipeline::write_final_outputs).
  py::dict write(const std::string& dir) {
    if (yielded_ != points_.size())
      throw py::value_error("write: " + std::to_string(points_.size() - yielded_) +
                            " points not yet taken from the sweep (iterate it to the end first)");
    pipeline::SweepSummary s;
    s.total = points_.size();
    s.evaluated = yielded_;
    s.discarded = discarded_;
    s.out_dir = dir;
    s.complete = true;
    {
      py::gil_scoped_release nogil;
      pipeline::make_dirs(dir);
      pipeline::write_final_outputs(spec_, lines_, dir, s);
    }
    return summary_dict(s);
  }

  std::size_t size() const { return points_.size(); }
  std::size_t discarded() const { return discarded_; }
  const std::string& name() const { return spec_.name; }
  const std::string& hash() const { return spec_.hash; }

 private:
  void work() {
    for (;;) {
      const std::size_t k = next_.fetch_add(1);
      if (k >= points_.size()) return;
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (stop_ || error_) return;
      }
      try {
        json line = eval_->evaluate(points_[k]);
        std::lock_guard<std::mutex> lk(mu_);
        results_[k] = std::move(line);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu_);
        if (!error_) error_ = std::current_exception();
      }
      cv_.notify_all();
    }
  }

  sweep::SweepSpec spec_;
  std::vector<sweep::Point> points_;
  std::size_t discarded_ = 0;
  std::unique_ptr<pipeline::PointEvaluator> eval_;
  std::vector<std::optional<json>> results_;
  std::vector<json> lines_;
  std::size_t yielded_ = 0;
  std::atomic<std::size_t> next_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> workers_;
};

}  // namespace

void register_sweep(py::module_& m) {
  py::class_<SweepRun>(m, "SweepRun",
      "Iterator over a sweep's point results in index order, evaluated on `jobs` C++ threads "
      "(mixprec.sweep wraps it in a generator). Each item is the point's line of points.jsonl: "
      "{index, key, inputs, status, results | error}.")
      .def(py::init([](py::handle spec, int jobs, py::handle base_dir) {
             if (jobs < 1) throw py::value_error("jobs must be at least 1");
             return std::make_unique<SweepRun>(sweep_arg(spec, base_dir), jobs);
           }),
           py::arg("spec"), py::arg("jobs") = 1, py::arg("base_dir") = py::none())
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &SweepRun::next)
      .def("__len__", &SweepRun::size)
      .def("write", [](SweepRun& r, py::handle dir) { return r.write(path_arg(dir)); }, py::arg("out_dir"),
           "Writes results.csv, pareto.csv and pareto.json of the points taken (all of them).")
      .def_property_readonly("name", &SweepRun::name)
      .def_property_readonly("hash", &SweepRun::hash)
      .def_property_readonly("discarded", &SweepRun::discarded);

  m.def("run_sweep", [](py::handle spec, py::handle out, int jobs, bool resume, bool force, py::handle base_dir) {
        const sweep::SweepSpec s = sweep_arg(spec, base_dir);
        pipeline::SweepOptions o;
        o.out_dir = out.is_none() ? "" : path_arg(out);
        o.jobs = jobs;
        o.resume = resume;
        o.force = force;
        pipeline::SweepSummary sum;
        {
          py::gil_scoped_release nogil;
          sum = pipeline::run_sweep(s, o);
        }
        return summary_dict(sum);
      }, py::arg("spec"), py::arg("out") = py::none(), py::arg("jobs") = 1, py::arg("resume") = false,
      py::arg("force") = false, py::arg("base_dir") = py::none(),
      "`mixprec sweep` as a call: writes the output directory (points.jsonl, results.csv, "
      "pareto.csv, pareto.json, sweep.json) and returns the summary.");

  m.def("merge", [](const std::vector<std::string>& dirs, py::handle out) {
        const std::string o = out.is_none() ? "" : path_arg(out);
        pipeline::SweepSummary sum;
        {
          py::gil_scoped_release nogil;
          sum = pipeline::merge_shards(dirs, o);
        }
        return summary_dict(sum);
      }, py::arg("shard_dirs"), py::arg("out") = py::none(),
      "`mixprec merge`: joins the outputs of a sharded sweep into `out`; returns the summary.");
}

}  // namespace mixprec::python
