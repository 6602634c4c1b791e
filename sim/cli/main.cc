// raftsim: the command line (contract: shared/spec/cli.md).
#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/cli/huge_pages.h"
#include "sim/fuzz/fuzz.h"
#include "sim/fuzz/shrink.h"

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

int usage_error(const std::string& message, const std::string& command = "") {
  std::cerr << "raftsim: " << message << "\n"
            << "Try 'raftsim " << (command.empty() ? "" : command + " ") << "--help'.\n";
  return 2;
}

// Edit distance, for "did you mean" hints.
size_t distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The closest of `known` to `word`, when it is close enough to be a typo.
std::string closest(const std::string& word, const std::vector<std::string>& known) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& k : known) {
    if (word.size() >= 3 && k.compare(0, word.size(), word) == 0) return k;  // a prefix
    const size_t d = distance(word, k);
    if (d < best_distance) {
      best_distance = d;
      best = k;
    }
  }
  return best;
}

std::string planted_bug_list() {
  std::string known;
  for (const std::string& name : raft::PlantedBugs::names())
    known += (known.empty() ? "" : ", ") + name;
  return known;
}

// A count given on the command line: decimal digits only, at most `max`.
// (Boost would read "-1" as 2^64 - 1.)
std::optional<uint64_t> parse_count(const std::string& text, uint64_t max) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (value > max) return std::nullopt;
  return value;
}

// Parses one command's options, and its FILE arguments when `files` is set.
// Returns the exit code to stop with (help shown, or a usage error), or
// nothing to go on.
std::optional<int> parse_options(const std::string& command, const std::vector<std::string>& args,
                                 const po::options_description& desc, const std::string& epilog,
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
  } catch (const po::unknown_option& e) {
    std::string name = e.get_option_name();
    while (!name.empty() && name[0] == '-') name.erase(0, 1);
    std::vector<std::string> known;
    for (const auto& option : desc.options()) known.push_back(option->long_name());
    const std::string hint = closest(name, known);
    return usage_error(
        command + ": " + e.what() + (hint.empty() ? "" : " (did you mean --" + hint + "?)"),
        command);
  } catch (const po::error& e) {
    return usage_error(command + ": " + e.what(), command);
  }
  if (vm.count("help")) {
    std::cout << desc << "\n" << epilog;
    return 0;
  }
  return std::nullopt;
}

// Reads the option `name` (declared as a string) as a count; an error
// message when it is not one.
std::optional<std::string> read_count(const po::variables_map& vm, const std::string& name,
                                      uint64_t max, uint64_t& out) {
  if (!vm.count(name)) return std::nullopt;
  const std::string text = vm[name].as<std::string>();
  const auto value = parse_count(text, max);
  if (!value) {
    return "--" + name + " must be a whole number from 0 to " + std::to_string(max) + ", not \"" +
           text + "\"";
  }
  out = *value;
  return std::nullopt;
}

const char* kExitCodes =
    "exit codes:\n"
    "  0    ran, and everything checked held\n"
    "  1    ran, and a check failed (an invariant, an expectation, liveness)\n"
    "  2    could not run: bad command line, unreadable or invalid input, an output\n"
    "       that could not be written\n"
    "  130  interrupted by Ctrl-C (SIGINT); 143 by SIGTERM; a second signal exits at once\n";

// --impl NAME: the Raft implementation the nodes run.
std::optional<int> parse_impl(const std::string& command, const std::string& name,
                              std::optional<sim::Implementation>& out) {
  if (name.empty()) return std::nullopt;
  if (name == "raftsim") {
    out = sim::Implementation::raftsim;
  } else if (name == "canonical") {
    out = sim::Implementation::canonical;
  } else {
    return usage_error(command + ": --impl must be raftsim or canonical, not \"" + name + "\"",
                       command);
  }
  return std::nullopt;
}

// The options of `run`, read into `cmd` and the strings parsed afterwards.
void describe_run(po::options_description& desc, sim::RunCommand& cmd, std::string& seeds,
                  std::string& level, std::string& impl) {
  desc.add_options()("help,h", "show this help")("seed", po::value<std::string>(),
                                                 "override the file's seed")(
      "seeds", po::value<std::string>(&seeds), "run once per seed in A..B and print the aggregate")(
      "jobs,j", po::value<std::string>(), "seeds in parallel (default: cores)")(
      "summary", po::value<std::string>(&cmd.summary_path),
      "with --seeds: write the aggregate as JSON")("trace", po::value<std::string>(&cmd.trace_path),
                                                   "write the trace (JSON Lines); - is stdout")(
      "trace-level", po::value<std::string>(&level), "events | messages")(
      "chrome-trace", po::value<std::string>(&cmd.chrome_trace_path),
      "write the run as Chrome trace-event JSON (Perfetto, chrome://tracing)")(
      "json", po::bool_switch(&cmd.json), "print each summary as one JSON object")(
      "quiet,q", po::bool_switch(&cmd.quiet), "print only the summary line")(
      "impl", po::value<std::string>(&impl),
      "run the nodes as raftsim or canonical (canonical/raft), whatever the file says");
}

// --seeds A..B, and what cannot go with it; an exit code to stop with.
std::optional<int> parse_seed_range(const std::string& seeds, sim::RunCommand& cmd) {
  if (seeds.empty()) {
    if (!cmd.summary_path.empty()) return usage_error("run: --summary needs --seeds", "run");
    return std::nullopt;
  }
  const size_t dots = seeds.find("..");
  const auto seed_first =
      dots == std::string::npos ? std::nullopt : parse_count(seeds.substr(0, dots), UINT64_MAX);
  const auto seed_last =
      dots == std::string::npos ? std::nullopt : parse_count(seeds.substr(dots + 2), UINT64_MAX);
  if (!seed_first || !seed_last) {
    return usage_error(
        "run: --seeds must be A..B, two whole numbers with A <= B, e.g. 1..100, not \"" + seeds +
            "\"",
        "run");
  }
  cmd.seed_first = seed_first;
  cmd.seed_last = seed_last;
  if (*cmd.seed_last < *cmd.seed_first) return usage_error("run: --seeds A..B needs A <= B", "run");
  if (*cmd.seed_last - *cmd.seed_first >= 10'000'000)
    return usage_error("run: --seeds covers more than 10,000,000 seeds", "run");
  if (!cmd.trace_path.empty())
    return usage_error("run: --trace writes one run; it cannot be combined with --seeds", "run");
  if (!cmd.chrome_trace_path.empty()) {
    return usage_error("run: --chrome-trace writes one run; it cannot be combined with --seeds",
                       "run");
  }
  if (cmd.seed) return usage_error("run: --seed and --seeds cannot be combined", "run");
  return std::nullopt;
}

// The outputs of `run`: one run per trace, files not "-", no output over an
// input or another output; an exit code to stop with.
std::optional<int> check_run_outputs(const sim::RunCommand& cmd) {
  if (!cmd.trace_path.empty() && cmd.files.size() > 1) {
    return usage_error("run: --trace writes one run; give one scenario file", "run");
  }
  if (!cmd.chrome_trace_path.empty() && cmd.files.size() > 1) {
    return usage_error("run: --chrome-trace writes one run; give one scenario file", "run");
  }
  if (cmd.chrome_trace_path == "-")
    return usage_error("run: --chrome-trace needs a file name, not -", "run");
  if (cmd.summary_path == "-") return usage_error("run: --summary needs a file name, not -", "run");
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const std::string& file : cmd.files) inputs.emplace_back("the scenario file", file);
  const std::string clash = sim::clashing_paths({{"--trace", cmd.trace_path},
                                                 {"--chrome-trace", cmd.chrome_trace_path},
                                                 {"--summary", cmd.summary_path}},
                                                inputs);
  if (!clash.empty()) return usage_error("run: " + clash, "run");
  return std::nullopt;
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description desc("raftsim run FILE... [options]  (FILE - reads stdin)");
  sim::RunCommand cmd;
  std::string seeds, level = "events", impl;
  describe_run(desc, cmd, seeds, level, impl);
  const std::string epilog =
      std::string(
          "examples:\n"
          "  raftsim run scenarios/leader_loses_quorum.json\n"
          "  raftsim run scenarios/leader_loses_quorum.json --seed 7 --trace t.jsonl "
          "--trace-level messages\n"
          "  raftsim run scenarios/election_timeout_150_300.json --seeds 1..200 "
          "--summary s.json\n"
          "  raftsim run fuzz-out/seed-42.json --chrome-trace run.json\n"
          "\n"
          "planted bugs (\"raft\": {\"bugs\": [NAME]} in a scenario): ") +
      planted_bug_list() + "\n\n" + kExitCodes;
  po::variables_map vm;
  if (auto rc = parse_options("run", args, desc, epilog, &cmd.files, vm)) return *rc;
  if (auto rc = parse_impl("run", impl, cmd.implementation)) return *rc;
  if (cmd.files.empty()) return usage_error("run: no scenario file given", "run");
  uint64_t value = 0;
  if (auto e = read_count(vm, "seed", UINT64_MAX, value)) return usage_error("run: " + *e, "run");
  if (vm.count("seed")) cmd.seed = value;
  value = 0;
  if (auto e = read_count(vm, "jobs", 1024, value)) return usage_error("run: " + *e, "run");
  cmd.jobs = static_cast<unsigned>(value);
  if (level == "events") {
    cmd.trace_level = sim::Trace::Level::events;
  } else if (level == "messages") {
    cmd.trace_level = sim::Trace::Level::messages;
  } else {
    return usage_error("run: --trace-level must be events or messages, not \"" + level + "\"",
                       "run");
  }
  if (auto rc = parse_seed_range(seeds, cmd)) return *rc;
  if (auto rc = check_run_outputs(cmd)) return *rc;
  if (cmd.jobs == 0) cmd.jobs = std::max(1u, std::thread::hardware_concurrency());
  return sim::run_command(cmd);
}

int cmd_check(const std::vector<std::string>& args) {
  po::options_description desc("raftsim check FILE...  (FILE - reads stdin)");
  std::vector<std::string> files;
  desc.add_options()("help,h", "show this help");
  const std::string epilog =
      "Validates scenario files without running them; prints \"ok FILE NAME\" for each\n"
      "valid one, and one sentence naming the file and the place for each invalid one.\n"
      "\n"
      "examples:\n"
      "  raftsim check scenarios/*.json\n"
      "  generate-scenario | raftsim check -\n"
      "\n"
      "exit codes: 0 every file is valid, 2 one is not (or could not be read);\n"
      "130/143 interrupted.\n";
  po::variables_map vm;
  if (auto rc = parse_options("check", args, desc, epilog, &files, vm)) return *rc;
  if (files.empty()) return usage_error("check: no scenario file given", "check");
  return sim::check_command(files);
}

// "15s", "1500ms", "250us", or a bare number of seconds; more than zero.
// The scenario files' parser, so both read a time the same way.
std::optional<sim::TimeUs> parse_cli_time(const std::string& text) {
  const bool bare = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '.';
  });
  std::string error;
  const std::optional<sim::TimeUs> t = sim::parse_time(bare ? text + "s" : text, &error);
  if (!t || *t <= 0) return std::nullopt;
  return t;
}

// The options of `fuzz`, read into `cmd` and the strings parsed afterwards.
void describe_fuzz(po::options_description& desc, sim::FuzzCommand& cmd,
                   std::vector<std::string>& bugs, std::string& duration, std::string& shard,
                   std::string& impl) {
  desc.add_options()("help,h", "show this help")(
      "seeds", po::value<std::string>()->default_value("100"), "number of seeds to run")(
      "start", po::value<std::string>()->default_value("0"), "first seed")(
      "seed", po::value<std::string>(), "run exactly this seed (reproduces a reported failure)")(
      "jobs,j", po::value<std::string>()->default_value("0"), "seeds in parallel (default: cores)")(
      "time-limit", po::value<double>(&cmd.time_limit_s),
      "stop starting new seeds after this many seconds")(
      "nodes", po::value<std::string>()->default_value("9"),
      "at most this many nodes per cluster, 1..50 (up to 7 voters)")(
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
      "no-seed-files", po::bool_switch(&cmd.no_seed_files),
      "write no files for failing seeds (signatures then name only what failed)")(
      "max-events", po::value<std::string>()->default_value("20000000"),
      "a seed fails (event_limit) after handling this many events")(
      "impl", po::value<std::string>(&impl),
      "run the nodes as raftsim or canonical (canonical/raft; only the features it supports)");
}

// --duration: at most this much virtual time per seed; an error message.
std::optional<std::string> parse_fuzz_duration(const std::string& duration, sim::FuzzCommand& cmd) {
  if (duration.empty()) return std::nullopt;
  const auto d = parse_cli_time(duration);
  if (!d) return "--duration must be a time such as 15s or 8000ms, not \"" + duration + "\"";
  if (*d < sim::min_fuzz_duration_us()) {
    return "--duration must be at least " + sim::format_time(sim::min_fuzz_duration_us()) +
           " (a fault phase and the liveness bound)";
  }
  cmd.limits.duration_us = *d;
  cmd.generation_flags += " --duration " + duration;
  return std::nullopt;
}

// --bug NAME...: planted bugs switched on in every scenario; an error message.
std::optional<std::string> add_fuzz_bugs(const std::vector<std::string>& bugs,
                                         sim::FuzzCommand& cmd) {
  for (const std::string& bug : bugs) {
    raft::PlantedBugs probe;
    if (!probe.enable(bug)) {
      const std::string hint = closest(bug, raft::PlantedBugs::names());
      return "unknown planted bug \"" + bug + "\"" +
             (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)") +
             "; known bugs: " + planted_bug_list();
    }
    cmd.limits.bugs.push_back(bug);
    cmd.generation_flags += " --bug " + bug;
  }
  return std::nullopt;
}

// --shard K/N; an error message.
std::optional<std::string> parse_shard(const std::string& shard, sim::FuzzCommand& cmd) {
  if (shard.empty()) return std::nullopt;
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
    return "--shard must be K/N with 0 <= K < N, e.g. 0/4, not \"" + shard + "\"";
  }
  return std::nullopt;
}

// The counts of `fuzz` (--seeds, --start, --seed, --jobs, --nodes,
// --max-events); an error message.
std::optional<std::string> read_fuzz_counts(const po::variables_map& vm, sim::FuzzCommand& cmd,
                                            uint64_t& seed, uint64_t& nodes) {
  uint64_t jobs = 0;
  for (const auto& [name, max, out] :
       {std::tuple<const char*, uint64_t, uint64_t*>{"seeds", 100'000'000, &cmd.seeds},
        {"start", UINT64_MAX, &cmd.start},
        {"seed", UINT64_MAX, &seed},
        {"jobs", 1024, &jobs},
        {"nodes", 50, &nodes},
        {"max-events", UINT64_MAX, &cmd.limits.max_events}}) {
    if (auto e = read_count(vm, name, max, *out)) return e;
  }
  cmd.jobs = static_cast<unsigned>(jobs);
  return std::nullopt;
}

// What must hold between the counts of `fuzz`; an error message.
std::optional<std::string> check_fuzz_counts(const po::variables_map& vm, const std::string& shard,
                                             uint64_t seed, uint64_t nodes, sim::FuzzCommand& cmd) {
  if (vm.count("seed")) {
    if (!vm["seeds"].defaulted() || !vm["start"].defaulted() || !shard.empty()) {
      return "--seed runs one seed; it cannot be combined with --seeds, --start or --shard";
    }
    cmd.one_seed = seed;
  }
  if (cmd.seeds > 0 && cmd.seeds - 1 > UINT64_MAX - cmd.start) {
    return "--start " + std::to_string(cmd.start) + " with --seeds " + std::to_string(cmd.seeds) +
           " runs past the largest seed, 2^64 - 1";
  }
  // With fewer than three nodes the generator drops the fault families that
  // need more (docs/fuzzing.md).
  if (nodes < 1) return "--nodes must be between 1 and 50";
  cmd.limits.nodes = static_cast<unsigned>(nodes);
  if (cmd.limits.max_events == 0) return "--max-events must be at least 1";
  if (!vm["max-events"].defaulted())
    cmd.generation_flags += " --max-events " + std::to_string(cmd.limits.max_events);
  if (!vm["nodes"].defaulted()) cmd.generation_flags += " --nodes " + std::to_string(nodes);
  return std::nullopt;
}

int cmd_fuzz(const std::vector<std::string>& args) {
  po::options_description desc("raftsim fuzz [options]");
  sim::FuzzCommand cmd;
  std::vector<std::string> bugs;
  std::string duration, shard, impl;
  describe_fuzz(desc, cmd, bugs, duration, shard, impl);
  const std::string epilog =
      std::string(
          "examples:\n"
          "  raftsim fuzz --seeds 1000 --jobs 2\n"
          "  raftsim fuzz --seed 1234                 reproduce one reported seed\n"
          "  raftsim fuzz --seeds 200 --bug commit_prior_term\n"
          "  raftsim fuzz --seeds 100000 --shard 0/4 --results shard0.jsonl\n"
          "\n"
          "planted bugs (--bug NAME): ") +
      planted_bug_list() + "\n\n" + kExitCodes;
  po::variables_map vm;
  if (auto rc = parse_options("fuzz", args, desc, epilog, nullptr, vm)) return *rc;
  auto fail = [](const std::string& message) { return usage_error("fuzz: " + message, "fuzz"); };
  uint64_t seed = 0, nodes = 0;
  if (auto e = read_fuzz_counts(vm, cmd, seed, nodes)) return fail(*e);
  std::optional<sim::Implementation> implementation;
  if (auto rc = parse_impl("fuzz", impl, implementation)) return *rc;
  if (implementation == sim::Implementation::canonical) {
    if (!bugs.empty())
      return fail("--bug plants bugs in raftsim's node; not with --impl canonical");
    cmd.limits.implementation = *implementation;
    cmd.generation_flags += " --impl canonical";
  }
  if (auto e = check_fuzz_counts(vm, shard, seed, nodes, cmd)) return fail(*e);
  if (auto e = parse_fuzz_duration(duration, cmd)) return fail(*e);
  if (auto e = add_fuzz_bugs(bugs, cmd)) return fail(*e);
  if (auto e = parse_shard(shard, cmd)) return fail(*e);
  if (vm.count("time-limit") && !(cmd.time_limit_s > 0))
    return fail("--time-limit must be positive");
  if (cmd.out_dir.empty()) return fail("--out needs a directory name");
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
      "max-runs", po::value<std::string>(), "give up after this many runs")(
      "impl", po::value<std::string>(&impl),
      "run the nodes as raftsim or canonical (canonical/raft)");
  const std::string epilog = std::string(
                                 "examples:\n"
                                 "  raftsim shrink fuzz-out/seed-42.json\n"
                                 "  raftsim shrink failing.json --out small.json --max-runs 500\n"
                                 "\n") +
                             kExitCodes;
  po::variables_map vm;
  if (auto rc = parse_options("shrink", args, desc, epilog, &files, vm)) return *rc;
  if (auto rc = parse_impl("shrink", impl, cmd.implementation)) return *rc;
  if (files.size() != 1) return usage_error("shrink: give exactly one scenario file", "shrink");
  uint64_t max_runs = cmd.max_runs;
  if (auto e = read_count(vm, "max-runs", 100'000'000, max_runs))
    return usage_error("shrink: " + *e, "shrink");
  cmd.max_runs = static_cast<size_t>(max_runs);
  cmd.file = files.front();
  if (cmd.file == "-") return usage_error("shrink: needs a scenario file, not -", "shrink");
  const std::string clash =
      sim::clashing_paths({{"--out", cmd.out}}, {{"the scenario file", cmd.file}});
  if (!clash.empty()) return usage_error("shrink: " + clash, "shrink");
  return sim::shrink_command(cmd);
}

// Runs one command; its exit code.
int dispatch(const std::string& command, const std::vector<std::string>& args) {
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "--version") {
    std::cout << kVersion << "\n";
    return 0;
  }
  if (command == "run") return cmd_run(args);
  if (command == "check") return cmd_check(args);
  if (command == "fuzz") return cmd_fuzz(args);
  if (command == "shrink") return cmd_shrink(args);
  const std::string hint = closest(command, {"run", "check", "fuzz", "shrink", "help"});
  return usage_error("unknown command \"" + command + "\"" +
                     (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
}

}  // namespace

int main(int argc, char** argv) {
  // First of all: a restart, if any, must come before anything is printed.
  sim::restart_with_huge_pages(argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = args.front();
  args.erase(args.begin());
  int rc;
  try {
    sim::install_interrupt_handler();
    rc = dispatch(command, args);
  } catch (const std::bad_alloc&) {
    std::cerr << "raftsim: out of memory\n";
    return 3;
  }
  // Output that did not arrive (a full disk, a closed pipe) is a failure to
  // run, never a silent success.
  if (!sim::stdout_ok() && (rc == 0 || rc == 1)) rc = 2;
  return rc;
}
