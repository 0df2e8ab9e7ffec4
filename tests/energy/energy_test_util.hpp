// Helpers shared by the energy model tests.
#pragma once
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/errors.hpp"
#include "energy_models/energy_model.hpp"

namespace mixprec::energy::test {

inline Approx exact(double v) { return Approx(v).epsilon(1e-12).margin(1e-15); }

inline Operand int_op(int bits) { return Operand{NumFormat::Int, bits}; }
inline Operand float_op(NumFormat f) { return Operand{f, float_format_bits(f)}; }

inline HardwareSpec default_hw() {
  HardwareSpec hw;  // 45 nm, horowitz_45nm, 64 KiB buffers with 64-bit rows, lpddr4
  hw.energy.table_path_base = ".";
  return hw;
}

inline EnergyModel model_for(const HardwareSpec& hw, const std::string& scenario = "scenario.json") {
  return EnergyModel::from_hardware(hw, scenario);
}

inline MacSpec bit_parallel(int native) {
  MacSpec m;
  m.style = MacStyle::BitParallel;
  m.native_bits = native;
  return m;
}
inline MacSpec composable(int brick, int fused) {
  MacSpec m;
  m.style = MacStyle::Composable;
  m.brick_bits = brick;
  m.fused_bits = fused;
  return m;
}
inline MacSpec bit_serial(SerialOperand op, int bits_per_cycle) {
  MacSpec m;
  m.style = MacStyle::BitSerial;
  m.serial_operand = op;
  m.serial_bits_per_cycle = bits_per_cycle;
  return m;
}

// The message of the SpecError `f` throws, or a marker when it throws none.
template <class F>
std::string spec_error_of(F&& f) {
  try {
    f();
  } catch (const SpecError& e) {
    return e.what();
  }
  return "<no SpecError thrown>";
}

// A fresh directory for table files, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("mixprec_energy_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                .string();
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& text) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }

 private:
  std::string path_;
};

}  // namespace mixprec::energy::test
