#include "raft/state_machine.h"

namespace raft {

bool StateMachine::apply_out_of_order(uint64_t write_id, uint32_t size_bytes, uint32_t key,
                                      WriteOp op, uint64_t expected) {
  if (contains(write_id)) return false;
  if (write_id == floor_) {
    ++floor_;
  } else {
    above_floor_.insert(write_id);
  }
  while (!above_floor_.empty() && *above_floor_.begin() == floor_) {
    above_floor_.erase(above_floor_.begin());
    ++floor_;
  }
  record(write_id, size_bytes, key, op, expected);
  return true;
}

}  // namespace raft
