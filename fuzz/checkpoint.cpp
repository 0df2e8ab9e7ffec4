// Checkpoints: `train --init-from` / `eval --checkpoint` / resume (Trainer::load_checkpoint) into
// a small network. Inputs that start with the checkpoint magic get a valid header (body size and
// FNV-1a checksum recomputed), so the fuzzer explores the body instead of the checksum; other
// inputs are read as they are.
//
// MIXPREC_FUZZ_CHECKPOINT_SEED=FILE writes this network's fresh checkpoint to FILE (the seed in
// fuzz/corpus/checkpoint/).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/json_reader.hpp"
#include "core/manifest.hpp"
#include "core/scenario.hpp"
#include "fuzz/fuzz_contract.hpp"
#include "model/trainer.hpp"

namespace {
mixprec::Scenario g_sc;
std::unique_ptr<mixprec::model::Trainer> g_trainer;

const char* kNetwork = R"({"mixprec_scenario": 1, "name": "fuzz_checkpoint",
  "network": {"batch": 2, "input": {"frames": 2, "features": 3}, "template": "lstm",
              "lstm": {"hidden": 4, "layers": 1, "bidirectional": false}, "classes": 3},
  "precision": {"default": {"format": "int", "weights": 8, "activations": 8}}})";
}  // namespace

void fuzz_init() {
  const mixprec::JsonDoc doc = mixprec::JsonDoc::parse(kNetwork, "fuzz_checkpoint.json");
  g_sc = mixprec::parse_scenario(doc.root(), doc.ctx());
  mixprec::model::TrainerOptions o;
  o.spec.batch_size = 2;
  g_trainer = std::make_unique<mixprec::model::Trainer>(g_sc.net, g_sc.layer_precision, o);
  if (const char* seed = std::getenv("MIXPREC_FUZZ_CHECKPOINT_SEED")) g_trainer->save_checkpoint(seed);
}

void fuzz_one(const std::string& bytes) {
  std::string b = bytes;
  if (b.size() >= 32 && std::memcmp(b.data(), "MIXPCKPT", 8) == 0) {
    const std::uint32_t version = 1;
    const std::uint64_t body = b.size() - 32;
    const std::uint64_t sum = mixprec::fnv1a64(b.data() + 32, body);
    std::memcpy(&b[8], &version, 4);
    std::memcpy(&b[16], &body, 8);
    std::memcpy(&b[24], &sum, 8);
  }
  g_trainer->load_checkpoint(mixprec::fuzz::write_input("fuzz.ckpt", b));
}
