// The version every report manifest records is the commit the binary was built from: `git
// describe` at build time (cmake/version.cmake), not at configure time (a build directory
// configured at one commit and rebuilt at a later one recorded the earlier commit).
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "core/manifest.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {
// `git describe` of the source tree as the build ran it; "" when git or the repository is absent.
std::string git_describe() {
  const std::string cmd = "git -C '" + test::source_path("") + "' describe --always --dirty --abbrev=12 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}
}  // namespace

TEST_CASE("mixprec_version is the source tree's git describe at build time", "[manifest][cli]") {
  const std::string want = git_describe();
  if (want.empty()) {
    WARN("skipped: the source tree is not a git repository (the version reads \"unknown\")");
    CHECK(std::string(mixprec_version()) == "unknown");
    return;
  }
  CHECK(std::string(mixprec_version()) == want);
  const test::RunResult r = test::run_cli("--version");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "mixprec " + want + "\n");
}
