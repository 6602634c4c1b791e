#include "sim/commands.h"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <thread>

#include "sim/chrome_trace.h"
#include "sim/scenario_loader.h"
#include "sim/trace.h"

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
  nlohmann::ordered_json checks = nlohmann::ordered_json::array();
  for (const CheckOutcome& c : r.checks) checks.push_back({{"ok", c.ok}, {"text", c.text}});
  j["checks"] = checks;
  if (!r.pass) {
    j["failure"] = r.failure;
    j["reproduce"] = "raftsim run " + file + " --seed " + std::to_string(seed);
  }
  if (r.violation) {
    j["violation"] = {{"invariant", r.violation->invariant},
                      {"detail", r.violation->detail},
                      {"nodes", r.violation->nodes},
                      {"t", r.failure_time_us}};
  }
  return j;
}

// Converts the JSON Lines trace at `jsonl` into Chrome trace-event JSON at
// `path`, whole or not at all (like write_file_atomically, but streamed: a
// `messages` trace of a long run is large).
bool write_chrome_trace(const std::string& jsonl, const std::string& path) {
  const std::string tmp = path + ".tmp";
  std::ifstream in(jsonl, std::ios::binary);
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!in || !out) {
    std::cerr << "raftsim: " << path << ": cannot write the Chrome trace file\n";
    return false;
  }
  try {
    convert_to_chrome_trace(in, out);
  } catch (const ChromeTraceError& e) {
    std::cerr << "raftsim: " << jsonl << ": cannot convert the trace to Chrome JSON: " << e.what()
              << "\n";
    out.close();
    std::remove(tmp.c_str());
    return false;
  }
  out.close();
  if (!out || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::cerr << "raftsim: " << path << ": cannot write the Chrome trace file\n";
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

int run_one(const RunCommand& cmd, const std::string& file, const Scenario& scenario) {
  RunOptions options;
  options.seed = cmd.seed;
  options.trace_level = cmd.trace_level;
  options.stop = interrupt_flag();
  const uint64_t seed = cmd.seed.value_or(scenario.seed);
  std::ofstream trace_file;
  const bool trace_to_stdout = cmd.trace_path == "-";
  const bool chrome = !cmd.chrome_trace_path.empty();
  // The Chrome trace is converted from the JSON Lines trace once the run is
  // over: from the --trace file, or else from a temporary one beside it.
  const bool trace_to_file = !cmd.trace_path.empty() && !trace_to_stdout;
  const std::string tmp =
      trace_to_file ? cmd.trace_path + ".tmp" : cmd.chrome_trace_path + ".jsonl.tmp";
  const std::string trace_error =
      trace_to_file ? cmd.trace_path + ": cannot write the trace file"
                    : cmd.chrome_trace_path + ": cannot write the Chrome trace file";
  if (trace_to_stdout && !chrome) {
    options.trace = &std::cout;
  } else if (trace_to_file || chrome) {
    trace_file.open(tmp, std::ios::binary | std::ios::trunc);
    if (!trace_file) {
      std::cerr << "raftsim: " << trace_error << "\n";
      return 2;
    }
    options.trace = &trace_file;
  }
  const auto start = Clock::now();
  const RunResult r = run_scenario(scenario, options);
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (trace_file.is_open()) {
    trace_file.close();
    if (!trace_file || (trace_to_file && std::rename(tmp.c_str(), cmd.trace_path.c_str()) != 0)) {
      std::cerr << "raftsim: " << trace_error << "\n";
      std::remove(tmp.c_str());
      return 2;
    }
  }
  if (chrome) {
    const std::string jsonl = trace_to_file ? cmd.trace_path : tmp;
    const bool written = write_chrome_trace(jsonl, cmd.chrome_trace_path);
    if (trace_to_stdout) {
      std::ifstream in(tmp, std::ios::binary);
      std::cout << in.rdbuf();
    }
    if (!trace_to_file) std::remove(tmp.c_str());
    if (!written) return 2;
  }
  std::ostream& out = trace_to_stdout ? std::cerr : std::cout;
  if (cmd.json) {
    out << result_json(file, scenario, seed, r, wall_s).dump() << "\n";
  } else {
    if (!cmd.quiet) {
      for (const CheckOutcome& c : r.checks) out << "  " << c.text << "\n";
      if (r.violation) {
        out << "  VIOLATION " << r.violation->invariant << " at " << format_time(r.failure_time_us)
            << ": " << r.violation->detail << "\n";
      } else if (!r.pass && r.checks.empty()) {
        out << "  FAIL " << r.failure << "\n";
      }
      if (r.linearizability_undecided) {
        out << "  note: the linearizability check of a key ran out of its search bound "
               "(undecided, not a failure)\n";
      }
    }
    out << (r.pass ? "PASS " : "FAIL ") << file << " seed=" << seed << " events=" << r.events
        << " virtual=" << fixed(static_cast<double>(r.virtual_us) / 1e6, 3) << "s"
        << " wall=" << fixed(wall_s, 3) << "s digest=" << r.digest << "\n";
    if (!r.pass) {
      out << "  " << r.failure << "\n";
      out << "  reproduce: raftsim run " << file << " --seed " << seed
          << " --trace trace.jsonl --trace-level messages\n";
    }
  }
  out.flush();
  if (r.interrupted) return 130;
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

int run_seeds(const RunCommand& cmd, const std::string& file, const Scenario& scenario) {
  const uint64_t first = *cmd.seed_first;
  const uint64_t n = *cmd.seed_last - first + 1;
  std::vector<RunResult> results(n);
  std::atomic<uint64_t> next{0};
  const auto start = Clock::now();
  std::vector<char> done(n, 0);
  auto worker = [&]() {
    for (uint64_t i = next++; i < n && !interrupted(); i = next++) {
      RunOptions options;
      options.seed = first + i;
      options.stop = interrupt_flag();
      RunResult r = run_scenario(scenario, options);
      if (r.interrupted) break;
      r.checks.clear();
      results[i] = std::move(r);
      done[i] = 1;
    }
  };
  std::vector<std::thread> threads;
  const unsigned jobs = static_cast<unsigned>(std::min<uint64_t>(cmd.jobs, n));
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();

  // Aggregate in seed order, so the figures are the same for any --jobs.
  std::vector<double> election;
  Histogram latency;
  std::vector<uint64_t> failed;
  double elections_sum = 0, events_sum = 0;
  uint64_t elections_max = 0, passed = 0;
  uint64_t runs = 0;
  for (uint64_t i = 0; i < n; ++i) {
    if (!done[i]) continue;  // not run: interrupted
    ++runs;
    const RunResult& r = results[i];
    election.insert(election.end(), r.election_time_ms.begin(), r.election_time_ms.end());
    latency.merge(r.commit_latency_us);
    elections_sum += static_cast<double>(r.elections);
    elections_max = std::max(elections_max, r.elections);
    events_sum += static_cast<double>(r.events);
    if (r.pass) {
      ++passed;
    } else {
      failed.push_back(first + i);
    }
  }
  nlohmann::ordered_json summary;
  summary["scenario"] = scenario.name;
  summary["file"] = file;
  summary["seeds"] = {first, *cmd.seed_last};
  summary["runs"] = runs;
  if (interrupted()) summary["interrupted"] = true;
  summary["passed"] = passed;
  summary["failed_seeds"] = failed;
  nlohmann::ordered_json metrics;
  metrics["election_time_ms"] = distribution(election, true);
  metrics["elections_per_run"] = {
      {"mean", elections_sum / static_cast<double>(std::max<uint64_t>(runs, 1))},
      {"max", elections_max}};
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
  metrics["events_per_run"] = {
      {"mean", events_sum / static_cast<double>(std::max<uint64_t>(runs, 1))}};
  summary["metrics"] = metrics;
  if (!cmd.summary_path.empty() &&
      !write_file_atomically(cmd.summary_path, summary.dump(2) + "\n")) {
    std::cerr << "raftsim: " << cmd.summary_path << ": cannot write the summary file\n";
    return 2;
  }
  if (cmd.json) {
    std::cout << summary.dump() << "\n";
  } else {
    auto show = [](const nlohmann::ordered_json& d, const char* key) {
      return d.contains(key) && !d[key].is_null() ? fixed(d[key].get<double>(), 1)
                                                  : std::string("-");
    };
    const auto& et = metrics["election_time_ms"];
    const auto& cl = metrics["commit_latency_ms"];
    std::cout << "scenario \"" << scenario.name << "\" seeds " << first << ".." << *cmd.seed_last
              << ": " << passed << "/" << runs << " passed"
              << (interrupted() ? " (interrupted: only these ran)" : "") << "\n";
    std::cout << "  election_time_ms   count " << et["count"] << "  mean " << show(et, "mean")
              << "  p50 " << show(et, "p50") << "  p90 " << show(et, "p90") << "  p99 "
              << show(et, "p99") << "  max " << show(et, "max") << "\n";
    std::cout << "  elections_per_run  mean "
              << fixed(elections_sum / static_cast<double>(std::max<uint64_t>(runs, 1)), 2)
              << "  max " << elections_max << "\n";
    std::cout << "  commit_latency_ms  count " << cl["count"] << "  p50 " << show(cl, "p50")
              << "  p99 " << show(cl, "p99") << "  max " << show(cl, "max") << "\n";
    std::cout << "  events_per_run     mean "
              << fixed(events_sum / static_cast<double>(std::max<uint64_t>(runs, 1)), 0) << "\n";
    if (!failed.empty()) {
      std::cout << "  failed seeds:";
      for (size_t i = 0; i < failed.size() && i < 20; ++i) std::cout << " " << failed[i];
      if (failed.size() > 20) std::cout << " ... (" << failed.size() << " in all)";
      std::cout << "\n  reproduce: raftsim run " << file << " --seed " << failed.front() << "\n";
    }
    std::cout << (failed.empty() ? "PASS " : "FAIL ") << file << " seeds=" << first << ".."
              << *cmd.seed_last << " runs=" << runs << " passed=" << passed
              << " wall=" << fixed(wall_s, 3) << "s\n";
  }
  if (interrupted()) return 130;  // the shell's code for SIGINT
  return failed.empty() ? 0 : 1;
}

void on_interrupt(int /*signal*/) {
  g_interrupted.store(true);
}

}  // namespace

bool interrupted() {
  return g_interrupted.load();
}
const std::atomic<bool>* interrupt_flag() {
  return &g_interrupted;
}

void install_interrupt_handler() {
  // Ctrl-C stops a long run cleanly: runs in progress end with their footer,
  // no new seed starts, and the summary of what ran is printed and written.
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

bool write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << content;
    out.close();
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

int run_command(const RunCommand& cmd) {
  int rc = 0;
  for (const std::string& file : cmd.files) {
    Scenario scenario;
    try {
      scenario = load_scenario_file(file);
    } catch (const ScenarioError& e) {
      std::cerr << e.what() << "\n";
      rc = 2;
      continue;
    }
    const int file_rc =
        cmd.seed_first ? run_seeds(cmd, file, scenario) : run_one(cmd, file, scenario);
    rc = std::max(rc, file_rc);
  }
  return rc;
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
  }
  return rc;
}

}  // namespace sim
