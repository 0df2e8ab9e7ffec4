#include "core/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>

namespace mixprec {

ProgressSink stderr_progress(double quiet_seconds) {
  using Clock = std::chrono::steady_clock;
  struct State {
    std::mutex m;
    bool tty = ::isatty(2) != 0;
    bool showing = false;          // a transient line is on the terminal's last row
    bool wrote_transient = false;  // a transient line was written (not a terminal)
    Clock::time_point last{};
  };
  auto st = std::make_shared<State>();
  return [st, quiet_seconds](const std::string& line, bool transient) {
    std::lock_guard<std::mutex> lock(st->m);
    if (st->tty) {
      if (transient) {
        std::cerr << '\r' << line << "\033[K" << std::flush;
        st->showing = true;
      } else if (line.empty()) {
        if (st->showing) std::cerr << '\n' << std::flush;
        st->showing = false;
      } else {
        std::cerr << (st->showing ? "\r" : "") << line << (st->showing ? "\033[K\n" : "\n") << std::flush;
        st->showing = false;
      }
      return;
    }
    if (line.empty()) return;
    if (transient) {
      const auto now = Clock::now();
      if (st->wrote_transient && std::chrono::duration<double>(now - st->last).count() < quiet_seconds) return;
      st->wrote_transient = true;
      st->last = now;
    }
    std::cerr << line << '\n' << std::flush;
  };
}

}  // namespace mixprec
