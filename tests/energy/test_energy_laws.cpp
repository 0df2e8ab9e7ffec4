// Hand-computed values for every energy law of horowitz_45nm (Horowitz, ISSCC 2014).
#include <cmath>

#include "energy_models/laws.hpp"
#include "energy_test_util.hpp"

using namespace mixprec;
using namespace mixprec::energy;
using namespace mixprec::energy::test;

TEST_CASE("integer multiply: proportional to bits_w x bits_a from the nearest entry", "[energy][laws]") {
  const EnergyModel m = model_for(default_hw());
  CHECK(m.multiply_pj(int_op(8), int_op(8)) == exact(0.2));    // table entry
  CHECK(m.multiply_pj(int_op(32), int_op(32)) == exact(3.1));  // table entry
  CHECK(m.multiply_pj(int_op(16), int_op(16)) == exact(0.8));  // derived: 0.2 x 256/64
  CHECK(m.multiply_pj(int_op(4), int_op(4)) == exact(0.05));   // 0.2 x 16/64
  CHECK(m.multiply_pj(int_op(2), int_op(2)) == exact(0.0125));
  CHECK(m.multiply_pj(int_op(4), int_op(8)) == exact(0.1));
  CHECK(m.multiply_pj(int_op(8), int_op(4)) == exact(0.1));
  // 24 x 24 = 576 is nearer 32 x 32 = 1024 than 64: 3.1 x 576 / 1024.
  CHECK(m.multiply_pj(int_op(24), int_op(24)) == exact(3.1 * 576.0 / 1024.0));
}

TEST_CASE("integer add: proportional to width from the nearest entry, monotone envelope", "[energy][laws]") {
  const EnergyModel m = model_for(default_hw());
  CHECK(m.add_pj(int_op(8)) == exact(0.03));
  CHECK(m.add_pj(int_op(32)) == exact(0.1));
  CHECK(m.add_pj(int_op(16)) == exact(0.06));     // derived: 0.03 x 16/8
  CHECK(m.add_pj(int_op(4)) == exact(0.015));
  CHECK(m.add_pj(int_op(24)) == exact(0.075));    // nearest 32: 0.1 x 24/32
  CHECK(m.add_pj(int_op(17)) == exact(0.06375));  // 0.03 x 17/8
  // Raw law: 20 bits from the 8-bit entry = 0.075 pJ > 21 bits from the 32-bit entry =
  // 0.065625 pJ. A 20-bit add can use the 21-bit adder: capped at 0.065625.
  CHECK(m.add_pj(int_op(20)) == exact(0.065625));
  CHECK(m.add_pj(int_op(18)) == exact(0.065625));
  CHECK(m.add_pj(int_op(21)) == exact(0.065625));
  CHECK(m.add_pj(int_op(64)) == exact(0.2));
  CHECK(m.add_pj(int_op(300)) == exact(0.1 * 300 / 32));  // beyond the precomputed range
}

TEST_CASE("floats use their own entries, bf16 is derived", "[energy][laws]") {
  const EnergyModel m = model_for(default_hw());
  CHECK(m.multiply_pj(float_op(NumFormat::Fp16), float_op(NumFormat::Fp16)) == exact(1.1));
  CHECK(m.add_pj(float_op(NumFormat::Fp16)) == exact(0.4));
  CHECK(m.multiply_pj(float_op(NumFormat::Fp32), float_op(NumFormat::Fp32)) == exact(3.7));
  CHECK(m.add_pj(float_op(NumFormat::Fp32)) == exact(0.9));
  // bf16: affine in significand^2 (multiply) and significand (add) through fp16 and fp32.
  CHECK(m.multiply_pj(float_op(NumFormat::Bf16), float_op(NumFormat::Bf16)) == exact(0.7743));
  CHECK(m.add_pj(float_op(NumFormat::Bf16)) == exact(0.2846));
  CHECK(1.1 + 2.6 * (64.0 - 121.0) / (576.0 - 121.0) == Approx(0.7743).margin(5e-5));
  CHECK(0.4 + 0.5 * (8.0 - 11.0) / (24.0 - 11.0) == Approx(0.2846).margin(5e-5));
  // Mixed: an int times fp16 is an fp16 product; fp16 times bf16 meets in fp32.
  CHECK(m.multiply_pj(int_op(8), float_op(NumFormat::Fp16)) == exact(1.1));
  CHECK(m.multiply_pj(float_op(NumFormat::Fp16), float_op(NumFormat::Bf16)) == exact(3.7));
  // fp16 products accumulate in fp32 adders, whatever the MAC style.
  for (const MacSpec& s : {bit_parallel(8), composable(2, 8), bit_serial(SerialOperand::Activations, 1)}) {
    MacEnergy e = m.mac(float_op(NumFormat::Fp16), float_op(NumFormat::Fp16), 32, s);
    CHECK(e.multiplier_pj == exact(1.1));
    CHECK(e.accumulator_pj == exact(0.9));
  }
}

TEST_CASE("SRAM: log-log in capacity between Horowitz points, word share of a row", "[energy][laws][sram]") {
  HardwareSpec hw = default_hw();
  const EnergyModel m = model_for(hw);
  auto access = [&](double kib, int row_bits, int word_bits, bool write = false) {
    BufferSpec b;
    b.size_kib = kib;
    b.row_bits = row_bits;
    return m.buffer_access_pj(BufferId::Weight, b, word_bits, write);
  };
  CHECK(access(8, 64, 64) == exact(10));
  CHECK(access(32, 64, 64) == exact(20));
  CHECK(access(1024, 64, 64) == exact(100));
  CHECK(access(8, 64, 64, true) == exact(10));  // one figure per access: write = read
  // 16 KiB: halfway between 8 and 32 KiB in log capacity: 10 x (20/10)^0.5.
  CHECK(access(16, 64, 64) == exact(10 * std::sqrt(2.0)));
  // 128 KiB between 32 KiB and 1 MiB: t = ln 4 / ln 32 = 0.4, 20 x 5^0.4.
  CHECK(access(128, 64, 64) == exact(20 * std::pow(5.0, 0.4)));
  // Outside the points: 1.56x per doubling (CACTI).
  CHECK(access(4, 64, 64) == exact(10 / 1.56));
  CHECK(access(2048, 64, 64) == exact(156));
  // A word is its share of a row; a wider word costs whole rows.
  CHECK(access(8, 64, 16) == exact(2.5));
  CHECK(access(8, 64, 8) == exact(1.25));
  CHECK(access(8, 64, 128) == exact(20));
  CHECK(access(8, 64, 65) == exact(20));
  // A 128-bit row costs twice the 64-bit figure; a 64-bit word is half of it.
  CHECK(access(8, 128, 64) == exact(10));
  CHECK(access(8, 128, 192) == exact(40));
  CHECK(access(16, 64, 16) == exact(10 * std::sqrt(2.0) / 4));
  // The hardware's own buffers (cached at construction) agree with any other BufferSpec.
  CHECK(m.buffer_access_pj(BufferId::Input, hw.input_buffer, 8, false) == exact(access(64, 64, 8)));
  CHECK(access(64, 64, 64) == exact(20 * std::pow(5.0, 0.2)));  // t = ln 2 / ln 32 = 0.2
}

TEST_CASE("register file and interconnect: Eyeriss ratios x one 16-bit MAC", "[energy][laws][eyeriss]") {
  HardwareSpec hw = default_hw();
  const EnergyModel m = model_for(hw);
  // 16-bit MAC = 16x16 multiply (0.8) + 16-bit add (0.06).
  CHECK(m.mac16_pj() == exact(0.86));
  CHECK(m.register_file_pj(16) == exact(0.86));
  CHECK(m.register_file_pj(8) == exact(0.43));
  CHECK(m.interconnect_pj(16) == exact(1.72));
  CHECK(m.interconnect_pj(32) == exact(3.44));
  // Horowitz mode: buffers follow the SRAM curve, DRAM the kind.
  CHECK(m.dram_pj_per_bit(hw.dram) == exact(8));

  hw.energy.hierarchy = MemoryHierarchyModel::Eyeriss;
  const EnergyModel e = model_for(hw);
  CHECK(e.register_file_pj(16) == exact(0.86));
  CHECK(e.interconnect_pj(16) == exact(1.72));
  CHECK(e.buffer_access_pj(BufferId::Weight, hw.weight_buffer, 16, false) == exact(6 * 0.86));
  CHECK(e.buffer_access_pj(BufferId::Output, hw.output_buffer, 32, true) == exact(12 * 0.86));
  CHECK(e.dram_pj_per_bit(hw.dram) == exact(200 * 0.86 / 16));
  hw.dram.energy_pj_per_bit = 12.5;  // an explicit figure still wins
  CHECK(e.dram_pj_per_bit(hw.dram) == exact(12.5));
}

TEST_CASE("DRAM: constant pJ/bit by kind, override, not technology-scaled", "[energy][laws][dram]") {
  HardwareSpec hw = default_hw();
  const EnergyModel m = model_for(hw);
  DramSpec d;
  d.kind = "lpddr4";
  CHECK(m.dram_pj_per_bit(d) == exact(8));
  d.kind = "LPDDR4";
  CHECK(m.dram_pj_per_bit(d) == exact(8));
  d.kind = "ddr3";
  CHECK(m.dram_pj_per_bit(d) == exact(2600.0 / 64));
  d.kind = "ddr4";
  CHECK(m.dram_pj_per_bit(d) == exact(1300.0 / 64));
  d.kind = "hbm2";
  CHECK(m.dram_pj_per_bit(d) == exact(3.9));
  d.energy_pj_per_bit = 5.5;
  CHECK(m.dram_pj_per_bit(d) == exact(5.5));

  d = DramSpec{};
  d.kind = "lpddr5";
  CHECK(spec_error_of([&] { m.dram_pj_per_bit(d); }) ==
        "scenario.json: /hardware/dram/kind: expected a DRAM kind of energy table \"horowitz_45nm\" "
        "(one of \"ddr3\", \"ddr4\", \"gddr5\", \"hbm2\", \"hmc\", \"lpddr\", \"lpddr4\") "
        "(did you mean \"lpddr\"?), or \"energy_pj_per_bit\", found \"lpddr5\"");
  hw.dram.kind = "lpddr5";
  CHECK(spec_error_of([&] { model_for(hw); }) ==
        "scenario.json: /hardware/dram/kind: expected a DRAM kind of energy table \"horowitz_45nm\" "
        "(one of \"ddr3\", \"ddr4\", \"gddr5\", \"hbm2\", \"hmc\", \"lpddr\", \"lpddr4\") "
        "(did you mean \"lpddr\"?), or \"energy_pj_per_bit\", found \"lpddr5\"");
  hw.dram.energy_pj_per_bit = 6.0;  // with its own figure the kind needs no table entry
  CHECK(model_for(hw).dram_pj_per_bit(hw.dram) == exact(6.0));

  hw = default_hw();
  hw.technology_nm = 7;
  CHECK(model_for(hw).dram_pj_per_bit(hw.dram) == exact(8));
}

TEST_CASE("technology scaling: table factors at nodes, log-log between them", "[energy][laws][technology]") {
  HardwareSpec hw = default_hw();
  CHECK(model_for(hw).technology_scale() == exact(1));
  CHECK(model_for(hw).table_node_nm() == 45);

  hw.technology_nm = 32;
  EnergyModel m32 = model_for(hw);
  CHECK(m32.technology_scale() == exact(0.6593));
  CHECK(m32.multiply_pj(int_op(8), int_op(8)) == exact(0.2 * 0.6593));
  CHECK(m32.add_pj(float_op(NumFormat::Fp32)) == exact(0.9 * 0.6593));
  CHECK(m32.buffer_access_pj(BufferId::Weight, [] { BufferSpec b; b.size_kib = 8; return b; }(), 64, false) ==
        exact(10 * 0.6593));
  CHECK(m32.mac16_pj() == exact(0.86 * 0.6593));
  CHECK(m32.register_file_pj(16) == exact(0.86 * 0.6593));

  hw.technology_nm = 7;
  CHECK(model_for(hw).technology_scale() == exact(0.09431));
  hw.technology_nm = 130;
  CHECK(model_for(hw).technology_scale() == exact(3.068));

  // 28 nm between 32 nm (0.6593) and 20 nm (0.2211): t = ln(28/32) / ln(20/32) = 0.284107.
  hw.technology_nm = 28;
  const double t = std::log(28.0 / 32.0) / std::log(20.0 / 32.0);
  CHECK(t == Approx(0.284107).margin(1e-6));
  const double f28 = 0.6593 * std::pow(0.2211 / 0.6593, t);
  CHECK(f28 == Approx(0.483366).margin(1e-6));
  CHECK(model_for(hw).technology_scale() == exact(f28));
  CHECK(model_for(hw).multiply_pj(int_op(16), int_op(16)) == exact(0.8 * f28));

  for (int nm : {5, 180, 250}) {
    hw.technology_nm = nm;
    CHECK(spec_error_of([&] { model_for(hw); }) ==
          "scenario.json: /hardware/technology_nm: expected a technology node in [7, 130] nm (the "
          "technology scaling range of energy table \"horowitz_45nm\"), found " +
              std::to_string(nm));
  }
}

TEST_CASE("nonlinear unit: LUT for narrow integers, piecewise linear otherwise", "[energy][laws][nonlinear]") {
  const EnergyModel m = model_for(default_hw());
  // int8 sigmoid: one 8-bit read of a 256 x 8-bit (0.25 KiB) table. 0.25 KiB is 5 doublings
  // below 8 KiB: 10 / 1.56^5 pJ per 64-bit row, 8/64 of it for the word.
  const double lut8 = 10 / std::pow(1.56, 5) * 8 / 64;
  CHECK(lut8 == Approx(0.135297).margin(1e-6));
  CHECK(m.nonlinear_pj(NonlinearOp::Sigmoid, int_op(8)) == exact(lut8));
  CHECK(m.nonlinear_pj(NonlinearOp::Tanh, int_op(8)) == exact(lut8));
  // int16: 256 segments of (slope, intercept) = 256 x 32 bits = 1 KiB (3 doublings below 8
  // KiB), one 32-bit read + 16x16 multiply (0.8) + 16-bit add (0.06).
  const double pwl16 = 10 / std::pow(1.56, 3) * 32 / 64 + 0.8 + 0.06;
  CHECK(m.nonlinear_pj(NonlinearOp::Tanh, int_op(16)) == exact(pwl16));
  // fp16: the same segment table, fp16 multiply (1.1) and add (0.4).
  const double pwl_fp16 = 10 / std::pow(1.56, 3) * 32 / 64 + 1.1 + 0.4;
  CHECK(m.nonlinear_pj(NonlinearOp::Sigmoid, float_op(NumFormat::Fp16)) == exact(pwl_fp16));
  CHECK(m.nonlinear_pj(NonlinearOp::Multiply, int_op(8)) == exact(0.2));
  CHECK(m.nonlinear_pj(NonlinearOp::Add, int_op(16)) == exact(0.06));
  CHECK(m.nonlinear_pj(NonlinearOp::Multiply, float_op(NumFormat::Fp32)) == exact(3.7));
  for (int b = 1; b < 32; ++b) {
    INFO("bits " << b);
    CHECK(m.nonlinear_pj(NonlinearOp::Sigmoid, int_op(b)) <= m.nonlinear_pj(NonlinearOp::Sigmoid, int_op(b + 1)));
  }
}

TEST_CASE("law helpers", "[energy][laws]") {
  using namespace mixprec::energy::laws;
  CHECK(ceil_log2(1) == 0);
  CHECK(ceil_log2(2) == 1);
  CHECK(ceil_log2(3) == 2);
  CHECK(ceil_log2(64) == 6);
  CHECK(ceil_log2(65) == 7);
  CHECK(ceil_log2(std::int64_t(1) << 40) == 40);
  CHECK_THROWS_AS(ceil_log2(0), InternalError);
  std::vector<Anchor> a{{8, 0.03}, {32, 0.1}};
  CHECK(proportional_to_nearest(a, 20) == exact(0.075));  // tie: the smaller anchor
  CHECK(proportional_to_nearest(a, 21) == exact(0.065625));
  CHECK(word_access_pj(10, 64, 32) == exact(5));
  CHECK(word_access_pj(10, 64, 64) == exact(10));
  CHECK(word_access_pj(10, 64, 129) == exact(30));
  CHECK(round_up_to_brick(3, 2) == 4);
  CHECK(round_up_to_brick(8, 2) == 8);
}

TEST_CASE("citations name the sources the model reads", "[energy]") {
  HardwareSpec hw = default_hw();
  hw.pe_array.mac = composable(2, 8);
  auto cites = model_for(hw).citations();
  auto has = [&](const std::string& s) {
    for (const auto& c : cites)
      if (c.find(s) != std::string::npos) return true;
    return false;
  };
  CHECK(has("Horowitz"));
  CHECK(has("Bit Fusion"));
  CHECK(has("Eyeriss"));
  CHECK(has("LPDDR4 8 pJ/bit"));
  CHECK_FALSE(has("Stillmaker"));  // no technology scaling at the table's own node
  hw.technology_nm = 28;
  auto cites28 = model_for(hw).citations();
  bool stillmaker = false;
  for (const auto& c : cites28) stillmaker |= c.find("Stillmaker") != std::string::npos;
  CHECK(stillmaker);
}
