// Crash safety (issue 19): a failed write (full disk, missing folder; injected with
// MIXPREC_FAULT_WRITE, or a full tmpfs) is a clear error with exit code 3 and leaves nothing
// incomplete under a final name; `kill -9` at seeded random moments of `train`, `sweep`,
// `search` (with sensitivities computed) and `reproduce --quick` never leaves a half-written file
// under a final name, and the resumed or re-run command ends with the outputs of an
// uninterrupted run.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "core/json_reader.hpp"
#include "model/checkpoint.hpp"
#include "pipeline/staged_state.hpp"
#include "test_util.hpp"

using namespace mixprec;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& p) { return std::ifstream(p).good(); }

// Regular files under dir (recursively), as paths relative to dir.
void walk(const std::string& dir, const std::string& rel, std::set<std::string>& out) {
  DIR* d = opendir((dir + rel).c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    const std::string r = rel + "/" + n;
    if (::stat((dir + r).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) walk(dir, r, out);
    else out.insert(r.substr(1));
  }
  closedir(d);
}
std::set<std::string> files_under(const std::string& dir) {
  std::set<std::string> f;
  walk(dir, "", f);
  return f;
}
bool is_temporary(const std::string& name) { return name.find(".tmp.") != std::string::npos; }

// Every file under a final name is complete: JSON documents parse, checkpoints pass their
// checksum, and points.jsonl (an append log, flushed per point) holds whole lines except at
// most a torn last one, which `sweep --resume` drops.
void check_complete(const std::string& dir) {
  for (const std::string& f : files_under(dir)) {
    if (is_temporary(f)) continue;
    const std::string p = dir + "/" + f;
    INFO(p);
    const auto ends = [&](const std::string& s) { return f.size() >= s.size() && f.compare(f.size() - s.size(), s.size(), s) == 0; };
    if (ends(".json")) CHECK_NOTHROW(JsonDoc::load(p));
    if (ends(".ckpt")) CHECK_NOTHROW(model::read_checkpoint(p));
    if (ends(".jsonl")) {
      std::istringstream in(slurp(p));
      std::string line;
      std::vector<std::string> lines;
      while (std::getline(in, line)) lines.push_back(line);
      const bool torn_end = !slurp(p).empty() && slurp(p).back() != '\n';
      for (std::size_t i = 0; i + (torn_end ? 1 : 0) < lines.size(); ++i) CHECK_NOTHROW(JsonDoc::parse(lines[i], p));
    }
  }
}

// Runs the CLI with MIXPREC_FAULT_WRITE=n (the nth atomic write fails as on a full disk).
test::RunResult run_with_fault(int n, const std::string& args) {
  ::setenv("MIXPREC_FAULT_WRITE", std::to_string(n).c_str(), 1);
  test::RunResult r = test::run_cli(args);
  ::unsetenv("MIXPREC_FAULT_WRITE");
  return r;
}

const std::string kDefault = test::source_path("scenarios/venue_cnn_lstm.json");

using Clock = std::chrono::steady_clock;

// Starts the CLI with `args` (output discarded); the shell execs, so the pid is mixprec's.
pid_t spawn(const std::string& args) {
  const std::string cmd = std::string("exec ") + MIXPREC_CLI + " " + args + " >/dev/null 2>&1";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Runs the CLI to its end: exit code and wall time.
std::pair<int, double> run_timed(const std::string& args) {
  const auto t0 = Clock::now();
  const pid_t pid = spawn(args);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, std::chrono::duration<double>(Clock::now() - t0).count()};
}

// Runs the CLI and sends SIGKILL after `seconds` unless it ended before; true if it was killed.
bool run_and_kill(const std::string& args, double seconds) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  const pid_t pid = spawn(args);
  int status = 0;
  while (Clock::now() < until) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status);
}

// Seeded kill moments spread over (5%, 95%) of an uninterrupted run's wall time.
std::vector<double> kill_moments(unsigned seed, int n, double wall_s) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.05, 0.95);
  std::vector<double> t;
  for (int i = 0; i < n; ++i) t.push_back(u(rng) * wall_s);
  return t;
}

// A copy of a JSON document without the members whose keys `drop` names, at any depth.
nlohmann::json without_keys(const nlohmann::json& j, const std::function<bool(const std::string&)>& drop) {
  if (j.is_object()) {
    nlohmann::json o = nlohmann::json::object();
    for (auto it = j.begin(); it != j.end(); ++it)
      if (!drop(it.key())) o[it.key()] = without_keys(it.value(), drop);
    return o;
  }
  if (j.is_array()) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& v : j) a.push_back(without_keys(v, drop));
    return a;
  }
  return j;
}

bool is_wall_time(const std::string& key) {
  return key.find("second") != std::string::npos || key.find("_per_s") != std::string::npos;
}

// A copy of a JSON document without wall times, throughputs and paths of the run.
nlohmann::json without_times(const nlohmann::json& j) {
  return without_keys(j, [](const std::string& k) {
    return is_wall_time(k) || k == "manifest" || k == "resumed" || k == "checkpoints";
  });
}

// A JSON document as text with a run's directory, where a path names it, replaced by RUN.
std::string text_without_dir(const nlohmann::json& j, const std::string& run_dir) {
  std::string s = j.dump(1);
  for (std::size_t at = s.find(run_dir); at != std::string::npos; at = s.find(run_dir, at + 3))
    s.replace(at, run_dir.size(), "RUN");
  return s;
}

// Two checkpoints hold the same model, optimizer and position (their notes carry wall times).
void check_same_checkpoint(const std::string& a, const std::string& b) {
  INFO(a << " vs " << b);
  const model::CheckpointData x = model::read_checkpoint(a), y = model::read_checkpoint(b);
  REQUIRE(x.params.size() == y.params.size());
  for (std::size_t i = 0; i < x.params.size(); ++i) CHECK(x.params[i].values == y.params[i].values);
  REQUIRE(x.buffers.size() == y.buffers.size());
  for (std::size_t i = 0; i < x.buffers.size(); ++i) CHECK(x.buffers[i].values == y.buffers[i].values);
  CHECK(x.optimizer_state == y.optimizer_state);
  CHECK(x.rng == y.rng);
  CHECK(x.step == y.step);
  CHECK(x.epoch == y.epoch);
}

std::string tiny_train_scenario(const std::string& dir) {
  return test::write_default_scenario_with(dir + "/tiny.json",
      std::string(R"({"network": )") + test::kTinyNetworkPatch + R"(,
         "precision": {"default": {"format": "int", "weights": 8, "activations": 8}, "layers": []},
         "data": {"samples": 96}, "training": {"batch_size": 16, "micro_batches": 1, "epochs": 3}})");
}

}  // namespace

TEST_CASE("crash safety: a failed write exits 3 and keeps the previous file", "[crash][cli]") {
  const std::string dir = test::temp_dir("crash_write");
  const std::string out = dir + "/cost.json";
  auto r = run_with_fault(1, "simulate " + kDefault + " --format json --out " + out);
  CHECK(r.exit_code == 3);
  CHECK(r.err == "error: cannot write " + out + ": No space left on device\n");
  CHECK(files_under(dir).empty());  // neither the result nor its temporary file

  REQUIRE(test::run_cli("simulate " + kDefault + " --format json --out " + out).exit_code == 0);
  const std::string before = slurp(out);
  r = run_with_fault(1, "simulate " + kDefault + " --format csv --out " + out);
  CHECK(r.exit_code == 3);
  CHECK(slurp(out) == before);
  CHECK(files_under(dir) == std::set<std::string>{"cost.json"});
}

TEST_CASE("crash safety: a missing output folder exits 3 and names the file", "[crash][cli]") {
  const std::string out = "/nonexistent-mixprec-dir/cost.json";
  auto r = test::run_cli("simulate " + kDefault + " --format json --out " + out);
  CHECK(r.exit_code == 3);
  CHECK(r.err == "error: cannot write " + out + ": No such file or directory\n");
}

TEST_CASE("crash safety: each failing write of train leaves only complete files", "[crash][cli]") {
  const std::string dir = test::temp_dir("crash_train");
  const std::string file = tiny_train_scenario(dir);
  bool reached_end = false;
  for (int n = 1; n <= 12 && !reached_end; ++n) {
    const std::string out = dir + "/run" + std::to_string(n);
    auto r = run_with_fault(n, "train " + file + " --out " + out + " --synthetic 96 --no-progress");
    INFO("write " << n << ": " << r.err);
    if (r.exit_code == 0) {
      reached_end = true;  // fewer than n writes: the run is complete
      continue;
    }
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("error: cannot write " + out + "/") != std::string::npos);
    CHECK(r.err.find(": No space left on device\n") != std::string::npos);
    for (const std::string& f : files_under(out)) CHECK_FALSE(is_temporary(f));
    check_complete(out);
  }
  CHECK(reached_end);
}

TEST_CASE("crash safety: a full tmpfs gives exit 3 and no truncated result", "[crash][cli]") {
  const std::string dir = test::temp_dir("crash_tmpfs");
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=16k") != 0) {
    WARN("skipped: cannot mount a tmpfs here (" << std::strerror(errno) << ")");
    return;
  }
  const std::string out = dir + "/cost.json";
  auto r = test::run_cli("simulate " + kDefault + " --format json --out " + out);
  const std::set<std::string> left = files_under(dir);
  ::umount(dir.c_str());
  CHECK(r.exit_code == 3);
  CHECK(r.err == "error: cannot write " + out + ": No space left on device\n");
  CHECK(left.empty());
}

TEST_CASE("kill -9: train resumes to the uninterrupted run's model", "[kill][cli]") {
  const std::string dir = test::temp_dir("kill_train");
  const std::string file = tiny_train_scenario(dir);
  const std::string args = "train " + file + " --synthetic 96 --no-progress --out ";
  const auto [code, wall] = run_timed(args + dir + "/ref");
  REQUIRE(code == 0);
  int killed = 0, k = 0;
  for (double t : kill_moments(19, 4, wall)) {
    const std::string out = dir + "/run" + std::to_string(k++);
    INFO("killed after " << t << " s of " << wall << " s: " << out);
    killed += run_and_kill(args + out, t);
    check_complete(out);
    const bool resumable = exists(out + "/last.ckpt");
    REQUIRE(run_timed(args + out + (resumable ? " --resume" : "")).first == 0);
    check_complete(out);
    for (const char* f : {"last.ckpt", "best.ckpt"}) check_same_checkpoint(dir + "/ref/" + f, out + "/" + f);
    CHECK(without_times(test::read_json(out + "/summary.json")) ==
          without_times(test::read_json(dir + "/ref/summary.json")));
  }
  CHECK(killed > 0);
}

TEST_CASE("kill -9: sweep --resume ends with the uninterrupted run's bytes", "[kill][cli]") {
  const std::string dir = test::temp_dir("kill_sweep");
  nlohmann::json sweep = test::read_json(test::source_path("scenarios/sweeps/default_arch_lhs.json"));
  sweep["base"] = kDefault;
  sweep["sampling"]["points"] = 6000;
  const std::string file = dir + "/lhs.json";
  std::ofstream(file) << sweep.dump(2) << "\n";
  const std::string args = "sweep " + file + " --jobs 2 --quiet --out ";
  const auto [code, wall] = run_timed(args + dir + "/ref");
  REQUIRE(code == 0);
  int killed = 0, k = 0;
  for (double t : kill_moments(1919, 4, wall)) {
    const std::string out = dir + "/run" + std::to_string(k++);
    INFO("killed after " << t << " s of " << wall << " s: " << out);
    killed += run_and_kill(args + out, t);
    check_complete(out);
    REQUIRE(run_timed(args + out + " --resume").first == 0);
    for (const char* f : {"points.jsonl", "results.csv", "pareto.csv", "pareto.json"}) {
      INFO(f);
      CHECK(slurp(out + "/" + f) == slurp(dir + "/ref/" + f));
    }
  }
  CHECK(killed > 0);
}

TEST_CASE("kill -9: search while computing sensitivities, run again: the same choice", "[kill][cli]") {
  const std::string dir = test::temp_dir("kill_search");
  const std::string file = tiny_train_scenario(dir);
  REQUIRE(test::run_cli("train " + file + " --synthetic 96 --epochs 1 --no-progress --out " + dir + "/fp32").exit_code == 0);
  const std::string ckpt = slurp(dir + "/fp32/best.ckpt");
  // Each run gets its own copy of the checkpoint, so that none reuses another's sensitivity cache.
  auto args = [&](const std::string& run) {
    ::mkdir((dir + "/" + run).c_str(), 0755);
    if (!exists(dir + "/" + run + "/model.ckpt")) std::ofstream(dir + "/" + run + "/model.ckpt", std::ios::binary) << ckpt;
    return "search " + file + " --checkpoint " + dir + "/" + run + "/model.ckpt --synthetic 96 --samples 16 --budget 0.9 --out " +
           dir + "/" + run + "/search";
  };
  const auto [code, wall] = run_timed(args("ref"));
  REQUIRE(code == 0);
  int killed = 0, k = 0;
  for (double t : kill_moments(119, 3, wall)) {
    const std::string run = "run" + std::to_string(k++);
    INFO("killed after " << t << " s of " << wall << " s: " << run);
    killed += run_and_kill(args(run), t);
    check_complete(dir + "/" + run);
    REQUIRE(run_timed(args(run)).first == 0);
    for (const char* f : {"precision.json", "pareto.json", "pareto.csv"}) {
      INFO(f);
      CHECK(slurp(dir + "/" + run + "/search/" + f) == slurp(dir + "/ref/search/" + f));
    }
  }
  CHECK(killed > 0);
}

TEST_CASE("kill -9: reproduce --quick --resume ends with the uninterrupted run's report", "[kill][cli]") {
  const std::string dir = test::temp_dir("kill_reproduce");
  // Both runs end in a directory named "run": the same run id.
  const std::string ref = dir + "/ref/run", out = dir + "/killed/run";
  const std::string args = "reproduce " + kDefault + " --quick --no-progress --out ";
  const auto [code, wall] = run_timed(args + ref);
  REQUIRE(code == 0);
  // Started, killed at a seeded moment, resumed, killed again, ... Each attempt is killed at a
  // seeded fraction of what the uninterrupted run spent outside the stages already done (a
  // resumed run skips them), so that the kills spread over the stages rather than all landing in
  // the first attempt's (with this seed: during the plan, the QAT jobs and the report).
  const nlohmann::json ref_state = pipeline::load_state(ref + "/seed1/state.json");
  int killed = 0, k = 0;
  double done_s = 0;  // the uninterrupted run's seconds in the stages done in `out`
  std::string stages_done_at_kills;
  for (double u : kill_moments(2019, 8, 1.0)) {
    const double t = u * (wall - done_s);
    INFO("attempt " << k << " killed after " << t << " s (uninterrupted: " << wall << " s)");
    const bool was_killed = run_and_kill(args + out + (k++ > 0 ? " --resume" : ""), t);
    killed += was_killed;
    check_complete(out);
    if (exists(out + "/seed1/state.json")) {
      const nlohmann::json st = pipeline::load_state(out + "/seed1/state.json");  // checksum holds
      stages_done_at_kills += " " + std::to_string(st["order"].size());
      done_s = 0;
      for (const nlohmann::json& n : st["order"])
        done_s += ref_state["stages"][n.get<std::string>()]["seconds"].get<double>();
    }
    if (!was_killed) break;
  }
  INFO("stages done at the kills:" << stages_done_at_kills);
  // One more --resume: it completes the run (or, when the last attempt ended, rewrites the report
  // from the complete state).
  REQUIRE(run_timed(args + out + " --resume").first == 0);
  CHECK(killed > 0);
  check_complete(out);
  // The same files under final names, each complete; the state's checksum holds.
  std::set<std::string> finals;
  for (const std::string& f : files_under(out))
    if (!is_temporary(f)) finals.insert(f);
  CHECK(finals == files_under(ref));
  const nlohmann::json st = pipeline::load_state(out + "/seed1/state.json");
  CHECK(st["order"] == ref_state["order"]);
  // The report and each configuration's outputs equal the uninterrupted run's but for wall times
  // and the run directory in paths (report.md and .html print both, and the run id: left out).
  const auto report = [](const std::string& run) {
    return text_without_dir(without_keys(test::read_json(run + "/report.json"), is_wall_time), run);
  };
  CHECK(report(out) == report(ref));
  // A training summary also says whether the job resumed from its last.ckpt (then it was not
  // initialized from the FP32 model's file).
  const auto summary = [](const std::string& run, const std::string& sub) {
    return text_without_dir(without_keys(test::read_json(run + sub + "/summary.json"), [](const std::string& k) {
                              return is_wall_time(k) || k == "resumed" || k == "initialized_from";
                            }),
                            run);
  };
  for (const nlohmann::json& c : st["configs"]) {
    const std::string sub = "/seed1/" + c.get<std::string>();
    INFO(sub);
    if (!exists(ref + sub + "/summary.json")) continue;  // trained under another name (uniform_w8a8: baseline)
    CHECK(slurp(out + sub + "/precision.json") == slurp(ref + sub + "/precision.json"));
    CHECK(summary(out, sub) == summary(ref, sub));
    check_same_checkpoint(ref + sub + "/best.ckpt", out + sub + "/best.ckpt");
  }
  check_same_checkpoint(ref + "/seed1/fp32/best.ckpt", out + "/seed1/fp32/best.ckpt");
}
