// Reading and validating scenario files. Every problem is reported as one
// sentence naming the file and the place: line and column for JSON syntax,
// the JSON pointer for everything else.
#pragma once

#include <stdexcept>
#include <string>

#include "sim/scenario/scenario.h"

namespace sim {

class ScenarioError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Limits on what one file may ask for, so that no input can exhaust memory or
// run for hours by accident.
struct ScenarioLimits {
  static constexpr size_t kMaxFileBytes = 16 << 20;
  static constexpr int kMaxNesting = 64;
  static constexpr size_t kMaxNodes = 2000;
  static constexpr NodeId kMaxNodeId = 1'000'000;
  static constexpr TimeUs kMaxDurationUs = kMaxTimeUs;        // 48 virtual hours
  static constexpr uint64_t kMaxWrites = 20'000'000;          // over the whole run
  static constexpr uint64_t kMaxWritesPerAction = 1'000'000;  // all in memory at once
  static constexpr size_t kMaxActions = 100'000;
  static constexpr size_t kMaxExpectations = 100'000;
  // Timer rounds times the messages each round can cost: nodes² × duration /
  // the shortest timer (heartbeat or election timeout, sped up by clock drift).
  // A message storm runs at about 2M messages a second, so 1e9 is about ten
  // minutes of wall time at any cluster size (4e9 let 45 voters with 1 µs
  // timers run for most of an hour).
  static constexpr double kMaxTimerWork = 1e9;
  // What a run may do before it fails (work limit): events handled plus
  // messages sent. This also bounds what the static estimate cannot see,
  // such as a backlog of retried writes.
  static constexpr uint64_t kMaxRunWork = 1'000'000'000;
  // Snapshot chunks one full transfer of every byte written would take.
  static constexpr double kMaxSnapshotChunks = 1e7;
};

// Throws ScenarioError.
Scenario load_scenario_file(const std::string& path);
Scenario parse_scenario(const std::string& text, const std::string& file);
// Runs the scenario on this implementation (--impl overrides the file's
// "implementation"); throws ScenarioError for what the implementation cannot
// express (canonical_refusal).
void select_implementation(Scenario& scenario, Implementation implementation);

}  // namespace sim
