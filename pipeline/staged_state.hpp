#pragma once
// A resumable run's state file (`state.json`): the stages done, each with its result and the
// seconds it took, written atomically with a checksum after every stage. `reproduce` keeps one per
// seed, `predictor` one per run; an interrupted run resumes by skipping the stages recorded.

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace mixprec::pipeline {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Reads RUN/.../state.json, checking its format version and checksum (SpecError naming the file
// when the file was altered or torn); writes one with its checksum.
nlohmann::json load_state(const std::string& path);
void save_state(const std::string& path, nlohmann::json state);

// Runs `body` as the stage `name` of `state` unless state["stages"] holds it already (then its
// stored result is returned and nothing runs). Otherwise `note("name: what")`, then the body —
// outside the lock, so stages of one state may run in parallel — then, under `m`: the result and
// its seconds recorded in state["stages"][name], the name appended to state["order"],
// `touch(state)` (bookkeeping saved with the stage, e.g. a running wall time) and the state saved
// to `path`.
template <class Body, class Touch>
nlohmann::json run_stage(nlohmann::json& state, std::mutex& m, const std::string& path, const std::string& name,
                         const std::string& what, const std::function<void(const std::string&)>& note, Body&& body,
                         Touch&& touch) {
  {
    std::lock_guard<std::mutex> lock(m);
    if (state["stages"].contains(name)) return state["stages"][name]["result"];
  }
  note(name + ": " + what);
  const auto t0 = Clock::now();
  nlohmann::json r = std::forward<Body>(body)();
  std::lock_guard<std::mutex> lock(m);
  state["stages"][name] = {{"result", r}, {"seconds", seconds_since(t0)}};
  state["order"].push_back(name);
  touch(state);
  save_state(path, state);
  return r;
}

}  // namespace mixprec::pipeline
