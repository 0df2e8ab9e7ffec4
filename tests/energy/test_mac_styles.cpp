// MAC styles: throughput per PE, energy per product, accumulator width, monotonicity.
#include <vector>

#include "energy_test_util.hpp"

using namespace mixprec;
using namespace mixprec::energy;
using namespace mixprec::energy::test;

TEST_CASE("accumulator width: bw + ba + ceil(log2 n), floats accumulate in fp32", "[energy][mac]") {
  CHECK(accumulator_bits(int_op(8), int_op(8), 1) == 16);
  CHECK(accumulator_bits(int_op(8), int_op(8), 2) == 17);
  CHECK(accumulator_bits(int_op(8), int_op(8), 64) == 22);
  CHECK(accumulator_bits(int_op(8), int_op(8), 65) == 23);
  CHECK(accumulator_bits(int_op(4), int_op(8), 9) == 16);
  CHECK(accumulator_bits(int_op(2), int_op(3), 1000000) == 25);
  CHECK(accumulator_bits(float_op(NumFormat::Fp16), float_op(NumFormat::Fp16), 4096) == 32);
  CHECK(accumulator_bits(float_op(NumFormat::Bf16), float_op(NumFormat::Bf16), 1) == 32);
  CHECK(accumulator_bits(float_op(NumFormat::Fp32), float_op(NumFormat::Fp32), 7) == 32);
  CHECK_THROWS_AS(accumulator_bits(int_op(8), int_op(8), 0), InternalError);
}

TEST_CASE("bit-parallel throughput: 1 / (ceil(bw/n) ceil(ba/n))", "[energy][mac]") {
  const MacSpec bp = bit_parallel(8);
  CHECK(products_per_cycle(bp, int_op(8), int_op(8)) == 1.0);
  CHECK(products_per_cycle(bp, int_op(2), int_op(2)) == 1.0);  // no packing: gating only
  CHECK(products_per_cycle(bp, int_op(16), int_op(8)) == 0.5);
  CHECK(products_per_cycle(bp, int_op(16), int_op(16)) == 0.25);
  CHECK(products_per_cycle(bp, int_op(9), int_op(17)) == 1.0 / 6);
  CHECK(products_per_cycle(bit_parallel(16), int_op(16), int_op(16)) == 1.0);
  // Floats occupy the array like integers of their storage width.
  CHECK(products_per_cycle(bp, float_op(NumFormat::Fp16), float_op(NumFormat::Fp16)) == 0.25);
  CHECK(products_per_cycle(bp, float_op(NumFormat::Fp32), float_op(NumFormat::Fp32)) == 1.0 / 16);
}

TEST_CASE("composable (Bit Fusion) throughput", "[energy][mac]") {
  const MacSpec bf = composable(2, 8);  // 2-bit bricks, 4 x 4 bricks fuse to 8 x 8
  CHECK(products_per_cycle(bf, int_op(2), int_op(2)) == 16.0);
  CHECK(products_per_cycle(bf, int_op(4), int_op(4)) == 4.0);
  CHECK(products_per_cycle(bf, int_op(8), int_op(8)) == 1.0);
  CHECK(products_per_cycle(bf, int_op(16), int_op(16)) == 0.25);
  CHECK(products_per_cycle(bf, int_op(2), int_op(8)) == 4.0);   // mixed 2 x 8
  CHECK(products_per_cycle(bf, int_op(1), int_op(1)) == 16.0);  // rounds up to a brick
  CHECK(products_per_cycle(bf, int_op(3), int_op(3)) == 4.0);   // 3 -> 4 bits
  CHECK(products_per_cycle(bf, int_op(6), int_op(6)) == 1.0);   // 3 bricks: one per unit of 4
  CHECK(products_per_cycle(bf, int_op(2), int_op(16)) == 2.0);  // 4 per pass, 2 passes
  CHECK(products_per_cycle(bf, int_op(12), int_op(12)) == 0.25);
  CHECK(products_per_cycle(composable(4, 8), int_op(2), int_op(2)) == 4.0);
  CHECK(products_per_cycle(composable(2, 16), int_op(2), int_op(2)) == 64.0);
  CHECK(products_per_cycle(bf, float_op(NumFormat::Fp16), float_op(NumFormat::Bf16)) == 0.25);
}

TEST_CASE("bit-serial throughput: Stripes and Loom", "[energy][mac]") {
  const MacSpec stripes = bit_serial(SerialOperand::Activations, 1);
  CHECK(products_per_cycle(stripes, int_op(8), int_op(8)) == 1.0 / 8);
  CHECK(products_per_cycle(stripes, int_op(16), int_op(3)) == 1.0 / 3);
  CHECK(products_per_cycle(bit_serial(SerialOperand::Activations, 2), int_op(8), int_op(3)) == 0.5);
  CHECK(products_per_cycle(bit_serial(SerialOperand::Activations, 4), int_op(8), int_op(2)) == 1.0);
  const MacSpec loom = bit_serial(SerialOperand::Both, 1);
  CHECK(products_per_cycle(loom, int_op(4), int_op(8)) == 1.0 / 32);
  CHECK(products_per_cycle(loom, int_op(2), int_op(2)) == 0.25);
  CHECK(products_per_cycle(bit_serial(SerialOperand::Both, 4), int_op(4), int_op(8)) == 1.0 / 8);
  CHECK(products_per_cycle(stripes, float_op(NumFormat::Fp16), float_op(NumFormat::Fp16)) == 1.0 / 16);
}

TEST_CASE("MAC energy by style", "[energy][mac]") {
  HardwareSpec hw = default_hw();
  const EnergyModel m = model_for(hw);
  const double add22 = 0.1 * 22 / 32;  // nearest entry to 22 bits is 32 bits

  SECTION("bit-parallel: operand gating, one accumulation per pass") {
    MacEnergy e = m.mac(int_op(8), int_op(8), 22, bit_parallel(8));
    CHECK(e.multiplier_pj == exact(0.2));
    CHECK(e.accumulator_pj == exact(add22));
    CHECK(e.total_pj() == exact(0.2 + add22));
    e = m.mac(int_op(4), int_op(4), 14, bit_parallel(8));
    CHECK(e.multiplier_pj == exact(0.05));
    CHECK(e.accumulator_pj == exact(0.03 * 14 / 8));
    e = m.mac(int_op(16), int_op(16), 38, bit_parallel(8));  // 4 passes
    CHECK(e.multiplier_pj == exact(0.8));
    CHECK(e.accumulator_pj == exact(4 * 0.1 * 38 / 32));
  }
  SECTION("composable: overhead x law at widths rounded to bricks") {
    MacEnergy e = m.mac(int_op(8), int_op(8), 22, composable(2, 8));
    CHECK(e.multiplier_pj == exact(1.881 * 0.2));
    CHECK(e.accumulator_pj == exact(add22));
    e = m.mac(int_op(2), int_op(2), 10, composable(2, 8));
    CHECK(e.multiplier_pj == exact(1.881 * 0.0125));
    e = m.mac(int_op(3), int_op(3), 12, composable(2, 8));  // rounded to 4 x 4
    CHECK(e.multiplier_pj == exact(1.881 * 0.05));
    e = m.mac(int_op(16), int_op(16), 38, composable(2, 8));  // 4 temporal passes
    CHECK(e.multiplier_pj == exact(1.881 * 0.8));
    CHECK(e.accumulator_pj == exact(4 * 0.1 * 38 / 32));
    // Overhead by bricks per side r = fused / brick: table points, r = 1 is a fixed cell,
    // beyond the last point the last segment's log-log slope continues.
    CHECK(m.mac(int_op(8), int_op(8), 22, composable(2, 16)).multiplier_pj == exact(2.462 * 0.2));
    CHECK(m.mac(int_op(8), int_op(8), 22, composable(2, 4)).multiplier_pj == exact(1.306 * 0.2));
    CHECK(m.mac(int_op(8), int_op(8), 22, composable(4, 8)).multiplier_pj == exact(1.306 * 0.2));
    CHECK(m.mac(int_op(8), int_op(8), 22, composable(8, 8)).multiplier_pj == exact(0.2));
    CHECK(m.mac(int_op(8), int_op(8), 22, composable(2, 32)).multiplier_pj ==
          exact(2.462 * (2.462 / 1.881) * 0.2));
    // r = 3 lies between the r = 2 and r = 4 points (log-log).
    const double r3 = 1.306 * std::pow(1.881 / 1.306, std::log(1.5) / std::log(2.0));
    CHECK(m.mac(int_op(6), int_op(6), 18, composable(2, 6)).multiplier_pj == exact(r3 * 0.2 * 36 / 64));
  }
  SECTION("bit-serial: law multiply + one accumulator add per serial step") {
    MacEnergy e = m.mac(int_op(8), int_op(8), 22, bit_serial(SerialOperand::Activations, 1));
    CHECK(e.multiplier_pj == exact(0.2));
    CHECK(e.accumulator_pj == exact(8 * add22));
    e = m.mac(int_op(8), int_op(4), 18, bit_serial(SerialOperand::Activations, 2));
    CHECK(e.accumulator_pj == exact(2 * 0.065625));  // 18 bits: envelope of the 21-bit add
    e = m.mac(int_op(4), int_op(4), 14, bit_serial(SerialOperand::Both, 1));
    CHECK(e.multiplier_pj == exact(0.05));
    CHECK(e.accumulator_pj == exact(16 * 0.03 * 14 / 8));
  }
  SECTION("the hardware's composable geometry is cached; other geometries agree") {
    HardwareSpec h2 = hw;
    h2.pe_array.mac = composable(2, 16);
    CHECK(model_for(h2).mac(int_op(8), int_op(8), 22, composable(2, 16)).multiplier_pj ==
          exact(m.mac(int_op(8), int_op(8), 22, composable(2, 16)).multiplier_pj));
  }
}

TEST_CASE("fewer bits never cost more and never run slower, for every MAC style", "[energy][mac][monotone]") {
  HardwareSpec hw = default_hw();
  const std::vector<MacSpec> styles{bit_parallel(8),
                                    bit_parallel(4),
                                    bit_parallel(16),
                                    composable(2, 8),
                                    composable(4, 8),
                                    composable(2, 16),
                                    bit_serial(SerialOperand::Activations, 1),
                                    bit_serial(SerialOperand::Activations, 2),
                                    bit_serial(SerialOperand::Both, 1),
                                    bit_serial(SerialOperand::Both, 4)};
  for (int nm : {45, 28}) {
    hw.technology_nm = nm;
    const EnergyModel m = model_for(hw);
    for (const MacSpec& s : styles) {
      for (int bw = 1; bw <= 32; ++bw)
        for (int ba = 1; ba <= 32; ++ba) {
          auto energy = [&](int w, int a) {
            return m.mac(int_op(w), int_op(a), accumulator_bits(int_op(w), int_op(a), 576), s).total_pj();
          };
          const double e = energy(bw, ba);
          const double ppc = products_per_cycle(s, int_op(bw), int_op(ba));
          INFO("node " << nm << " style " << int(s.style) << " bits " << bw << "x" << ba);
          if (bw < 32) {
            CHECK(e <= energy(bw + 1, ba));
            CHECK(ppc >= products_per_cycle(s, int_op(bw + 1), int_op(ba)));
          }
          if (ba < 32) {
            CHECK(e <= energy(bw, ba + 1));
            CHECK(ppc >= products_per_cycle(s, int_op(bw), int_op(ba + 1)));
          }
        }
    }
    for (int b = 1; b < 64; ++b)
      for (int c = 1; c < 64; ++c) {
        INFO("multiply " << b << "x" << c);
        const double e = m.multiply_pj(int_op(b), int_op(c));
        CHECK(e <= m.multiply_pj(int_op(b + 1), int_op(c)));
        CHECK(e <= m.multiply_pj(int_op(b), int_op(c + 1)));
      }
    for (int b = 1; b < 300; ++b) {
      INFO("add " << b);
      CHECK(m.add_pj(int_op(b)) <= m.add_pj(int_op(b + 1)));
    }
    for (int b = 1; b < 256; ++b) {
      INFO("word " << b);
      CHECK(m.buffer_access_pj(BufferId::Weight, hw.weight_buffer, b, false) <=
            m.buffer_access_pj(BufferId::Weight, hw.weight_buffer, b + 1, false));
      CHECK(m.register_file_pj(b) <= m.register_file_pj(b + 1));
      CHECK(m.interconnect_pj(b) <= m.interconnect_pj(b + 1));
    }
    BufferSpec small, large;
    for (double kib = 0.125; kib < 8192; kib *= 1.37) {
      small.size_kib = kib;
      large.size_kib = kib * 1.37;
      CHECK(m.buffer_access_pj(BufferId::Input, small, 64, false) <=
            m.buffer_access_pj(BufferId::Input, large, 64, false));
    }
  }
}
