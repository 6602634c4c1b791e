#include "sim/fuzz/fuzz_generator.h"

#include <algorithm>

#include "sim/scenario/canonical_caps.h"

namespace sim {

namespace fuzz_detail {

// ---------------------------------------------------------------------------
// Generation

bool coin(Prng& rng, double p) {
  return rng.chance(probability_threshold(p));
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

const Profile kProfiles[5] = {
    {"gentle", 15, 0.3, 2, 1},  {"mild", 20, 0.8, 5, 3},     {"moderate", 30, 1.5, 10, 5},
    {"rough", 20, 3.0, 20, 10}, {"brutal", 15, 6.0, 30, 20},
};

const char* const kFamilyNames[kFamilies] = {"split",      "isolate",       "one_way",  "bridge",
                                             "crash",      "cluster_crash", "pause",    "drift",
                                             "net_change", "membership",    "snapshot", "transfer",
                                             "campaign",   "writes",        "churn"};
// Churn is not drawn fault by fault: it lays out whole cycles (add_churn).
const int kFamilyWeights[kFamilies] = {4, 4, 2, 2, 6, 1, 3, 2, 2, 3, 2, 2, 2, 3, 0};

const Timeouts kTimeouts[3] = {
    {70, 150 * kMs, 300 * kMs}, {15, 100 * kMs, 200 * kMs}, {15, 300 * kMs, 600 * kMs}};

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

json Generator::build() {
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
  add_pre_vote_replays();
  add_snapshot_races();
  add_returning_leaders();
  add_cut_off_leader_reads();
  add_heal_phase();
  add_late_transfer();
  return document();
}

void Generator::choose_profile() {
  std::vector<int> weights;
  for (const Profile& p : kProfiles) weights.push_back(p.weight);
  profile_ = &kProfiles[weighted(profile_rng_, weights)];
  const double enable = profile_ == &kProfiles[0] ? 0.35 : 0.5;
  for (int f = 0; f < kChurn; ++f) enabled_[f] = coin(profile_rng_, enable);
  if (std::none_of(enabled_, enabled_ + kChurn, [](bool b) { return b; })) enabled_[kCrash] = true;
  enabled_[kChurn] = coin(profile_rng_, kChurnChance);
  // --nodes 1 or 2 (#17): families that need two sides of a cluster, or a
  // bridge and two others, are dropped from the swarm; the draws above stay
  // as they are, so that larger clusters keep their scenarios.
  if (limits_.nodes < 3) {
    for (Family f : {kBridge, kChurn}) enabled_[f] = false;
  }
  if (limits_.nodes < 2) {
    for (Family f : {kSplit, kIsolate, kOneWay}) enabled_[f] = false;
  }
  if (std::none_of(enabled_, enabled_ + kChurn, [](bool b) { return b; })) enabled_[kCrash] = true;
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

void Generator::choose_cluster() {
  Prng& r = cluster_rng_;
  const uint32_t max_voters = std::min<uint32_t>(7, limits_.nodes);
  const uint32_t min_voters = std::min<uint32_t>(3, max_voters);
  uint32_t voters = static_cast<uint32_t>(r.uniform_int(min_voters, max_voters));
  // Churn needs a majority side and a minority side that one node turns
  // around: an odd number of voters.
  if (enabled_[kChurn] && voters % 2 == 0) voters = voters < max_voters ? voters + 1 : voters - 1;
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

void Generator::choose_raft() {
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
  // Probes from below where fast backtracking points (Options::probe_back):
  // a follower then verifies entries it already holds while a conflicting
  // suffix it must not commit follows them. Drawn from a stream of its own.
  Prng probe = Prng::stream(seed_, "fuzz/probe_back");
  if (coin(probe, 0.3)) raft_["probe_back"] = probe.uniform_int(1, 16);
}

LatencyModel Generator::draw_latency(TimeUs cap_us) {
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

void Generator::choose_network() {
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
void Generator::choose_reads() {
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
  read_bug_ = bug("lease_ignores_drift") || bug("read_index_without_heartbeat") ||
              bug("read_before_noop_commit");
  if (read_mode_ == "lease") {
    raft_["clock_drift_bound"] = profile_ == &kProfiles[4] ? 0.91 : 0.6;
  }
}

void Generator::choose_workload() {
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
std::pair<TimeUs, TimeUs> Generator::latency_range() const {
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
TimeUs Generator::round_trip_us() const {
  return 2 * latency_range().second + disk_latency_us_;
}

// Entries per second that one follower's pipeline carries at worst.
int64_t Generator::pipeline_entries_per_s() const {
  const int64_t window =
      raft_.value("max_inflight", 64) * raft_.value("max_entries_per_message", 64);
  return window * kSecond / std::max<TimeUs>(1, round_trip_us());
}

NodeId Generator::any_node() {
  return pick(fault_rng_, all_);
}

NodeId Generator::any_voter() {
  return pick(fault_rng_, voters_);
}

void Generator::at(TimeUs t, json action) {
  json a;
  a["at"] = time_text(t);
  for (auto it = action.begin(); it != action.end(); ++it) a[it.key()] = it.value();
  timeline_.push_back({t, std::move(a)});
}

// A recovery at t + d, where d is drawn; false when it would fall at or
// after the heal (which recovers everything anyway) or `probability` says no.
std::optional<TimeUs> Generator::recovery(TimeUs t, double probability) {
  const TimeUs d = draw_ms(fault_rng_, 100 * kMs, 4 * kSecond);
  if (!coin(fault_rng_, probability) || t + d >= heal_us_) return std::nullopt;
  return t + d;
}

// A lone voter: a cluster that starts with a single voter (the others are
// spares, which membership changes may add) commits on its own durable
// write alone, so a crash right after a write shows whether it counted
// itself before that write was durable. Drawn from a stream of its own, so
// that other seeds keep their scenarios.
void Generator::choose_lone_voter() {
  if (enabled_[kChurn] || voters_.size() < 2 || !coin(lone_rng_, 0.05)) return;
  lone_ = true;
  spares_.insert(spares_.begin(), voters_.begin() + 1, voters_.end());
  voters_.resize(1);
  initial_voters_ = voters_;
  initial_spares_ = spares_;
}

// Second phase: every fault is undone at once, in this order, and nothing
// new goes wrong; a few writes must then commit everywhere.
void Generator::add_heal_phase() {
  const TimeUs h = heal_us_;
  at(h, {{"action", "heal"}});
  at(h,
     {{"action", "set_network"}, {"latency", network_["latency"]}, {"drop", 0}, {"duplicate", 0}});
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

json Generator::document() {
  std::string families;
  for (int f = 0; f < kFamilies; ++f) {
    if (enabled_[f]) families += std::string(families.empty() ? "" : ", ") + kFamilyNames[f];
  }
  json doc;
  doc["name"] = "fuzz seed " + std::to_string(seed_);
  doc["description"] =
      "Generated by raftsim fuzz: profile " + std::string(profile_->name) + " (" + families +
      "), " + std::to_string(fault_count_) + " faults until " + time_text(heal_us_) +
      (stale_cycles_ ? ", " + std::to_string(stale_cycles_) + " stale-ack cycles" : std::string()) +
      (vote_crash_cycles_ ? ", " + std::to_string(vote_crash_cycles_) + " vote-crash cycles"
                          : std::string()) +
      (snapshot_race_cycles_
           ? ", " + std::to_string(snapshot_race_cycles_) + " snapshot-race cycles"
           : std::string()) +
      (pre_vote_replay_cycles_
           ? ", " + std::to_string(pre_vote_replay_cycles_) + " pre-vote replay cycles"
           : std::string()) +
      (returning_leader_cycles_
           ? ", " + std::to_string(returning_leader_cycles_) + " returning-leader cycles"
           : std::string()) +
      "; then everything heals and, " + std::to_string(kLivenessBoundTimeouts) +
      " election timeouts later, exactly one leader must lead and every write "
      "must be everywhere.";
  doc["seed"] = seed_;
  const TimeUs check_us = heal_us_ + bound_us_;
  doc["duration"] = time_text(std::max(check_us, late_check_us_));
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
  if (late_target_) {
    doc["expect"].push_back(
        {{"at", time_text(late_check_us_)}, {"check", "leader"}, {"is", late_target_}});
  }
  return doc;
}

}  // namespace fuzz_detail

using fuzz_detail::kMs;
using fuzz_detail::kSecond;

std::string time_text(TimeUs us) {
  if (us % kSecond == 0) return std::to_string(us / kSecond) + "s";
  if (us % kMs == 0) return std::to_string(us / kMs) + "ms";
  return std::to_string(us) + "us";
}

TimeUs min_fuzz_duration_us() {
  TimeUs best = INT64_MAX;
  for (const fuzz_detail::Timeouts& t : fuzz_detail::kTimeouts)
    best = std::min(best, fuzz_detail::liveness_bound_us(t.max_us) + fuzz_detail::kMinFaultPhase);
  return best;
}

nlohmann::ordered_json generate_scenario(uint64_t seed, const FuzzLimits& limits) {
  nlohmann::ordered_json doc = fuzz_detail::Generator(seed, limits).build();
  if (limits.implementation == Implementation::canonical) restrict_to_canonical(doc);
  return doc;
}

}  // namespace sim
