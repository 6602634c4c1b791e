#include "raft/state_machine.h"

namespace raft {

bool StateMachine::contains(uint64_t write_id) const {
  return write_id < floor_ || above_floor_.count(write_id) != 0;
}

bool StateMachine::apply_write(uint64_t write_id, uint32_t size_bytes) {
  if (contains(write_id)) return false;
  if (write_id == floor_) {
    ++floor_;  // the usual case, in order: nothing to remember
  } else {
    above_floor_.insert(write_id);
  }
  while (!above_floor_.empty() && *above_floor_.begin() == floor_) {
    above_floor_.erase(above_floor_.begin());
    ++floor_;
  }
  ++applied_writes_;
  size_bytes_ += size_bytes;
  state_hash_ = hash_combine(state_hash_, write_id);
  return true;
}

}  // namespace raft
