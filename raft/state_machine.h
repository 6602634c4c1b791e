// The replicated state machine every node applies committed entries to: a
// key-value store whose values are write ids. A put sets its key to its own
// id; a cas sets it only if the key holds the expected value. Since every
// written value is unique, each key is a register whose history says which
// write a read saw. Each write id applies at most once (thesis §6.3: a
// retried write may appear in the log more than once).
#pragma once

#include <cstdint>
#include <map>
#include <set>

#include "raft/offset_vector.h"
#include "raft/types.h"

namespace raft {

class StateMachine {
 public:
  // Applies a write; returns false (and changes nothing) for a duplicate.
  // A cas that finds another value is applied (its id is spent) without
  // changing its key.
  bool apply_write(uint64_t write_id, uint32_t size_bytes, uint32_t key = 0,
                   WriteOp op = WriteOp::put, uint64_t expected = 0) {
    if (write_id == floor_ && above_floor_count_ == 0) {
      ++floor_;  // the usual case, in order: nothing to remember
      record(write_id, size_bytes, key, op, expected);
      return true;
    }
    return apply_out_of_order(write_id, size_bytes, key, op, expected);
  }
  bool contains(uint64_t write_id) const {
    return write_id < floor_ || (above_floor_count_ != 0 && above_floor(write_id));
  }
  // The value a key holds: the id of the write that set it, 0 if none did.
  uint64_t get(uint32_t key) const {
    auto it = values_.find(key);
    return it == values_.end() ? 0 : it->second;
  }
  // Whether an applied cas swapped: its answer, also to a retry of it.
  bool swapped(uint64_t write_id) const { return failed_cas_.count(write_id) == 0; }

  uint64_t applied_writes() const { return applied_writes_; }
  // Nominal size of the state in bytes, what a snapshot of it transfers.
  uint64_t size_bytes() const { return size_bytes_; }
  // Depends on the order of applied writes: equal states have equal hashes
  // (a write's id fixes its key, op and expected value, so the ids in order
  // fix every value).
  uint64_t state_hash() const { return state_hash_; }
  bool operator==(const StateMachine& o) const {
    return applied_writes_ == o.applied_writes_ && state_hash_ == o.state_hash_;
  }

 private:
  // Write ids are handed out in increasing order and mostly applied in that
  // order, so the set of applied ids is kept as "every id below floor_" plus
  // the few above it: memory stays bounded by the ids out of order, not by
  // the number of writes. Those few are a bitmap from window_base_ (a
  // multiple of 64, at most floor_), not a std::set: every snapshot copies
  // the state machine, and once one early write is late (a lost request
  // retried), everything after it is above the floor; copying a node per id
  // at every snapshot made a burst of 1M writes quadratic.
  bool apply_out_of_order(uint64_t write_id, uint32_t size_bytes, uint32_t key, WriteOp op,
                          uint64_t expected);
  bool above_floor(uint64_t id) const {
    if (id < window_base_) return false;
    const uint64_t word = (id - window_base_) / 64;
    return word < window_.size() && (window_[word] >> ((id - window_base_) % 64) & 1) != 0;
  }
  void record(uint64_t write_id, uint32_t size_bytes, uint32_t key, WriteOp op, uint64_t expected) {
    ++applied_writes_;
    size_bytes_ += size_bytes;
    state_hash_ = mix64(state_hash_ ^ write_id);  // one round: applies are per entry per node
    uint64_t& value = values_[key];
    if (op == WriteOp::cas && value != expected) {
      failed_cas_.insert(write_id);
    } else {
      value = write_id;
    }
  }

  uint64_t floor_ = 1;
  uint64_t window_base_ = 0;
  OffsetVector<uint64_t> window_;  // bit k of word w: id window_base_ + 64 w + k applied
  uint64_t above_floor_count_ = 0;
  std::map<uint32_t, uint64_t> values_;  // key -> id of the write that set it
  std::set<uint64_t> failed_cas_;        // applied cas writes that did not swap
  uint64_t applied_writes_ = 0;
  uint64_t size_bytes_ = 0;
  uint64_t state_hash_ = 0;
};

}  // namespace raft
