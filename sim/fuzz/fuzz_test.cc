#include "sim/fuzz/fuzz.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "sim/fuzz/shrink.h"
#include "sim/scenario/scenario_loader.h"

namespace sim {
namespace {

RunResult run_text(const std::string& text) {
  return run_scenario(parse_scenario(text, "test.json"), RunOptions{});
}

bool has_churn(const nlohmann::ordered_json& doc) {
  return doc["description"].get<std::string>().find("churn") != std::string::npos;
}

// The first `count` seeds whose profile includes churn.
std::vector<uint64_t> churn_seeds(size_t count) {
  std::vector<uint64_t> seeds;
  for (uint64_t seed = 0; seeds.size() < count; ++seed) {
    if (has_churn(generate_scenario(seed, FuzzLimits{}))) seeds.push_back(seed);
  }
  return seeds;
}

// One generated scenario of a cycle family, as `for_family` hands it to a test.
struct FamilySeed {
  const nlohmann::ordered_json& doc;
  const Scenario& scenario;
  std::map<std::string, size_t> actions;  // how many timeline actions of each kind
};

// Calls `check` on each of seeds 0..199 whose generated scenario names
// `family` in its description, runs the first `runs` of them (each must pass;
// `on_run` sees its result) and returns how many seeds drew the family.
size_t for_family(const std::string& family, size_t runs,
                  const std::function<void(const FamilySeed&)>& check,
                  const std::function<void(const RunResult&)>& on_run = {}) {
  size_t with = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    CAPTURE(seed);
    const auto doc = generate_scenario(seed, FuzzLimits{});
    if (doc["description"].get<std::string>().find(family) == std::string::npos) continue;
    const Scenario scenario = parse_scenario(doc.dump(), "gen.json");
    FamilySeed f{doc, scenario, {}};
    for (const Action& a : scenario.actions) ++f.actions[a.name];
    check(f);
    if (with++ < runs) {
      const RunResult r = run_text(doc.dump());
      CHECK(r.pass);
      if (on_run) on_run(r);
    }
  }
  return with;
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
    CHECK((s.voters.size() >= 3 || s.voters.size() == 1));  // 1: a lone-voter seed
    CHECK(s.duration_us <= limits.duration_us);
    REQUIRE((s.expectations.size() == 2 || s.expectations.size() == 3));
    // Liveness is checked the stated bound after the heal; a late transfer's
    // target must lead at the very end.
    CHECK(s.expectations[0].kind == CheckKind::leaders);
    CHECK(s.expectations[1].kind == CheckKind::converged);
    CHECK(s.expectations.back().at_us == s.duration_us);
    if (s.expectations.size() == 3) CHECK(s.expectations[2].kind == CheckKind::leader);
    TimeUs last_heal = 0;
    for (const Action& a : s.actions) {
      if (a.kind == ActionKind::heal) last_heal = a.at.min_us;
    }
    CHECK(s.expectations[1].at_us - last_heal >=
          kLivenessBoundTimeouts * s.raft.election_timeout_max_us);
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
  CHECK(voter_counts == std::set<size_t>{1, 3, 4, 5, 6, 7});
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

TEST_CASE("fuzz: churn is drawn for some seeds, with odd voter counts and whole cycles") {
  size_t with = 0, without = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    CAPTURE(seed);
    const auto doc = generate_scenario(seed, FuzzLimits{});
    if (!has_churn(doc)) {
      ++without;
      continue;
    }
    ++with;
    const Scenario s = parse_scenario(doc.dump(), "gen.json");
    // A majority side and a minority side that one voter turns around.
    CHECK(s.voters.size() % 2 == 1);
    std::map<std::string, size_t> count;
    for (const Action& a : s.actions) ++count[a.name];
    // At least one cycle: a handover, three cuts, two crashes, four campaigns.
    CHECK(count["transfer_leadership"] >= 1);
    CHECK(count["partition"] >= 3);
    CHECK(count["crash"] >= 2);
    CHECK(count["campaign"] >= 4);
  }
  CHECK(with > 10);
  CHECK(without > 50);
}

TEST_CASE("fuzz: churn seeds find the Figure 8 bug, and pass without it") {
  // The check that the generator reaches the situation at all: with
  // commit_prior_term, some of the first churn seeds lose a committed entry.
  FuzzLimits bug;
  bug.bugs = {"commit_prior_term"};
  size_t found = 0;
  for (uint64_t seed : churn_seeds(20)) {
    CAPTURE(seed);
    const RunResult with_bug = run_text(generate_scenario(seed, bug).dump());
    if (with_bug.pass) continue;
    ++found;
    CHECK(failure_kind(with_bug) == "leader_completeness");
    CHECK(run_text(generate_scenario(seed, FuzzLimits{}).dump()).pass);
  }
  CHECK(found >= 2);
}

TEST_CASE("fuzz: stale-ack cycles are drawn for some three-voter seeds, and pass") {
  // A correct node ignores the stale answers these cycles provoke; the cycles
  // were checked against leaders that count them (see docs/fuzzing.md).
  const size_t with = for_family("stale-ack", 5, [](const FamilySeed& f) {
    CHECK(f.scenario.voters.size() == 3);
    CHECK_FALSE(has_churn(f.doc));
    // Each cycle pauses a follower and resumes it, and crashes and restarts
    // the leader in between (other faults may add more of each).
    CHECK(f.actions.count("pause"));
    CHECK(f.actions.count("crash"));
    CHECK(f.actions.at("resume") >= f.actions.at("pause"));
    // The heal restarts every node; each cycle restarts its leader too.
    CHECK(f.actions.at("restart") > f.scenario.all_nodes().size());
  });
  CHECK(with >= 3);
  CHECK(with < 100);
}

TEST_CASE("fuzz: vote-crash cycles are drawn for some seeds, and pass") {
  // A correct voter that crashes before its vote is durable has sent no
  // grant, so the second candidate of the term may have its vote.
  const size_t with = for_family("vote-crash", 5, [](const FamilySeed& f) {
    CHECK(f.scenario.voters.size() >= 3);
    CHECK_FALSE(has_churn(f.doc));
    // Each cycle: two campaigns around a voter's crash and restart.
    CHECK(f.actions.count("campaign"));
    CHECK(f.actions.count("crash"));
    CHECK(f.actions.at("campaign") >= 2);
    // The heal restarts every node; each cycle restarts its leader too.
    CHECK(f.actions.at("restart") > f.scenario.all_nodes().size());
  });
  CHECK(with >= 5);  // 8 of these 200 seeds today
  CHECK(with <= 50);
}

TEST_CASE("fuzz: pre-vote replay cycles are drawn for some seeds, and pass") {
  // A correct pre-candidate ignores the old grants these cycles deliver.
  const size_t with = for_family("pre-vote replay", 5, [](const FamilySeed& f) {
    CHECK(f.scenario.voters.size() % 2 == 1);
    CHECK(f.scenario.raft.pre_vote);
    CHECK(f.scenario.raft.check_quorum);
    CHECK_FALSE(has_churn(f.doc));
    // Each cycle pauses and resumes voters and hands leadership over twice.
    CHECK(f.actions.count("pause"));
    CHECK(f.actions.count("transfer_leadership"));
    CHECK(f.actions.at("resume") >= f.actions.at("pause"));
    CHECK(f.actions.at("transfer_leadership") >= 2);
  });
  CHECK(with >= 5);  // 12 of these 200 seeds today
  CHECK(with <= 60);
}

TEST_CASE("fuzz: returning-leader cycles are drawn for some seeds, and pass") {
  // A correct leader forgets, when it steps down, which writes its log held:
  // the clients' retries reach it when it leads again, and are appended anew.
  const size_t with = for_family("returning-leader", 5, [](const FamilySeed& f) {
    CHECK(f.scenario.voters.size() >= 3);
    CHECK_FALSE(has_churn(f.doc));
    // Each cycle isolates its leader and hands leadership to it twice.
    CHECK(f.actions.count("isolate"));
    CHECK(f.actions.count("transfer_leadership"));
    CHECK(f.actions.at("transfer_leadership") >= 2);
  });
  CHECK(with >= 20);
  CHECK(with <= 100);
}

TEST_CASE("fuzz: snapshot-race cycles compact the leader's log while a follower rejoins") {
  size_t snapshots_sent = 0;
  const size_t with = for_family(
      "snapshot-race", 8,
      [](const FamilySeed& f) {
        CHECK(f.scenario.voters.size() >= 3);
        // Each cycle: two snapshots, a reordering and duplicating link and its
        // restoration (two set_network per cycle, one at the heal).
        CHECK(f.actions.count("snapshot"));
        CHECK(f.actions.count("set_network"));
        CHECK(f.actions.at("snapshot") >= 2);
        CHECK(f.actions.at("set_network") >= 3);
      },
      [&](const RunResult& r) {
        if (r.event_counts.count("snapshot_sent") && r.event_counts.at("snapshot_sent") > 0) {
          ++snapshots_sent;
        }
      });
  CHECK(with >= 60);  // 119 of these 200 seeds today
  CHECK(with <= 160);
  CHECK(snapshots_sent >= 2);  // 4 of the 8 run today: the install is what the cycle is for
}

TEST_CASE("fuzz: some seeds start with a lone voter that crashes after writes, and pass") {
  size_t lone = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    CAPTURE(seed);
    const auto doc = generate_scenario(seed, FuzzLimits{});
    const Scenario s = parse_scenario(doc.dump(), "gen.json");
    if (s.voters.size() != 1) continue;
    ++lone;
    CHECK_FALSE(has_churn(doc));
    CHECK(s.disk_write_latency_us >= 3000);  // room to crash before a write is durable
    size_t crashes = 0;
    for (const Action& a : s.actions) {
      if (a.name == "crash" && a.node.id == s.voters[0]) ++crashes;
    }
    CHECK(crashes >= 1);
    if (lone <= 3) CHECK(run_text(doc.dump()).pass);
  }
  CHECK(lone >= 3);
  CHECK(lone <= 30);
}

TEST_CASE("fuzz: --stop-on-failure reports the seeds up to the first failure") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "raftsim-fuzz-test-stop";
  std::filesystem::remove_all(dir);
  FuzzCommand cmd;
  cmd.seeds = 30;
  cmd.jobs = 2;
  cmd.limits.bugs = {"no_check_quorum"};  // fails within a few seeds
  cmd.out_dir = (dir / "out").string();
  cmd.results_path = (dir / "results.jsonl").string();
  cmd.stop_on_failure = true;
  std::ostringstream quiet;
  std::streambuf* saved = std::cout.rdbuf(quiet.rdbuf());
  const int rc = fuzz_command(cmd);
  std::cout.rdbuf(saved);
  CHECK(rc == 1);
  CHECK(quiet.str().find("stopped at the first failure") != std::string::npos);
  std::ifstream in(cmd.results_path);
  std::vector<std::string> results;
  for (std::string line; std::getline(in, line);)
    results.push_back(nlohmann::json::parse(line)["result"]);
  REQUIRE(!results.empty());
  CHECK(results.size() < 30);
  CHECK(results.back() == "fail");
  CHECK(std::count(results.begin(), results.end(), "fail") == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("fuzz: the written scenario file replays with the same digest") {
  for (uint64_t seed : {3u, 11u}) {
    const std::string text = generate_scenario(seed, FuzzLimits{}).dump(2) + "\n";
    const RunResult direct = run_text(text);
    // What `raftsim run seed-S.json` does: read the file back and run it.
    const RunResult replay = run_text(nlohmann::ordered_json::parse(text).dump(2));
    CHECK(direct.events > 1000);
    CHECK(direct.digest == replay.digest);
    CHECK(direct.pass == replay.pass);
  }
}

TEST_CASE("fuzz: a seed that outruns its event bound fails as event_limit, and replays") {
  FuzzLimits limits;
  limits.max_events = 500;
  const nlohmann::ordered_json doc = generate_scenario(3, limits);
  CHECK(doc["max_events"] == 500);
  const std::string text = doc.dump(2) + "\n";
  const RunResult bounded = run_text(text);
  CHECK_FALSE(bounded.pass);
  CHECK(bounded.event_limit);
  CHECK(bounded.events == 500);
  CHECK(failure_kind(bounded) == "event_limit");
  CHECK(bounded.failure.find("event limit: 500 events") == 0);
  CHECK(run_text(text).digest == bounded.digest);
  // The default bound leaves the same seed alone.
  const RunResult unbounded = run_text(generate_scenario(3, FuzzLimits{}).dump());
  CHECK_FALSE(unbounded.event_limit);
  CHECK(unbounded.events > 500);
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
