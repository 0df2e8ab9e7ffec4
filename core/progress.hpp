#pragma once
// Progress lines and notices from library code. Library code (model/, pipeline/, …) never writes
// to stderr itself: it calls the ProgressSink its caller gives — the command line passes
// stderr_progress(), the Python module its callback, tests a collector — and a null sink is silent.

#include <functional>
#include <string>

namespace mixprec {

// `transient`: a status line (a progress bar, a running loss) that the next line replaces on a
// terminal. An empty non-transient line ends a transient line that is showing (before an error).
using ProgressSink = std::function<void(const std::string& line, bool transient)>;

// Seconds between two transient lines a producer emits (its own throttle, so that a per-step
// caller does not call the sink per step).
constexpr double kTransientSeconds = 0.25;

// A sink writing to stderr, safe to call from several threads. On a terminal a transient line is
// redrawn in place ("\r…\033[K"); elsewhere (a log file) a transient line is written only when
// `quiet_seconds` have passed since the last one written, so logs stay short; other lines always.
ProgressSink stderr_progress(double quiet_seconds = 10.0);

}  // namespace mixprec
