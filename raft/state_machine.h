// The replicated state machine every node applies committed entries to.
// It records which client writes it holds, applying each write id at most once
// (thesis §6.3: a retried write may appear in the log more than once).
#pragma once

#include <cstdint>
#include <set>

#include "raft/types.h"

namespace raft {

class StateMachine {
 public:
  // Applies a write; returns false (and changes nothing) for a duplicate.
  bool apply_write(uint64_t write_id, uint32_t size_bytes) {
    if (write_id == floor_ && above_floor_.empty()) {
      ++floor_;  // the usual case, in order: nothing to remember
      record(write_id, size_bytes);
      return true;
    }
    return apply_out_of_order(write_id, size_bytes);
  }
  bool contains(uint64_t write_id) const {
    return write_id < floor_ || (!above_floor_.empty() && above_floor_.count(write_id) != 0);
  }

  uint64_t applied_writes() const { return applied_writes_; }
  // Nominal size of the state in bytes, what a snapshot of it transfers.
  uint64_t size_bytes() const { return size_bytes_; }
  // Depends on the order of applied writes: equal states have equal hashes.
  uint64_t state_hash() const { return state_hash_; }
  bool operator==(const StateMachine& o) const {
    return applied_writes_ == o.applied_writes_ && state_hash_ == o.state_hash_;
  }

 private:
  // Write ids are handed out in increasing order and mostly applied in that
  // order, so the set of applied ids is kept as "every id below floor_" plus
  // the few above it: memory stays bounded by the ids out of order, not by
  // the number of writes.
  bool apply_out_of_order(uint64_t write_id, uint32_t size_bytes);
  void record(uint64_t write_id, uint32_t size_bytes) {
    ++applied_writes_;
    size_bytes_ += size_bytes;
    state_hash_ = mix64(state_hash_ ^ write_id);  // one round: applies are per entry per node
  }

  uint64_t floor_ = 1;
  std::set<uint64_t> above_floor_;
  uint64_t applied_writes_ = 0;
  uint64_t size_bytes_ = 0;
  uint64_t state_hash_ = 0;
};

}  // namespace raft
