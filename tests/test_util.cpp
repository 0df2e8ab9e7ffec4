#include "test_util.hpp"

#include "core/errors.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace mixprec::test {

static std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

RunResult run_cli(const std::string& args) {
  char out_tpl[] = "/tmp/mixprec_test_outXXXXXX";
  char err_tpl[] = "/tmp/mixprec_test_errXXXXXX";
  int fo = mkstemp(out_tpl), fe = mkstemp(err_tpl);
  close(fo);
  close(fe);
  std::string cmd = std::string("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 ") + MIXPREC_CLI + " " + args +
                    " >" + out_tpl + " 2>" + err_tpl;
  int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out_tpl);
  r.err = slurp(err_tpl);
  std::remove(out_tpl);
  std::remove(err_tpl);
  return r;
}

Scenario scenario_from_text(const std::string& text) {
  JsonDoc d = JsonDoc::parse(text, "inline.json");
  return parse_scenario(d.root(), d.ctx());
}

std::string spec_error(const std::string& text) {
  try {
    scenario_from_text(text);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "accepted";
}

Scenario default_scenario_with(const std::string& merge_patch_json) {
  JsonDoc base = JsonDoc::load(source_path("scenarios/venue_cnn_lstm.json"));
  json j = base.root();
  j.merge_patch(json::parse(merge_patch_json));
  JsonCtx ctx{"patched.json"};
  return parse_scenario(j, ctx);
}

std::string temp_dir(const std::string& tag) {
  std::string tpl = "/tmp/mixprec_" + tag + "XXXXXX";
  const char* d = mkdtemp(tpl.data());
  if (d == nullptr) throw std::runtime_error("mkdtemp failed for " + tpl);
  return d;
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  return json::parse(in);
}

std::string write_default_scenario_with(const std::string& path, const std::string& merge_patch_json) {
  json j = JsonDoc::load(source_path("scenarios/venue_cnn_lstm.json")).root();
  j.merge_patch(json::parse(merge_patch_json));
  std::ofstream(path) << j.dump(1);
  return path;
}

std::string write_tiny_reproduce_scenario(const std::string& path) {
  return write_default_scenario_with(path, std::string(R"({"network": )") + kTinyNetworkPatch + R"(,
    "precision": {"default": {"format": "int", "weights": 8, "activations": 8, "gradients": 8},
                  "layers": [{"match": "lstm.*", "weights": 4, "activations": 8}]},
    "data": {"samples": 128},
    "constraints": {"energy_budget": {"fraction": 0.9}},
    "training": {"batch_size": 16, "micro_batches": 2, "epochs": 1}})");
}

}  // namespace mixprec::test
