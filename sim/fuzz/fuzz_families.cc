#include <algorithm>

#include "sim/fuzz/fuzz_generator.h"

namespace sim::fuzz_detail {

// Reads at a leader cut off from its voters while clients still reach it
// (thesis §6.4): a voter campaigns, a lease reader's clock then runs slow
// (within the drift bound), it is isolated, and clients read from it over
// the next election timeouts while the others elect a leader and commit.
// The read modes must refuse or wait; stale reads are expected.
void Generator::add_cut_off_leader_reads() {
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

// Faults that cut links: partitions, isolation, one-way cuts and bridges.
void Generator::add_cut(Family family, TimeUs t) {
  Prng& r = fault_rng_;
  switch (family) {
    case kSplit: {
      const int groups = coin(r, 0.75) ? 2 : 3;
      std::vector<std::vector<NodeId>> g(static_cast<size_t>(groups));
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
          to = all_[(static_cast<size_t>(std::find(all_.begin(), all_.end(), from) - all_.begin()) +
                     1) %
                    all_.size()];
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
    default: break;
  }
}

// A change of the network for a while: loss, duplication or a latency spike,
// for every link or one pair.
void Generator::add_net_change(TimeUs t) {
  Prng& r = fault_rng_;
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
  if (all_.size() > 1 && coin(r, 0.4)) {  // a pair of nodes, if there are two
    const NodeId a = any_node();
    NodeId b = any_node();
    if (a == b)
      b = all_[(static_cast<size_t>(std::find(all_.begin(), all_.end(), a) - all_.begin()) + 1) %
               all_.size()];
    change["between"] = restore["between"] = {a, b};
  }
  at(t, change);
  if (auto end = recovery(t, 0.7)) at(*end, restore);
}

void Generator::add_fault() {
  Prng& r = fault_rng_;
  std::vector<int> weights;
  for (int f = 0; f < kFamilies; ++f) weights.push_back(enabled_[f] ? kFamilyWeights[f] : 0);
  const Family family = static_cast<Family>(weighted(r, weights));
  const TimeUs t = draw_ms(r, 300 * kMs, heal_us_ - 200 * kMs);
  switch (family) {
    case kSplit:
    case kIsolate:
    case kOneWay:
    case kBridge: add_cut(family, t); break;
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
    case kNetChange: add_net_change(t); break;
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

// A fresh cast for one churn cycle (add_churn): A with a largest minority X
// (side_a), M with the rest Y (side_m), y in Y, and the sides once y has
// crossed over to A's; learners and spares (others) land on either side.
Generator::ChurnCast Generator::draw_churn_cast(const std::vector<NodeId>& others) {
  Prng& r = fault_rng_;
  std::vector<NodeId> cast = voters_;
  for (size_t i = cast.size() - 1; i > 0; --i)
    std::swap(cast[i], cast[static_cast<size_t>(r.uniform_int(0, static_cast<int64_t>(i)))]);
  // A and X are a largest minority, M and Y the rest (with an even
  // number of voters, not a majority: the cycle is plain churn then).
  ChurnCast c;
  c.a = cast[0];
  c.m = cast[1];
  const auto minority = static_cast<std::ptrdiff_t>((cast.size() - 1) / 2);
  c.side_a = {c.a};
  c.side_m = {c.m};
  c.side_a.insert(c.side_a.end(), cast.begin() + 2, cast.begin() + 1 + minority);
  c.side_m.insert(c.side_m.end(), cast.begin() + 1 + minority, cast.end());
  c.y = c.side_m[static_cast<size_t>(r.uniform_int(1, static_cast<int64_t>(c.side_m.size()) - 1))];
  for (NodeId id : others) (coin(r, 0.5) ? c.side_a : c.side_m).push_back(id);
  c.side_a_y = c.side_a;
  c.side_a_y.push_back(c.y);
  for (NodeId id : c.side_m) {
    if (id != c.y) c.side_m_y.push_back(id);
  }
  return c;
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
void Generator::add_churn() {
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
    const ChurnCast c = draw_churn_cast(others);
    const NodeId a = c.a, m = c.m, y = c.y;
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
    at(t1, partition(c.side_a, c.side_m));
    at(t_write, {{"action", "write"}, {"count", writes}, {"node", a}});
    at(t2, {{"action", "campaign"}, {"node", m}});
    at(t_crash, {{"action", "crash"}, {"node", y}});
    at(t_cut, partition(c.side_a_y, c.side_m_y));
    at(t_cut, {{"action", "crash"}, {"node", a}});
    at(t_back, {{"action", "restart"}, {"node", y}});
    at(t_back, {{"action", "restart"}, {"node", a}});
    at(t4, {{"action", "campaign"}, {"node", a}});
    at(t4_again, {{"action", "campaign"}, {"node", a}});
    at(t5, partition(c.side_a, c.side_m));
    at(t_rival, {{"action", "campaign"}, {"node", m}});
    at(t_rival_again, {{"action", "campaign"}, {"node", m}});
    at(t_heal, {{"action", "heal"}});
    t = t_heal + draw_ms(r, et_max / 2, 2 * et_max);
  }
}

// Crashes of the lone voter just after write bursts reach it, before
// they can be durable.
void Generator::add_lone_crashes() {
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
void Generator::add_stale_acks() {
  Prng r = Prng::stream(seed_, "fuzz/stale");
  if (initial_voters_.size() != 3 || enabled_[kChurn] || !coin(r, 0.9)) return;
  const auto [lat_lo, lat_hi] = latency_range();
  // A must crash after appending the writes and before they are durable: a
  // disk too fast for that is slowed down, within an eighth of the minimum
  // election timeout (choose_network).
  const TimeUs need = lat_hi - lat_lo + 2 * kMs;
  if (disk_latency_us_ < need) {
    const TimeUs slower = need + draw_ms(r, kMs, 5 * kMs);
    if (slower > timeouts_->min_us / 8) return;
    disk_latency_us_ = slower;
  }
  const TimeUs disk = disk_latency_us_;
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
void Generator::add_vote_crashes() {
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

// Snapshot races: a follower F that was cut off from leader-to-be A while
// A took writes is reconnected as A compacts its log, so that A sends F a
// snapshot while appends to F are in flight, over a link between them that
// delays by up to several round trips (reordering) and duplicates; A takes
// a second snapshot and more writes meanwhile. Answers of the install, the
// appends before and after it, and their duplicates then arrive in any
// order: a leader must not let an old answer move F's progress backwards
// into the compacted log or count it again, and F must not let a late
// append or snapshot undo what it holds (Figure 13; §5.3). At least three
// voters; drawn from a stream of its own and added after every other
// fault, so that seeds without these cycles keep their scenarios.
void Generator::add_snapshot_races() {
  Prng r = Prng::stream(seed_, "fuzz/snapshot_race");
  // Not with churn, whose narrow pipelines carry only the workload they were
  // sized for, nor with pre-vote replays (above); elsewhere the cycles' writes stay within what a
  // pipeline carries, so that F can still catch up within the liveness bound.
  if (initial_voters_.size() < 3 || enabled_[kChurn] || pre_vote_replay_cycles_ > 0 || read_bug_ ||
      !coin(r, 0.9)) {
    return;
  }
  const TimeUs et_max = timeouts_->max_us;
  const TimeUs rtt = round_trip_us();
  const int64_t max_writes = std::clamp<int64_t>(pipeline_entries_per_s() / 8, 5, 60);
  for (TimeUs t = draw_ms(r, 300 * kMs, 2 * et_max);;) {
    std::vector<NodeId> cast = initial_voters_;
    for (size_t i = cast.size() - 1; i > 0; --i)
      std::swap(cast[i], cast[static_cast<size_t>(r.uniform_int(0, static_cast<int64_t>(i)))]);
    const NodeId a = cast[0], f = cast[1];
    const TimeUs t_cut = t + et_max;  // A leads by then
    const TimeUs t_write = t_cut + kMs;
    const TimeUs t_snap = t_write + rtt + draw_ms(r, kMs, 20 * kMs);
    const TimeUs t_back = t_snap + draw_ms(r, 0, 2 * rtt);
    const TimeUs t_write2 = t_back + draw_ms(r, 0, rtt);
    const TimeUs t_snap2 = t_write2 + draw_ms(r, 0, 2 * rtt);
    // The follower must not miss a minimum election timeout: with
    // check_quorum off, it would campaign and the cycle would be plain churn.
    const TimeUs t_calm = t_back + draw_ms(r, timeouts_->min_us / 2, 2 * et_max);
    const TimeUs t_end = t_calm + 3 * rtt;
    if (t_end + 200 * kMs >= heal_us_) break;
    const TimeUs spread = std::max<TimeUs>(2 * kMs, rtt) * r.uniform_int(2, 6);
    at(t, {{"action", "transfer_leadership"}, {"to", a}});
    at(t_cut, {{"action", "cut"}, {"from", a}, {"to", f}});
    at(t_write, {{"action", "write"}, {"count", r.uniform_int(5, max_writes)}, {"node", a}});
    at(t_snap, {{"action", "snapshot"}, {"node", a}});
    at(t_back, {{"action", "set_network"},
                {"between", {a, f}},
                {"latency", {{"min", time_text(kMs)}, {"max", time_text(kMs + spread)}}},
                {"duplicate", draw_pct(r, 30, 80)}});
    at(t_back, {{"action", "heal"}});
    at(t_write2, {{"action", "write"}, {"count", r.uniform_int(1, max_writes / 3)}, {"node", a}});
    at(t_snap2, {{"action", "snapshot"}, {"node", a}});
    at(t_calm, {{"action", "set_network"},
                {"between", {a, f}},
                {"latency", network_["latency"]},
                {"duplicate", network_.value("duplicate", 0.0)}});
    ++snapshot_race_cycles_;
    t = t_end + draw_ms(r, et_max / 2, 2 * et_max);
  }
}

// The generator's guess at the membership: changes may be refused or
// superseded at run time, which is part of what is being tested.
void Generator::add_membership_change(TimeUs t) {
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

}  // namespace sim::fuzz_detail
