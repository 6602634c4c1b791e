#include "sim/fuzz/fuzz.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "sim/base/prng.h"
#include "sim/canonical/canonical_caps.h"
#include "sim/cli/commands.h"
#include "sim/scenario/scenario_loader.h"

namespace sim {

namespace {

using json = nlohmann::ordered_json;

constexpr TimeUs kMs = 1000;
constexpr TimeUs kSecond = 1'000'000;

// ---------------------------------------------------------------------------
// Generation

bool coin(Prng& rng, double p) {
  return rng.chance(probability_threshold(p));
}

template <typename T>
const T& pick(Prng& rng, const std::vector<T>& items) {
  return items[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(items.size()) - 1))];
}

// Index drawn with the given integer weights.
size_t weighted(Prng& rng, const std::vector<int>& weights) {
  int total = 0;
  for (int w : weights) total += w;
  int64_t r = rng.uniform_int(0, total - 1);
  for (size_t i = 0; i < weights.size(); ++i) {
    if (r < weights[i]) return i;
    r -= weights[i];
  }
  return weights.size() - 1;
}

// A whole number of milliseconds in [lo, hi] (both in microseconds).
TimeUs draw_ms(Prng& rng, TimeUs lo, TimeUs hi) {
  return rng.uniform_int(lo / kMs, std::max(lo, hi) / kMs) * kMs;
}

// A fraction with two decimals in [lo, hi] percent: exact in JSON and readable.
double draw_pct(Prng& rng, int lo, int hi) {
  return static_cast<double>(rng.uniform_int(lo, hi)) / 100.0;
}

// Fault profiles, from gentle to brutal: how many faults per second of the
// fault phase, and how lossy the network may be.
struct Profile {
  const char* name;
  int weight;
  double faults_per_s;
  int max_drop_pct;
  int max_duplicate_pct;
};
const Profile kProfiles[] = {
    {"gentle", 15, 0.3, 2, 1},  {"mild", 20, 0.8, 5, 3},     {"moderate", 30, 1.5, 10, 5},
    {"rough", 20, 3.0, 20, 10}, {"brutal", 15, 6.0, 30, 20},
};

// Fault families. Swarm testing (Groce et al., ISSTA 2012): each seed
// switches on a random subset, so that some seeds see many faults of a few
// kinds instead of every seed seeing a thin mix of all kinds.
enum Family {
  kSplit,
  kIsolate,
  kOneWay,
  kBridge,
  kCrash,
  kClusterCrash,
  kPause,
  kDrift,
  kNetChange,
  kMembership,
  kSnapshot,
  kTransfer,
  kCampaign,
  kBurst,
  kChurn,
  kFamilies
};
const char* const kFamilyNames[kFamilies] = {"split",      "isolate",       "one_way",  "bridge",
                                             "crash",      "cluster_crash", "pause",    "drift",
                                             "net_change", "membership",    "snapshot", "transfer",
                                             "campaign",   "writes",        "churn"};
// Churn is not drawn fault by fault: it lays out whole cycles (add_churn).
const int kFamilyWeights[kFamilies] = {4, 4, 2, 2, 6, 1, 3, 2, 2, 3, 2, 2, 2, 3, 0};
// The share of seeds that get leader churn.
constexpr double kChurnChance = 0.3;

// Election timeout choices ([min, max] in ms); the heartbeat is a third of min.
struct Timeouts {
  int weight;
  TimeUs min_us, max_us;
};
const Timeouts kTimeouts[] = {
    {70, 150 * kMs, 300 * kMs}, {15, 100 * kMs, 200 * kMs}, {15, 300 * kMs, 600 * kMs}};

// The shortest fault phase worth generating.
constexpr TimeUs kMinFaultPhase = 1 * kSecond;

TimeUs liveness_bound_us(TimeUs election_timeout_max_us) {
  return kLivenessBoundTimeouts * election_timeout_max_us;
}

json latency_doc(const LatencyModel& m) {
  switch (m.kind) {
    case LatencyModel::Kind::constant: return time_text(m.a_us);
    case LatencyModel::Kind::uniform:
      return {{"min", time_text(m.a_us)}, {"max", time_text(m.b_us)}};
    case LatencyModel::Kind::normal:
      return {{"mean", time_text(m.a_us)}, {"stddev", time_text(m.b_us)}};
  }
  return nullptr;
}

class Generator {
 public:
  Generator(uint64_t seed, const FuzzLimits& limits)
      : seed_(seed),
        limits_(limits),
        profile_rng_(Prng::stream(seed, "fuzz/profile")),
        cluster_rng_(Prng::stream(seed, "fuzz/cluster")),
        fault_rng_(Prng::stream(seed, "fuzz/faults")),
        write_rng_(Prng::stream(seed, "fuzz/writes")),
        lone_rng_(Prng::stream(seed, "fuzz/lone")),
        read_rng_(Prng::stream(seed, "fuzz/reads")) {}

  json build() {
    choose_profile();
    choose_reads();
    choose_cluster();
    choose_lone_voter();
    choose_raft();
    choose_network();
    if (lone_ && disk_latency_us_ < 3 * kMs) disk_latency_us_ = lone_rng_.uniform_int(3, 8) * kMs;
    choose_workload();
    if (enabled_[kChurn]) add_churn();
    for (int i = 0; i < fault_count_; ++i) add_fault();
    add_stale_acks();
    add_lone_crashes();
    add_vote_crashes();
    add_cut_off_leader_reads();
    add_heal_phase();
    return document();
  }

 private:
  struct Timed {
    TimeUs at;
    json action;
  };

  void choose_profile() {
    std::vector<int> weights;
    for (const Profile& p : kProfiles) weights.push_back(p.weight);
    profile_ = &kProfiles[weighted(profile_rng_, weights)];
    const double enable = profile_ == &kProfiles[0] ? 0.35 : 0.5;
    for (int f = 0; f < kChurn; ++f) enabled_[f] = coin(profile_rng_, enable);
    if (std::none_of(enabled_, enabled_ + kChurn, [](bool b) { return b; }))
      enabled_[kCrash] = true;
    enabled_[kChurn] = coin(profile_rng_, kChurnChance);
    // Timeouts that leave room for a fault phase within --duration.
    std::vector<int> tw;
    for (const Timeouts& t : kTimeouts) {
      const bool fits = limits_.duration_us == 0 ||
                        liveness_bound_us(t.max_us) + kMinFaultPhase <= limits_.duration_us;
      tw.push_back(fits ? t.weight : 0);
    }
    timeouts_ = &kTimeouts[weighted(profile_rng_, tw)];
    bound_us_ = liveness_bound_us(timeouts_->max_us);
    TimeUs hi = 12 * kSecond;
    if (limits_.duration_us) hi = std::min(hi, limits_.duration_us - bound_us_);
    const TimeUs lo = std::min<TimeUs>(5 * kSecond, hi);
    heal_us_ = draw_ms(profile_rng_, lo, hi);
    const double seconds = static_cast<double>(heal_us_) / kSecond;
    const int64_t scaled = static_cast<int64_t>(profile_->faults_per_s * seconds * 100.0);
    fault_count_ = static_cast<int>(profile_rng_.uniform_int(scaled / 2, scaled * 3 / 2) / 100);
    // Churn's cycles fill the fault phase; fewer other faults leave some of
    // them undisturbed.
    if (enabled_[kChurn]) fault_count_ /= 2;
    if (fault_count_ == 0 && profile_ != &kProfiles[0]) fault_count_ = 1;
  }

  void choose_cluster() {
    Prng& r = cluster_rng_;
    const uint32_t max_voters = std::min<uint32_t>(7, limits_.nodes);
    const uint32_t min_voters = std::min<uint32_t>(3, max_voters);
    uint32_t voters = static_cast<uint32_t>(r.uniform_int(min_voters, max_voters));
    // Churn needs a majority side and a minority side that one node turns
    // around: an odd number of voters.
    if (enabled_[kChurn] && voters % 2 == 0) voters += voters < max_voters ? 1 : -1;
    const uint32_t extra = std::min<uint32_t>(3, limits_.nodes - voters);
    uint32_t learners = 0, spares = 0;
    if (extra > 0 && coin(r, 0.3))
      learners = static_cast<uint32_t>(r.uniform_int(1, std::min<uint32_t>(2, extra)));
    if (extra > learners && coin(r, 0.35)) {
      spares = static_cast<uint32_t>(r.uniform_int(1, std::min<uint32_t>(2, extra - learners)));
    }
    NodeId id = 1;
    for (uint32_t i = 0; i < voters; ++i) voters_.push_back(id++);
    for (uint32_t i = 0; i < learners; ++i) learners_.push_back(id++);
    for (uint32_t i = 0; i < spares; ++i) spares_.push_back(id++);
    all_ = voters_;
    all_.insert(all_.end(), learners_.begin(), learners_.end());
    all_.insert(all_.end(), spares_.begin(), spares_.end());
    initial_voters_ = voters_;
    initial_learners_ = learners_;
    initial_spares_ = spares_;
    // Spares are only useful if someone adds them.
    if (!spares_.empty() && coin(r, 0.8)) enabled_[kMembership] = true;
  }

  void choose_raft() {
    Prng& r = cluster_rng_;
    raft_["election_timeout"] = {time_text(timeouts_->min_us), time_text(timeouts_->max_us)};
    raft_["heartbeat_interval"] = time_text(timeouts_->min_us / 3 / kMs * kMs);
    raft_["check_quorum"] = coin(r, 0.7);
    raft_["pre_vote"] = coin(r, 0.5);
    if (coin(r, 0.35)) raft_["snapshot_threshold"] = r.uniform_int(8, 200);
    // Small enough for snapshots of several chunks, large enough that a
    // lagging member catches up within the liveness bound even with slow disks.
    if (coin(r, 0.2)) raft_["snapshot_chunk_size"] = r.uniform_int(8192, 32768);
    // Narrow pipelines, but not so narrow that the backlog of a brutal fault
    // phase (hundreds of writes over slow disks) cannot drain within the
    // liveness bound: that would be a throughput limit, not a bug.
    if (coin(r, 0.2)) raft_["max_inflight"] = r.uniform_int(2, 8);
    if (coin(r, 0.2)) raft_["max_entries_per_message"] = r.uniform_int(4, 16);
    if (enabled_[kChurn] && coin(r, 0.7)) {
      // Very narrow pipelines make a new leader's catch-up of a follower take
      // many round trips, entries of earlier terms first and its own no-op
      // last: the window that churn aims at (Figure 8). The workload is
      // thinned to match (choose_workload), and frequent snapshots bound
      // what a member that missed the fault phase must fetch entry by entry.
      const int64_t inflight = r.uniform_int(1, 2);
      raft_["max_inflight"] = inflight;
      raft_["max_entries_per_message"] = r.uniform_int(4 / inflight, 4);
      raft_["snapshot_threshold"] = r.uniform_int(20, 100);
    }
    if (coin(r, 0.3)) raft_["max_lag_threshold"] = r.uniform_int(10, 100);
    if (coin(r, 0.2)) raft_["min_voters"] = r.uniform_int(1, 3);
    if (coin(r, 0.2)) raft_["auto_promote"] = false;
    if (!limits_.bugs.empty()) raft_["bugs"] = limits_.bugs;
  }

  LatencyModel draw_latency(TimeUs cap_us) {
    Prng& r = cluster_rng_;
    LatencyModel m;
    const size_t kind = weighted(r, {2, 6, 2});
    const TimeUs cap_ms = std::max<TimeUs>(2, cap_us / kMs);
    if (kind == 0) {
      m.kind = LatencyModel::Kind::constant;
      m.a_us = r.uniform_int(1, std::min<TimeUs>(5, cap_ms)) * kMs;
    } else if (kind == 1) {
      m.kind = LatencyModel::Kind::uniform;
      m.a_us = r.uniform_int(0, std::min<TimeUs>(3, cap_ms / 2)) * kMs + 500;
      m.b_us = m.a_us + r.uniform_int(1, std::max<TimeUs>(1, cap_ms - m.a_us / kMs)) * kMs;
    } else {
      m.kind = LatencyModel::Kind::normal;
      m.a_us = r.uniform_int(2, std::max<TimeUs>(2, cap_ms * 2 / 3)) * kMs;
      m.b_us = r.uniform_int(1, std::max<TimeUs>(1, m.a_us / kMs / 2)) * kMs;
    }
    return m;
  }

  void choose_network() {
    Prng& r = cluster_rng_;
    // The base latency stays well under the election timeout, so that the
    // healed cluster can elect a leader; spikes come from net_change faults.
    base_latency_ = draw_latency(std::min<TimeUs>(12 * kMs, timeouts_->min_us / 8));
    network_["latency"] = latency_doc(base_latency_);
    if (coin(r, profile_ == &kProfiles[0] ? 0.3 : 0.5))
      network_["drop"] = draw_pct(r, 0, profile_->max_drop_pct);
    if (coin(r, 0.3)) network_["duplicate"] = draw_pct(r, 0, profile_->max_duplicate_pct);
    if (coin(r, 0.45)) {
      // Raft needs broadcast time << election timeout, and a vote waits for
      // two durable writes (the candidate's and the voter's): past an eighth
      // of the minimum timeout, elections livelock by design, not by bug.
      const TimeUs profile_max_ms = profile_ == &kProfiles[4] ? 50 : 20;
      const TimeUs max_ms =
          std::max<TimeUs>(1, std::min(profile_max_ms, timeouts_->min_us / 8 / kMs));
      disk_latency_us_ = r.uniform_int(1, max_ms) * kMs;
    }
  }

  // Key-value clients: half the seeds read, with keys and cas, in a random
  // read mode. A planted read bug gets reads in the mode it breaks and the
  // faults that expose it: a leader cut off while clients still reach it
  // (isolation, partitions, pauses; check_quorum off, so it stays leader),
  // clocks that drift (lease), crashes that leave a new leader with a stale
  // commit index and a follower that refuses its first AppendEntries.
  void choose_reads() {
    Prng& r = read_rng_;
    const auto bug = [&](const char* name) {
      return std::find(limits_.bugs.begin(), limits_.bugs.end(), name) != limits_.bugs.end();
    };
    if (bug("lease_ignores_drift")) {
      read_mode_ = "lease";
      for (Family f : {kDrift, kIsolate, kPause}) enabled_[f] = true;
    } else if (bug("read_index_without_heartbeat")) {
      read_mode_ = "read_index";
      for (Family f : {kIsolate, kSplit, kPause}) enabled_[f] = true;
      no_check_quorum_ = true;
    } else if (bug("read_before_noop_commit")) {
      read_mode_ = "read_index";
      for (Family f : {kCrash, kPause, kIsolate}) enabled_[f] = true;
    } else if (coin(r, 0.5)) {
      static const char* const kModes[] = {"read_index", "lease", "stale"};
      read_mode_ = kModes[weighted(r, {2, 2, 1})];
    }
    // A lease is safe only while clocks drift within the bound; the drift
    // family runs clocks at 0.5x..2x (0.2x..4x when brutal): a bound d
    // shortens the lease by (1 - d) / (1 + d), 1/4 and 1/21 for these.
    if (read_mode_ == "lease") {
      raft_["clock_drift_bound"] = profile_ == &kProfiles[4] ? 0.91 : 0.6;
    }
  }

  void choose_workload() {
    Prng& r = write_rng_;
    if (!coin(r, 0.8) && read_mode_.empty()) return;
    if (!read_mode_.empty()) {
      Prng& kv = read_rng_;
      workload_["keys"] = kv.uniform_int(1, 5);
      workload_["read_ratio"] = draw_pct(kv, 20, 70);
      workload_["cas_ratio"] = draw_pct(kv, 0, 30);
      workload_["read_mode"] = read_mode_;
      if (no_check_quorum_) raft_["check_quorum"] = false;
    }
    int64_t max_rate = profile_ == &kProfiles[4] ? 200 : 100;
    // A quarter of what the pipeline carries, so that a member that missed
    // the fault phase can still catch up within the liveness bound.
    max_rate = std::min(max_rate, std::max<int64_t>(5, pipeline_entries_per_s() / 4));
    workload_["rate"] = r.uniform_int(5, max_rate);
    workload_["start"] = time_text(draw_ms(r, 0, 500 * kMs));
    workload_["stop"] = time_text(draw_ms(r, heal_us_ / 2, heal_us_));
    if (coin(r, 0.2)) workload_["size"] = r.uniform_int(200, 1000);
  }

  // The base latency's usual range: [lo, hi] covers nearly every message.
  std::pair<TimeUs, TimeUs> latency_range() const {
    const LatencyModel& m = base_latency_;
    switch (m.kind) {
      case LatencyModel::Kind::constant: return {m.a_us, m.a_us};
      case LatencyModel::Kind::uniform: return {m.a_us, m.b_us};
      case LatencyModel::Kind::normal:
        return {std::max<TimeUs>(0, m.a_us - 2 * m.b_us), m.a_us + 2 * m.b_us};
    }
    return {m.a_us, m.a_us};
  }

  // A slow round trip of AppendEntries: there, a durable write, and back.
  TimeUs round_trip_us() const { return 2 * latency_range().second + disk_latency_us_; }

  // Entries per second that one follower's pipeline carries at worst.
  int64_t pipeline_entries_per_s() const {
    const int64_t window =
        raft_.value("max_inflight", 64) * raft_.value("max_entries_per_message", 64);
    return window * kSecond / std::max<TimeUs>(1, round_trip_us());
  }

  // Reads at a leader cut off from its voters while clients still reach it
  // (thesis §6.4): a voter campaigns, a lease reader's clock then runs slow
  // (within the drift bound), it is isolated, and clients read from it over
  // the next election timeouts while the others elect a leader and commit.
  // The read modes must refuse or wait; stale reads are expected.
  void add_cut_off_leader_reads() {
    Prng& r = read_rng_;
    if (read_mode_.empty() || read_mode_ == "stale" || voters_.size() < 3 ||
        !coin(r, limits_.bugs.empty() ? 0.3 : 0.8)) {
      return;
    }
    const TimeUs start = draw_ms(r, 500 * kMs, std::max<TimeUs>(500 * kMs, heal_us_ / 2));
    const TimeUs cut = start + draw_ms(r, 300 * kMs, 800 * kMs);
    if (cut + 2 * timeouts_->max_us >= heal_us_) return;
    const NodeId n = pick(r, voters_);
    at(start, {{"action", "campaign"}, {"node", n}});
    if (read_mode_ == "lease") {
      at(start, {{"action", "clock_drift"}, {"node", n}, {"rate", draw_pct(r, 40, 90)}});
    }
    at(cut, {{"action", "isolate"}, {"node", n}});
    for (int k = 1; k <= 4; ++k) {
      const TimeUs t = cut + timeouts_->min_us * k / 2 + draw_ms(r, 0, 20 * kMs);
      at(t, {{"action", "read"},
             {"node", n},
             {"key", r.uniform_int(0, workload_.value("keys", 1) - 1)},
             {"count", 2},
             {"mode", read_mode_}});
    }
    at(cut + 2 * timeouts_->max_us, {{"action", "heal"}});
  }

  NodeId any_node() { return pick(fault_rng_, all_); }
  NodeId any_voter() { return pick(fault_rng_, voters_); }

  void at(TimeUs t, json action) {
    json a;
    a["at"] = time_text(t);
    for (auto it = action.begin(); it != action.end(); ++it) a[it.key()] = it.value();
    timeline_.push_back({t, std::move(a)});
  }

  // A recovery at t + d, where d is drawn; false when it would fall at or
  // after the heal (which recovers everything anyway) or `probability` says no.
  std::optional<TimeUs> recovery(TimeUs t, double probability) {
    const TimeUs d = draw_ms(fault_rng_, 100 * kMs, 4 * kSecond);
    if (!coin(fault_rng_, probability) || t + d >= heal_us_) return std::nullopt;
    return t + d;
  }

  void add_fault() {
    Prng& r = fault_rng_;
    std::vector<int> weights;
    for (int f = 0; f < kFamilies; ++f) weights.push_back(enabled_[f] ? kFamilyWeights[f] : 0);
    const Family family = static_cast<Family>(weighted(r, weights));
    const TimeUs t = draw_ms(r, 300 * kMs, heal_us_ - 200 * kMs);
    switch (family) {
      case kSplit: {
        const int groups = coin(r, 0.75) ? 2 : 3;
        std::vector<std::vector<NodeId>> g(groups);
        for (NodeId id : all_) {
          if (coin(r, 0.1)) continue;  // in no group: cut off from all
          g[static_cast<size_t>(r.uniform_int(0, groups - 1))].push_back(id);
        }
        json list = json::array();
        for (auto& members : g) {
          if (!members.empty()) list.push_back(members);
        }
        at(t, {{"action", "partition"}, {"groups", list}});
        if (auto end = recovery(t, 0.8)) at(*end, {{"action", "heal"}});
        break;
      }
      case kIsolate: {
        at(t, {{"action", "isolate"}, {"node", any_node()}});
        if (auto end = recovery(t, 0.8)) at(*end, {{"action", "heal"}});
        break;
      }
      case kOneWay: {
        const int cuts = static_cast<int>(r.uniform_int(1, 3));
        for (int i = 0; i < cuts; ++i) {
          const NodeId from = any_node();
          NodeId to = any_node();
          if (to == from)
            to = all_[(std::find(all_.begin(), all_.end(), from) - all_.begin() + 1) % all_.size()];
          at(t, {{"action", "cut"}, {"from", from}, {"to", to}, {"both", false}});
        }
        if (auto end = recovery(t, 0.8)) at(*end, {{"action", "heal"}});
        break;
      }
      case kBridge: {
        // Two sides that cannot talk to each other, and one node that both
        // sides reach: the bridge. Partitions cannot express a node in two
        // groups, so the cuts are listed one by one.
        if (all_.size() < 3) break;
        const NodeId bridge = any_node();
        std::vector<NodeId> a, b;
        for (NodeId id : all_) {
          if (id != bridge) (coin(r, 0.5) ? a : b).push_back(id);
        }
        if (a.empty()) {
          a.push_back(b.back());
          b.pop_back();
        } else if (b.empty()) {
          b.push_back(a.back());
          a.pop_back();
        }
        for (NodeId x : a) {
          for (NodeId y : b) at(t, {{"action", "cut"}, {"from", x}, {"to", y}});
        }
        if (auto end = recovery(t, 0.8)) at(*end, {{"action", "heal"}});
        break;
      }
      case kCrash: {
        const NodeId n = any_node();
        at(t, {{"action", "crash"}, {"node", n}});
        if (auto end = recovery(t, 0.85)) at(*end, {{"action", "restart"}, {"node", n}});
        break;
      }
      case kClusterCrash: {
        for (NodeId n : all_) at(t, {{"action", "crash"}, {"node", n}});
        const TimeUs back = t + draw_ms(r, 50 * kMs, 2 * kSecond);
        for (NodeId n : all_) {
          const TimeUs when = back + draw_ms(r, 0, 300 * kMs);
          if (when < heal_us_) at(when, {{"action", "restart"}, {"node", n}});
        }
        break;
      }
      case kPause: {
        const NodeId n = any_node();
        at(t, {{"action", "pause"}, {"node", n}});
        if (auto end = recovery(t, 0.9)) at(*end, {{"action", "resume"}, {"node", n}});
        break;
      }
      case kDrift: {
        const NodeId n = any_node();
        const bool wild = profile_ == &kProfiles[4];
        at(t, {{"action", "clock_drift"},
               {"node", n},
               {"rate", draw_pct(r, wild ? 20 : 50, wild ? 400 : 200)}});
        if (auto end = recovery(t, 0.5))
          at(*end, {{"action", "clock_drift"}, {"node", n}, {"rate", 1.0}});
        break;
      }
      case kNetChange: {
        json change = {{"action", "set_network"}};
        json restore = {{"action", "set_network"}};
        const size_t what = weighted(r, {3, 2, 3});
        if (what == 0) {
          change["drop"] = draw_pct(r, 5, 30 + profile_->max_drop_pct);
          restore["drop"] = network_.value("drop", 0.0);
        } else if (what == 1) {
          change["duplicate"] = draw_pct(r, 5, 30);
          restore["duplicate"] = network_.value("duplicate", 0.0);
        } else {
          change["latency"] = latency_doc(draw_latency(timeouts_->min_us));
          restore["latency"] = network_["latency"];
        }
        if (coin(r, 0.4)) {
          const NodeId a = any_node();
          NodeId b = any_node();
          if (a == b)
            b = all_[(std::find(all_.begin(), all_.end(), a) - all_.begin() + 1) % all_.size()];
          change["between"] = restore["between"] = {a, b};
        }
        at(t, change);
        if (auto end = recovery(t, 0.7)) at(*end, restore);
        break;
      }
      case kMembership: add_membership_change(t); break;
      case kSnapshot: at(t, {{"action", "snapshot"}, {"node", any_node()}}); break;
      case kTransfer: at(t, {{"action", "transfer_leadership"}, {"to", any_voter()}}); break;
      case kCampaign: at(t, {{"action", "campaign"}, {"node", any_node()}}); break;
      case kBurst: {
        json w = {{"action", "write"}, {"count", write_rng_.uniform_int(1, 30)}};
        if (coin(write_rng_, 0.3)) w["node"] = pick(write_rng_, all_);
        at(t, w);
        break;
      }
      case kChurn:
      case kFamilies: break;
    }
  }

  // Leader churn, aimed at the situation of Figure 8 of the Raft paper
  // (§5.4.2) and at whatever else breaks when leadership moves back and forth
  // while writes are in flight and nodes crash with unpersisted state.
  // Cycles, back to back over the fault phase, each with a fresh cast: a
  // leader-to-be A with a largest minority X, a rival M with the rest Y, and
  // y in Y:
  //  1. leadership is handed to A (transfer_leadership);
  //  2. A is cut off with X and given writes: entries of A's term that only
  //     X holds;
  //  3. M campaigns on the majority side; just after it wins, y crashes
  //     before M's no-op is durable there, then A crashes too, and both come
  //     back on A's side: M holds entries of a newer term that most lack;
  //  4. A campaigns with X and y and brings y up to date, entries of its old
  //     term first, its own no-op last; narrow pipelines (choose_raft) make
  //     that take many round trips;
  //  5. meanwhile the cut of step 2 returns and M campaigns again, for y's
  //     vote. A correct A commits none of its old entries by counting y's
  //     copies, so M may win; an A that did (commit_prior_term) has lost
  //     committed entries.
  // Each delay is drawn around the time the step before it takes, estimated
  // from the latency, disk and election settings: many cycles hit their
  // narrow windows, and the misses exercise the neighbourhood (elections
  // racing, split votes, stale terms, voters that crashed mid-election).
  void add_churn() {
    Prng& r = fault_rng_;
    const size_t n = voters_.size();
    if (n < 3) return;
    const auto [lat_lo, lat_hi] = latency_range();
    const TimeUs disk = disk_latency_us_;
    const TimeUs et_min = timeouts_->min_us, et_max = timeouts_->max_us;
    const bool pre_vote = raft_["pre_vote"].get<bool>();
    const TimeUs lat = (lat_lo + lat_hi) / 2;
    // A pre-vote round adds a round trip, without a durable write.
    const TimeUs pre = pre_vote ? 2 * lat : 0;
    const TimeUs pre_lo = pre_vote ? 2 * lat_lo : 0, pre_hi = pre_vote ? 2 * lat_hi : 0;
    // A campaign's win: the candidate's durable vote, a request, the
    // voter's durable vote, the answer.
    const TimeUs win_lo = 2 * disk + 2 * lat_lo + pre_lo, win_hi = 2 * disk + 2 * lat_hi + pre_hi;
    const int64_t window =
        raft_.value("max_inflight", 64) * raft_.value("max_entries_per_message", 64);
    const TimeUs rtt_lo = 2 * lat_lo + disk, rtt_hi = round_trip_us();
    std::vector<NodeId> others;  // learners and spares: on either side
    for (NodeId id : all_) {
      if (std::find(voters_.begin(), voters_.end(), id) == voters_.end()) others.push_back(id);
    }
    for (TimeUs t = draw_ms(r, 300 * kMs, 2 * et_max);;) {
      std::vector<NodeId> cast = voters_;
      for (size_t i = cast.size() - 1; i > 0; --i)
        std::swap(cast[i], cast[static_cast<size_t>(r.uniform_int(0, static_cast<int64_t>(i)))]);
      // A and X are a largest minority, M and Y the rest (with an even
      // number of voters, not a majority: the cycle is plain churn then).
      const NodeId a = cast[0], m = cast[1];
      const auto minority = static_cast<std::ptrdiff_t>((n - 1) / 2);
      std::vector<NodeId> side_a = {a}, side_m = {m};
      side_a.insert(side_a.end(), cast.begin() + 2, cast.begin() + 1 + minority);
      side_m.insert(side_m.end(), cast.begin() + 1 + minority, cast.end());
      const NodeId y =
          side_m[static_cast<size_t>(r.uniform_int(1, static_cast<int64_t>(side_m.size()) - 1))];
      for (NodeId id : others) (coin(r, 0.5) ? side_a : side_m).push_back(id);
      std::vector<NodeId> side_a_y = side_a, side_m_y;
      side_a_y.push_back(y);
      for (NodeId id : side_m) {
        if (id != y) side_m_y.push_back(id);
      }
      auto partition = [](const std::vector<NodeId>& g1, const std::vector<NodeId>& g2) {
        return json{{"action", "partition"}, {"groups", {g1, g2}}};
      };
      const int64_t writes = r.uniform_int(10, 40);
      // 1-2: A leads; one write reaches everyone just before the cut, so
      // that all hear from A last at about the same time; then A holds
      // writes that only X gets.
      const TimeUs t_sync = t + draw_ms(r, et_min / 2, et_max);
      const TimeUs t1 = t_sync + 3 * lat_hi + kMs;  // the client's hop, A's append
      const TimeUs t_write = t1 + draw_ms(r, 0, 10 * kMs);
      // 3: M campaigns as soon as its side may vote: a voter ignores vote
      // requests for a minimum election timeout after it last heard from a
      // leader (thesis §4.2.3), and soon after, the others' timers fire.
      const TimeUs t2 = t1 + et_min + draw_ms(r, kMs, 5 * kMs);
      // y crashes after sending its vote and before M's no-op is durable.
      const TimeUs t_crash =
          t2 + draw_ms(r, 2 * disk + 3 * lat / 2 + 5 * pre / 4, 3 * disk + 3 * lat + 5 * pre / 4);
      // Once y's vote has reached M, A crashes too, which ends its lease
      // over X; both return before their election timers can fire.
      const TimeUs t_cut = t_crash + lat_hi + draw_ms(r, kMs, 5 * kMs);
      const TimeUs t_back = t_cut + draw_ms(r, kMs, et_min / 2);
      // 4: A campaigns once X may vote, and again: its first campaign, in a
      // term below y's, only tells it y's term.
      const TimeUs t4 = t_cut + et_min + draw_ms(r, kMs, 5 * kMs);
      const TimeUs t4_again = t4 + disk + 2 * lat_hi + pre_hi + draw_ms(r, kMs, 5 * kMs);
      // 5: the cut of step 2 returns while y catches up (a probe, then the
      // batches), and M campaigns once y may vote, twice for the same reason.
      const TimeUs catch_up = (writes + window - 1) / window * rtt_hi;
      const TimeUs t5 = t4_again + draw_ms(r, win_lo + 2 * rtt_lo, win_hi + 2 * rtt_hi + catch_up);
      const TimeUs t_rival = t5 + et_min + draw_ms(r, kMs, 5 * kMs);
      const TimeUs t_rival_again = t_rival + disk + 2 * lat_hi + pre_hi + draw_ms(r, kMs, 5 * kMs);
      const TimeUs t_heal = t_rival_again + draw_ms(r, 2 * et_max, 3 * et_max);
      if (t_heal + 200 * kMs >= heal_us_) break;
      at(t, {{"action", "transfer_leadership"}, {"to", a}});
      at(t_sync, {{"action", "write"}, {"count", 1}, {"node", a}});
      at(t1, partition(side_a, side_m));
      at(t_write, {{"action", "write"}, {"count", writes}, {"node", a}});
      at(t2, {{"action", "campaign"}, {"node", m}});
      at(t_crash, {{"action", "crash"}, {"node", y}});
      at(t_cut, partition(side_a_y, side_m_y));
      at(t_cut, {{"action", "crash"}, {"node", a}});
      at(t_back, {{"action", "restart"}, {"node", y}});
      at(t_back, {{"action", "restart"}, {"node", a}});
      at(t4, {{"action", "campaign"}, {"node", a}});
      at(t4_again, {{"action", "campaign"}, {"node", a}});
      at(t5, partition(side_a, side_m));
      at(t_rival, {{"action", "campaign"}, {"node", m}});
      at(t_rival_again, {{"action", "campaign"}, {"node", m}});
      at(t_heal, {{"action", "heal"}});
      t = t_heal + draw_ms(r, et_max / 2, 2 * et_max);
    }
  }

  // A lone voter: a cluster that starts with a single voter (the others are
  // spares, which membership changes may add) commits on its own durable
  // write alone, so a crash right after a write shows whether it counted
  // itself before that write was durable. Drawn from a stream of its own, so
  // that other seeds keep their scenarios.
  void choose_lone_voter() {
    if (enabled_[kChurn] || voters_.size() < 2 || !coin(lone_rng_, 0.05)) return;
    lone_ = true;
    spares_.insert(spares_.begin(), voters_.begin() + 1, voters_.end());
    voters_.resize(1);
    initial_voters_ = voters_;
    initial_spares_ = spares_;
  }

  // Crashes of the lone voter just after write bursts reach it, before
  // they can be durable.
  void add_lone_crashes() {
    if (!lone_) return;
    Prng& r = lone_rng_;
    const NodeId v = initial_voters_[0];
    const auto [lat_lo, lat_hi] = latency_range();
    const int64_t crashes = r.uniform_int(1, 4);
    for (int64_t i = 0; i < crashes; ++i) {
      const TimeUs t = draw_ms(r, 300 * kMs, heal_us_ - 800 * kMs);
      // The client's hop and the append, then less than a disk write.
      const TimeUs slack = std::max<TimeUs>(0, disk_latency_us_ - (lat_hi - lat_lo) - kMs);
      const TimeUs t_crash = t + lat_hi + draw_ms(r, 0, slack);
      at(t, {{"action", "write"}, {"count", r.uniform_int(1, 10)}, {"node", v}});
      at(t_crash, {{"action", "crash"}, {"node", v}});
      at(t_crash + draw_ms(r, 10 * kMs, 500 * kMs), {{"action", "restart"}, {"node", v}});
    }
  }

  // Stale acknowledgements: a follower F frozen (paused) while an append of
  // leader A's term is waiting for it answers it only after A has lost its
  // unpersisted entries in a crash, a rival M has led a term, and A leads
  // again with different entries at those indexes; M is cut off meanwhile,
  // so only F's stale answer could make up A's majority. Three voters only.
  // Drawn from a stream of its own and added after every other fault, so
  // that seeds without these cycles keep their scenarios.
  void add_stale_acks() {
    Prng r = Prng::stream(seed_, "fuzz/stale");
    if (initial_voters_.size() != 3 || enabled_[kChurn] || !coin(r, 0.5)) return;
    const auto [lat_lo, lat_hi] = latency_range();
    const TimeUs disk = disk_latency_us_;
    // A must crash after appending the writes and before they are durable.
    if (disk < lat_hi - lat_lo + 2 * kMs) return;
    const TimeUs et_max = timeouts_->max_us;
    const TimeUs pre = raft_["pre_vote"].get<bool>() ? 2 * lat_hi : 0;
    const TimeUs win = 2 * disk + 2 * lat_hi + pre;  // a campaign's win, at worst
    const TimeUs rtt = round_trip_us();
    auto partition = [](std::vector<std::vector<NodeId>> groups) {
      return json{{"action", "partition"}, {"groups", groups}};
    };
    for (TimeUs t = draw_ms(r, 300 * kMs, 2 * et_max);;) {
      std::vector<NodeId> cast = initial_voters_;
      for (size_t i = cast.size() - 1; i > 0; --i)
        std::swap(cast[i], cast[static_cast<size_t>(r.uniform_int(0, static_cast<int64_t>(i)))]);
      const NodeId a = cast[0], f = cast[1], m = cast[2];
      const int64_t writes = r.uniform_int(3, 20);
      const TimeUs t1 = t + et_max;  // A leads by then
      const TimeUs t_write = t1 + kMs;
      // The client's hop and A's append, then less than a disk write.
      const TimeUs t_crash = t_write + lat_hi + draw_ms(r, kMs, disk - (lat_hi - lat_lo) - kMs);
      const TimeUs t_back = t_crash + lat_hi + kMs;  // A's append has reached F
      const TimeUs t_m = t_back + kMs;
      const TimeUs t_transfer = t_m + win + 2 * rtt + draw_ms(r, kMs, 10 * kMs);
      const TimeUs t_alone = t_transfer + win + 2 * rtt + draw_ms(r, kMs, 10 * kMs);
      const TimeUs t_write2 = t_alone + kMs;
      const TimeUs t_resume = t_write2 + 2 * lat_hi + draw_ms(r, kMs, 5 * kMs);
      const TimeUs t_heal = t_resume + disk + 2 * lat_hi + draw_ms(r, kMs, 10 * kMs);
      if (t_heal + 200 * kMs >= heal_us_) break;
      at(t, {{"action", "transfer_leadership"}, {"to", a}});
      at(t1, {{"action", "pause"}, {"node", f}});
      at(t1, partition({{a, f}, {m}}));
      at(t_write, {{"action", "write"}, {"count", writes}, {"node", a}});
      at(t_crash, {{"action", "crash"}, {"node", a}});
      at(t_back, partition({{a, m}, {f}}));
      at(t_back, {{"action", "restart"}, {"node", a}});
      at(t_m, {{"action", "campaign"}, {"node", m}});
      at(t_transfer, {{"action", "transfer_leadership"}, {"to", a}});
      at(t_alone, partition({{a}, {m}, {f}}));
      at(t_write2, {{"action", "write"}, {"count", writes + r.uniform_int(1, 5)}, {"node", a}});
      at(t_resume, partition({{a, f}, {m}}));
      at(t_resume, {{"action", "resume"}, {"node", f}});
      at(t_heal, {{"action", "heal"}});
      ++stale_cycles_;
      t = t_heal + draw_ms(r, et_max / 2, 2 * et_max);
    }
  }

  // Crashed voters: a candidate C's RequestVote reaches a voter V, which
  // grants it and crashes within the disk write that makes its vote durable;
  // V restarts cut off from C, and a second candidate D, which never heard
  // of C's term, campaigns in that same term (Figure 2: votedFor persists,
  // "before responding to RPCs"). A grant that left before it was durable
  // elects two leaders in one term. C and V, then V and D, are kept apart
  // from every leader for a minimum election timeout first, so that the
  // §4.2.3 lease does not make V ignore them. At least three voters, no
  // churn; drawn from a stream of its own and added after every other fault,
  // so that seeds without these cycles keep their scenarios.
  void add_vote_crashes() {
    Prng r = Prng::stream(seed_, "fuzz/vote_crash");
    if (initial_voters_.size() < 3 || enabled_[kChurn] || !coin(r, 0.25)) return;
    const auto [lat_lo, lat_hi] = latency_range();
    const TimeUs disk = disk_latency_us_;
    // V must crash after C's request arrives and before its vote is durable.
    if (disk < lat_hi - lat_lo + 2 * kMs) return;
    const TimeUs et_min = timeouts_->min_us, et_max = timeouts_->max_us;
    const TimeUs pre = raft_["pre_vote"].get<bool>() ? 2 * lat_hi : 0;
    for (TimeUs t = draw_ms(r, 300 * kMs, 2 * et_max);;) {
      std::vector<NodeId> cast = initial_voters_;
      for (size_t i = cast.size() - 1; i > 0; --i)
        std::swap(cast[i], cast[static_cast<size_t>(r.uniform_int(0, static_cast<int64_t>(i)))]);
      const NodeId c = cast[0], v = cast[1], d = cast[2];
      const std::vector<NodeId> rest(cast.begin() + 3, cast.end());
      auto groups = [&](std::vector<NodeId> a, std::vector<NodeId> b, std::vector<NodeId> x) {
        std::vector<std::vector<NodeId>> g = {std::move(a), std::move(b), std::move(x)};
        if (!rest.empty()) g.push_back(rest);
        return json{{"action", "partition"}, {"groups", g}};
      };
      const TimeUs t_campaign = t + et_min + draw_ms(r, kMs, 5 * kMs);
      // C's RequestVote arrives within [lat_lo, lat_hi] (after a pre-vote
      // round); V's vote is durable a disk write later.
      const TimeUs t_vote = t_campaign + pre + lat_hi;
      const TimeUs t_crash = t_vote + draw_ms(r, 0, disk - (lat_hi - lat_lo) - kMs);
      const TimeUs t_restart = t_crash + draw_ms(r, kMs, 5 * kMs);
      const TimeUs t_second = t_restart + kMs;
      const TimeUs t_heal = t_second + pre + 2 * lat_hi + 2 * disk + draw_ms(r, 10 * kMs, et_min);
      if (t_heal + 200 * kMs >= heal_us_) break;
      at(t, groups({c, v}, {d}, {}));
      at(t_campaign, {{"action", "campaign"}, {"node", c}});
      at(t_crash, {{"action", "crash"}, {"node", v}});
      at(t_crash, groups({c}, {v, d}, {}));
      at(t_restart, {{"action", "restart"}, {"node", v}});
      at(t_second, {{"action", "campaign"}, {"node", d}});
      at(t_heal, {{"action", "heal"}});
      ++vote_crash_cycles_;
      t = t_heal + draw_ms(r, et_max / 2, 2 * et_max);
    }
  }

  // The generator's guess at the membership: changes may be refused or
  // superseded at run time, which is part of what is being tested.
  void add_membership_change(TimeUs t) {
    Prng& r = fault_rng_;
    std::vector<NodeId> outside = spares_;  // spares and removed nodes
    outside.insert(outside.end(), removed_.begin(), removed_.end());
    std::vector<NodeId> learners = learners_;
    const size_t op = weighted(r, {outside.empty() ? 0 : 5, learners.empty() ? 0 : 3, 2,
                                   voters_.size() + learners.size() > 2 ? 2 : 0});
    switch (op) {
      case 0: {
        const NodeId n = pick(r, outside);
        json a = {{"action", "add_learner"}, {"node", n}};
        if (coin(r, 0.5)) a["promote"] = coin(r, 0.7);
        at(t, a);
        spares_.erase(std::remove(spares_.begin(), spares_.end(), n), spares_.end());
        removed_.erase(std::remove(removed_.begin(), removed_.end(), n), removed_.end());
        learners_.push_back(n);
        break;
      }
      case 1: {
        const NodeId n = pick(r, learners);
        at(t, {{"action", "promote"}, {"node", n}});
        learners_.erase(std::remove(learners_.begin(), learners_.end(), n), learners_.end());
        voters_.push_back(n);
        break;
      }
      case 2: {
        const NodeId n = any_voter();
        at(t, {{"action", "demote"}, {"node", n}});
        if (voters_.size() > 1) {
          voters_.erase(std::remove(voters_.begin(), voters_.end(), n), voters_.end());
          learners_.push_back(n);
        }
        break;
      }
      default: {
        std::vector<NodeId> members = voters_;
        members.insert(members.end(), learners_.begin(), learners_.end());
        const NodeId n = pick(r, members);
        at(t, {{"action", "remove"}, {"node", n}});
        remove_targets_.insert(n);
        const bool voter = std::find(voters_.begin(), voters_.end(), n) != voters_.end();
        if (!voter || voters_.size() > 2) {
          voters_.erase(std::remove(voters_.begin(), voters_.end(), n), voters_.end());
          learners_.erase(std::remove(learners_.begin(), learners_.end(), n), learners_.end());
          removed_.push_back(n);
        }
        break;
      }
    }
  }

  // Second phase: every fault is undone at once, in this order, and nothing
  // new goes wrong; a few writes must then commit everywhere.
  void add_heal_phase() {
    const TimeUs h = heal_us_;
    at(h, {{"action", "heal"}});
    at(h, {{"action", "set_network"},
           {"latency", network_["latency"]},
           {"drop", 0},
           {"duplicate", 0}});
    for (NodeId n : all_) at(h, {{"action", "resume"}, {"node", n}});
    for (NodeId n : all_) at(h, {{"action", "restart"}, {"node", n}});
    for (NodeId n : all_) at(h, {{"action", "clock_drift"}, {"node", n}, {"rate", 1.0}});
    at(h, {{"action", "write"}, {"count", write_rng_.uniform_int(3, 10)}});
    // A removed node that missed its removal (it was down or cut off when
    // the change committed) still believes it is a member and campaigns
    // alone forever; nothing in Raft tells it otherwise. Adding every node a
    // `remove` named back, once a leader has had time to emerge and again in
    // case that leader was lost, makes each of them a member that must
    // converge (for nodes that are still members, add_learner is a no-op).
    for (int k : {3, 6}) {
      for (NodeId n : remove_targets_)
        at(h + k * timeouts_->max_us, {{"action", "add_learner"}, {"node", n}});
    }
  }

  json document() {
    std::string families;
    for (int f = 0; f < kFamilies; ++f) {
      if (enabled_[f]) families += std::string(families.empty() ? "" : ", ") + kFamilyNames[f];
    }
    json doc;
    doc["name"] = "fuzz seed " + std::to_string(seed_);
    doc["description"] =
        "Generated by raftsim fuzz: profile " + std::string(profile_->name) + " (" + families +
        "), " + std::to_string(fault_count_) + " faults until " + time_text(heal_us_) +
        (stale_cycles_ ? ", " + std::to_string(stale_cycles_) + " stale-ack cycles"
                       : std::string()) +
        (vote_crash_cycles_ ? ", " + std::to_string(vote_crash_cycles_) + " vote-crash cycles"
                            : std::string()) +
        "; then everything heals and, " + std::to_string(kLivenessBoundTimeouts) +
        " election timeouts later, exactly one leader must lead and every write "
        "must be everywhere.";
    doc["seed"] = seed_;
    const TimeUs check_us = heal_us_ + bound_us_;
    doc["duration"] = time_text(check_us);
    doc["max_events"] = limits_.max_events;
    json cluster = {{"voters", initial_voters_}};
    if (!initial_learners_.empty()) cluster["learners"] = initial_learners_;
    if (!initial_spares_.empty()) cluster["spares"] = initial_spares_;
    doc["cluster"] = cluster;
    doc["raft"] = raft_;
    doc["network"] = network_;
    if (disk_latency_us_) doc["disk"] = {{"write_latency", time_text(disk_latency_us_)}};
    if (!workload_.empty()) doc["workload"] = workload_;
    std::stable_sort(timeline_.begin(), timeline_.end(),
                     [](const Timed& a, const Timed& b) { return a.at < b.at; });
    json timeline = json::array();
    for (Timed& t : timeline_) timeline.push_back(std::move(t.action));
    doc["timeline"] = timeline;
    doc["expect"] = json::array({{{"at", time_text(check_us)}, {"check", "leaders"}, {"count", 1}},
                                 {{"at", time_text(check_us)}, {"check", "converged"}}});
    return doc;
  }

  uint64_t seed_;
  FuzzLimits limits_;
  Prng profile_rng_, cluster_rng_, fault_rng_, write_rng_, lone_rng_, read_rng_;
  std::string read_mode_;  // empty: no reads
  bool no_check_quorum_ = false;
  bool lone_ = false;
  const Profile* profile_ = nullptr;
  const Timeouts* timeouts_ = nullptr;
  bool enabled_[kFamilies] = {};
  TimeUs heal_us_ = 0, bound_us_ = 0;
  int fault_count_ = 0;
  int stale_cycles_ = 0;
  int vote_crash_cycles_ = 0;
  std::vector<NodeId> voters_, learners_, spares_, removed_, all_;
  std::set<NodeId> remove_targets_;
  std::vector<NodeId> initial_voters_, initial_learners_, initial_spares_;
  json raft_ = json::object(), network_ = json::object(), workload_ = json::object();
  LatencyModel base_latency_;
  TimeUs disk_latency_us_ = 0;
  std::vector<Timed> timeline_;
};

// ---------------------------------------------------------------------------
// Running a campaign

using Clock = std::chrono::steady_clock;

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

// The first failing check's line, if any.
const CheckOutcome* first_failed_check(const RunResult& r) {
  for (const CheckOutcome& c : r.checks) {
    if (!c.ok) return &c;
  }
  return nullptr;
}

// "FAIL at 12s leaders count 1: 2 leaders" -> ("leaders count 1", "2 leaders").
std::pair<std::string, std::string> split_check_line(const std::string& text) {
  std::string rest = text.rfind("FAIL ", 0) == 0 ? text.substr(5) : text;
  if (rest.rfind("at ", 0) == 0) {
    rest = rest.substr(rest.find(' ', 3) + 1);
  } else if (rest.rfind("within [", 0) == 0) {
    rest = rest.substr(rest.find("] ") + 2);
  }
  const size_t colon = rest.find(": ");
  if (colon == std::string::npos) return {rest, ""};
  return {rest.substr(0, colon), rest.substr(colon + 2)};
}

std::string ids_text(const std::vector<NodeId>& ids) {
  std::string out;
  for (NodeId id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

// Everything one seed produced that the campaign reports.
struct SeedOutcome {
  uint64_t seed = 0;
  bool pass = true;
  std::string signature;
  std::string failure;  // one line: what failed, when, where
  uint64_t events = 0;
  std::string digest;
  std::map<std::string, uint64_t> coverage;
  std::string write_error;  // the seed's files could not be written
};

// Both traces of a scenario at messages level, compared line by line.
std::string first_trace_difference(const Scenario& scenario) {
  std::ostringstream a, b;
  for (std::ostringstream* out : {&a, &b}) {
    RunOptions options;
    options.trace = out;
    options.trace_level = Trace::Level::messages;
    run_scenario(scenario, options);
  }
  std::istringstream ia(a.str()), ib(b.str());
  std::string la, lb;
  for (uint64_t line = 1;; ++line) {
    const bool ha = static_cast<bool>(std::getline(ia, la));
    const bool hb = static_cast<bool>(std::getline(ib, lb));
    if (!ha && !hb) return "traced reruns agreed";
    if (ha != hb || la != lb) {
      return "traces part at line " + std::to_string(line) + ": " + (ha ? la : "(end)") + " | " +
             (hb ? lb : "(end)");
    }
  }
}

// Writes the seed's scenario and its trace (messages level) under out_dir and
// returns the trace's first bad event kind.
std::string write_seed_files(const FuzzCommand& cmd, uint64_t seed, const std::string& text,
                             const Scenario& scenario, const RunResult& first, SeedOutcome& o) {
  std::error_code ec;
  std::filesystem::create_directories(cmd.out_dir, ec);
  const std::string base = cmd.out_dir + "/seed-" + std::to_string(seed);
  if (!write_file_atomically(base + ".json", text, &o.write_error)) return "";
  const std::string trace_path = base + ".trace.jsonl";
  {
    OutputFile trace;  // a failed write leaves no .tmp behind
    if (!trace.open(trace_path)) {
      o.write_error = trace.error();
      return "";
    }
    RunOptions options;
    options.trace = &trace.stream();
    options.trace_level = Trace::Level::messages;
    const RunResult again = run_scenario(scenario, options);
    if (!trace.commit()) {
      o.write_error = trace.error();
      return "";
    }
    if (again.digest != first.digest)
      o.failure += " (the traced rerun gave digest " + again.digest + ")";
  }
  std::ifstream in(trace_path, std::ios::binary);
  return bad_event_kind(first, in);
}

// The seed each worker thread is running, for the report of a fatal signal:
// canonical/raft asserts (abort) or crashes inside the process, and the seed
// that did it must not go unnamed (docs/canonical.md).
thread_local uint64_t running_seed = UINT64_MAX;

void report_fatal_signal(int sig) {
  // Only async-signal-safe calls: write(2) and a hand-made decimal.
  char text[96];
  size_t n = 0;
  auto put = [&](const char* s) {
    while (*s && n < sizeof text) text[n++] = *s++;
  };
  put(sig == SIGABRT ? "fuzz: abort (a library assertion?) while running seed "
                     : "fuzz: fatal signal while running seed ");
  char digits[24];
  int d = 0;
  uint64_t v = running_seed;
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v && d < 24);
  while (d > 0 && n < sizeof text) text[n++] = digits[--d];
  if (n < sizeof text) text[n++] = '\n';
  if (write(STDERR_FILENO, text, n) < 0) _exit(128 + sig);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

SeedOutcome run_seed(const FuzzCommand& cmd, uint64_t seed) {
  running_seed = seed;
  SeedOutcome o;
  o.seed = seed;
  const std::string text = generate_scenario(seed, cmd.limits).dump(2) + "\n";
  const std::string file = cmd.out_dir + "/seed-" + std::to_string(seed) + ".json";
  Scenario scenario;
  try {
    scenario = parse_scenario(text, file);
  } catch (const ScenarioError& e) {
    // The generator wrote something the loader refuses: a raftsim bug, kept
    // as a failing seed so that the file can be inspected.
    o.pass = false;
    o.signature = "invalid_scenario";
    o.failure = e.what();
    std::error_code ec;
    std::filesystem::create_directories(cmd.out_dir, ec);
    write_file_atomically(file, text, &o.write_error);
    return o;
  }
  const RunResult r = run_scenario(scenario, RunOptions{});
  o.events = r.events;
  o.digest = r.digest;
  o.coverage = r.event_counts;
  if (cmd.check_determinism) {
    const RunResult again = run_scenario(scenario, RunOptions{});
    if (again.digest != r.digest || again.events != r.events) {
      o.pass = false;
      o.signature = "nondeterminism";
      o.failure = "nondeterminism: digests " + r.digest + " and " + again.digest + "; " +
                  first_trace_difference(scenario);
      std::error_code ec;
      std::filesystem::create_directories(cmd.out_dir, ec);
      write_file_atomically(file, text, &o.write_error);
      return o;
    }
  }
  if (r.pass) return o;
  o.pass = false;
  const std::string kind = failure_kind(r);
  std::string where;
  if (r.violation) {
    o.failure = "invariant " + r.violation->invariant + " at " + format_time(r.failure_time_us) +
                ", nodes " + ids_text(r.violation->nodes) + ": " + r.violation->detail;
  } else if (const CheckOutcome* c = first_failed_check(r)) {
    const auto [what, seen] = split_check_line(c->text);
    o.failure = "check " + what + " at " + format_time(r.failure_time_us) + ": " + seen;
  } else {
    o.failure = r.failure;
  }
  const std::string bad = write_seed_files(cmd, seed, text, scenario, r, o);
  o.signature = bad.empty() ? kind : kind + "/" + bad;
  return o;
}

struct Coverage {
  std::map<std::string, uint64_t> events, seeds;
  void add(const std::map<std::string, uint64_t>& counts) {
    for (const auto& [name, count] : counts) {
      events[name] += count;
      if (count) ++seeds[name];
    }
  }
};

// The behaviours a campaign should exercise, in the order they are listed.
const std::vector<std::string>& expected_behaviours() {
  static const std::vector<std::string> kNames = {"election_started",
                                                  "pre_vote_started",
                                                  "vote_granted",
                                                  "elected",
                                                  "role:candidate",
                                                  "role:precandidate",
                                                  "role:learner",
                                                  "step_down:higher_term",
                                                  "step_down:granted_vote",
                                                  "step_down:lost_quorum",
                                                  "step_down:removed",
                                                  "step_down:transfer",
                                                  "config_committed",
                                                  "promoted",
                                                  "demoted",
                                                  "removed",
                                                  "snapshot_taken",
                                                  "snapshot_sent",
                                                  "snapshot_installed",
                                                  "crash",
                                                  "restart",
                                                  "pause"};
  return kNames;
}

void print_coverage(std::ostream& out, const Coverage& coverage, size_t seeds) {
  out << "protocol coverage (" << seeds << " seeds):\n";
  out << "  behaviour                     events      seeds\n";
  std::vector<std::string> order = expected_behaviours();
  for (const auto& [name, count] : coverage.events) {
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  }
  std::vector<std::string> never;
  for (const std::string& name : order) {
    const auto it = coverage.events.find(name);
    const uint64_t events = it == coverage.events.end() ? 0 : it->second;
    if (events == 0) never.push_back(name);
    const auto s = coverage.seeds.find(name);
    char line[128];
    std::snprintf(line, sizeof line, "  %-26s %10llu %10llu\n", name.c_str(),
                  static_cast<unsigned long long>(events),
                  static_cast<unsigned long long>(s == coverage.seeds.end() ? 0 : s->second));
    out << line;
  }
  out << "never happened: " << (never.empty() ? std::string("(none)") : "");
  for (size_t i = 0; i < never.size(); ++i) out << (i ? ", " : "") << never[i];
  out << "\n";
}

nlohmann::ordered_json result_line(const SeedOutcome& o) {
  nlohmann::ordered_json j;
  j["seed"] = o.seed;
  j["result"] = o.pass ? "pass" : "fail";
  j["signature"] = o.signature;
  j["events"] = o.events;
  j["digest"] = o.digest;
  if (!o.pass) j["failure"] = o.failure;
  j["coverage"] = o.coverage;
  return j;
}

}  // namespace

std::string time_text(TimeUs us) {
  if (us % kSecond == 0) return std::to_string(us / kSecond) + "s";
  if (us % kMs == 0) return std::to_string(us / kMs) + "ms";
  return std::to_string(us) + "us";
}

std::string failure_kind(const RunResult& result) {
  if (result.pass) return "";
  if (result.violation) return result.violation->invariant;
  if (result.event_limit) return "event_limit";
  if (const CheckOutcome* c = first_failed_check(result)) {
    const std::string what = split_check_line(c->text).first;
    return "check:" + what.substr(0, what.find(' '));
  }
  return "error";
}

std::string bad_event_kind(const RunResult& result, std::istream& trace) {
  if (result.pass) return "";
  if (!result.violation) {
    const CheckOutcome* c = first_failed_check(result);
    if (!c) return "";
    const auto [what, seen] = split_check_line(c->text);
    if (what.rfind("leaders", 0) == 0) return seen.substr(0, seen.find(' ')) + "_leaders";
    if (what == "converged") {
      if (seen.find("unacknowledged") != std::string::npos) return "unacknowledged";
      if (seen.find("different state") != std::string::npos) return "diverged";
      return "missing_writes";
    }
    return "";
  }
  // The quorum invariant is a deadline that passed, not something an event
  // did: no event is to blame.
  if (result.violation->invariant == "quorum") return "deadline";
  // The event the violation followed: the last trace line before it (a
  // message line names its message: "send:vote_resp").
  std::string line, last;
  auto field = [](const std::string& l, const std::string& key) {
    const std::string k = "\"" + key + "\":\"";
    const size_t at = l.find(k);
    if (at == std::string::npos) return std::string();
    const size_t from = at + k.size();
    return l.substr(from, l.find('"', from) - from);
  };
  while (std::getline(trace, line)) {
    const std::string type = field(line, "type");
    if (type == "violation") return last;
    if (type == "header") continue;
    last = type == "send" || type == "deliver" || type == "drop" ? type + ":" + field(line, "msg")
                                                                 : type;
  }
  return "";
}

TimeUs min_fuzz_duration_us() {
  TimeUs best = INT64_MAX;
  for (const Timeouts& t : kTimeouts)
    best = std::min(best, liveness_bound_us(t.max_us) + kMinFaultPhase);
  return best;
}

json generate_scenario(uint64_t seed, const FuzzLimits& limits) {
  json doc = Generator(seed, limits).build();
  if (limits.implementation == Implementation::canonical) restrict_to_canonical(doc);
  return doc;
}

int fuzz_command(const FuzzCommand& cmd) {
  if (cmd.limits.implementation == Implementation::canonical) {
    std::signal(SIGABRT, report_fatal_signal);
    std::signal(SIGSEGV, report_fatal_signal);
  }
  std::vector<uint64_t> seeds;
  if (cmd.one_seed) {
    seeds.push_back(*cmd.one_seed);
  } else {
    for (uint64_t i = 0; i < cmd.seeds; ++i) {
      if (i % cmd.shard_count == cmd.shard_index) seeds.push_back(cmd.start + i);
    }
  }
  const size_t n = seeds.size();
  std::vector<SeedOutcome> outcomes(n);
  std::vector<char> done(n, 0);
  std::atomic<size_t> next{0};
  // With --stop-on-failure, the index of the first failing seed found so far
  // (n: none): no seed after it is started or reported.
  std::atomic<size_t> stop_after{n};
  std::atomic<bool> out_of_time{false};
  std::atomic<uint64_t> events_total{0};
  std::mutex mu;
  std::condition_variable cv;
  unsigned workers_left = 0;  // guarded by mu
  const auto start = Clock::now();
  auto elapsed = [&]() { return std::chrono::duration<double>(Clock::now() - start).count(); };

  // Seeds are claimed in order, so the seeds run always form a prefix of the
  // list, also when the time limit stops the campaign early.
  auto worker = [&]() {
    for (;;) {
      if (cmd.time_limit_s > 0 && elapsed() >= cmd.time_limit_s) out_of_time = true;
      if (out_of_time || interrupted()) break;  // Ctrl-C: finish the seeds running, start no more
      const size_t i = next++;
      if (i >= n || i > stop_after) break;
      SeedOutcome o = run_seed(cmd, seeds[i]);
      events_total += o.events;
      if (cmd.stop_on_failure && !o.pass) {
        size_t seen = stop_after;
        while (i < seen && !stop_after.compare_exchange_weak(seen, i)) {
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      outcomes[i] = std::move(o);
      done[i] = 1;
      cv.notify_one();
    }
    std::lock_guard<std::mutex> lock(mu);
    --workers_left;
    cv.notify_one();
  };
  const unsigned jobs = static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(cmd.jobs, n)));
  workers_left = jobs;
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < jobs; ++t) threads.emplace_back(worker);

  // Report in seed order as the finished prefix grows, so that the output is
  // the same for any --jobs.
  const bool progress = isatty(STDERR_FILENO) != 0;
  size_t printed = 0, failed = 0;
  Coverage coverage;
  std::map<std::string, std::pair<uint64_t, uint64_t>>
      groups;  // signature -> (count, smallest seed)
  std::vector<std::string> write_errors;
  auto report = [&](const SeedOutcome& o) {
    coverage.add(o.coverage);
    if (!o.write_error.empty()) write_errors.push_back(o.write_error);
    if (o.pass) return;
    ++failed;
    auto& g = groups[o.signature];
    if (g.first++ == 0 || o.seed < g.second) g.second = o.seed;
    if (progress) std::cerr << "\r\033[K";
    std::cout << "FAIL seed " << o.seed << ": " << o.failure << "\n"
              << "  signature " << o.signature << "\n"
              << "  reproduce: raftsim run " << cmd.out_dir << "/seed-" << o.seed << ".json\n"
              << "             raftsim fuzz --seed " << o.seed << cmd.generation_flags << "\n";
    std::cout.flush();
  };
  {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      while (printed < n && printed <= stop_after && done[printed]) {
        lock.unlock();
        report(outcomes[printed]);  // a finished outcome is not written again
        lock.lock();
        ++printed;
      }
      if (workers_left == 0) break;
      if (progress) {
        const double t = elapsed();
        std::cerr << "\r\033[Kfuzz: " << printed << "/" << n << " seeds, " << failed << " failed, "
                  << fixed(static_cast<double>(events_total) / std::max(t, 1e-9) / 1e6, 1)
                  << "M events/s, " << fixed(t, 1) << "s" << std::flush;
      }
      cv.wait_for(lock, std::chrono::milliseconds(200));
    }
  }
  for (std::thread& t : threads) t.join();
  const double wall_s = elapsed();
  if (progress) std::cerr << "\r\033[K" << std::flush;

  int rc = failed ? 1 : 0;
  if (!groups.empty()) {
    std::cout << "failures by signature:\n";
    for (const auto& [signature, g] : groups) {
      std::cout << "  " << signature << ": " << g.first << " seed" << (g.first == 1 ? "" : "s")
                << ", smallest " << g.second << ": raftsim run " << cmd.out_dir << "/seed-"
                << g.second << ".json\n";
    }
  }
  if (!cmd.results_path.empty()) {
    std::string lines;
    for (size_t i = 0; i < printed; ++i) lines += result_line(outcomes[i]).dump() + "\n";
    std::string error;
    if (!write_file_atomically(cmd.results_path, lines, &error)) write_errors.push_back(error);
  }
  print_coverage(std::cout, coverage, printed);
  for (const std::string& e : write_errors) {
    std::cerr << "raftsim: " << e << "\n";
    rc = 2;
  }
  if (stop_after < n && printed < n) {
    std::cout << "stopped at the first failure: " << (n - printed) << " seeds not run\n";
  } else if (out_of_time && printed < n) {
    std::cout << "time limit reached: " << (n - printed) << " seeds not run\n";
  } else if (interrupted() && printed < n) {
    std::cout << "interrupted: " << (n - printed) << " seeds not run\n";
    rc = interrupt_exit_code();
  }
  uint64_t events = 0;
  for (size_t i = 0; i < printed; ++i) events += outcomes[i].events;
  std::cout << "fuzz: " << printed << " seeds, " << failed << " failed, "
            << fixed(static_cast<double>(events) / std::max(wall_s, 1e-9) / 1e6, 1)
            << "M events/s, " << fixed(wall_s, 1) << "s\n";
  return rc;
}

}  // namespace sim
