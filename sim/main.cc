// raftsim: the command line (contract: shared/spec/cli.md).
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "sim/commands.h"

namespace po = boost::program_options;

namespace {

constexpr const char* kVersion = "raftsim 0.1.0";

const char* kUsage =
    "usage: raftsim COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  run FILE...     run scenario files, check their expectations and invariants\n"
    "  check FILE...   validate scenario files without running them\n"
    "\n"
    "raftsim COMMAND --help shows a command's options; raftsim --version its version.\n"
    "Exit codes: 0 all held, 1 a check failed, 2 could not run (bad input).\n";

int usage_error(const std::string& message) {
  std::cerr << "raftsim: " << message << "\n" << "Try 'raftsim --help'.\n";
  return 2;
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description desc("raftsim run FILE... [options]");
  sim::RunCommand cmd;
  std::string seeds, level = "events";
  desc.add_options()("help,h", "show this help")
      ("seed", po::value<uint64_t>(), "override the file's seed")
      ("seeds", po::value<std::string>(&seeds), "run once per seed in A..B and print the aggregate")
      ("jobs,j", po::value<unsigned>(&cmd.jobs)->default_value(0), "seeds in parallel (default: cores)")
      ("summary", po::value<std::string>(&cmd.summary_path), "with --seeds: write the aggregate as JSON")
      ("trace", po::value<std::string>(&cmd.trace_path), "write the trace (JSON Lines); - is stdout")
      ("trace-level", po::value<std::string>(&level), "events | messages")
      ("json", po::bool_switch(&cmd.json), "print each summary as one JSON object")
      ("quiet,q", po::bool_switch(&cmd.quiet), "print only the summary line");
  po::options_description hidden;
  hidden.add_options()("files", po::value<std::vector<std::string>>(&cmd.files));
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("files", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(std::string("run: ") + e.what());
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
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
      return usage_error("run: --seeds must be A..B with A <= B, e.g. 1..100, not \"" + seeds + "\"");
    }
    if (*cmd.seed_last < *cmd.seed_first) return usage_error("run: --seeds A..B needs A <= B");
    if (*cmd.seed_last - *cmd.seed_first >= 10'000'000) return usage_error("run: --seeds covers more than 10,000,000 seeds");
    if (!cmd.trace_path.empty()) return usage_error("run: --trace writes one run; it cannot be combined with --seeds");
    if (cmd.seed) return usage_error("run: --seed and --seeds cannot be combined");
  } else if (!cmd.summary_path.empty()) {
    return usage_error("run: --summary needs --seeds");
  }
  if (!cmd.trace_path.empty() && cmd.files.size() > 1) {
    return usage_error("run: --trace writes one run; give one scenario file");
  }
  if (cmd.jobs == 0) cmd.jobs = std::max(1u, std::thread::hardware_concurrency());
  return sim::run_command(cmd);
}

int cmd_check(const std::vector<std::string>& args) {
  po::options_description desc("raftsim check FILE...");
  std::vector<std::string> files;
  desc.add_options()("help,h", "show this help");
  po::options_description hidden;
  hidden.add_options()("files", po::value<std::vector<std::string>>(&files));
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("files", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(std::string("check: ") + e.what());
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (files.empty()) return usage_error("check: no scenario file given");
  return sim::check_command(files);
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
    if (command == "run") return cmd_run(args);
    if (command == "check") return cmd_check(args);
  } catch (const std::bad_alloc&) {
    std::cerr << "raftsim: out of memory\n";
    return 3;
  }
  return usage_error("unknown command \"" + command + "\"");
}
