// The stepping interface a driver uses (bench/failover_trials): the same run
// as run(), and the observations and faults it offers between steps.
#include "sim/engine/simulation.h"

#include <doctest/doctest.h>

#include <string>

#include "sim/scenario/scenario_loader.h"

namespace sim {
namespace {

TEST_CASE("stepping a run gives what run() gives: same events, same digest") {
  const Scenario scenario =
      load_scenario_file(std::string(RAFTSIM_SCENARIOS) + "/leader_loses_quorum.json");
  const RunResult whole = run_scenario(scenario, RunOptions{});
  Simulation s(scenario, RunOptions{});
  s.begin();
  uint64_t steps = 0;
  while (s.step()) ++steps;
  const RunResult stepped = s.finish();
  CHECK(stepped.pass == whole.pass);
  CHECK(stepped.events == whole.events);
  CHECK(stepped.digest == whole.digest);
  CHECK(steps >= whole.events);  // stale timer events are stepped, not counted
}

TEST_CASE("a driver sees followers learn the leader, and crashes and restarts it") {
  const Scenario scenario = parse_scenario(R"({
    "name": "three voters", "duration": "20s", "cluster": {"voters": 3},
    "raft": {"election_timeout": ["150ms", "300ms"], "heartbeat_interval": "50ms"}
  })",
                                           "inline");
  Simulation s(scenario, RunOptions{});
  s.begin();
  auto leader = [&]() -> NodeId {
    for (NodeId id = 1; id <= 3; ++id) {
      const Simulation::NodeView v = s.view(id);
      if (!v.crashed && v.role == raft::Role::leader) return id;
    }
    return raft::kNoNode;
  };
  auto known_by_all_live = [&](NodeId l) {
    for (NodeId id = 1; id <= 3; ++id) {
      const Simulation::NodeView v = s.view(id);
      if (!v.crashed && v.leader_id != l) return false;
    }
    return true;
  };
  while (leader() == raft::kNoNode || !known_by_all_live(leader())) REQUIRE(s.step());
  const NodeId first = leader();
  CHECK(s.view(first).leader_id == first);
  s.crash(first);
  CHECK(s.view(first).crashed);
  CHECK(leader() == raft::kNoNode);
  while (leader() == raft::kNoNode || !known_by_all_live(leader())) REQUIRE(s.step());
  const NodeId second = leader();
  CHECK(second != first);
  CHECK(s.view(second).current_term > 0);
  s.restart(first);
  CHECK_FALSE(s.view(first).crashed);
  while (s.view(first).leader_id != second) REQUIRE(s.step());
  CHECK(s.view(first).role == raft::Role::follower);
  const RunResult result = s.finish();
  CHECK(result.pass);
}

TEST_CASE("the run's work budget ends a run as a failure, counting events and messages") {
  // docs/limits.md: events handled plus messages sent. The real budget (1e9)
  // takes minutes to reach, so the test lowers it.
  const Scenario scenario = parse_scenario(R"({
    "name": "busy", "duration": "10s", "cluster": {"voters": 5},
    "raft": {"election_timeout": ["150ms", "300ms"], "heartbeat_interval": "10ms"}
  })",
                                           "inline");
  const RunResult unbounded = run_scenario(scenario, RunOptions{});
  REQUIRE(unbounded.pass);
  REQUIRE(!unbounded.work_limit);
  RunOptions options;
  options.max_work = 5000;
  REQUIRE(unbounded.events > options.max_work);  // else the budget would not bite
  const RunResult bounded = run_scenario(scenario, options);
  CHECK(!bounded.pass);
  CHECK(bounded.work_limit);
  CHECK(!bounded.event_limit);
  // Messages count too: the run stops before it has handled max_work events.
  CHECK(bounded.events < options.max_work);
  CHECK(bounded.events > 0);
  CHECK(bounded.failure.find("work limit") != std::string::npos);
  CHECK(bounded.failure.find("limit of 5000") != std::string::npos);
  // The same budget stops the run at the same event every time.
  CHECK(run_scenario(scenario, options).digest == bounded.digest);
}

}  // namespace
}  // namespace sim
