// Versioned binary checkpoints of a training run.
//
// Layout (little-endian):
//   offset  0  magic      8 bytes "MIXPCKPT"
//           8  version    u32 (kCheckpointVersion)
//          12  flags      u32 (0)
//          16  body size  u64 (bytes after the 32-byte prefix)
//          24  checksum   u64 FNV-1a 64 of the body
//          32  body:
//     header   network name (str), layer count u32, parameter count u32, buffer count u32
//     payload  parameters and buffers: name (str), dims 4 x i32, values (f32 array)
//              optimizer: kind (str), steps i64, state vectors u32 + (f32 array)...
//              RNG state (str, std::mt19937_64's standard text form)
//              step i64, epoch i32, batch in epoch i32
//              trainer notes (str, JSON: metric history, best value, epoch partial sums)
//   str = u32 length + bytes; f32 array = u64 count + count floats.
// Files are written atomically (temporary file in the same directory, then rename), so a crash
// leaves the previous checkpoint intact. A truncated or corrupted file, a wrong magic or an
// unsupported version is rejected with a CheckpointError naming the file and the problem.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "model/tensor.hpp"

namespace mixprec::model {

inline constexpr std::uint32_t kCheckpointVersion = 1;
inline constexpr char kCheckpointMagic[9] = "MIXPCKPT";

// A checkpoint that cannot be used: what() is "FILE: message". A SpecError (bad input, exit 2).
class CheckpointError : public SpecError {
 public:
  CheckpointError(const std::string& file, const std::string& message);
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

struct NamedTensor {
  std::string name;
  Dims dims;
  std::vector<float> values;
};

struct CheckpointData {
  std::string network;
  std::uint32_t layer_count = 0;
  std::vector<NamedTensor> params, buffers;
  std::string optimizer;  // "sgd" | "adamw"
  std::int64_t optimizer_steps = 0;
  std::vector<std::vector<float>> optimizer_state;
  std::string rng;
  std::int64_t step = 0;
  std::int32_t epoch = 0, batch_in_epoch = 0;
  std::string notes;  // JSON text
};

std::string encode_checkpoint(const CheckpointData& c);
// Throws CheckpointError with `file` in the message.
CheckpointData decode_checkpoint(const std::string& bytes, const std::string& file);

void write_checkpoint(const std::string& path, const CheckpointData& c);  // atomic
CheckpointData read_checkpoint(const std::string& path);

}  // namespace mixprec::model
