// raftsim: the command line (contract: shared/spec/cli.md).
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "sim/commands.h"
#include "sim/fuzz.h"
#include "sim/shrink.h"

namespace po = boost::program_options;

namespace {

constexpr const char* kVersion = "raftsim 0.1.0";

const char* kUsage =
    "usage: raftsim COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  run FILE...     run scenario files, check their expectations and invariants\n"
    "  check FILE...   validate scenario files without running them\n"
    "  fuzz            run random scenarios, one per seed, and report failing seeds\n"
    "  shrink FILE     make a failing scenario smaller while it fails the same way\n"
    "\n"
    "raftsim COMMAND --help shows a command's options; raftsim --version its version.\n"
    "Exit codes: 0 all held, 1 a check failed, 2 could not run (bad input).\n";

int usage_error(const std::string& message) {
  std::cerr << "raftsim: " << message << "\n"
            << "Try 'raftsim --help'.\n";
  return 2;
}

// Parses one command's options, and its FILE arguments when `files` is set.
// Returns the exit code to stop with (help shown, or a usage error), or
// nothing to go on.
std::optional<int> parse_options(const std::string& command, const std::vector<std::string>& args,
                                 const po::options_description& desc,
                                 std::vector<std::string>* files, po::variables_map& vm) {
  po::options_description all;
  all.add(desc);
  po::options_description hidden;
  po::positional_options_description pos;
  if (files) {
    hidden.add_options()("files", po::value<std::vector<std::string>>(files));
    all.add(hidden);
    pos.add("files", -1);
  }
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(command + ": " + e.what());
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  return std::nullopt;
}

// --impl NAME: the Raft implementation the nodes run.
std::optional<int> parse_impl(const std::string& command, const std::string& name,
                              std::optional<sim::Implementation>& out) {
  if (name.empty()) return std::nullopt;
  if (name == "raftsim") {
    out = sim::Implementation::raftsim;
  } else if (name == "canonical") {
    out = sim::Implementation::canonical;
  } else {
    return usage_error(command + ": --impl must be raftsim or canonical, not \"" + name + "\"");
  }
  return std::nullopt;
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description desc("raftsim run FILE... [options]");
  sim::RunCommand cmd;
  std::string seeds, level = "events", impl;
  desc.add_options()("help,h", "show this help")("seed", po::value<uint64_t>(),
                                                 "override the file's seed")(
      "seeds", po::value<std::string>(&seeds), "run once per seed in A..B and print the aggregate")(
      "jobs,j", po::value<unsigned>(&cmd.jobs)->default_value(0),
      "seeds in parallel (default: cores)")("summary", po::value<std::string>(&cmd.summary_path),
                                            "with --seeds: write the aggregate as JSON")(
      "trace", po::value<std::string>(&cmd.trace_path),
      "write the trace (JSON Lines); - is stdout")("trace-level", po::value<std::string>(&level),
                                                   "events | messages")(
      "chrome-trace", po::value<std::string>(&cmd.chrome_trace_path),
      "write the run as Chrome trace-event JSON (Perfetto, chrome://tracing)")(
      "json", po::bool_switch(&cmd.json), "print each summary as one JSON object")(
      "quiet,q", po::bool_switch(&cmd.quiet), "print only the summary line")(
      "impl", po::value<std::string>(&impl),
      "run the nodes as raftsim or canonical (canonical/raft), whatever the file says");
  po::variables_map vm;
  if (auto rc = parse_options("run", args, desc, &cmd.files, vm)) return *rc;
  if (auto rc = parse_impl("run", impl, cmd.implementation)) return *rc;
  if (cmd.files.empty()) return usage_error("run: no scenario file given");
  if (vm.count("seed")) cmd.seed = vm["seed"].as<uint64_t>();
  if (level == "events") {
    cmd.trace_level = sim::Trace::Level::events;
  } else if (level == "messages") {
    cmd.trace_level = sim::Trace::Level::messages;
  } else {
    return usage_error("run: --trace-level must be events or messages, not \"" + level + "\"");
  }
  if (!seeds.empty()) {
    const size_t dots = seeds.find("..");
    try {
      if (dots == std::string::npos) throw std::invalid_argument("no ..");
      size_t used = 0;
      cmd.seed_first = std::stoull(seeds.substr(0, dots), &used);
      if (used != dots) throw std::invalid_argument("trailing");
      const std::string last = seeds.substr(dots + 2);
      cmd.seed_last = std::stoull(last, &used);
      if (used != last.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      return usage_error("run: --seeds must be A..B with A <= B, e.g. 1..100, not \"" + seeds +
                         "\"");
    }
    if (*cmd.seed_last < *cmd.seed_first) return usage_error("run: --seeds A..B needs A <= B");
    if (*cmd.seed_last - *cmd.seed_first >= 10'000'000)
      return usage_error("run: --seeds covers more than 10,000,000 seeds");
    if (!cmd.trace_path.empty())
      return usage_error("run: --trace writes one run; it cannot be combined with --seeds");
    if (!cmd.chrome_trace_path.empty()) {
      return usage_error("run: --chrome-trace writes one run; it cannot be combined with --seeds");
    }
    if (cmd.seed) return usage_error("run: --seed and --seeds cannot be combined");
  } else if (!cmd.summary_path.empty()) {
    return usage_error("run: --summary needs --seeds");
  }
  if (!cmd.trace_path.empty() && cmd.files.size() > 1) {
    return usage_error("run: --trace writes one run; give one scenario file");
  }
  if (!cmd.chrome_trace_path.empty() && cmd.files.size() > 1) {
    return usage_error("run: --chrome-trace writes one run; give one scenario file");
  }
  if (cmd.chrome_trace_path == "-")
    return usage_error("run: --chrome-trace needs a file name, not -");
  if (cmd.jobs == 0) cmd.jobs = std::max(1u, std::thread::hardware_concurrency());
  return sim::run_command(cmd);
}

int cmd_check(const std::vector<std::string>& args) {
  po::options_description desc("raftsim check FILE...");
  std::vector<std::string> files;
  desc.add_options()("help,h", "show this help");
  po::variables_map vm;
  if (auto rc = parse_options("check", args, desc, &files, vm)) return *rc;
  if (files.empty()) return usage_error("check: no scenario file given");
  return sim::check_command(files);
}

// "15s", "1500ms", "250us", or a bare number of seconds.
std::optional<sim::TimeUs> parse_cli_time(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string unit = text.substr(used);
  double us;
  if (unit.empty() || unit == "s") {
    us = value * 1e6;
  } else if (unit == "ms") {
    us = value * 1e3;
  } else if (unit == "us") {
    us = value;
  } else {
    return std::nullopt;
  }
  if (!(us > 0) || us > 48.0 * 3600 * 1e6) return std::nullopt;
  return static_cast<sim::TimeUs>(us);
}

int cmd_fuzz(const std::vector<std::string>& args) {
  po::options_description desc("raftsim fuzz [options]");
  sim::FuzzCommand cmd;
  std::vector<std::string> bugs;
  std::string duration, shard, impl;
  unsigned nodes = 9;
  desc.add_options()("help,h", "show this help")(
      "seeds", po::value<uint64_t>(&cmd.seeds)->default_value(100), "number of seeds to run")(
      "start", po::value<uint64_t>(&cmd.start)->default_value(0), "first seed")(
      "seed", po::value<uint64_t>(), "run exactly this seed (reproduces a reported failure)")(
      "jobs,j", po::value<unsigned>(&cmd.jobs)->default_value(0),
      "seeds in parallel (default: cores)")("time-limit", po::value<double>(&cmd.time_limit_s),
                                            "stop starting new seeds after this many seconds")(
      "nodes", po::value<unsigned>(&nodes)->default_value(9),
      "at most this many nodes per cluster (3..7 voters)")(
      "duration", po::value<std::string>(&duration),
      "at most this much virtual time per seed, e.g. 15s")(
      "bug", po::value<std::vector<std::string>>(&bugs), "switch on a planted bug (repeatable)")(
      "out", po::value<std::string>(&cmd.out_dir)->default_value("fuzz-out"),
      "directory for failing seeds")("shard", po::value<std::string>(&shard),
                                     "K/N: only the seeds whose index mod N is K")(
      "results", po::value<std::string>(&cmd.results_path),
      "write one JSON line per seed to this file")("check-determinism",
                                                   po::bool_switch(&cmd.check_determinism),
                                                   "run every seed twice, compare digests")(
      "stop-on-failure", po::bool_switch(&cmd.stop_on_failure),
      "start no seed after the first failing one")(
      "max-events", po::value<uint64_t>(&cmd.limits.max_events)->default_value(20'000'000),
      "a seed fails (event_limit) after handling this many events")(
      "impl", po::value<std::string>(&impl),
      "run the nodes as raftsim or canonical (canonical/raft; only the features it supports)");
  po::variables_map vm;
  if (auto rc = parse_options("fuzz", args, desc, nullptr, vm)) return *rc;
  std::optional<sim::Implementation> implementation;
  if (auto rc = parse_impl("fuzz", impl, implementation)) return *rc;
  if (implementation == sim::Implementation::canonical) {
    if (!bugs.empty())
      return usage_error("fuzz: --bug plants bugs in raftsim's node; not with --impl canonical");
    cmd.limits.implementation = *implementation;
    cmd.generation_flags += " --impl canonical";
  }
  if (vm.count("seed")) {
    if (!vm["seeds"].defaulted() || !vm["start"].defaulted() || !shard.empty()) {
      return usage_error(
          "fuzz: --seed runs one seed; it cannot be combined with --seeds, --start or --shard");
    }
    cmd.one_seed = vm["seed"].as<uint64_t>();
  }
  if (cmd.seeds > 100'000'000) return usage_error("fuzz: --seeds is more than 100,000,000");
  if (nodes < 1 || nodes > 50) return usage_error("fuzz: --nodes must be between 1 and 50");
  cmd.limits.nodes = nodes;
  if (cmd.limits.max_events == 0) return usage_error("fuzz: --max-events must be at least 1");
  if (!vm["max-events"].defaulted())
    cmd.generation_flags += " --max-events " + std::to_string(cmd.limits.max_events);
  if (!vm["nodes"].defaulted()) cmd.generation_flags += " --nodes " + std::to_string(nodes);
  if (!duration.empty()) {
    const auto d = parse_cli_time(duration);
    if (!d)
      return usage_error("fuzz: --duration must be a time such as 15s or 8000ms, not \"" +
                         duration + "\"");
    if (*d < sim::min_fuzz_duration_us()) {
      return usage_error("fuzz: --duration must be at least " +
                         sim::format_time(sim::min_fuzz_duration_us()) +
                         " (a fault phase and the liveness bound)");
    }
    cmd.limits.duration_us = *d;
    cmd.generation_flags += " --duration " + duration;
  }
  for (const std::string& bug : bugs) {
    raft::PlantedBugs probe;
    if (!probe.enable(bug)) {
      std::string known;
      for (const std::string& name : raft::PlantedBugs::names())
        known += (known.empty() ? "" : ", ") + name;
      return usage_error("fuzz: unknown planted bug \"" + bug + "\"; known bugs: " + known);
    }
    cmd.limits.bugs.push_back(bug);
    cmd.generation_flags += " --bug " + bug;
  }
  if (!shard.empty()) {
    const size_t slash = shard.find('/');
    try {
      if (slash == std::string::npos) throw std::invalid_argument("no /");
      size_t used = 0;
      cmd.shard_index = std::stoull(shard.substr(0, slash), &used);
      if (used != slash) throw std::invalid_argument("trailing");
      const std::string count = shard.substr(slash + 1);
      cmd.shard_count = std::stoull(count, &used);
      if (used != count.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      cmd.shard_count = 0;
    }
    if (cmd.shard_count == 0 || cmd.shard_index >= cmd.shard_count) {
      return usage_error("fuzz: --shard must be K/N with 0 <= K < N, e.g. 0/4, not \"" + shard +
                         "\"");
    }
  }
  if (vm.count("time-limit") && !(cmd.time_limit_s > 0))
    return usage_error("fuzz: --time-limit must be positive");
  if (cmd.out_dir.empty()) return usage_error("fuzz: --out needs a directory name");
  if (cmd.jobs == 0) cmd.jobs = std::max(1u, std::thread::hardware_concurrency());
  return sim::fuzz_command(cmd);
}

int cmd_shrink(const std::vector<std::string>& args) {
  po::options_description desc("raftsim shrink FILE [options]");
  sim::ShrinkCommand cmd;
  std::vector<std::string> files;
  std::string impl;
  desc.add_options()("help,h", "show this help")(
      "out,o", po::value<std::string>(&cmd.out),
      "where to write the result (default: FILE with .min.json)")(
      "max-runs", po::value<size_t>(&cmd.max_runs)->default_value(cmd.max_runs),
      "give up after this many runs")("impl", po::value<std::string>(&impl),
                                      "run the nodes as raftsim or canonical (canonical/raft)");
  po::variables_map vm;
  if (auto rc = parse_options("shrink", args, desc, &files, vm)) return *rc;
  if (auto rc = parse_impl("shrink", impl, cmd.implementation)) return *rc;
  if (files.size() != 1) return usage_error("shrink: give exactly one scenario file");
  cmd.file = files.front();
  return sim::shrink_command(cmd);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = args.front();
  args.erase(args.begin());
  try {
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (command == "--version") {
      std::cout << kVersion << "\n";
      return 0;
    }
    sim::install_interrupt_handler();
    if (command == "run") return cmd_run(args);
    if (command == "check") return cmd_check(args);
    if (command == "fuzz") return cmd_fuzz(args);
    if (command == "shrink") return cmd_shrink(args);
  } catch (const std::bad_alloc&) {
    std::cerr << "raftsim: out of memory\n";
    return 3;
  }
  return usage_error("unknown command \"" + command + "\"");
}
