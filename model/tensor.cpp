#include "model/tensor.hpp"

namespace mixprec::model {

std::string Dims::str() const {
  return "(" + std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(h) + "," +
         std::to_string(w) + ")";
}

}  // namespace mixprec::model
