// Failover trials on raftsim, with the trial of canonical/raft's fixture
// harness (bench/peers/canonical_raft_bench.c, workload failover_trials):
//
//   1. step until there is a stable leader,
//   2. step on for a random extra 0-999 ms,
//   3. kill the leader,
//   4. step until a new leader is stable, that is, recognised by every live
//      follower,
//   5. revive the old leader.
//
// "Stable" is the fixture's definition (raft_fixture_step() in libraft's
// fixture.c): the live leader with the highest term, such that every other
// live node is a follower in that term that knows it as its leader, and those
// followers are at least half of the cluster. It is re-evaluated after every
// event, as the fixture does after every step.
//
// A kill is the fixture's (raft_fixture_kill(): the server is disconnected
// from all others and its tick is no longer invoked; it keeps its memory, and
// raft_fixture_revive() reconnects it): here the node is isolated and paused,
// and revived by healing the network and resuming it. With "crash" the
// leader is crashed and restarted instead, which the fixture cannot do: the
// restarted node rebuilds from its durable state and replays its log, work
// the fixture's trial does not have.
//
// Cluster: 5 voters, 15 ms links, 10 ms disk, election timeout 1-2 s,
// heartbeat 100 ms, pre-vote off, check-quorum on; the invariant checker and
// the trace digest run as in every raftsim run. Membership stays fixed, as in
// libraft: min_voters 5 keeps a new leader from demoting the killed voter,
// whose match index it does not know, to a learner (raftsim's lag-based
// demotion, which libraft does not have).
//
// Usage: failover_trials [trials] [seed] [freeze|crash]   (default 10000, 1, freeze)
// Output: one JSON line on stdout:
//   {"sim":"raftsim","workload":"failover_trials","kill":"freeze","trials":N,
//    "wall_s":..,"trials_per_s":..,"virtual_s":..,"events":..,"events_per_s":..,
//    "leader_gone_at_kill":..,"digest":".."}
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/base/prng.h"
#include "sim/engine/simulation.h"
#include "sim/scenario/scenario_loader.h"

namespace {

// The longest run a scenario may have; a trial takes about 3 virtual seconds,
// so 10,000 trials take about 8 of the 48 hours.
constexpr const char* kScenario = R"({
  "name": "bench: failover trials",
  "duration": "172800s",
  "cluster": {"voters": 5},
  "raft": {"election_timeout": ["1000ms", "2000ms"], "heartbeat_interval": "100ms",
           "pre_vote": false, "check_quorum": true, "max_inflight": 64, "min_voters": 5},
  "network": {"latency": "15ms"},
  "disk": {"write_latency": "10ms"}
})";
constexpr int kNodes = 5;
// A phase that takes longer than this has failed (the fixture harness uses
// the same bound).
constexpr sim::TimeUs kPhaseLimitUs = 60'000'000;

// The fixture's stable leader, or kNoNode, over the nodes' views.
raft::NodeId stable_leader(const sim::Simulation::NodeView (&v)[kNodes + 1]) {
  raft::NodeId leader = raft::kNoNode;
  for (raft::NodeId id = 1; id <= kNodes; ++id) {
    if (!v[id].crashed && v[id].role == raft::Role::leader &&
        (leader == raft::kNoNode || v[id].current_term > v[leader].current_term)) {
      leader = id;
    }
  }
  if (leader == raft::kNoNode) return raft::kNoNode;
  int acks = 0;
  for (raft::NodeId id = 1; id <= kNodes; ++id) {
    if (id == leader || v[id].crashed) continue;
    if (v[id].current_term != v[leader].current_term || v[id].role != raft::Role::follower ||
        v[id].leader_id != leader) {
      return raft::kNoNode;
    }
    ++acks;
  }
  return acks >= kNodes / 2 ? leader : raft::kNoNode;
}

bool operator==(const sim::Simulation::NodeView& a, const sim::Simulation::NodeView& b) {
  return a.crashed == b.crashed && a.role == b.role && a.current_term == b.current_term &&
         a.leader_id == b.leader_id;
}

// The stable leader as of the last event, re-evaluated as the fixture does
// after every step, from the one node the event could change (every node
// after an event that was no one node's, and after a crash or restart).
// A killed node counts as not live, as in the fixture, whether crashed or
// frozen.
class Observer {
 public:
  explicit Observer(const sim::Simulation& s) : s_(s) { refresh_all(); }
  raft::NodeId leader() const { return leader_; }
  void set_killed(raft::NodeId id) {
    killed_ = id;
    refresh_all();
  }
  void refresh_all() {
    for (raft::NodeId id = 1; id <= kNodes; ++id) views_[id] = view(id);
    leader_ = stable_leader(views_);
  }
  void after_step() {
    const raft::NodeId id = s_.stepped_node();
    if (id == raft::kNoNode) return refresh_all();
    if (id == killed_) return;  // (a frozen node's events wait: none is its)
    const sim::Simulation::NodeView now = s_.view(id);
    if (now == views_[id]) return;  // nothing the predicate reads changed
    views_[id] = now;
    leader_ = stable_leader(views_);
  }

 private:
  sim::Simulation::NodeView view(raft::NodeId id) const {
    return id == killed_ ? sim::Simulation::NodeView{true} : s_.view(id);
  }

  const sim::Simulation& s_;
  sim::Simulation::NodeView views_[kNodes + 1];
  raft::NodeId leader_ = raft::kNoNode;
  raft::NodeId killed_ = raft::kNoNode;
};

[[noreturn]] void fail(const sim::Simulation& s, const std::string& why) {
  std::fprintf(stderr, "failover_trials: %s at %s\n", why.c_str(),
               sim::format_time(s.now_us()).c_str());
  std::exit(1);
}

void step(sim::Simulation& s, Observer& o) {
  if (!s.step()) fail(s, "the run ended (an invariant violation or no event left)");
  o.after_step();
}

raft::NodeId step_until_stable_leader(sim::Simulation& s, Observer& o) {
  const sim::TimeUs start = s.now_us();
  while (o.leader() == raft::kNoNode) {
    if (s.now_us() - start >= kPhaseLimitUs) fail(s, "no stable leader for 60 s");
    step(s, o);
  }
  return o.leader();
}

}  // namespace

int main(int argc, char** argv) {
  const long trials = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 10000;
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  const std::string kill = argc > 3 ? argv[3] : "freeze";
  if (trials <= 0 || argc > 4 || (kill != "freeze" && kill != "crash")) {
    std::fprintf(stderr, "usage: failover_trials [trials > 0] [seed] [freeze|crash]\n");
    return 2;
  }
  const bool crash = kill == "crash";
  const sim::Scenario scenario = sim::parse_scenario(kScenario, "failover_trials (built in)");
  sim::RunOptions options;
  options.seed = seed;
  sim::Simulation s(scenario, options);
  sim::Prng rng = sim::Prng::stream(seed, "failover_trials");

  const auto wall0 = std::chrono::steady_clock::now();
  s.begin();
  Observer o(s);
  long leader_gone_at_kill = 0;
  for (long k = 0; k < trials; ++k) {
    step_until_stable_leader(s, o);
    const sim::TimeUs until = s.now_us() + rng.uniform_int(0, 999) * 1000;
    while (s.now_us() < until) step(s, o);
    raft::NodeId victim = o.leader();
    if (victim == raft::kNoNode) {  // never seen so far: nothing disturbs the cluster
      ++leader_gone_at_kill;
      victim = step_until_stable_leader(s, o);
    }
    if (crash) {
      s.crash(victim);
    } else {
      s.isolate(victim);
      s.pause(victim);
    }
    o.set_killed(victim);
    step_until_stable_leader(s, o);
    if (crash) {
      s.restart(victim);
    } else {
      s.heal();
      s.resume(victim);
    }
    o.set_killed(raft::kNoNode);
  }
  const sim::TimeUs virtual_us = s.now_us();
  const sim::RunResult result = s.finish();
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (!result.pass) fail(s, result.failure);
  std::printf(
      "{\"sim\":\"raftsim\",\"workload\":\"failover_trials\",\"kill\":\"%s\",\"trials\":%ld,"
      "\"wall_s\":%.6f,"
      "\"trials_per_s\":%.1f,\"virtual_s\":%.3f,\"events\":%llu,\"events_per_s\":%.0f,"
      "\"elections\":%llu,\"leader_gone_at_kill\":%ld,\"seed\":%llu,\"digest\":\"%s\"}\n",
      kill.c_str(), trials, wall_s, static_cast<double>(trials) / wall_s,
      static_cast<double>(virtual_us) / 1e6, static_cast<unsigned long long>(result.events),
      static_cast<double>(result.events) / wall_s,
      static_cast<unsigned long long>(result.elections), leader_gone_at_kill,
      static_cast<unsigned long long>(seed), result.digest.c_str());
  return 0;
}
