#include "sim/cli/commands.h"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

#include "sim/base/seed_pool.h"
#include "sim/cli/huge_pages.h"
#include "sim/scenario/scenario_loader.h"
#include "sim/trace/chrome_trace.h"
#include "sim/trace/trace.h"

namespace sim {

namespace {

using Clock = std::chrono::steady_clock;
std::atomic<bool> g_interrupted{false};

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

nlohmann::ordered_json result_json(const std::string& file, const Scenario& s, uint64_t seed,
                                   const RunResult& r, double wall_s) {
  nlohmann::ordered_json j;
  j["file"] = file;
  j["scenario"] = s.name;
  j["seed"] = seed;
  j["result"] = r.pass ? "pass" : "fail";
  j["events"] = r.events;
  j["virtual_us"] = r.virtual_us;
  j["wall_s"] = wall_s;
  j["digest"] = r.digest;
  j["writes_acknowledged"] = r.writes_acknowledged;
  j["last_write_applied_us"] = r.last_write_applied_us;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  j["peak_rss_kb"] = usage.ru_maxrss;
  j["huge_pages_kb"] = huge_pages_kb();
  nlohmann::ordered_json checks = nlohmann::ordered_json::array();
  for (const CheckOutcome& c : r.checks) checks.push_back({{"ok", c.ok}, {"text", c.text}});
  j["checks"] = checks;
  if (r.interrupted) j["interrupted"] = true;
  if (!r.pass) {
    j["failure"] = r.failure;
    if (!r.interrupted) j["reproduce"] = "raftsim run " + file + " --seed " + std::to_string(seed);
  }
  if (r.violation) {
    j["violation"] = {{"invariant", r.violation->invariant},
                      {"detail", r.violation->detail},
                      {"nodes", r.violation->nodes},
                      {"t", r.failure_time_us}};
  }
  return j;
}

// A temporary file for the JSON Lines trace that the Chrome trace is
// converted from; it is read back after the run, which the --trace output
// (possibly a FIFO or a device) cannot be. Removed when it goes out of scope.
class ScratchFile {
 public:
  ScratchFile() {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/raftsim-trace-XXXXXX";
    const int fd = ::mkstemp(path_.data());
    if (fd < 0) {
      error_ = path_ + ": cannot create a temporary file: " + std::strerror(errno);
      path_.clear();
      return;
    }
    ::close(fd);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  ~ScratchFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_, error_;
};

// Copies the scratch trace to `out`; false when writing fails (errno then
// holds the reason).
bool copy_trace(const std::string& from, std::ostream& out) {
  std::ifstream in(from, std::ios::binary);
  errno = 0;
  if (in.peek() != std::ifstream::traits_type::eof()) out << in.rdbuf();
  return static_cast<bool>(out);
}

// Where one run's trace goes. With --chrome-trace the run writes JSON Lines
// to a scratch file, which is then copied to the --trace output and
// converted; otherwise it writes straight to the --trace output.
struct TraceSinks {
  bool to_stdout = false, to_file = false, chrome = false;
  std::optional<ScratchFile> scratch;
  std::ofstream scratch_out;
  OutputFile trace_out, chrome_out;
};

// Opens the outputs `cmd` names and points the run's trace at them; false,
// having said why, when one cannot be opened.
bool open_trace(const RunCommand& cmd, TraceSinks& t, RunOptions& options) {
  t.to_stdout = cmd.trace_path == "-";
  t.to_file = !cmd.trace_path.empty() && !t.to_stdout;
  t.chrome = !cmd.chrome_trace_path.empty();
  if (t.to_file && !t.trace_out.open(cmd.trace_path)) {
    std::cerr << "raftsim: " << t.trace_out.error() << "\n";
    return false;
  }
  if (t.chrome) {
    if (!t.chrome_out.open(cmd.chrome_trace_path)) {
      std::cerr << "raftsim: " << t.chrome_out.error() << "\n";
      return false;
    }
    t.scratch.emplace();
    if (t.scratch->path().empty()) {
      std::cerr << "raftsim: " << t.scratch->error() << "\n";
      return false;
    }
    t.scratch_out.open(t.scratch->path(), std::ios::binary | std::ios::trunc);
    options.trace = &t.scratch_out;
  } else if (t.to_file) {
    options.trace = &t.trace_out.stream();
  } else if (t.to_stdout) {
    options.trace = &std::cout;
  }
  return true;
}

// After the run with --chrome-trace: the scratch trace copied to the
// --trace output and converted; false, having said why, when that fails.
bool finish_chrome_trace(const RunCommand& cmd, TraceSinks& t) {
  errno = 0;
  t.scratch_out.close();
  if (!t.scratch_out) {
    std::cerr << "raftsim: " << t.scratch->path()
              << ": cannot write the temporary trace: " << std::strerror(errno) << "\n";
    return false;
  }
  if (t.to_file && !copy_trace(t.scratch->path(), t.trace_out.stream())) {
    std::cerr << "raftsim: " << cmd.trace_path
              << ": cannot write the file: " << std::strerror(errno) << "\n";
    return false;
  }
  if (t.to_stdout && !copy_trace(t.scratch->path(), std::cout)) {
    stdout_ok();  // prints the reason
    return false;
  }
  std::ifstream in(t.scratch->path(), std::ios::binary);
  try {
    convert_to_chrome_trace(in, t.chrome_out.stream());
  } catch (const ChromeTraceError& e) {
    std::cerr << "raftsim: " << cmd.chrome_trace_path
              << ": cannot convert the trace to Chrome JSON: " << e.what() << "\n";
    return false;
  }
  if (!t.chrome_out.commit()) {
    std::cerr << "raftsim: " << t.chrome_out.error() << "\n";
    return false;
  }
  return true;
}

// The outputs complete after the run; false, having said why, when one is not.
bool close_trace(const RunCommand& cmd, TraceSinks& t) {
  if (t.chrome && !finish_chrome_trace(cmd, t)) return false;
  if (t.to_file && !t.trace_out.commit()) {
    std::cerr << "raftsim: " << t.trace_out.error() << "\n";
    return false;
  }
  return !t.to_stdout || stdout_ok();
}

// One run's report as text: the checks (unless --quiet) and the summary line.
void print_run(const RunCommand& cmd, const std::string& file, uint64_t seed, const RunResult& r,
               double wall_s, std::ostream& out) {
  if (!cmd.quiet) {
    for (const CheckOutcome& c : r.checks) out << "  " << c.text << "\n";
    if (r.violation) {
      out << "  VIOLATION " << r.violation->invariant << " at " << format_time(r.failure_time_us)
          << ": " << r.violation->detail << "\n";
    } else if (!r.pass && r.checks.empty() && !r.interrupted) {
      out << "  FAIL " << r.failure << "\n";
    }
    if (r.linearizability_undecided) {
      out << "  note: the linearizability check of a key ran out of its search bound "
             "(undecided, not a failure)\n";
    }
  }
  // An interrupted run neither passed nor failed: it says so, and offers no
  // command to reproduce a failure that did not happen.
  out << (r.interrupted ? "INTERRUPTED "
          : r.pass      ? "PASS "
                        : "FAIL ")
      << file << " seed=" << seed << " events=" << r.events
      << " virtual=" << fixed(static_cast<double>(r.virtual_us) / 1e6, 3) << "s"
      << " wall=" << fixed(wall_s, 3) << "s digest=" << r.digest << "\n";
  if (r.interrupted) {
    out << "  " << r.failure << "\n";
  } else if (!r.pass) {
    out << "  " << r.failure << "\n";
    out << "  reproduce: raftsim run " << file << " --seed " << seed
        << " --trace trace.jsonl --trace-level messages\n";
  }
}

int run_one(const RunCommand& cmd, const std::string& file, const Scenario& scenario) {
  RunOptions options;
  options.seed = cmd.seed;
  options.trace_level = cmd.trace_level;
  options.stop = interrupt_flag();
  const uint64_t seed = cmd.seed.value_or(scenario.seed);
  TraceSinks sinks;
  if (!open_trace(cmd, sinks, options)) return 2;
  const auto start = Clock::now();
  const RunResult r = run_scenario(scenario, options);
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (!close_trace(cmd, sinks)) return 2;
  std::ostream& out = sinks.to_stdout ? std::cerr : std::cout;
  if (cmd.json) {
    out << result_json(file, scenario, seed, r, wall_s).dump() << "\n";
  } else {
    print_run(cmd, file, seed, r, wall_s, out);
  }
  out.flush();
  if (r.interrupted) return interrupt_exit_code();
  return r.pass ? 0 : 1;
}

nlohmann::ordered_json distribution(std::vector<double> values, bool with_values) {
  nlohmann::ordered_json j;
  j["count"] = values.size();
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  if (values.empty()) {
    j["mean"] = nullptr;
    j["p50"] = j["p90"] = j["p99"] = j["max"] = nullptr;
  } else {
    j["mean"] =
        std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
    j["p50"] = percentile(sorted, 50);
    j["p90"] = percentile(sorted, 90);
    j["p99"] = percentile(sorted, 99);
    j["max"] = sorted.back();
  }
  if (with_values) j["values"] = values;
  return j;
}

// What the aggregate needs of one seed's run; a record waits only while an
// earlier seed is still running.
struct SeedRecord {
  bool pass = false;
  uint64_t elections = 0, events = 0;
  std::vector<double> election_time_ms;
  Histogram commit_latency_us;
};

// The seeds' figures, folded in seed order (SeedJobs reports in that order),
// so they (and the order of election times) are the same for any --jobs, and
// memory holds only the seeds finished out of order, not one result per seed.
struct SeedAggregate {
  std::vector<double> election;
  Histogram latency;
  std::vector<uint64_t> failed;
  double elections_sum = 0, events_sum = 0;
  uint64_t elections_max = 0, passed = 0;
  uint64_t runs = 0;  // after an interrupt, the unbroken prefix of seeds that ran

  void fold(const SeedRecord& r, uint64_t seed) {
    election.insert(election.end(), r.election_time_ms.begin(), r.election_time_ms.end());
    elections_sum += static_cast<double>(r.elections);
    elections_max = std::max(elections_max, r.elections);
    events_sum += static_cast<double>(r.events);
    latency.merge(r.commit_latency_us);
    if (r.pass) {
      ++passed;
    } else {
      failed.push_back(seed);
    }
  }
  double per_run(double sum) const {
    return sum / static_cast<double>(std::max<uint64_t>(runs, 1));
  }
};

// Runs every seed of --seeds A..B on --jobs threads.
SeedAggregate run_all_seeds(const RunCommand& cmd, const Scenario& scenario, bool progress) {
  const uint64_t first = *cmd.seed_first;
  const auto start = Clock::now();
  SeedAggregate agg;
  SeedJobs<SeedRecord> jobs;
  jobs.keep_going = [] { return !interrupted(); };
  jobs.run = [&](size_t i) -> std::optional<SeedRecord> {
    RunOptions options;
    options.seed = first + i;
    options.stop = interrupt_flag();
    RunResult r = run_scenario(scenario, options);
    if (r.interrupted) return std::nullopt;  // a partial run is not a result
    return SeedRecord{r.pass, r.elections, r.events, std::move(r.election_time_ms),
                      r.commit_latency_us};
  };
  jobs.report = [&](size_t i, SeedRecord&& r) { agg.fold(r, first + i); };
  const uint64_t n = *cmd.seed_last - first + 1;
  if (progress) {
    jobs.progress = [&](size_t done) {
      const double t = std::chrono::duration<double>(Clock::now() - start).count();
      std::cerr << "\r\033[Krun: " << done << "/" << n << " seeds, " << agg.failed.size()
                << " failed, " << fixed(t, 1) << "s" << std::flush;
    };
  }
  agg.runs = run_seed_jobs(n, cmd.jobs, jobs);
  if (progress) std::cerr << "\r\033[K" << std::flush;
  return agg;
}

// The aggregate as the --summary file and --json print it.
nlohmann::ordered_json seeds_summary(const RunCommand& cmd, const std::string& file,
                                     const Scenario& scenario, const SeedAggregate& agg) {
  nlohmann::ordered_json summary;
  summary["scenario"] = scenario.name;
  summary["file"] = file;
  summary["seeds"] = {*cmd.seed_first, *cmd.seed_last};
  summary["runs"] = agg.runs;
  if (interrupted()) summary["interrupted"] = true;
  summary["passed"] = agg.passed;
  summary["failed_seeds"] = agg.failed;
  nlohmann::ordered_json metrics;
  metrics["election_time_ms"] = distribution(agg.election, true);
  metrics["elections_per_run"] = {{"mean", agg.per_run(agg.elections_sum)},
                                  {"max", agg.elections_max}};
  const Histogram& latency = agg.latency;
  nlohmann::ordered_json commit;
  commit["count"] = latency.count();
  for (const auto& [key, p] : {std::pair<const char*, double>{"p50", 50}, {"p99", 99}}) {
    commit[key] = latency.count()
                      ? nlohmann::ordered_json(static_cast<double>(latency.percentile(p)) / 1000.0)
                      : nlohmann::ordered_json(nullptr);
  }
  commit["max"] = latency.count()
                      ? nlohmann::ordered_json(static_cast<double>(latency.max()) / 1000.0)
                      : nlohmann::ordered_json(nullptr);
  metrics["commit_latency_ms"] = commit;
  metrics["events_per_run"] = {{"mean", agg.per_run(agg.events_sum)}};
  summary["metrics"] = metrics;
  return summary;
}

// The aggregate as text (not with --quiet).
void print_seeds(const RunCommand& cmd, const std::string& file, const Scenario& scenario,
                 const SeedAggregate& agg, const nlohmann::ordered_json& metrics) {
  auto show = [](const nlohmann::ordered_json& d, const char* key) {
    return d.contains(key) && !d[key].is_null() ? fixed(d[key].get<double>(), 1) : std::string("-");
  };
  const auto& et = metrics["election_time_ms"];
  const auto& cl = metrics["commit_latency_ms"];
  std::cout << "scenario \"" << scenario.name << "\" seeds " << *cmd.seed_first << ".."
            << *cmd.seed_last << ": " << agg.passed << "/" << agg.runs << " passed"
            << (interrupted() ? " (interrupted: only these ran)" : "") << "\n";
  std::cout << "  election_time_ms   count " << et["count"] << "  mean " << show(et, "mean")
            << "  p50 " << show(et, "p50") << "  p90 " << show(et, "p90") << "  p99 "
            << show(et, "p99") << "  max " << show(et, "max") << "\n";
  std::cout << "  elections_per_run  mean " << fixed(agg.per_run(agg.elections_sum), 2) << "  max "
            << agg.elections_max << "\n";
  std::cout << "  commit_latency_ms  count " << cl["count"] << "  p50 " << show(cl, "p50")
            << "  p99 " << show(cl, "p99") << "  max " << show(cl, "max") << "\n";
  std::cout << "  events_per_run     mean " << fixed(agg.per_run(agg.events_sum), 0) << "\n";
  const std::vector<uint64_t>& failed = agg.failed;
  if (!failed.empty()) {
    std::cout << "  failed seeds:";
    for (size_t i = 0; i < failed.size() && i < 20; ++i) std::cout << " " << failed[i];
    if (failed.size() > 20) std::cout << " ... (" << failed.size() << " in all)";
    std::cout << "\n  reproduce: raftsim run " << file << " --seed " << failed.front() << "\n";
  }
}

int run_seeds(const RunCommand& cmd, const std::string& file, const Scenario& scenario) {
  const auto start = Clock::now();
  const SeedAggregate agg = run_all_seeds(cmd, scenario, !cmd.json && isatty(STDERR_FILENO) != 0);
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  const nlohmann::ordered_json summary = seeds_summary(cmd, file, scenario, agg);
  std::string write_error;
  if (!cmd.summary_path.empty() &&
      !write_file_atomically(cmd.summary_path, summary.dump(2) + "\n", &write_error)) {
    std::cerr << "raftsim: " << write_error << "\n";
    return 2;
  }
  if (cmd.json) {
    std::cout << summary.dump() << "\n";
  } else if (!cmd.quiet) {
    print_seeds(cmd, file, scenario, agg, summary["metrics"]);
  }
  if (!cmd.json) {
    // After an interrupt the range was not run: neither PASS nor FAIL.
    std::cout << (interrupted()        ? "INTERRUPTED "
                  : agg.failed.empty() ? "PASS "
                                       : "FAIL ")
              << file << " seeds=" << *cmd.seed_first << ".." << *cmd.seed_last
              << " runs=" << agg.runs << " passed=" << agg.passed << " wall=" << fixed(wall_s, 3)
              << "s\n";
  }
  if (interrupted()) return interrupt_exit_code();
  return agg.failed.empty() ? 0 : 1;
}

std::atomic<int> g_signal{0};

void on_interrupt(int signal) {
  // A second signal while the first is being handled: the user wants out now.
  if (g_interrupted.load()) ::_exit(128 + signal);
  g_signal.store(signal);
  g_interrupted.store(true);
}

}  // namespace

bool interrupted() {
  return g_interrupted.load();
}
const std::atomic<bool>* interrupt_flag() {
  return &g_interrupted;
}
int interrupt_exit_code() {
  const int signal = g_signal.load();
  return 128 + (signal ? signal : SIGINT);
}

void install_interrupt_handler() {
  // Ctrl-C stops a long run cleanly: runs in progress end with their footer,
  // no new seed starts, and the summary of what ran is printed and written.
  // No SA_RESTART: an open() or read() blocked on a FIFO without a writer
  // returns EINTR instead of waiting on after the signal.
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

int run_command(const RunCommand& cmd) {
  int rc = 0;
  for (const std::string& file : cmd.files) {
    Scenario scenario;
    try {
      scenario = load_scenario_file(file);
      if (cmd.implementation) select_implementation(scenario, *cmd.implementation);
    } catch (const ScenarioError& e) {
      std::cerr << e.what() << "\n";
      rc = 2;
      continue;
    }
    const int file_rc =
        cmd.seed_first ? run_seeds(cmd, file, scenario) : run_one(cmd, file, scenario);
    rc = std::max(rc, file_rc);
    if (interrupted()) break;
  }
  return interrupted() ? interrupt_exit_code() : rc;
}

int check_command(const std::vector<std::string>& files) {
  int rc = 0;
  for (const std::string& file : files) {
    try {
      const Scenario s = load_scenario_file(file);
      // The name is printed JSON-escaped: a name may hold newlines or be huge.
      std::string name;
      append_json_string(name, s.name.size() > 200 ? s.name.substr(0, 200) + "..." : s.name);
      std::cout << "ok " << file << " " << name << "\n";
    } catch (const ScenarioError& e) {
      std::cerr << e.what() << "\n";
      rc = 2;
    }
    if (interrupted()) return interrupt_exit_code();
  }
  return rc;
}

}  // namespace sim
