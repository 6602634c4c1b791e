#include "sim/fuzz/fuzz.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "sim/base/seed_pool.h"
#include "sim/cli/commands.h"
#include "sim/fuzz/fuzz_classify.h"
#include "sim/scenario/scenario_loader.h"

namespace sim {

namespace {

using fuzz_detail::first_failed_check;
using fuzz_detail::split_check_line;

// Running a campaign

using Clock = std::chrono::steady_clock;

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string ids_text(const std::vector<NodeId>& ids) {
  std::string out;
  for (NodeId id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

// Everything one seed produced that the campaign reports.
struct SeedOutcome {
  uint64_t seed = 0;
  bool pass = true;
  std::string signature;
  std::string failure;  // one line: what failed, when, where
  uint64_t events = 0;
  std::string digest;
  std::map<std::string, uint64_t> coverage;
  std::string write_error;  // the seed's files could not be written
};

// Both traces of a scenario at messages level, compared line by line.
std::string first_trace_difference(const Scenario& scenario) {
  std::ostringstream a, b;
  for (std::ostringstream* out : {&a, &b}) {
    RunOptions options;
    options.trace = out;
    options.trace_level = Trace::Level::messages;
    run_scenario(scenario, options);
  }
  std::istringstream ia(a.str()), ib(b.str());
  std::string la, lb;
  for (uint64_t line = 1;; ++line) {
    const bool ha = static_cast<bool>(std::getline(ia, la));
    const bool hb = static_cast<bool>(std::getline(ib, lb));
    if (!ha && !hb) return "traced reruns agreed";
    if (ha != hb || la != lb) {
      return "traces part at line " + std::to_string(line) + ": " + (ha ? la : "(end)") + " | " +
             (hb ? lb : "(end)");
    }
  }
}

// Writes the seed's scenario and its trace (messages level) under out_dir and
// returns the trace's first bad event kind.
std::string write_seed_files(const FuzzCommand& cmd, uint64_t seed, const std::string& text,
                             const Scenario& scenario, const RunResult& first, SeedOutcome& o) {
  std::error_code ec;
  std::filesystem::create_directories(cmd.out_dir, ec);
  const std::string base = cmd.out_dir + "/seed-" + std::to_string(seed);
  if (!write_file_atomically(base + ".json", text, &o.write_error)) return "";
  const std::string trace_path = base + ".trace.jsonl";
  {
    OutputFile trace;  // a failed write leaves no .tmp behind
    if (!trace.open(trace_path)) {
      o.write_error = trace.error();
      return "";
    }
    RunOptions options;
    options.trace = &trace.stream();
    options.trace_level = Trace::Level::messages;
    const RunResult again = run_scenario(scenario, options);
    if (!trace.commit()) {
      o.write_error = trace.error();
      return "";
    }
    if (again.digest != first.digest)
      o.failure += " (the traced rerun gave digest " + again.digest + ")";
  }
  std::ifstream in(trace_path, std::ios::binary);
  return bad_event_kind(first, in);
}

// The seed each worker thread is running, for the report of a fatal signal:
// canonical/raft asserts (abort) or crashes inside the process, and the seed
// that did it must not go unnamed (docs/canonical.md).
thread_local uint64_t running_seed = UINT64_MAX;

void report_fatal_signal(int sig) {
  // Only async-signal-safe calls: write(2) and a hand-made decimal.
  char text[96];
  size_t n = 0;
  auto put = [&](const char* s) {
    while (*s && n < sizeof text) text[n++] = *s++;
  };
  put(sig == SIGABRT ? "fuzz: abort (a library assertion?) while running seed "
                     : "fuzz: fatal signal while running seed ");
  char digits[24];
  int d = 0;
  uint64_t v = running_seed;
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v && d < 24);
  while (d > 0 && n < sizeof text) text[n++] = digits[--d];
  if (n < sizeof text) text[n++] = '\n';
  if (write(STDERR_FILENO, text, n) < 0) _exit(128 + sig);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

SeedOutcome run_seed(const FuzzCommand& cmd, uint64_t seed) {
  running_seed = seed;
  SeedOutcome o;
  o.seed = seed;
  const std::string text = generate_scenario(seed, cmd.limits).dump(2) + "\n";
  const std::string file = cmd.out_dir + "/seed-" + std::to_string(seed) + ".json";
  Scenario scenario;
  try {
    scenario = parse_scenario(text, file);
  } catch (const ScenarioError& e) {
    // The generator wrote something the loader refuses: a raftsim bug, kept
    // as a failing seed so that the file can be inspected.
    o.pass = false;
    o.signature = "invalid_scenario";
    o.failure = e.what();
    std::error_code ec;
    std::filesystem::create_directories(cmd.out_dir, ec);
    write_file_atomically(file, text, &o.write_error);
    return o;
  }
  const RunResult r = run_scenario(scenario, RunOptions{});
  o.events = r.events;
  o.digest = r.digest;
  o.coverage = r.event_counts;
  if (cmd.check_determinism) {
    const RunResult again = run_scenario(scenario, RunOptions{});
    if (again.digest != r.digest || again.events != r.events) {
      o.pass = false;
      o.signature = "nondeterminism";
      o.failure = "nondeterminism: digests " + r.digest + " and " + again.digest + "; " +
                  first_trace_difference(scenario);
      std::error_code ec;
      std::filesystem::create_directories(cmd.out_dir, ec);
      write_file_atomically(file, text, &o.write_error);
      return o;
    }
  }
  if (r.pass) return o;
  o.pass = false;
  const std::string kind = failure_kind(r);
  std::string where;
  if (r.violation) {
    o.failure = "invariant " + r.violation->invariant + " at " + format_time(r.failure_time_us) +
                ", nodes " + ids_text(r.violation->nodes) + ": " + r.violation->detail;
  } else if (const CheckOutcome* c = first_failed_check(r)) {
    const auto [what, seen] = split_check_line(c->text);
    o.failure = "check " + what + " at " + format_time(r.failure_time_us) + ": " + seen;
  } else {
    o.failure = r.failure;
  }
  if (cmd.no_seed_files) {
    o.signature = kind;
    return o;
  }
  const std::string bad = write_seed_files(cmd, seed, text, scenario, r, o);
  o.signature = bad.empty() ? kind : kind + "/" + bad;
  return o;
}

struct Coverage {
  std::map<std::string, uint64_t> events, seeds;
  void add(const std::map<std::string, uint64_t>& counts) {
    for (const auto& [name, count] : counts) {
      events[name] += count;
      if (count) ++seeds[name];
    }
  }
};

// The behaviours a campaign should exercise, in the order they are listed.
const std::vector<std::string>& expected_behaviours() {
  static const std::vector<std::string> kNames = {"election_started",
                                                  "pre_vote_started",
                                                  "vote_granted",
                                                  "elected",
                                                  "role:candidate",
                                                  "role:precandidate",
                                                  "role:learner",
                                                  "step_down:higher_term",
                                                  "step_down:granted_vote",
                                                  "step_down:lost_quorum",
                                                  "step_down:removed",
                                                  "step_down:transfer",
                                                  "config_committed",
                                                  "promoted",
                                                  "demoted",
                                                  "removed",
                                                  "snapshot_taken",
                                                  "snapshot_sent",
                                                  "snapshot_installed",
                                                  "crash",
                                                  "restart",
                                                  "pause"};
  return kNames;
}

void print_coverage(std::ostream& out, const Coverage& coverage, size_t seeds) {
  out << "protocol coverage (" << seeds << " seeds):\n";
  out << "  behaviour                     events      seeds\n";
  std::vector<std::string> order = expected_behaviours();
  for (const auto& [name, count] : coverage.events) {
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  }
  std::vector<std::string> never;
  for (const std::string& name : order) {
    const auto it = coverage.events.find(name);
    const uint64_t events = it == coverage.events.end() ? 0 : it->second;
    if (events == 0) never.push_back(name);
    const auto s = coverage.seeds.find(name);
    char line[128];
    std::snprintf(line, sizeof line, "  %-26s %10llu %10llu\n", name.c_str(),
                  static_cast<unsigned long long>(events),
                  static_cast<unsigned long long>(s == coverage.seeds.end() ? 0 : s->second));
    out << line;
  }
  out << "never happened: " << (never.empty() ? std::string("(none)") : "");
  for (size_t i = 0; i < never.size(); ++i) out << (i ? ", " : "") << never[i];
  out << "\n";
}

nlohmann::ordered_json result_line(const SeedOutcome& o) {
  nlohmann::ordered_json j;
  j["seed"] = o.seed;
  j["result"] = o.pass ? "pass" : "fail";
  j["signature"] = o.signature;
  j["events"] = o.events;
  j["digest"] = o.digest;
  if (!o.pass) j["failure"] = o.failure;
  j["coverage"] = o.coverage;
  return j;
}

// What the campaign reports, seed by seed in seed order (add) and at the end
// (finish).
struct Report {
  size_t printed = 0, failed = 0;
  Coverage coverage;
  std::map<std::string, std::pair<uint64_t, uint64_t>>
      groups;  // signature -> (count, smallest seed)
  std::vector<std::string> write_errors;

  void add(const FuzzCommand& cmd, const SeedOutcome& o, bool progress) {
    coverage.add(o.coverage);
    if (!o.write_error.empty()) write_errors.push_back(o.write_error);
    if (o.pass) return;
    ++failed;
    auto& g = groups[o.signature];
    if (g.first++ == 0 || o.seed < g.second) g.second = o.seed;
    if (progress) std::cerr << "\r\033[K";
    std::cout << "FAIL seed " << o.seed << ": " << o.failure << "\n"
              << "  signature " << o.signature << "\n"
              << "  reproduce: raftsim run " << cmd.out_dir << "/seed-" << o.seed << ".json\n"
              << "             raftsim fuzz --seed " << o.seed << cmd.generation_flags << "\n";
    std::cout.flush();
  }

  // The summary after the last seed; why_stopped says why seeds were left
  // unrun (nullptr: none were). Returns the exit code.
  int finish(const FuzzCommand& cmd, const std::vector<SeedOutcome>& outcomes, size_t n,
             const char* why_stopped, double wall_s) {
    int rc = failed ? 1 : 0;
    if (!groups.empty()) {
      std::cout << "failures by signature:\n";
      for (const auto& [signature, g] : groups) {
        std::cout << "  " << signature << ": " << g.first << " seed" << (g.first == 1 ? "" : "s")
                  << ", smallest " << g.second << ": raftsim run " << cmd.out_dir << "/seed-"
                  << g.second << ".json\n";
      }
    }
    if (!cmd.results_path.empty()) {
      std::string lines;
      for (size_t i = 0; i < printed; ++i) lines += result_line(outcomes[i]).dump() + "\n";
      std::string error;
      if (!write_file_atomically(cmd.results_path, lines, &error)) write_errors.push_back(error);
    }
    print_coverage(std::cout, coverage, printed);
    for (const std::string& e : write_errors) {
      std::cerr << "raftsim: " << e << "\n";
      rc = 2;
    }
    if (why_stopped && printed < n) {
      std::cout << why_stopped << ": " << (n - printed) << " seeds not run\n";
      if (std::string(why_stopped) == "interrupted") rc = interrupt_exit_code();
    }
    uint64_t events = 0;
    for (size_t i = 0; i < printed; ++i) events += outcomes[i].events;
    std::cout << "fuzz: " << printed << " seeds, " << failed << " failed, "
              << fixed(static_cast<double>(events) / std::max(wall_s, 1e-9) / 1e6, 1)
              << "M events/s, " << fixed(wall_s, 1) << "s\n";
    return rc;
  }
};

// The seeds to run, in order: --seed, or the range's seeds of this --shard.
std::vector<uint64_t> campaign_seeds(const FuzzCommand& cmd) {
  std::vector<uint64_t> seeds;
  if (cmd.one_seed) {
    seeds.push_back(*cmd.one_seed);
  } else {
    for (uint64_t i = 0; i < cmd.seeds; ++i) {
      if (i % cmd.shard_count == cmd.shard_index) seeds.push_back(cmd.start + i);
    }
  }
  return seeds;
}

}  // namespace

int fuzz_command(const FuzzCommand& cmd) {
  if (cmd.limits.implementation == Implementation::canonical) {
    std::signal(SIGABRT, report_fatal_signal);
    std::signal(SIGSEGV, report_fatal_signal);
  }
  const std::vector<uint64_t> seeds = campaign_seeds(cmd);
  const size_t n = seeds.size();
  std::vector<SeedOutcome> outcomes(n);
  std::atomic<bool> out_of_time{false}, stopped{false};
  std::atomic<uint64_t> events_total{0};
  const auto start = Clock::now();
  auto elapsed = [&]() { return std::chrono::duration<double>(Clock::now() - start).count(); };

  // Seeds are claimed in order and reported in seed order as the finished
  // prefix grows, so the output is the same for any --jobs, and the seeds
  // run always form a prefix of the list, also when the time limit stops the
  // campaign early.
  const bool progress = isatty(STDERR_FILENO) != 0;
  Report rep;
  SeedJobs<SeedOutcome> jobs;
  jobs.keep_going = [&] {
    if (cmd.time_limit_s > 0 && elapsed() >= cmd.time_limit_s) out_of_time = true;
    return !out_of_time && !interrupted();  // Ctrl-C: finish the seeds running, start no more
  };
  jobs.run = [&](size_t i) {
    std::optional<SeedOutcome> o = run_seed(cmd, seeds[i]);
    events_total += o->events;
    return o;
  };
  // With --stop-on-failure no seed after the first failing one is started or
  // reported.
  jobs.is_last = [&](const SeedOutcome& o) {
    if (!cmd.stop_on_failure || o.pass) return false;
    stopped = true;
    return true;
  };
  jobs.report = [&](size_t i, SeedOutcome&& o) {
    outcomes[i] = std::move(o);
    rep.add(cmd, outcomes[i], progress);
    ++rep.printed;
  };
  if (progress) {
    jobs.progress = [&](size_t printed) {
      const double t = elapsed();
      std::cerr << "\r\033[Kfuzz: " << printed << "/" << n << " seeds, " << rep.failed
                << " failed, "
                << fixed(static_cast<double>(events_total) / std::max(t, 1e-9) / 1e6, 1)
                << "M events/s, " << fixed(t, 1) << "s" << std::flush;
    };
  }
  run_seed_jobs(n, cmd.jobs, jobs);
  const double wall_s = elapsed();
  if (progress) std::cerr << "\r\033[K" << std::flush;

  const char* why_stopped = stopped         ? "stopped at the first failure"
                            : out_of_time   ? "time limit reached"
                            : interrupted() ? "interrupted"
                                            : nullptr;
  return rep.finish(cmd, outcomes, n, why_stopped, wall_s);
}

}  // namespace sim
