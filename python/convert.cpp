#include "python/convert.hpp"

#include <cmath>

#include "pipeline/common.hpp"
#include "core/errors.hpp"
#include "core/json_reader.hpp"
#include "core/scenario.hpp"
#include "model/trainer.hpp"

namespace mixprec::python {

py::object to_py(const nlohmann::json& j) {
  using T = nlohmann::json::value_t;
  switch (j.type()) {
    case T::null: return py::none();
    case T::boolean: return py::bool_(j.get<bool>());
    case T::number_integer: return py::int_(j.get<std::int64_t>());
    case T::number_unsigned: return py::int_(j.get<std::uint64_t>());
    case T::number_float: return py::float_(j.get<double>());
    case T::string: return py::str(j.get_ref<const std::string&>());
    case T::array: {
      py::list l(j.size());
      for (std::size_t i = 0; i < j.size(); ++i) l[i] = to_py(j[i]);
      return std::move(l);
    }
    case T::object: {
      py::dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d[py::str(it.key())] = to_py(it.value());
      return std::move(d);
    }
    default: return py::none();  // binary and discarded values never occur in mixprec documents
  }
}

nlohmann::json from_py(py::handle h) {
  if (h.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(h)) return h.cast<bool>();
  if (py::isinstance<py::int_>(h)) {
    const long long v = h.cast<long long>();
    return v;
  }
  if (py::isinstance<py::float_>(h)) return h.cast<double>();
  if (py::isinstance<py::str>(h)) return h.cast<std::string>();
  if (py::isinstance<py::dict>(h)) {
    nlohmann::json o = nlohmann::json::object();
    for (auto kv : h.cast<py::dict>()) {
      if (!py::isinstance<py::str>(kv.first))
        throw py::type_error("mixprec: dict keys must be str, found " +
                             std::string(py::str(kv.first.get_type().attr("__name__"))));
      o[kv.first.cast<std::string>()] = from_py(kv.second);
    }
    return o;
  }
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) {
    nlohmann::json a = nlohmann::json::array();
    for (auto v : h) a.push_back(from_py(v));
    return a;
  }
  // NumPy scalars and other numbers: through Python's own conversions.
  if (py::hasattr(h, "__index__")) return h.attr("__index__")().cast<long long>();
  if (py::hasattr(h, "__float__")) return h.attr("__float__")().cast<double>();
  throw py::type_error("mixprec: cannot convert a " + std::string(py::str(h.get_type().attr("__name__"))) +
                       " to JSON (dict, list, tuple, str, int, float, bool or None)");
}

std::string path_arg(py::handle h) {
  if (py::isinstance<py::str>(h)) return h.cast<std::string>();
  return py::module_::import("os").attr("fspath")(h).cast<std::string>();
}

std::vector<LayerPrecision> precision_arg(Scenario& sc, py::handle precision) {
  if (precision.is_none()) return sc.layer_precision;
  if (!py::isinstance<py::dict>(precision)) return pipeline::precision_for(sc, path_arg(precision));
  const nlohmann::json doc = from_py(precision);
  const JsonCtx ctx{"<dict>"};
  py::gil_scoped_release nogil;
  const PrecisionSpec spec = parse_precision_file(doc, ctx);
  apply_rank_overrides(spec, sc.net, ctx.file);
  return resolve_precision(spec, sc.net, ctx.file);
}

namespace {
PyObject* g_spec_error = nullptr;
PyObject* g_usage_error = nullptr;
}  // namespace

void register_errors(py::module_& m) {
  g_spec_error = PyErr_NewExceptionWithDoc(
      "mixprec.SpecError",
      "Invalid input (scenario, precision, sensitivity or sweep file, or dict): the same content as "
      "the CLI's message. Attributes: file ('<dict>' for a dict), pointer (JSON pointer, '/' for the "
      "whole document), expected, found (for an error not about one JSON value, such as an "
      "unreadable file, expected holds the message and found is '').",
      PyExc_ValueError, nullptr);
  g_usage_error = PyErr_NewExceptionWithDoc(
      "mixprec.UsageError", "A call the library refuses (the CLI's bad command line, exit code 2).",
      PyExc_ValueError, nullptr);
  m.add_object("SpecError", py::handle(g_spec_error));
  m.add_object("UsageError", py::handle(g_usage_error));
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const SpecError& e) {
      py::object inst = py::reinterpret_borrow<py::object>(g_spec_error)(py::str(e.what()));
      inst.attr("file") = e.file();
      inst.attr("pointer") = e.pointer().empty() ? std::string("/") : e.pointer();  // as the message shows it
      inst.attr("expected") = e.expected();
      inst.attr("found") = e.found();
      PyErr_SetObject(g_spec_error, inst.ptr());
    } catch (const UsageError& e) {
      PyErr_SetString(g_usage_error, e.what());
    }
  });
}

}  // namespace mixprec::python
