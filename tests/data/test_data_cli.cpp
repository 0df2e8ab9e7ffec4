// `mixprec data`: describes the data set and writes the SVG preview atomically.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "test_util.hpp"

using namespace mixprec;

TEST_CASE("mixprec data --preview writes an SVG of the default venue data", "[data][cli]") {
  char dir[] = "/tmp/mixprec_data_XXXXXX";
  REQUIRE(mkdtemp(dir));
  const std::string svg = std::string(dir) + "/preview.svg";
  auto r = test::run_cli("data " + test::source_path("scenarios/venue_cnn_lstm.json") + " --preview " + svg);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("splits (train / val / test): 4096 / 884 / 884 samples of 8 frames") != std::string::npos);
  std::ifstream in(svg);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  CHECK(text.rfind("<svg", 0) == 0);
  CHECK(text.find("</svg>") != std::string::npos);
  std::remove(svg.c_str());
  auto bad = test::run_cli("data " + test::source_path("scenarios/venue_cnn_lstm.json") + " --preview " + std::string(dir) + "/x.png");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--preview writes SVG") != std::string::npos);
  rmdir(dir);
}
