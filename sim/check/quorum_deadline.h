// The quorum invariant (docs/architecture.md, "Where each invariant lives"):
// with check-quorum on (thesis §6.2), a leader that can no longer reach a
// quorum of its voters steps down within its check-quorum bound (one election
// timeout plus one heartbeat, of its own clock), plus what can still be in
// flight to it.
//
// A leader can only have heard from a voter while the two could exchange
// messages (plus one message latency in flight), and check-quorum steps down
// once fewer than a quorum were heard within the last election timeout,
// checked every heartbeat. So the deadline runs from the moment the
// quorum-th most recently reachable voter stopped being reachable (in the
// leader's own clock): reachable sets that change while staying below a
// quorum do not restart it, and neither do they cut it short.
//
// Unlike the Checker, this needs what only the engine knows: who can reach
// whom and each node's clock. The engine reports them when connectivity or
// leadership changes (start_update, then not_leader or leader for every node
// in order), and after every event asks overdue() of each leader in
// cut_off().
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "raft/types.h"
#include "sim/base/time.h"

namespace sim {

class QuorumDeadline {
 public:
  // Whether the leader and node v can exchange messages now (both up, the
  // links between them not cut).
  using Reachable = std::function<bool(raft::NodeId v)>;

  // `nodes`: every node of the cluster, sorted. A response the leader counts
  // can arrive up to `in_flight_us` of real time late (the longest link
  // latency plus the disk write it may have waited for), and no clock runs
  // faster than `max_rate_ppm` parts per million of real time.
  QuorumDeadline(std::vector<raft::NodeId> nodes, TimeUs in_flight_us, int64_t max_rate_ppm);

  // A change of connectivity or leadership: forget which leaders were cut
  // off, then judge every node anew, in node order.
  void start_update() { cut_off_.clear(); }
  // Node `id` is crashed or not a leader.
  void not_leader(raft::NodeId id);
  // Node `id` leads `term` with `config`, its clock reading `local_now_us`.
  // True when it has just lost its quorum (its deadline starts now).
  bool leader(raft::NodeId id, raft::Term term, const raft::Configuration& config,
              TimeUs local_now_us, const Reachable& reachable);

  // The node stepped down or crashed: no deadline until it is found cut off
  // again.
  void stop(raft::NodeId id) { tracks_[slot(id)].lost_local_us.reset(); }
  // A paused leader cannot act: its deadline does not run meanwhile.
  void resumed(raft::NodeId id, TimeUs paused_for_local_us);

  // The leaders found without a reachable quorum, in node order.
  const std::vector<raft::NodeId>& cut_off() const { return cut_off_; }
  // Whether cut-off leader `id` has led `term` past its deadline, its clock
  // reading `local_now_us`; `bound_us` is its check-quorum bound
  // (NodeApi::check_quorum_bound_us). If so, the violation's text, and its
  // deadline is cleared.
  std::optional<std::string> overdue(raft::NodeId id, raft::Term term, TimeUs local_now_us,
                                     TimeUs bound_us);

  // How long after losing its quorum a leader may stay, by its own clock.
  TimeUs allowed_us(TimeUs bound_us) const { return bound_us + in_flight_local_us_; }

 private:
  static constexpr TimeUs kReachableNow = INT64_MAX;
  // What is known of one node while it leads.
  struct Track {
    // Local time until which a quorum of voters was reachable (unset while
    // one is).
    std::optional<TimeUs> lost_local_us;
    std::vector<TimeUs> reachable_until;  // per node slot, kReachableNow while it is
    raft::Term term = 0;                  // the term these were judged in
    std::vector<raft::NodeId> members;    // the voters and learners they were judged against
  };

  size_t slot(raft::NodeId id) const;
  TimeUs track(Track& l, raft::NodeId v, TimeUs now_local, const Reachable& reachable) const;
  void track_all(Track& l, raft::NodeId id, const raft::Configuration& config, TimeUs now_local,
                 const Reachable& reachable);

  std::vector<raft::NodeId> nodes_;  // sorted; a node's slot is its index
  std::vector<Track> tracks_;        // per slot
  std::vector<raft::NodeId> cut_off_;
  std::vector<TimeUs> reach_;  // scratch of leader(): per other voter, until when reachable
  TimeUs in_flight_local_us_;
};

}  // namespace sim
