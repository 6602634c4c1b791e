#include "raft/state_machine.h"

#include <algorithm>

namespace raft {

bool StateMachine::apply_out_of_order(uint64_t write_id, uint32_t size_bytes, uint32_t key,
                                      WriteOp op, uint64_t expected) {
  if (contains(write_id)) return false;
  if (write_id == floor_) {
    ++floor_;
  } else {
    if (above_floor_count_ == 0) {
      window_.clear();
      window_base_ = floor_ - floor_ % 64;
    }
    const uint64_t word = (write_id - window_base_) / 64;
    while (window_.size() <= word) window_.push_back(0);
    window_[word] |= uint64_t{1} << ((write_id - window_base_) % 64);
    ++above_floor_count_;
  }
  while (above_floor_count_ != 0 && above_floor(floor_)) {
    const uint64_t offset = floor_ - window_base_;
    window_[offset / 64] &= ~(uint64_t{1} << (offset % 64));
    --above_floor_count_;
    ++floor_;
  }
  // Words wholly below the floor hold no ids any more.
  const uint64_t dead_words = std::min<uint64_t>((floor_ - window_base_) / 64, window_.size());
  if (above_floor_count_ == 0) {
    window_.clear();
  } else if (dead_words > 0) {
    window_.drop_front(dead_words);
    window_base_ += 64 * dead_words;
  }
  record(write_id, size_bytes, key, op, expected);
  return true;
}

}  // namespace raft
