// Every file in tests/scenarios_bad/ must be rejected with exactly the message in expected.json,
// by the library and by the CLI (exit code 2). Every file has an entry and every entry a file.
#include <catch2/catch.hpp>

#include <dirent.h>

#include <set>

#include "core/json_reader.hpp"
#include "core/scenario.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {
std::string dir() { return test::source_path("tests/scenarios_bad"); }

std::set<std::string> corpus_files() {
  std::set<std::string> files;
  DIR* d = opendir(dir().c_str());
  REQUIRE(d != nullptr);
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.substr(n.size() - 5) == ".json" && n != "expected.json") files.insert(n);
  }
  closedir(d);
  return files;
}

std::string expected_for(const json& exp, const std::string& name, const std::string& path) {
  std::string m = exp.at(name).get<std::string>();
  return path + m.substr(std::string("{file}").size());
}
}  // namespace

TEST_CASE("bad-file corpus: every file has an expected message and vice versa", "[scenario][bad]") {
  json exp = JsonDoc::load(dir() + "/expected.json").root();
  auto files = corpus_files();
  REQUIRE(files.size() >= 30);
  for (const auto& f : files) {
    INFO(f);
    CHECK(exp.contains(f));
  }
  for (auto it = exp.begin(); it != exp.end(); ++it) {
    INFO(it.key());
    CHECK(files.count(it.key()) == 1);
  }
}

TEST_CASE("bad-file corpus: the library throws SpecError with the exact message", "[scenario][bad]") {
  json exp = JsonDoc::load(dir() + "/expected.json").root();
  for (const auto& f : corpus_files()) {
    const std::string path = dir() + "/" + f;
    INFO(f);
    try {
      load_scenario(path);
      FAIL("accepted a bad file: " + f);
    } catch (const SpecError& e) {
      CHECK(std::string(e.what()) == expected_for(exp, f, path));
      CHECK(e.file() == path);
    }
  }
}

TEST_CASE("bad-file corpus: the CLI exits 2 and prints the message", "[scenario][bad][cli]") {
  json exp = JsonDoc::load(dir() + "/expected.json").root();
  for (const auto& f : corpus_files()) {
    const std::string path = dir() + "/" + f;
    INFO(f);
    auto r = test::run_cli("validate '" + path + "'");
    CHECK(r.exit_code == 2);
    CHECK(r.err == "error: " + expected_for(exp, f, path) + "\n");
    CHECK(r.out.empty());
  }
}

TEST_CASE("a missing file is a SpecError, exit code 2", "[scenario][cli]") {
  auto r = test::run_cli("simulate /nonexistent/x.json");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: /nonexistent/x.json: /: expected a readable file, found no such file or unreadable\n");
}

TEST_CASE("the shipped scenarios validate", "[scenario][cli]") {
  auto r = test::run_cli("validate " + test::source_path("scenarios/venue_cnn_lstm.json"));
  CHECK(r.exit_code == 0);
  CHECK(r.out.find(": ok (scenario \"venue_cnn_lstm\", 33 layers,") != std::string::npos);
}
