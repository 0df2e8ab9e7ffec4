// Parsing of the fpga hardware section (kept apart from core/fpga.hpp so that the specs do not
// pull the JSON library into every file that includes core/spec.hpp).
#pragma once
#include <string>

#include "core/fpga.hpp"
#include "core/json_reader.hpp"

namespace mixprec {

// Parses `hardware` of kind "fpga" (v is the hardware object at /hardware). Fills the name and
// clock of the caller's HardwareSpec through the out-parameters.
FpgaSpec parse_fpga_hardware(const json& v, const JsonCtx& ctx, const std::string& scenario_path,
                             std::string& name, double& clock_mhz);

}  // namespace mixprec
