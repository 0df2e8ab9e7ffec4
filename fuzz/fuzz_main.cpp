// libFuzzer driver shared by every target: runs fuzz_one under the contract of fuzz_contract.hpp.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/errors.hpp"
#include "fuzz/fuzz_contract.hpp"

namespace mixprec::fuzz {

const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* t = std::getenv("TMPDIR");
    std::string d = std::string(t && *t ? t : "/tmp") + "/mixprec-fuzz-" + std::to_string(::getpid());
    ::mkdir(d.c_str(), 0700);
    return d;
  }();
  return dir;
}

std::string write_input(const std::string& name, const std::string& bytes) {
  const std::string path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

std::string source_path(const std::string& rel) { return std::string(MIXPREC_SOURCE_DIR) + "/" + rel; }

}  // namespace mixprec::fuzz

__attribute__((weak)) void fuzz_init() {}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz_init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    fuzz_one(bytes);
  } catch (const mixprec::SpecError& e) {
    // The contract: the error names a file. (SpecError prints "/" for a whole-document error.)
    if (e.file().empty()) {
      std::fprintf(stderr, "fuzz finding: SpecError without a file: %s\n", e.what());
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz finding: not a SpecError: %s\n", e.what());
    std::abort();
  }
  return 0;
}
