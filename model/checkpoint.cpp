#include "model/checkpoint.hpp"

#include <cstring>
#include <fstream>
#include <sstream>

#include "core/json_reader.hpp"
#include "core/manifest.hpp"

namespace mixprec::model {

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoints are written little-endian by memcpy: port the encoder for big-endian hosts"
#endif
static_assert(sizeof(float) == 4, "checkpoints store IEEE binary32");

CheckpointError::CheckpointError(const std::string& file, const std::string& message)
    : SpecError(file, "", message), message_(file + ": " + message) {}

namespace {

constexpr std::size_t kPrefixBytes = 32;

class Writer {
 public:
  template <class T>
  void pod(T v) {
    const char* p = reinterpret_cast<const char*>(&v);
    out_.append(p, sizeof v);
  }
  void str(const std::string& s) {
    pod(std::uint32_t(s.size()));
    out_ += s;
  }
  void floats(const float* v, std::size_t n) {
    pod(std::uint64_t(n));
    out_.append(reinterpret_cast<const char*>(v), n * sizeof(float));
  }
  void tensor(const NamedTensor& t) {
    str(t.name);
    pod(std::int32_t(t.dims.n));
    pod(std::int32_t(t.dims.c));
    pod(std::int32_t(t.dims.h));
    pod(std::int32_t(t.dims.w));
    floats(t.values.data(), t.values.size());
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(const std::string& b, std::size_t pos, const std::string& file)
      : b_(b), pos_(pos), file_(file) {}
  template <class T>
  T pod() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  std::string str() {
    const auto n = pod<std::uint32_t>();
    need(n);
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::vector<float> floats() {
    const auto n = pod<std::uint64_t>();
    if (n > (b_.size() - pos_) / sizeof(float)) bad();
    std::vector<float> v(n);
    // An empty vector's data() may be null, and memcpy from or to null is undefined even for
    // 0 bytes (found by the checkpoint fuzz target).
    if (n > 0) std::memcpy(v.data(), b_.data() + pos_, n * sizeof(float));
    pos_ += n * sizeof(float);
    return v;
  }
  NamedTensor tensor() {
    NamedTensor t;
    t.name = str();
    t.dims.n = pod<std::int32_t>();
    t.dims.c = pod<std::int32_t>();
    t.dims.h = pod<std::int32_t>();
    t.dims.w = pod<std::int32_t>();
    t.values = floats();
    if (!count_is(t.dims, t.values.size())) throw CheckpointError(file_, "malformed entry for \"" + t.name + "\"");
    return t;
  }
  // Whether the four dims multiply to `values` (non-negative). Checked factor by factor: dims
  // read from a file may be anything, and their int64 product can overflow (found by the
  // checkpoint fuzz target: UBSan, signed overflow in Dims::count).
  static bool count_is(const Dims& d, std::uint64_t values) {
    const std::int64_t f[] = {d.n, d.c, d.h, d.w};
    for (std::int64_t x : f)
      if (x < 0) return false;
    for (std::int64_t x : f)
      if (x == 0) return values == 0;
    std::uint64_t p = 1;
    for (std::int64_t x : f) {
      if (p > values / std::uint64_t(x)) return false;  // p * x > values
      p *= std::uint64_t(x);
    }
    return p == values;
  }
  bool done() const { return pos_ == b_.size(); }

 private:
  void need(std::size_t n) {
    if (n > b_.size() - pos_) bad();
  }
  [[noreturn]] void bad() { throw CheckpointError(file_, "malformed body (ends inside a field)"); }
  const std::string& b_;
  std::size_t pos_;
  const std::string& file_;
};

}  // namespace

std::string encode_checkpoint(const CheckpointData& c) {
  Writer body;
  body.str(c.network);
  body.pod(std::uint32_t(c.layer_count));
  body.pod(std::uint32_t(c.params.size()));
  body.pod(std::uint32_t(c.buffers.size()));
  for (const NamedTensor& t : c.params) body.tensor(t);
  for (const NamedTensor& t : c.buffers) body.tensor(t);
  body.str(c.optimizer);
  body.pod(std::int64_t(c.optimizer_steps));
  body.pod(std::uint32_t(c.optimizer_state.size()));
  for (const auto& v : c.optimizer_state) body.floats(v.data(), v.size());
  body.str(c.rng);
  body.pod(std::int64_t(c.step));
  body.pod(std::int32_t(c.epoch));
  body.pod(std::int32_t(c.batch_in_epoch));
  body.str(c.notes);

  Writer file;
  file.bytes().append(kCheckpointMagic, 8);
  file.pod(std::uint32_t(kCheckpointVersion));
  file.pod(std::uint32_t(0));
  file.pod(std::uint64_t(body.bytes().size()));
  file.pod(fnv1a64(body.bytes().data(), body.bytes().size()));
  return file.bytes() + body.bytes();
}

CheckpointData decode_checkpoint(const std::string& b, const std::string& file) {
  if (b.size() < 8 || std::memcmp(b.data(), kCheckpointMagic, 8) != 0)
    throw CheckpointError(file, "not a mixprec checkpoint (bad magic)");
  if (b.size() < kPrefixBytes)
    throw CheckpointError(file, "truncated checkpoint: " + std::to_string(b.size()) +
                                    " bytes, shorter than the 32-byte header");
  Reader prefix(b, 8, file);
  const auto version = prefix.pod<std::uint32_t>();
  prefix.pod<std::uint32_t>();  // flags
  const auto body_size = prefix.pod<std::uint64_t>();
  const auto checksum = prefix.pod<std::uint64_t>();
  if (version != kCheckpointVersion)
    throw CheckpointError(file, "checkpoint version " + std::to_string(version) +
                                    " is not supported (this build reads version " +
                                    std::to_string(kCheckpointVersion) + ")");
  const std::uint64_t have = b.size() - kPrefixBytes;
  if (have != body_size)
    throw CheckpointError(file, (have < body_size ? "truncated checkpoint: " : "corrupted checkpoint: ") +
                                    std::string("header declares ") + std::to_string(body_size) +
                                    " body bytes, file has " + std::to_string(have));
  if (fnv1a64(b.data() + kPrefixBytes, body_size) != checksum)
    throw CheckpointError(file, "checksum mismatch: the checkpoint is corrupted");

  Reader r(b, kPrefixBytes, file);
  CheckpointData c;
  c.network = r.str();
  c.layer_count = r.pod<std::uint32_t>();
  const auto n_params = r.pod<std::uint32_t>();
  const auto n_buffers = r.pod<std::uint32_t>();
  for (std::uint32_t i = 0; i < n_params; ++i) c.params.push_back(r.tensor());
  for (std::uint32_t i = 0; i < n_buffers; ++i) c.buffers.push_back(r.tensor());
  c.optimizer = r.str();
  c.optimizer_steps = r.pod<std::int64_t>();
  const auto n_state = r.pod<std::uint32_t>();
  for (std::uint32_t i = 0; i < n_state; ++i) c.optimizer_state.push_back(r.floats());
  c.rng = r.str();
  c.step = r.pod<std::int64_t>();
  c.epoch = r.pod<std::int32_t>();
  c.batch_in_epoch = r.pod<std::int32_t>();
  c.notes = r.str();
  if (!r.done()) throw CheckpointError(file, "malformed body (trailing bytes)");
  return c;
}

void write_checkpoint(const std::string& path, const CheckpointData& c) {
  write_file_atomic(path, encode_checkpoint(c));
}

CheckpointData read_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(path, "cannot open checkpoint");
  std::ostringstream ss;
  ss << in.rdbuf();
  return decode_checkpoint(ss.str(), path);
}

}  // namespace mixprec::model
