// Quorum arithmetic, in one place for the node and the checkers (as etcd's
// quorum package): the majority of a voter set, the index a majority holds,
// the outcome of a vote, and whether a majority responded recently.
// Learners never count: callers pass voters only (thesis §4.2.1).
#pragma once

#include <cstddef>
#include <vector>

#include "raft/types.h"

namespace raft {

// The smallest number of voters that is more than half of them (paper §5.2):
// any two such sets of one configuration overlap.
constexpr size_t majority(size_t voters) {
  return voters / 2 + 1;
}

// The largest value a majority of voters has reached, given one value per
// voter: for match indexes the commit candidate (paper §5.3, etcd's
// MajorityConfig.CommittedIndex), for acknowledged heartbeat rounds the
// round that confirmed leadership (thesis §6.4). Reorders `values` (the
// caller keeps it as a buffer: a leader of 1,001 voters calls this on every
// acknowledgement, so it must not allocate); 0 when empty.
uint64_t majority_value(std::vector<uint64_t>& values);

enum class VoteResult : uint8_t { pending, won, lost };

// The votes of one election (paper §5.2), among the voters of the
// candidate's configuration. Each voter counts once, however many times its
// answer arrives (the network duplicates messages).
class VoteTally {
 public:
  // Starts an election in which the candidate votes for itself.
  void reset(NodeId self);
  void clear();
  // Records an answer; false if it changes nothing (a duplicate, or a
  // refusal from a voter that granted).
  bool record(NodeId voter, bool granted);
  size_t granted() const { return granted_.size(); }
  // won: a majority of `voters` granted; lost: so many refused that a
  // majority can no longer grant; pending otherwise.
  VoteResult result(size_t voters) const;

 private:
  bool answered(NodeId voter) const;
  std::vector<NodeId> granted_;
  std::vector<NodeId> refused_;
};

// Check-quorum (thesis §6.2, etcd's tracker.QuorumActive): whether the
// voters that responded at or after since_us make a majority. The leader
// counts itself when it is a voter; last_response_us(id) gives when voter id
// last responded, and is not asked about the leader.
template <class LastResponse>
bool quorum_active(const std::vector<NodeId>& voters, NodeId self, TimeUs since_us,
                   LastResponse last_response_us) {
  size_t active = 0;
  for (NodeId v : voters) {
    if (v == self || last_response_us(v) >= since_us) ++active;
  }
  return active >= majority(voters.size());
}

}  // namespace raft
