#include "sim/check/quorum_deadline.h"

#include <algorithm>
#include <functional>

#include "raft/quorum.h"

namespace sim {

namespace {
constexpr int64_t kPpm = 1'000'000;
}  // namespace

QuorumDeadline::QuorumDeadline(std::vector<raft::NodeId> nodes, TimeUs in_flight_us,
                               int64_t max_rate_ppm)
    : nodes_(std::move(nodes)), tracks_(nodes_.size()) {
  // The election timeout and the heartbeat run on the leader's clock, but the
  // latency and the disk write are real time: a leader whose clock runs k
  // times fast sees a response that was in flight when its quorum became
  // unreachable arrive up to k times that much later by its own clock, and
  // counts its election timeout from then (fuzz seed 2553: a clock at 3.82x
  // stepped down on time by its own rule, 1ms past a deadline that had
  // counted 11.5ms of latency as 11.5ms of its clock instead of 44ms).
  in_flight_local_us_ =
      static_cast<TimeUs>((static_cast<__int128>(in_flight_us) * max_rate_ppm + kPpm - 1) / kPpm);
}

size_t QuorumDeadline::slot(raft::NodeId id) const {
  return static_cast<size_t>(std::lower_bound(nodes_.begin(), nodes_.end(), id) - nodes_.begin());
}

void QuorumDeadline::not_leader(raft::NodeId id) {
  Track& t = tracks_[slot(id)];
  t.lost_local_us.reset();
  t.term = 0;
}

// Every other member's reachability, the voters' into reach_ (until when
// each was reachable).
void QuorumDeadline::track_all(Track& l, raft::NodeId id, const raft::Configuration& config,
                               TimeUs now_local, const Reachable& reachable) {
  for (raft::NodeId v : config.learners) {
    if (v != id) track(l, v, now_local, reachable);
  }
  reach_.clear();
  for (raft::NodeId v : config.voters) {
    if (v != id) reach_.push_back(track(l, v, now_local, reachable));
  }
}

// The core keeps a learner's last contact when it is promoted, and counts a
// peer new to its configuration as just heard: so learners are tracked too,
// and a node that joins starts as reachable now.
TimeUs QuorumDeadline::track(Track& l, raft::NodeId v, TimeUs now_local,
                             const Reachable& reachable) const {
  TimeUs& until = l.reachable_until[slot(v)];
  if (reachable(v)) {
    until = kReachableNow;
  } else if (until == kReachableNow ||
             std::find(l.members.begin(), l.members.end(), v) == l.members.end()) {
    until = now_local;
  }
  return until;
}

bool QuorumDeadline::leader(raft::NodeId id, raft::Term term, const raft::Configuration& config,
                            TimeUs now_local, const Reachable& reachable) {
  Track& l = tracks_[slot(id)];
  if (l.term != term) {
    // A new leader starts counting every voter as just heard.
    l.term = term;
    l.reachable_until.assign(nodes_.size(), now_local);
    l.members.clear();
  }
  // Voters, then (after kNoNode, which names no node) learners: a promotion
  // or a demotion is a change too (fuzz seed 4222: a learner cut off with
  // most of the voters was promoted, and the leader then needed it).
  // (Compared in place and rebuilt only on a change: this runs after every
  // role change of the cluster, and the temporaries were a tenth of a
  // failover trial's instructions.)
  const bool same_members =
      l.members.size() == config.voters.size() + 1 + config.learners.size() &&
      std::equal(config.voters.begin(), config.voters.end(), l.members.begin()) &&
      l.members[config.voters.size()] == raft::kNoNode &&
      std::equal(config.learners.begin(), config.learners.end(),
                 l.members.begin() + static_cast<std::ptrdiff_t>(config.voters.size() + 1));
  std::vector<raft::NodeId> members;  // the new ones, when they changed
  if (!same_members) {
    members = config.voters;
    members.push_back(raft::kNoNode);
    members.insert(members.end(), config.learners.begin(), config.learners.end());
    // A configuration change can raise what the leader needs (it stops
    // counting itself, or a voter it cannot reach joins the quorum). The
    // leader checks the new configuration from its next heartbeat on, so
    // a quorum lost by the change itself is lost at the change (fuzz
    // seed 3381: a leader's own demotion committed half a second after
    // it had last reached a voter that the new configuration needs).
    for (raft::NodeId v : members) {
      TimeUs& until = l.reachable_until[slot(v)];
      if (until != kReachableNow) until = std::max(until, now_local);
    }
  }
  // Judged against the old members: a node new to them counts as just heard.
  track_all(l, id, config, now_local, reachable);
  if (!same_members) l.members = std::move(members);
  std::vector<TimeUs>& reach = reach_;
  const size_t quorum = raft::majority(config.voters.size());
  const size_t others_needed = config.is_voter(id) ? quorum - 1 : quorum;
  if (others_needed == 0) {
    l.lost_local_us.reset();
    return false;
  }
  if (reach.size() < others_needed) {
    reach.assign(others_needed, now_local);  // cannot have a quorum at all
  }
  std::nth_element(reach.begin(), reach.begin() + static_cast<std::ptrdiff_t>(others_needed - 1),
                   reach.end(), std::greater<TimeUs>());
  const TimeUs quorum_until = reach[others_needed - 1];
  if (quorum_until == kReachableNow) {
    l.lost_local_us.reset();
    return false;
  }
  cut_off_.push_back(id);
  const bool just_lost = !l.lost_local_us;
  l.lost_local_us = quorum_until;
  return just_lost;
}

void QuorumDeadline::resumed(raft::NodeId id, TimeUs paused_for_local_us) {
  for (TimeUs& until : tracks_[slot(id)].reachable_until) {
    if (until != kReachableNow) until += paused_for_local_us;
  }
}

std::optional<std::string> QuorumDeadline::overdue(raft::NodeId id, raft::Term term,
                                                   TimeUs local_now_us, TimeUs bound_us) {
  Track& l = tracks_[slot(id)];
  if (!l.lost_local_us) return std::nullopt;
  const TimeUs allowed = allowed_us(bound_us);
  if (local_now_us - *l.lost_local_us <= allowed) return std::nullopt;
  l.lost_local_us.reset();
  return "node " + std::to_string(id) + " stayed leader of term " + std::to_string(term) +
         " for more than " + format_time(allowed) + " after it last could reach a quorum of voters";
}

}  // namespace sim
