// Internal to `raftsim fuzz` (docs/fuzzing.md): the generator's cycles aimed
// at single protocol rules (pre-vote rounds, a deposed leader's writes, a
// leadership transfer in a healed cluster), each drawn from a stream of its
// own. The other families are in fuzz_families.cc.
#include <algorithm>

#include "sim/fuzz/fuzz_generator.h"

namespace sim::fuzz_detail {

// Pre-vote replays (thesis §9.6): a pre-vote grant of an earlier round
// reaches a pre-candidate that has since moved on to that round's term and
// pre-votes again. A cast of pre-candidate C, voters Vs (one fewer than a
// majority) and the others: (1) leadership is handed to one of the others;
// (2) the Vs are paused, every node but C cut off from them, and C
// campaigns: its PreVote, asking for term T, waits at each of them; (3)
// leadership is handed to C, which leads term T; (4) C is cut off: it steps
// down (check-quorum) and pre-votes again, asking for T+1, in vain; (5) the
// Vs resume with only their links to C open and grant C's old request, of
// term T. A pre-candidate that counted those grants would campaign for T+1
// without a majority's grants of T+1 (invariant `pre_vote`). Five or seven
// voters (C and the others are a majority without the Vs; three-voter seeds
// are the stale-ack cycles'), pre-vote and check-quorum on, no churn; each
// cycle first heals what other faults cut. Drawn from a stream of its own
// and added after the ordinary faults, so that seeds without these cycles
// keep their scenarios; seeds with them get no snapshot races, whose heals
// would undo their cuts.
void Generator::add_pre_vote_replays() {
  Prng r = Prng::stream(seed_, "fuzz/pre_vote_replay");
  const size_t n = initial_voters_.size();
  if (n < 5 || n % 2 == 0 || enabled_[kChurn] || read_bug_ || !raft_["pre_vote"].get<bool>() ||
      !raft_["check_quorum"].get<bool>() || !coin(r, 0.5)) {
    return;
  }
  const TimeUs et_max = timeouts_->max_us;
  const TimeUs hb = timeouts_->min_us / 3 / kMs * kMs;
  const TimeUs rtt = round_trip_us();
  const TimeUs lat_hi = latency_range().second;
  const TimeUs win = 2 * disk_latency_us_ + 3 * lat_hi;  // a transfer's election
  auto cut = [&](TimeUs t, NodeId from, NodeId to) {
    at(t, {{"action", "cut"}, {"from", from}, {"to", to}, {"both", false}});
  };
  for (TimeUs t = draw_ms(r, 300 * kMs, 2 * et_max);;) {
    std::vector<NodeId> cast = initial_voters_;
    for (size_t i = cast.size() - 1; i > 0; --i)
      std::swap(cast[i], cast[static_cast<size_t>(r.uniform_int(0, static_cast<int64_t>(i)))]);
    const NodeId c = cast[0];
    const auto vs_end = cast.begin() + static_cast<std::ptrdiff_t>(n / 2 + 1);  // a majority
    const std::vector<NodeId> vs(cast.begin() + 1, vs_end);
    const NodeId other = *vs_end;
    const TimeUs t_pause = t + et_max;  // the other leads by then
    const TimeUs t_campaign = t_pause + kMs;
    const TimeUs t_transfer = t_campaign + rtt + hb + draw_ms(r, kMs, 10 * kMs);
    const TimeUs t_cut = t_transfer + win + rtt + draw_ms(r, kMs, 10 * kMs);
    // C has stepped down (within et_max + hb) and pre-votes by then.
    const TimeUs t_resume = t_cut + 2 * et_max + hb + draw_ms(r, 10 * kMs, et_max);
    const TimeUs t_heal = t_resume + 2 * lat_hi + draw_ms(r, kMs, 10 * kMs);
    if (t_heal + 200 * kMs >= heal_us_) break;
    const auto in_vs = [&](NodeId x) { return std::find(vs.begin(), vs.end(), x) != vs.end(); };
    at(t, {{"action", "transfer_leadership"}, {"to", other}});
    at(t_pause, {{"action", "heal"}});  // whatever other faults cut
    for (NodeId v : vs) {
      for (NodeId x : all_) {
        if (x != c && x != v) cut(t_pause, x, v);
      }
      at(t_pause, {{"action", "pause"}, {"node", v}});
    }
    at(t_campaign, {{"action", "campaign"}, {"node", c}});
    at(t_transfer, {{"action", "transfer_leadership"}, {"to", c}});
    at(t_cut, {{"action", "isolate"}, {"node", c}});
    at(t_resume, {{"action", "heal"}});
    // (A cut applies to parked messages too: C's links to the Vs stay open,
    // and its next round may reach them only after their old grants left.)
    for (NodeId x : all_) {
      if (x == c) continue;
      if (!in_vs(x)) cut(t_resume, c, x);
      if (!in_vs(x)) cut(t_resume, x, c);
      for (NodeId v : vs) {
        if (x != v) cut(t_resume, x, v);
      }
    }
    for (NodeId v : vs) at(t_resume, {{"action", "resume"}, {"node", v}});
    at(t_heal, {{"action", "heal"}});
    ++pre_vote_replay_cycles_;
    t = t_heal + draw_ms(r, et_max / 2, 2 * et_max);
  }
}

// Deposed leaders that return: leader-to-be A is cut off and given 1-10
// writes it cannot commit; the others elect a leader, whose log replaces
// those entries once the cut heals; then leadership is handed back to A
// before the clients retry (two maximum election timeouts after sending).
// Their retries reach A as leader again: A must append them anew, for the
// entries it held are gone (a leader that kept its set of writes in its log
// across the step-down never acknowledges them: `converged` fails). At
// least three voters, no churn; drawn from a stream of its own and added
// after the ordinary faults, so that seeds without these cycles keep their
// scenarios.
void Generator::add_returning_leaders() {
  Prng r = Prng::stream(seed_, "fuzz/returning_leader");
  if (initial_voters_.size() < 3 || enabled_[kChurn] || lone_ || read_bug_ || !coin(r, 0.3)) return;
  const TimeUs et_max = timeouts_->max_us;
  const TimeUs rtt = round_trip_us();
  const TimeUs win = 2 * disk_latency_us_ + 3 * latency_range().second;  // a transfer's election
  const TimeUs pre = raft_["pre_vote"].get<bool>() ? rtt : 0;
  for (TimeUs t = draw_ms(r, 300 * kMs, 2 * et_max);;) {
    const NodeId a = pick(r, initial_voters_);
    const TimeUs t_cut = t + et_max;  // A leads by then
    const TimeUs t_write = t_cut + kMs;
    // The others notice (an election timeout), elect a leader, and it
    // appends its no-op.
    const TimeUs t_heal = t_write + et_max + pre + win + rtt + draw_ms(r, kMs, 10 * kMs);
    const TimeUs t_back = t_heal + 2 * rtt + draw_ms(r, kMs, 10 * kMs);
    const TimeUs retry = t_write + 2 * et_max;
    if (t_back + win + rtt >= retry || retry + 200 * kMs >= heal_us_) break;
    at(t, {{"action", "transfer_leadership"}, {"to", a}});
    at(t_cut, {{"action", "isolate"}, {"node", a}});
    at(t_write, {{"action", "write"}, {"count", r.uniform_int(1, 10)}, {"node", a}});
    at(t_heal, {{"action", "heal"}});
    at(t_back, {{"action", "transfer_leadership"}, {"to", a}});
    ++returning_leader_cycles_;
    t = retry + draw_ms(r, et_max / 2, 2 * et_max);
  }
}

// A late leadership transfer (thesis §3.10): once the healed cluster has
// converged, the leader is asked to hand over to a voter, up to date and
// live, and that voter must lead within a minimum election timeout and a
// disk write. A transfer takes a TimeoutNow, two durable writes and three
// hops, each hop and write under an eighth of that timeout (choose_network);
// a voter that ignored the target's campaign (the §4.2.3 lease must not
// apply to it) leaves it to campaign again after its election timeout, too
// late. Only where the voters are known for sure: no membership changes (a
// voter demoted for lag is promoted back once caught up, auto_promote), not
// on canonical/raft, whose transfer follows its own rules. Drawn from a
// stream of its own; the run lasts until the check.
void Generator::add_late_transfer() {
  Prng r = Prng::stream(seed_, "fuzz/late_transfer");
  if (enabled_[kMembership] || lone_ || initial_voters_.size() < 3 ||
      !raft_.value("auto_promote", true) || limits_.implementation != Implementation::raftsim ||
      !coin(r, 0.5)) {
    return;
  }
  // A maximum election timeout after the convergence check: any promotion
  // back of a voter demoted for lag has committed.
  const TimeUs t = heal_us_ + bound_us_ + timeouts_->max_us;
  const TimeUs check = t + timeouts_->min_us + disk_latency_us_;
  if (limits_.duration_us != 0 && check > limits_.duration_us) return;
  late_target_ = pick(r, initial_voters_);
  late_check_us_ = check;
  at(t, {{"action", "transfer_leadership"}, {"to", late_target_}});
}

}  // namespace sim::fuzz_detail
