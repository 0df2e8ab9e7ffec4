// Shipped tables, user tables (extends, components, own node) and bad tables.
#include <algorithm>
#include <cmath>

#include "core/json_reader.hpp"
#include "energy_models/table.hpp"
#include "energy_test_util.hpp"

using namespace mixprec;
using namespace mixprec::energy;
using namespace mixprec::energy::test;

namespace {

const std::string kExample = std::string(MIXPREC_SOURCE_DIR) + "/energy_models/tables/examples/components_28nm.json";

// Every value-bearing entry of a shipped table names its source (the parser enforces it; this
// checks the parsed result too).
void check_sources(const EnergyTable& t) {
  auto ok = [&](const Provenance& p) {
    INFO(t.name << " " << p.pointer);
    CHECK_FALSE(p.source.empty());
  };
  for (const auto& e : t.int_add) ok(e.from);
  for (const auto& e : t.int_multiply) ok(e.from);
  for (const ValueEntry* e : {&t.fp16_add, &t.fp16_multiply, &t.bf16_add, &t.bf16_multiply, &t.fp32_add,
                              &t.fp32_multiply, &t.sram_ratio_per_doubling, &t.eyeriss_register_file,
                              &t.eyeriss_interconnect, &t.eyeriss_global_buffer, &t.eyeriss_dram})
    ok(e->from);
  for (const auto& e : t.sram_points) ok(e.from);
  for (const auto& e : t.dram) ok(e.from);
  for (const auto& e : t.composable_overhead) ok(e.from);
  for (const auto& e : t.technology) ok(e.from);
  ok(t.nonlinear_from);
}

HardwareSpec hw_with_table(const TempDir& dir, const std::string& table) {
  HardwareSpec hw = default_hw();
  hw.energy.table = table;
  hw.energy.table_path_base = dir.path();
  return hw;
}

const char* kMinimalHead = R"({"mixprec_energy_table": 1, "extends": "horowitz_45nm", )";

}  // namespace

TEST_CASE("shipped tables are compiled in and all parse", "[energy][tables]") {
  auto names = shipped_tables();
  REQUIRE_FALSE(names.empty());
  CHECK(std::find(names.begin(), names.end(), "horowitz_45nm") != names.end());
  for (const auto& name : names) {
    INFO("table " << name);
    auto t = load_shipped_table(name);
    CHECK(t->name == name);
    CHECK(t->file == "energy_models/tables/" + name + ".json");
    CHECK(t->technology_factor(t->node_nm).has_value());
    check_sources(*t);
    HardwareSpec hw = default_hw();
    hw.energy.table = name;
    hw.technology_nm = t->node_nm;
    CHECK(model_for(hw).technology_scale() == exact(1));
  }
  auto h = load_shipped_table("horowitz_45nm");
  CHECK(h->node_nm == 45);
  REQUIRE(h->int_multiply.size() == 2);
  CHECK(h->int_multiply[0].bits == 8);
  CHECK(h->int_multiply[0].pj == 0.2);
  CHECK(h->technology_min_nm() == 7);
  CHECK(h->technology_max_nm() == 130);
  CHECK(h->bf16_multiply.from.derived.find("affine") != std::string::npos);  // marked derived
  CHECK_THROWS_AS(shipped_table_text("no_such_table"), InternalError);
}

TEST_CASE("the example user table: components at its own node", "[energy][tables][user]") {
  HardwareSpec hw = default_hw();
  hw.energy.table = kExample;
  hw.technology_nm = 28;
  hw.pe_array.mac = bit_parallel(8);
  const EnergyModel m = model_for(hw);
  CHECK(m.table_name() == "example_components_28nm");
  CHECK(m.table_node_nm() == 28);
  CHECK(m.technology_scale() == exact(1));
  // Components as given, scaled from their stated widths.
  BufferSpec row64;  // 64 KiB, 64-bit rows: the capacity does not matter for a given component
  CHECK(m.buffer_access_pj(BufferId::Weight, row64, 64, false) == exact(2.0));
  CHECK(m.buffer_access_pj(BufferId::Weight, row64, 64, true) == exact(2.4));
  CHECK(m.buffer_access_pj(BufferId::Weight, row64, 16, false) == exact(0.5));
  CHECK(m.buffer_access_pj(BufferId::Weight, row64, 128, false) == exact(4.0));
  CHECK(m.buffer_access_pj(BufferId::Input, row64, 64, false) == exact(1.6));
  CHECK(m.buffer_access_pj(BufferId::Output, row64, 32, true) == exact(1.1));
  CHECK(m.register_file_pj(16) == exact(0.12));
  CHECK(m.register_file_pj(8) == exact(0.06));
  CHECK(m.interconnect_pj(16) == exact(0.2));
  CHECK(m.dram_pj_per_bit(hw.dram) == exact(8));
  // The MAC reproduces 0.3 pJ at 8 x 8 into 24 bits; other widths follow the laws.
  const MacEnergy e = m.mac(int_op(8), int_op(8), 24, hw.pe_array.mac);
  CHECK(e.total_pj() == exact(0.3));
  const double k = 0.3 / (0.2 + 0.075);  // 24-bit add = 0.1 x 24/32
  CHECK(m.multiply_pj(int_op(16), int_op(16)) == exact(0.8 * k));
  CHECK(m.add_pj(int_op(8)) == exact(0.03 * k));
  // The MAC energy is one MAC of this design's PE: with a composable PE the calibration
  // absorbs the fusion overhead instead of adding it again.
  HardwareSpec fused = hw;
  fused.pe_array.mac = composable(2, 8);
  const EnergyModel mf = model_for(fused);
  CHECK(mf.mac(int_op(8), int_op(8), 24, fused.pe_array.mac).total_pj() == exact(0.3));
  CHECK(mf.multiply_pj(int_op(8), int_op(8)) == exact(0.2 * 0.3 / (1.881 * 0.2 + 0.075)));
  // Inherited entries were rescaled 45 nm -> 28 nm; floats are not calibrated by the MAC.
  const double f28 = 0.6593 * std::pow(0.2211 / 0.6593, std::log(28.0 / 32.0) / std::log(20.0 / 32.0));
  CHECK(m.multiply_pj(float_op(NumFormat::Fp16), float_op(NumFormat::Fp16)) == exact(1.1 * f28));
  // The SRAM curve (used by the sigmoid lookup table) is rescaled too.
  CHECK(m.nonlinear_pj(NonlinearOp::Sigmoid, int_op(8)) == exact(10 * f28 / std::pow(1.56, 5) / 8));

  // At 45 nm the same components scale by factor(45) / factor(28).
  hw.technology_nm = 45;
  const EnergyModel m45 = model_for(hw);
  CHECK(m45.technology_scale() == exact(1 / f28));
  CHECK(m45.register_file_pj(16) == exact(0.12 / f28));
  CHECK(m45.mac(int_op(8), int_op(8), 24, hw.pe_array.mac).total_pj() == exact(0.3 / f28));
  CHECK(m45.multiply_pj(float_op(NumFormat::Fp16), float_op(NumFormat::Fp16)) == exact(1.1));
  CHECK(m45.dram_pj_per_bit(hw.dram) == exact(8));  // DRAM is never node-scaled
}

TEST_CASE("user tables: extends, relative paths, partial overrides", "[energy][tables][user]") {
  TempDir dir;
  SECTION("a table without its own node scales with the base node") {
    dir.write("t.json", std::string(kMinimalHead) +
                            R"("components": {"register_file": {"access_pj": 0.5, "word_bits": 16}},
                               "ops": {"int_multiply": [{"bits": 16, "pj": 1.0}]},
                               "dram": {"lpddr5": {"pj_per_bit": 4.5}}})");
    HardwareSpec hw = hw_with_table(dir, "t.json");  // relative to the scenario's directory
    hw.technology_nm = 32;
    const EnergyModel m = model_for(hw, dir.path() + "/scenario.json");
    CHECK(m.table_name() == dir.path() + "/t.json");
    CHECK(m.table_node_nm() == 45);
    CHECK(m.register_file_pj(16) == exact(0.5 * 0.6593));
    // The given multiply list replaces the inherited one: 8x8 = 1.0 x 64/256.
    CHECK(m.multiply_pj(int_op(8), int_op(8)) == exact(0.25 * 0.6593));
    CHECK(m.add_pj(int_op(8)) == exact(0.03 * 0.6593));  // inherited
    DramSpec d;
    d.kind = "lpddr5";
    CHECK(m.dram_pj_per_bit(d) == exact(4.5));  // added kind
    d.kind = "lpddr4";
    CHECK(m.dram_pj_per_bit(d) == exact(8));  // inherited kind
    bool user_cited = false;
    for (const auto& c : m.citations()) user_cited |= c.find("(no source given)") != std::string::npos;
    CHECK(user_cited);
  }
  SECTION("a complete table without extends") {
    std::string text = shipped_table_text("horowitz_45nm");
    auto pos = text.find("\"node_nm\": 45");
    REQUIRE(pos != std::string::npos);
    text.replace(pos, 13, "\"node_nm\": 65");
    const std::string path = dir.write("full.json", text);
    HardwareSpec hw = default_hw();
    hw.energy.table = path;
    hw.technology_nm = 45;
    const EnergyModel m = model_for(hw);
    CHECK(m.technology_scale() == exact(1 / 1.241));
    CHECK(m.multiply_pj(int_op(8), int_op(8)) == exact(0.2 / 1.241));
  }
  SECTION("SRAM points replace the inherited curve") {
    dir.write("s.json", std::string(kMinimalHead) +
                            R"("sram": {"row_bits": 32, "points": [{"size_kib": 2, "pj": 1}, {"size_kib": 8, "pj": 2}]}})");
    const EnergyModel m = model_for(hw_with_table(dir, "s.json"), dir.path() + "/scenario.json");
    BufferSpec b;
    b.size_kib = 4;
    b.row_bits = 32;
    CHECK(m.buffer_access_pj(BufferId::Weight, b, 32, false) == exact(std::sqrt(2.0)));
    b.row_bits = 64;  // a 64-bit row is two 32-bit accesses' worth
    CHECK(m.buffer_access_pj(BufferId::Weight, b, 64, false) == exact(2 * std::sqrt(2.0)));
  }
}

TEST_CASE("bad tables: each error names the file, the pointer, expected and found", "[energy][tables][errors]") {
  TempDir dir;
  const std::string scenario = dir.path() + "/scenario.json";
  auto load = [&](const std::string& name, const std::string& text) {
    const std::string path = dir.write(name, text);
    return std::make_pair(path, spec_error_of([&] { model_for(hw_with_table(dir, name), scenario); }));
  };

  SECTION("unknown key with a suggestion") {
    auto [path, msg] = load("unknown.json", std::string(kMinimalHead) +
                                                R"("components": {"weight_bufer": {"read_pj": 2, "word_bits": 64}}})");
    CHECK(msg == path + ": /components/weight_bufer: expected a known key (did you mean \"weight_buffer\"?), "
                        "found unknown key \"weight_bufer\"");
  }
  SECTION("unknown top-level key with a suggestion") {
    auto [path, msg] = load("top.json", R"({"mixprec_energy_table": 1, "extend": "horowitz_45nm"})");
    // Without "extends" the table must be complete: the first missing section is reported.
    CHECK(msg == path + ": /technology_scaling: expected a value for required key \"technology_scaling\", found nothing");
    auto [path2, msg2] = load("top2.json", std::string(kMinimalHead) + R"("node_nm": 45, "note": []})");
    CHECK(msg2 == path2 + ": /note: expected a known key (did you mean \"notes\"?), found unknown key \"note\"");
  }
  SECTION("negative energy") {
    auto [path, msg] = load("negative.json", std::string(kMinimalHead) +
                                                 R"("ops": {"int_add": [{"bits": 8, "pj": -0.03}]}})");
    CHECK(msg == path + ": /ops/int_add/0/pj: expected a number > 0, found number -0.03");
    auto [path2, msg2] = load("negative2.json", std::string(kMinimalHead) +
                                                    R"("components": {"mac": {"pj": -1, "bits_w": 8, "bits_a": 8}}})");
    CHECK(msg2 == path2 + ": /components/mac/pj: expected a number >= 0, found number -1");
  }
  SECTION("wrong type") {
    auto [path, msg] = load("type.json", std::string(kMinimalHead) +
                                             R"("components": {"weight_buffer": {"read_pj": "2.0", "word_bits": 64}}})");
    CHECK(msg == path + ": /components/weight_buffer/read_pj: expected a number >= 0, found string \"2.0\"");
    auto [path2, msg2] = load("type2.json", std::string(kMinimalHead) + R"("ops": {"int_add": {"bits": 8}}})");
    CHECK(msg2 == path2 + ": /ops/int_add: expected an array, found object {\"bits\":8}");
  }
  SECTION("missing file") {
    const std::string msg = spec_error_of([&] { model_for(hw_with_table(dir, "missing.json"), scenario); });
    CHECK(msg == scenario + ": /hardware/energy/table: expected a shipped energy table (one of \"horowitz_45nm\") "
                            "or a readable table file, found \"missing.json\" (no readable file at \"" +
                     dir.path() + "/missing.json\")");
  }
  SECTION("unknown shipped name with a suggestion") {
    const std::string msg = spec_error_of([&] { model_for(hw_with_table(dir, "horowitz_45"), scenario); });
    CHECK(msg == scenario + ": /hardware/energy/table: expected a shipped energy table (one of \"horowitz_45nm\") "
                            "(did you mean \"horowitz_45nm\"?) or a readable table file, found \"horowitz_45\" "
                            "(no readable file at \"" + dir.path() + "/horowitz_45\")");
  }
  SECTION("extends an unknown table") {
    auto [path, msg] = load("ext.json", R"({"mixprec_energy_table": 1, "extends": "horowitz45nm"})");
    CHECK(msg == path + ": /extends: expected the name of a shipped table (one of \"horowitz_45nm\") "
                        "(did you mean \"horowitz_45nm\"?), found string \"horowitz45nm\"");
  }
  SECTION("wrong version") {
    auto [path, msg] = load("version.json", R"({"mixprec_energy_table": 2, "extends": "horowitz_45nm"})");
    CHECK(msg == path + ": /mixprec_energy_table: expected 1 (the energy table format this mixprec reads), found 2");
  }
  SECTION("invalid JSON") {
    auto [path, msg] = load("broken.json", "{\"mixprec_energy_table\": 1,\n  \"extends\": }");
    CHECK(msg.rfind(path + ": /: expected valid JSON (line 2, column", 0) == 0);
  }
  SECTION("node outside the technology range") {
    auto [path, msg] = load("node.json", std::string(kMinimalHead) + R"("node_nm": 180})");
    CHECK(msg == path + ": /node_nm: expected a node within the table's technology scaling range [7, 130] nm, found 180");
  }
  SECTION("SRAM energy falling with capacity") {
    auto [path, msg] = load("sram.json", std::string(kMinimalHead) +
                                             R"("sram": {"points": [{"size_kib": 8, "pj": 10}, {"size_kib": 16, "pj": 5}]}})");
    CHECK(msg == path + ": /sram/points/1/pj: expected an energy >= 10 pJ (that of the smaller 8 KiB point), found number 5");
  }
  SECTION("duplicate entry") {
    auto [path, msg] = load("dup.json", std::string(kMinimalHead) +
                                            R"("ops": {"int_add": [{"bits": 8, "pj": 0.03}, {"bits": 8, "pj": 0.04}]}})");
    CHECK(msg == path + ": /ops/int_add/1/bits: expected a width not already listed in /ops/int_add, found 8");
  }
  SECTION("shipped tables must cite every number") {
    const std::string text = R"({"mixprec_energy_table": 1, "name": "x", "extends": "horowitz_45nm",
                                 "ops": {"fp16_add": {"pj": 0.4}}})";
    CHECK(spec_error_of([&] { parse_table(text, "x.json", true); }) ==
          "x.json: /ops/fp16_add/source: expected a value for required key \"source\", found nothing");
    CHECK(parse_table(text, "x.json", false)->fp16_add.value == 0.4);  // optional in user tables
  }
}
