// Shared pieces of the Python bindings: JSON <-> Python objects, the exception types, and the
// per-file registration functions module.cpp calls.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>

#include "core/spec.hpp"

namespace mixprec::python {

namespace py = pybind11;

// JSON values as Python dicts / lists / str / int / float / bool / None and back. Integers stay
// integers; a Python float that holds an integral value stays a float (JSON number 4.0).
py::object to_py(const nlohmann::json& j);
nlohmann::json from_py(py::handle h);

// A scenario from a path, or a precision given as None (the scenario's own), a path or a dict in
// the precision-file format ("mixprec_precision": 1). Ranks a precision file carries are set on
// `sc.net`, as the CLI's --precision does.
std::vector<LayerPrecision> precision_arg(Scenario& sc, py::handle precision);

// A path given as str or os.PathLike.
std::string path_arg(py::handle h);

void register_errors(py::module_& m);
void register_scenario(py::module_& m);
void register_sweep(py::module_& m);
void register_runs(py::module_& m);

}  // namespace mixprec::python
