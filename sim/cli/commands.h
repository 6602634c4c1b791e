// The commands behind the command line, separate from option parsing so
// that tests can call them.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/output.h"
#include "sim/engine/simulation.h"

namespace sim {

struct RunCommand {
  std::vector<std::string> files;
  std::optional<uint64_t> seed;
  std::optional<uint64_t> seed_first, seed_last;  // --seeds A..B
  unsigned jobs = 1;
  std::string summary_path;
  std::string trace_path;
  std::string chrome_trace_path;  // --chrome-trace: the run as Chrome trace-event JSON
  Trace::Level trace_level = Trace::Level::events;
  bool json = false;
  bool quiet = false;
  std::optional<Implementation> implementation;  // --impl: overrides the file's
};

// Each returns the process exit code (cli.md).
int run_command(const RunCommand& cmd);
int check_command(const std::vector<std::string>& files);

// Ctrl-C / SIGTERM: set a flag that long commands poll, so they stop cleanly;
// a second signal ends the process at once. The handlers do not restart
// system calls, so a read blocked on a FIFO or a terminal is interrupted too.
void install_interrupt_handler();
bool interrupted();
const std::atomic<bool>* interrupt_flag();
// 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), as a shell
// reports a process killed by it.
int interrupt_exit_code();

// Percentile by the nearest-rank method on sorted values (p in [0, 100]).
double percentile(const std::vector<double>& sorted, double p);

}  // namespace sim
