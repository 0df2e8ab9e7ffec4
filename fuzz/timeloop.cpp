// Timeloop v0.4 YAML: `mixprec import-timeloop --arch A --problem P --mapping M [--ert E]
// [--constraints C]` (import_timeloop, yaml-cpp). One input holds the files one after the other,
// separated by a line "#%%" (the seeds in fuzz/corpus/timeloop/ are the tests' Timeloop examples):
// arch, problem, mapping, then optionally the ERT and the constraints.
#include <vector>

#include "fuzz/fuzz_contract.hpp"
#include "sim/nest/timeloop_import.hpp"

void fuzz_one(const std::string& bytes) {
  std::vector<std::string> part;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t sep = bytes.find("\n#%%\n", pos);
    part.push_back(bytes.substr(pos, sep == std::string::npos ? std::string::npos : sep - pos));
    if (sep == std::string::npos || part.size() == 5) break;
    pos = sep + 5;
  }
  part.resize(5);
  static const char* kName[] = {"arch.yaml", "prob.yaml", "map.yaml", "ert.yaml", "constraints.yaml"};
  mixprec::sim::nest::TimeloopFiles f;
  f.arch.push_back(mixprec::fuzz::write_input(kName[0], part[0]));
  f.problem = mixprec::fuzz::write_input(kName[1], part[1]);
  f.mapping = mixprec::fuzz::write_input(kName[2], part[2]);
  if (!part[3].empty()) f.ert = mixprec::fuzz::write_input(kName[3], part[3]);
  if (!part[4].empty()) f.constraints = mixprec::fuzz::write_input(kName[4], part[4]);
  (void)mixprec::sim::nest::import_timeloop(f);
}
