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

// The default scenario with a small network (the tests' tiny CNN + LSTM), so that a checkpoint
// seed stays a few kilobytes.
const char* kTinyNetwork = R"({"network": {"input": {"frames": 2, "channels": 3, "height": 8, "width": 8},
  "cnn": {"stage_widths": [4, 8], "stage_strides": [1, 2], "blocks_per_stage": 1}, "lstm": {"hidden": 4}},
  "precision": {"layers": []}})";
}  // namespace

void fuzz_init() {
  const mixprec::JsonDoc doc = mixprec::JsonDoc::load(mixprec::fuzz::source_path("scenarios/venue_cnn_lstm.json"));
  mixprec::json root = doc.root();
  root.merge_patch(mixprec::json::parse(kTinyNetwork));
  g_sc = mixprec::parse_scenario(root, doc.ctx());
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
