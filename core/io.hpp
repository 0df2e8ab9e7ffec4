// Limits of the readers and the error of the writers (core/json_reader: JsonDoc, write_file_atomic).
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>

namespace mixprec {

// Limits of every JSON document mixprec reads (JsonDoc::parse / load), enforced while parsing;
// beyond them the reader throws SpecError naming the file and the pointer. The deepest shipped
// document (a reproduce state.json) nests 9 levels and the largest (a sensitivity cache) is
// about 110 KB; cost tables and reports of the largest networks stay far below these.
constexpr std::size_t kJsonMaxDepth = 64;
constexpr std::size_t kJsonMaxBytes = 64u * 1024 * 1024;

// Results could not be written (disk full, unwritable or missing folder, I/O error): names the
// file and the system's reason. Nothing incomplete is left under a final name. The CLI prints
// "error: cannot write FILE: REASON" and exits with code 3.
class WriteError : public std::runtime_error {
 public:
  WriteError(const std::string& file, const std::string& reason)
      : std::runtime_error("cannot write " + file + ": " + reason), file_(file) {}
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

}  // namespace mixprec
