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

}  // namespace
}  // namespace sim
