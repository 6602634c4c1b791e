#include "sim/canonical/canonical_node.h"

#include <doctest/doctest.h>

#include "sim/engine/simulation.h"
#include "sim/scenario/scenario_loader.h"

namespace sim {
namespace {

const char* kThreeNodes = R"({
  "name": "canonical: election and replication",
  "implementation": "canonical",
  "duration": "3s",
  "cluster": {"voters": 3},
  "raft": {"election_timeout": ["150ms", "300ms"], "heartbeat_interval": "50ms"},
  "timeline": [{"at": "1s", "action": "write", "count": 20},
               {"at": "1.5s", "action": "crash", "node": "leader", "as": "old"},
               {"at": "2s", "action": "restart", "node": "old"}],
  "expect": [{"at": "0.9s", "check": "leaders", "count": 1},
             {"at": "3s", "check": "committed", "min": 20},
             {"at": "3s", "check": "applied", "node": "all", "min": 20}]
})";

TEST_CASE("canonical/raft elects, replicates, survives a leader crash, deterministically") {
  const Scenario s = parse_scenario(kThreeNodes, "three.json");
  CHECK(s.implementation == Implementation::canonical);
  const RunResult a = run_scenario(s, RunOptions{});
  CHECK_MESSAGE(a.pass, a.failure);
  CHECK(a.writes_acknowledged == 20);
  CHECK(a.elections >= 2);  // the first leader, and one after its crash
  const RunResult b = run_scenario(s, RunOptions{});
  CHECK(a.digest == b.digest);
  CHECK(a.events == b.events);
}

TEST_CASE("what canonical/raft cannot express is refused with the key named") {
  std::string doc = kThreeNodes;
  const std::string from = R"("at": "1.5s", "action": "crash", "node": "leader", "as": "old")";
  doc.replace(doc.find(from), from.size(),
              R"("at": "1.5s", "action": "campaign", "node": 1, "as": "old")");
  CHECK_THROWS_WITH_AS(parse_scenario(doc, "x.json"),
                       doctest::Contains("x.json: /timeline/1/action: canonical/raft has no way"),
                       ScenarioError);
  std::string ranged = kThreeNodes;
  ranged.replace(ranged.find("\"300ms\""), 7, "\"250ms\"");
  CHECK_THROWS_WITH_AS(parse_scenario(ranged, "y.json"),
                       doctest::Contains("/raft/election_timeout"), ScenarioError);
}

// Shrunk from fuzz seed 225: the library would remove its last voter (and
// raft_assign a voter to RAFT_STANDBY for add_learner); the adapter drops
// what raft::Node drops, so the cluster keeps its leader.
TEST_CASE("a membership change raft::Node would drop is dropped for the library too") {
  const Scenario s = parse_scenario(R"({
    "name": "canonical: the last voter removes itself",
    "implementation": "canonical",
    "duration": "2s",
    "cluster": {"voters": [1]},
    "raft": {"auto_promote": false},
    "timeline": [{"at": "200ms", "action": "remove", "node": 1},
                 {"at": "300ms", "action": "add_learner", "node": 1, "promote": false}],
    "expect": [{"at": "2s", "check": "leaders", "count": 1}]
  })",
                                    "last_voter.json");
  const RunResult r = run_scenario(s, RunOptions{});
  CHECK_MESSAGE(r.pass, r.failure);
}

// The library checks its contact quorum on the first tick an election
// timeout after the previous check (docs/canonical.md): with T = 100ms and
// ticks of 33ms, checks are 132ms apart, the first up to 133ms after an
// election, so a leader may stay 265ms; raftsim's node, 2T + h = 233ms.
TEST_CASE("each implementation's check-quorum bound is its own") {
  struct NoRandom final : raft::Random {
    int64_t uniform_int(int64_t lo, int64_t) override { return lo; }
  } random;
  raft::Options options;
  options.election_timeout_min_us = 100'000;
  options.election_timeout_max_us = 200'000;
  options.heartbeat_interval_us = 33'000;
  const raft::DurableState durable;
  raft::ConfigArena configs;
  CHECK(make_canonical_node(1, options, random, durable, configs)->check_quorum_bound_us() ==
        265'000);
  CHECK(RaftNodeAdapter(1, options, random, durable, configs).check_quorum_bound_us() == 233'000);
}

}  // namespace
}  // namespace sim
