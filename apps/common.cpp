#include "apps/common.hpp"

#include <iostream>

#include "core/json_reader.hpp"

namespace mixprec::app {

void emit(const std::string& text, const std::string& out) {
  if (out.empty()) {
    std::cout << text;
    std::cout.flush();
  } else {
    write_file_atomic(out, text);
    std::cerr << "wrote " << out << "\n";
  }
}

}  // namespace mixprec::app
