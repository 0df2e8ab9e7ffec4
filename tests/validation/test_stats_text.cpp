// The stats-text scanner of the Timeloop validation tests (stats_text.hpp): strict numbers, the
// line shapes it recognises, and errors that name the key and the file instead of a silent 0.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "validation/stats_text.hpp"

using namespace mixprec::test::stats_text;

TEST_CASE("stats text: numbers are parsed in full or rejected", "[stats_text]") {
  CHECK(parse_number("1536", "x") == 1536.0);
  CHECK(parse_number("   0.86 pJ", "x") == 0.86);
  CHECK(parse_number("5.56e-04", "x") == 5.56e-04);
  CHECK(parse_number("-2.5E+3 words/cycle", "x") == -2500.0);
  CHECK(parse_number("7.", "x") == 7.0);
  CHECK(parse_number(".25", "x") == 0.25);
  CHECK_THROWS_WITH(parse_number("-", "f.txt: key 'Shared bandwidth'"),
                    "f.txt: key 'Shared bandwidth': expected a number, found '-'");
  CHECK_THROWS_WITH(parse_number("", "w"), "w: expected a number, found ''");
  CHECK_THROWS_WITH(parse_number("   ", "w"), "w: expected a number, found ''");
  CHECK_THROWS_WITH(parse_number("1.2.3 pJ", "w"), "w: expected a number, found '1.2.3'");
  CHECK_THROWS_WITH(parse_number("12abc", "w"), "w: expected a number, found '12abc'");
  CHECK_THROWS_WITH(parse_number("100.00%", "w"), "w: expected a number, found '100.00%'");
  CHECK_THROWS_WITH(parse_number("inf", "w"), "w: expected a number, found 'inf'");
  CHECK_THROWS_WITH(parse_number("nan", "w"), "w: expected a number, found 'nan'");
  CHECK_THROWS_WITH(parse_number("+1", "w"), "w: expected a number, found '+1'");
  CHECK_THROWS_WITH(parse_number("1e", "w"), "w: expected a number, found '1e'");
  CHECK_THROWS_WITH(parse_number(".", "w"), "w: expected a number, found '.'");
  CHECK_THROWS_WITH(parse_number("1e999", "w"), "w: expected a finite number, found '1e999'");

  CHECK(parse_integer("1536", "x") == 1536);
  CHECK(parse_integer("-7 cycles", "x") == -7);
  CHECK(parse_integer("9223372036854775807", "x") == 9223372036854775807);
  CHECK_THROWS_WITH(parse_integer("1536.0", "w"), "w: expected an integer, found '1536.0'");
  CHECK_THROWS_WITH(parse_integer("-", "w"), "w: expected an integer, found '-'");
  CHECK_THROWS_WITH(parse_integer("9223372036854775808", "w"),
                    "w: expected a 64-bit integer, found '9223372036854775808'");
}

TEST_CASE("stats text: line shapes", "[stats_text]") {
  CHECK(split_lines("a\n\nb\n") == std::vector<std::string>{"a", "", "b"});
  CHECK(split_lines("a\nb") == std::vector<std::string>{"a", "b"});
  CHECK(split_lines("").empty());

  CHECK(section_header("=== GlobalBuffer ===") == std::optional<std::string>("GlobalBuffer"));
  CHECK(section_header("=== a === b ===") == std::optional<std::string>("a === b"));
  CHECK_FALSE(section_header("=== ==="));
  CHECK_FALSE(section_header(" === MACC ==="));
  CHECK_FALSE(section_header("=== MACC === "));

  CHECK(dataspace_header("    Weights:") == std::optional<std::string>("Weights"));
  CHECK(dataspace_header("    ifmap_2:") == std::optional<std::string>("ifmap_2"));
  CHECK_FALSE(dataspace_header("    Loop nest:"));  // not one identifier
  CHECK_FALSE(dataspace_header("        Weights:"));
  CHECK_FALSE(dataspace_header("   Weights:"));
  CHECK_FALSE(dataspace_header("    Weights: 3"));
  CHECK_FALSE(dataspace_header("    :"));

  const auto f = field("        Scalar reads (per-instance)              : 1536", ':');
  REQUIRE(f);
  CHECK(f->key == "Scalar reads (per-instance)");
  CHECK(f->value == "1536");
  const auto g = field("    MainMemory                     = 234666.67", '=');
  REQUIRE(g);
  CHECK(g->key == "MainMemory");
  CHECK(g->value == "234666.67");
  const auto h = field("    Weights:", ':');
  REQUIRE(h);
  CHECK(h->key == "Weights");
  CHECK(h->value.empty());
  CHECK_FALSE(field("    Cycles 1536", ':'));
  CHECK_FALSE(field("   : 3", ':'));
}

TEST_CASE("stats text: labelled numbers and fields are found exactly once or the error names the key",
          "[stats_text]") {
  const std::vector<std::string> lines = split_lines(
      "=== MACC ===\n    Cycles                  : 99\nSummary Stats\n-------------\nCycles: 1536\n"
      "Energy: 0.36 uJ\nUtilization: 100.00%\n\nComputes = 1536\nfJ/Compute\n    MACC = 845.00\n"
      "    Total = 235520.50\n");
  const std::vector<std::string> summary = section(lines, "Summary Stats", "f.txt");
  REQUIRE(summary.size() == 9);
  CHECK(summary.front() == "-------------");
  CHECK(labelled_integer(summary, "Cycles", ':', "f.txt") == 1536);  // not the component's 99
  CHECK(labelled_number(summary, "Computes", '=', "f.txt") == 1536.0);
  CHECK(labelled_number(summary, "Total", '=', "f.txt") == 235520.50);
  CHECK_THROWS_WITH(labelled_number(summary, "Computes", ':', "f.txt, Summary Stats"),
                    "f.txt, Summary Stats: key 'Computes' not found (expected a line 'Computes : <number>')");
  CHECK_THROWS_WITH(labelled_number(lines, "Cycles", ':', "f.txt"), "f.txt: key 'Cycles' found 2 times, expected once");
  CHECK_THROWS_WITH(labelled_integer(summary, "Total", '=', "f.txt"),
                    "f.txt: key 'Total': expected an integer, found '235520.50'");
  CHECK(labelled_number(summary, "Energy", ':', "f.txt") == 0.36);  // the unit is not part of the number
  CHECK_THROWS_WITH(labelled_number(summary, "Utilization", ':', "f.txt"),
                    "f.txt: key 'Utilization': expected a number, found '100.00%'");
  CHECK_THROWS_WITH(section(summary, "Summary Stats", "f.txt"),
                    "f.txt: no lines reading 'Summary Stats', expected one");
  CHECK_THROWS_WITH(section({"x", "x"}, "x", "f.txt"), "f.txt: 2 lines reading 'x', expected one");

  Fields block("f.txt: component MainMemory, data space Weights");
  block.add("Utilized capacity", "96");
  block.add("Energy (total)", "98304.00 pJ");
  block.add("Shared bandwidth", "-");
  block.add("Cycles", "1");
  block.add("Cycles", "2");
  CHECK(block.has("Utilized capacity"));
  CHECK_FALSE(block.has("Scalar reads (per-instance)"));
  CHECK(block.number("Utilized capacity") == 96.0);
  CHECK(block.number("Energy (total)") == 98304.0);
  CHECK_THROWS_WITH(block.number("Scalar reads (per-instance)"),
                    "f.txt: component MainMemory, data space Weights: key 'Scalar reads (per-instance)' not found");
  CHECK_THROWS_WITH(block.number("Cycles"),
                    "f.txt: component MainMemory, data space Weights: key 'Cycles' found 2 times, expected once");
  CHECK_THROWS_WITH(block.number("Shared bandwidth"),
                    "f.txt: component MainMemory, data space Weights: key 'Shared bandwidth': expected a number, "
                    "found '-'");
}

TEST_CASE("stats text: the summary of a Timeloop stats file", "[stats_text]") {
  // Figures read by hand from the file.
  const std::string path = mixprec::test::source_path(
      "tests/validation/timeloop/timeloop/05-mapper-conv1d+oc-3level/ref-output/null/timeloop-mapper.stats.txt");
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  const std::vector<std::string> summary = section(split_lines(text.str()), "Summary Stats", path);
  CHECK(labelled_integer(summary, "Cycles", ':', path) == 1536);
  CHECK(labelled_integer(summary, "Computes", '=', path) == 1536);
  CHECK(labelled_number(summary, "MainMemory", '=', path) == 234666.67);
  CHECK(labelled_number(summary, "Total", '=', path) == 235520.50);
  CHECK_THROWS_WITH(labelled_number(summary, "Buffer", '=', path),
                    path + ": key 'Buffer' not found (expected a line 'Buffer = <number>')");
}
