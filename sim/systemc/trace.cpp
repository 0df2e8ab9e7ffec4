#include "sim/systemc/trace.hpp"

#include <nlohmann/json.hpp>

namespace mixprec::sim::systemc {

const char* to_string(Lane lane) {
  switch (lane) {
    case Lane::Layers: return "controller: layers";
    case Lane::DmaLoad: return "DMA: tile loads";
    case Lane::DmaWriteBack: return "DMA: write-back";
    case Lane::DmaStreamRead: return "DMA: stream reads";
    case Lane::DmaStreamWrite: return "DMA: stream writes";
    case Lane::PeArray: return "PE array";
    case Lane::Nonlinear: return "nonlinear unit";
  }
  return "?";
}

void TraceRecorder::slice(Lane lane, std::string name, double begin_ps, double end_ps, int layer,
                          std::int64_t index, std::int64_t bits, double cycles) {
  slices_.push_back(Slice{std::move(name), lane, begin_ps, end_ps, layer, index, bits, cycles});
}

std::string TraceRecorder::to_json(const std::vector<std::string>& layer_names, const std::string& title) const {
  using nlohmann::json;
  json events = json::array();
  constexpr int kPid = 1;
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", kPid}, {"args", {{"name", title}}}});
  for (Lane lane : {Lane::Layers, Lane::DmaLoad, Lane::DmaWriteBack, Lane::DmaStreamRead, Lane::DmaStreamWrite,
                    Lane::PeArray, Lane::Nonlinear}) {
    const int tid = static_cast<int>(lane);
    events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", kPid}, {"tid", tid}, {"args", {{"name", to_string(lane)}}}});
    events.push_back({{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", kPid}, {"tid", tid}, {"args", {{"sort_index", tid}}}});
  }
  for (const Slice& s : slices_) {
    json args = json::object();
    if (s.layer >= 0 && s.layer < static_cast<int>(layer_names.size())) args["layer"] = layer_names[s.layer];
    if (s.index >= 0) args["index"] = s.index;
    if (s.bits > 0) args["bytes"] = double(s.bits) / 8.0;
    if (s.cycles >= 0) args["cycles"] = s.cycles;
    events.push_back({{"name", s.name},
                      {"cat", to_string(s.lane)},
                      {"ph", "X"},
                      {"ts", (s.begin_ps - origin_ps_) * 1e-6},
                      {"dur", (s.end_ps - s.begin_ps) * 1e-6},
                      {"pid", kPid},
                      {"tid", static_cast<int>(s.lane)},
                      {"args", args}});
  }
  json doc;
  doc["traceEvents"] = events;
  doc["displayTimeUnit"] = "ns";
  doc["otherData"] = {{"generator", "mixprec simulate --engine systemc"}, {"title", title}};
  return doc.dump() + "\n";
}

}  // namespace mixprec::sim::systemc
