// The Python Scenario: the validated C++ scenario and the document it was read from.
#pragma once
#include <memory>

#include <nlohmann/json.hpp>

#include "core/spec.hpp"

namespace mixprec::python {

struct PyScenario {
  std::shared_ptr<const Scenario> sc;
  nlohmann::json doc;  // to_dict(): the document as validated
  std::shared_ptr<const Scenario> parsed() const;
  static PyScenario load(const std::string& path);
  static PyScenario from_json(nlohmann::json doc);
};

}  // namespace mixprec::python
