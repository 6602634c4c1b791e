#include "sim/fuzz.h"

#include <doctest/doctest.h>

#include <set>
#include <sstream>

#include "sim/scenario_loader.h"
#include "sim/shrink.h"

namespace sim {
namespace {

RunResult run_text(const std::string& text) {
  return run_scenario(parse_scenario(text, "test.json"), RunOptions{});
}

}  // namespace

TEST_CASE("fuzz: a seed always generates the same scenario, and seeds differ") {
  const FuzzLimits limits;
  CHECK(generate_scenario(7, limits).dump() == generate_scenario(7, limits).dump());
  std::set<std::string> distinct;
  for (uint64_t seed = 0; seed < 20; ++seed)
    distinct.insert(generate_scenario(seed, limits).dump());
  CHECK(distinct.size() == 20);
}

TEST_CASE("fuzz: generated scenarios load and stay within --nodes and --duration") {
  FuzzLimits limits;
  limits.nodes = 4;
  limits.duration_us = 8'000'000;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    CAPTURE(seed);
    const Scenario s = parse_scenario(generate_scenario(seed, limits).dump(), "gen.json");
    CHECK(s.all_nodes().size() <= 4);
    CHECK(s.voters.size() >= 3);
    CHECK(s.duration_us <= limits.duration_us);
    REQUIRE(s.expectations.size() == 2);
    // Liveness is checked at the very end, the stated bound after the heal.
    CHECK(s.expectations[0].kind == CheckKind::leaders);
    CHECK(s.expectations[1].kind == CheckKind::converged);
    CHECK(s.expectations[1].at_us == s.duration_us);
    TimeUs last_heal = 0;
    for (const Action& a : s.actions) {
      if (a.kind == ActionKind::heal) last_heal = a.at.min_us;
    }
    CHECK(s.duration_us - last_heal >= kLivenessBoundTimeouts * s.raft.election_timeout_max_us);
  }
}

TEST_CASE("fuzz: the profile varies the cluster and the faults from seed to seed") {
  std::set<size_t> voter_counts;
  std::set<std::string> actions;
  bool learners = false, spares = false, bugs = false;
  FuzzLimits limits;
  limits.bugs = {"commit_prior_term"};
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const Scenario s = parse_scenario(generate_scenario(seed, limits).dump(), "gen.json");
    voter_counts.insert(s.voters.size());
    learners = learners || !s.learners.empty();
    spares = spares || !s.spares.empty();
    bugs = bugs || s.bugs == std::vector<std::string>{"commit_prior_term"};
    for (const Action& a : s.actions) actions.insert(a.name);
  }
  CHECK(voter_counts == std::set<size_t>{3, 4, 5, 6, 7});
  CHECK(learners);
  CHECK(spares);
  CHECK(bugs);
  for (const char* name :
       {"crash", "restart", "pause", "resume", "partition", "isolate", "cut", "heal", "set_network",
        "write", "add_learner", "promote", "demote", "remove", "transfer_leadership", "snapshot",
        "campaign", "clock_drift"}) {
    CAPTURE(name);
    CHECK(actions.count(name) == 1);
  }
}

TEST_CASE("fuzz: the written scenario file replays with the same digest") {
  for (uint64_t seed : {3, 11}) {
    const std::string text = generate_scenario(seed, FuzzLimits{}).dump(2) + "\n";
    const RunResult direct = run_text(text);
    // What `raftsim run seed-S.json` does: read the file back and run it.
    const RunResult replay = run_text(nlohmann::ordered_json::parse(text).dump(2));
    CHECK(direct.events > 1000);
    CHECK(direct.digest == replay.digest);
    CHECK(direct.pass == replay.pass);
  }
}

TEST_CASE("fuzz: failure kinds and the first bad event") {
  RunResult passed;
  CHECK(failure_kind(passed).empty());

  RunResult violated;
  violated.pass = false;
  violated.violation = Violation{"election_safety", "two leaders in term 3", {1, 2}};
  CHECK(failure_kind(violated) == "election_safety");
  std::istringstream trace(
      "{\"type\":\"header\"}\n"
      "{\"t\":5,\"type\":\"deliver\",\"from\":1,\"to\":2,\"msg\":\"vote_resp\",\"term\":3}\n"
      "{\"t\":5,\"type\":\"elected\",\"node\":2,\"term\":3}\n"
      "{\"t\":5,\"type\":\"violation\",\"invariant\":\"election_safety\"}\n"
      "{\"t\":6,\"type\":\"commit\",\"node\":2}\n");
  CHECK(bad_event_kind(violated, trace) == "elected");

  std::istringstream sent(
      "{\"t\":5,\"type\":\"send\",\"from\":1,\"to\":2,\"msg\":\"vote_resp\",\"term\":3}\n"
      "{\"t\":5,\"type\":\"violation\",\"invariant\":\"learner_vote\"}\n");
  violated.violation->invariant = "learner_vote";
  CHECK(bad_event_kind(violated, sent) == "send:vote_resp");

  RunResult liveness;
  liveness.pass = false;
  liveness.checks.push_back({true, "ok at 12s leaders count 1: 1 leaders"});
  liveness.checks.push_back(
      {false, "FAIL at 12s converged: node 3 holds 4 of 9 writes with a different state"});
  std::istringstream none;
  CHECK(failure_kind(liveness) == "check:converged");
  CHECK(bad_event_kind(liveness, none) == "diverged");
  liveness.checks[0] = {false, "FAIL at 12s leaders count 1: 0 leaders"};
  CHECK(failure_kind(liveness) == "check:leaders");
  CHECK(bad_event_kind(liveness, none) == "0_leaders");
}

TEST_CASE("shrink: removes what the failure does not need and keeps it failing the same way") {
  // Three voters never have two leaders at once: the check fails whatever
  // the faults, so everything but the recoveries can go.
  const std::string text = R"({
    "name": "always fails", "seed": 5, "duration": "3s",
    "cluster": {"voters": 3, "spares": [4]},
    "network": {"drop": 0.05, "latency": {"min": "1ms", "max": "4ms"}},
    "workload": {"rate": 20},
    "timeline": [
      {"at": "500ms", "action": "pause", "node": 2},
      {"at": "700ms", "action": "write", "count": 12},
      {"at": "800ms", "action": "isolate", "node": 3},
      {"at": "1s", "action": "heal"},
      {"at": "1s", "action": "resume", "node": 2}
    ],
    "expect": [{"at": "3s", "check": "leaders", "count": 2}]
  })";
  const auto doc = nlohmann::ordered_json::parse(text);
  const ShrinkResult r = shrink_scenario(doc, "always.json", 500);
  REQUIRE(r.input_fails);
  CHECK(r.kind == "check:leaders");
  CHECK(!r.removed.empty());
  const Scenario small = parse_scenario(r.scenario.dump(), "small.json");
  CHECK(small.actions.size() < 5);
  CHECK(!small.workload.enabled);
  CHECK(small.spares.empty());
  CHECK(small.network.drop == 0.0);
  const RunResult again = run_scenario(small, RunOptions{});
  CHECK(failure_kind(again) == "check:leaders");
}

TEST_CASE("shrink: a scenario that passes is reported as not failing") {
  const auto doc = nlohmann::ordered_json::parse(R"({
    "name": "fine", "duration": "2s", "cluster": {"voters": 3},
    "expect": [{"at": "2s", "check": "leaders", "count": 1}]
  })");
  const ShrinkResult r = shrink_scenario(doc, "fine.json", 100);
  CHECK_FALSE(r.input_fails);
  CHECK(r.removed.empty());
}

}  // namespace sim
