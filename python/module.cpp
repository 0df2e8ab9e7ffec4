// The mixprec Python module (docs/python.md). Every function calls the C++ libraries; the GIL
// is released while they work.
#include "python/convert.hpp"

PYBIND11_MODULE(_mixprec, m) {
  m.doc() = "mixprec: hardware-aware energy simulation and precision search (C++ bindings)";
  mixprec::python::register_errors(m);
  mixprec::python::register_scenario(m);
  mixprec::python::register_sweep(m);
  mixprec::python::register_runs(m);
}
