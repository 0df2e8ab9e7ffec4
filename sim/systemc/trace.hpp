// Timeline of one simulation as Chrome trace-event JSON ("X" complete events, timestamps in
// microseconds), which Perfetto (ui.perfetto.dev) and chrome://tracing open directly.
//
// Contract: plain C++; the modules record slices while the kernel runs (times in picoseconds of
// simulated time), to_json() renders them relative to the start of the run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mixprec::sim::systemc {

// One lane (a "thread" in the trace viewer) per engine of the accelerator.
enum class Lane { Layers = 1, DmaLoad, DmaWriteBack, DmaStreamRead, DmaStreamWrite, PeArray, Nonlinear };
const char* to_string(Lane lane);

class TraceRecorder {
 public:
  explicit TraceRecorder(double origin_ps) : origin_ps_(origin_ps) {}

  // A slice [begin_ps, end_ps) on `lane`. `layer` indexes the layer names given to to_json();
  // `index` is the tile/slice/step number (-1: none), `bits` the data it moved (0: none).
  void slice(Lane lane, std::string name, double begin_ps, double end_ps, int layer,
             std::int64_t index = -1, std::int64_t bits = 0, double cycles = -1);

  std::size_t size() const { return slices_.size(); }
  std::string to_json(const std::vector<std::string>& layer_names, const std::string& title) const;

 private:
  struct Slice {
    std::string name;
    Lane lane;
    double begin_ps, end_ps;
    int layer;
    std::int64_t index, bits;
    double cycles;
  };
  double origin_ps_;
  std::vector<Slice> slices_;
};

}  // namespace mixprec::sim::systemc
