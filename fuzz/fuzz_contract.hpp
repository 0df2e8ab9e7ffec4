// The contract every fuzz target checks: a reader given any bytes either returns a valid result
// or throws a SpecError-class error that names a file (and a pointer or line). Anything else is a
// finding: another exception aborts here with its message (libFuzzer saves the input); crashes,
// sanitizer reports and inputs slower than the -timeout are caught by libFuzzer itself.
//
// A target is one file fuzz/<name>.cpp defining
//   void fuzz_one(const std::string& bytes);   // feed the bytes to the CLI's entry point
// plus, when it needs set-up, `void fuzz_init();`, and one line in fuzz/CMakeLists.txt.
#pragma once
#include <string>

namespace mixprec::fuzz {

// A scratch directory of this process (created once, under $TMPDIR or /tmp).
const std::string& scratch_dir();
// Writes `bytes` to scratch_dir()/name and returns the path.
std::string write_input(const std::string& name, const std::string& bytes);
// The source tree (shipped scenarios, data) as compiled in.
std::string source_path(const std::string& rel);

}  // namespace mixprec::fuzz

// Defined by each target.
void fuzz_one(const std::string& bytes);
// Optional set-up, defined by targets that need it (a weak default does nothing).
void fuzz_init();
