#include "raft/quorum.h"

#include <algorithm>
#include <functional>

namespace raft {

uint64_t majority_value(std::vector<uint64_t>& values) {
  if (values.empty()) return 0;
  // The majority-th largest value is reached by a majority.
  const size_t quorum = majority(values.size());
  const auto nth = values.begin() + static_cast<std::ptrdiff_t>(quorum - 1);
  std::nth_element(values.begin(), nth, values.end(), std::greater<uint64_t>());
  return *nth;
}

void VoteTally::reset(NodeId self) {
  clear();
  granted_.push_back(self);
}

void VoteTally::clear() {
  granted_.clear();
  refused_.clear();
}

bool VoteTally::answered(NodeId voter) const {
  return std::find(granted_.begin(), granted_.end(), voter) != granted_.end() ||
         std::find(refused_.begin(), refused_.end(), voter) != refused_.end();
}

bool VoteTally::record(NodeId voter, bool granted) {
  const auto refusal = std::find(refused_.begin(), refused_.end(), voter);
  if (granted) {
    if (std::find(granted_.begin(), granted_.end(), voter) != granted_.end()) return false;
    // A grant overrides an earlier refusal: a voter asked twice (a duplicated
    // pre-vote request) may answer differently once its leader is gone.
    if (refusal != refused_.end()) refused_.erase(refusal);
    granted_.push_back(voter);
    return true;
  }
  if (refusal != refused_.end() || answered(voter)) return false;
  refused_.push_back(voter);
  return true;
}

VoteResult VoteTally::result(size_t voters) const {
  const size_t needed = majority(voters);
  if (granted_.size() >= needed) return VoteResult::won;
  const size_t undecided = voters - std::min(voters, granted_.size() + refused_.size());
  if (granted_.size() + undecided < needed) return VoteResult::lost;
  return VoteResult::pending;
}

}  // namespace raft
