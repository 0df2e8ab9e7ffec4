#include "core/errors.hpp"

namespace mixprec {

static std::string where(const std::string& file, const std::string& pointer) {
  std::string w = file.empty() ? std::string("<input>") : file;
  w += ": ";
  w += pointer.empty() ? std::string("/") : pointer;
  return w;
}

SpecError::SpecError(std::string file, std::string pointer, std::string expected,
                     std::string found)
    : std::runtime_error(where(file, pointer) + ": expected " + expected + ", found " + found),
      file_(std::move(file)),
      pointer_(std::move(pointer)),
      expected_(std::move(expected)),
      found_(std::move(found)) {}

SpecError::SpecError(std::string file, std::string pointer, std::string message)
    : std::runtime_error(where(file, pointer) + ": " + message),
      file_(std::move(file)),
      pointer_(std::move(pointer)),
      expected_(std::move(message)) {}

}  // namespace mixprec
