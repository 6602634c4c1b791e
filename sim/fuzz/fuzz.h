// `raftsim fuzz`: one random scenario per seed, generated as a plain scenario
// document (scenarios.md), loaded by the ordinary loader and run by the
// ordinary simulator, so that a failing seed is written out as a file that
// `raftsim run` replays with the same digest (docs/fuzzing.md).
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/engine/simulation.h"

namespace sim {

// After the heal, liveness must be restored within this many election
// timeouts (the upper bound of election_timeout): a few elections' worth of
// time for the cluster to choose a leader (split votes, pre-vote rounds,
// restarted nodes replaying their logs, the leader's no-op committing),
// catching up lagging members (by snapshot if need be) and committing the
// final writes, whose clients retry every two election timeouts.
constexpr int kLivenessBoundTimeouts = 12;

// What bounds the generator (command-line options of `fuzz`).
struct FuzzLimits {
  uint32_t nodes = 9;             // --nodes: at most this many nodes (voters, learners, spares)
  TimeUs duration_us = 0;         // --duration: at most this much virtual time; 0: no bound
  std::vector<std::string> bugs;  // --bug: planted bugs switched on in every scenario
  // --max-events: each scenario's max_events, so that a runaway seed fails
  // (signature event_limit) instead of exhausting memory. The default is 40
  // times the most any of seeds 0..2999 needed (470k).
  uint64_t max_events = 20'000'000;
  // --impl: the implementation every scenario runs; for canonical the
  // document is restricted to what the library supports
  // (restrict_to_canonical).
  Implementation implementation = Implementation::raftsim;
};

// The shortest --duration the generator can honour.
TimeUs min_fuzz_duration_us();

// The scenario document of one seed. All randomness comes from
// Prng::stream(seed, "fuzz/..."), so the same seed and limits give the same
// document.
nlohmann::ordered_json generate_scenario(uint64_t seed, const FuzzLimits& limits);

// A time as a readable scenario string that the loader turns back into
// exactly the same microseconds: "12s", "150ms", "2500us".
std::string time_text(TimeUs us);

// What failed, without the details: the invariant's name ("log_matching"),
// or "check:" and the failing check's name ("check:converged"), or
// "error" for a run that could not proceed. Empty when the run passed.
std::string failure_kind(const RunResult& result);

// The kind of the first bad event of a failing run, read from its trace (the
// last event before the violation) or, for a failed check, the shape of what
// was seen ("0_leaders", "unacknowledged", "diverged", ...).
std::string bad_event_kind(const RunResult& result, std::istream& trace);

struct FuzzCommand {
  uint64_t start = 0;
  uint64_t seeds = 100;
  std::optional<uint64_t> one_seed;  // --seed
  unsigned jobs = 1;
  double time_limit_s = 0;  // 0: none
  FuzzLimits limits;
  std::string out_dir = "fuzz-out";
  uint64_t shard_index = 0, shard_count = 1;
  std::string results_path;
  bool check_determinism = false;
  // --stop-on-failure: start no seed after the first failing one; the seeds
  // reported are those up to it, whatever --jobs.
  bool stop_on_failure = false;
  // --no-seed-files: write neither scenario nor trace of a failing seed, and
  // skip the traced rerun. Under a mutant most seeds may fail, each trace
  // hundreds of megabytes (tools/mutate.sh); the signature is then only
  // what failed, without the bad event.
  bool no_seed_files = false;
  // The command-line flags that shape generation (--nodes, --duration,
  // --bug), repeated in every reproduce command.
  std::string generation_flags;
};

// Returns the process exit code (cli.md): 0 nothing failed, 1 a seed
// failed, 2 the results or seed files could not be written.
int fuzz_command(const FuzzCommand& cmd);

}  // namespace sim
