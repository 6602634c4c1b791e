// The simulator's event queue.
//
// Ordering (the tie-break rules every run follows):
//   1. earlier virtual time first;
//   2. at the same time, lower phase first: Phase::action (scenario timeline
//      actions, in file order), then Phase::node (everything nodes, network,
//      disk and clients do), then Phase::check (instant expectations, which
//      therefore see every event of their instant);
//   3. within a phase, the order of insertion (a sequence number that only
//      grows), so events scheduled for one instant run first-come first-served.
// Nothing else (addresses, hash order, threads) can influence the order.
//
// A 4-ary min-heap: half the depth of a binary heap, and its four children
// share a cache line or two, which matters since push and pop dominate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sim {

using TimeUs = int64_t;

enum class Phase : uint8_t { action = 0, node = 1, check = 2 };

enum class EventKind : uint8_t {
  action,          // a: timeline action index
  action_retry,    // a: timeline action index (a membership action waiting for a leader)
  deliver,         // node: receiver; a: in-flight message slot
  timer,           // node; a: timer kind; b: generation
  disk_done,       // node; a: incarnation; b: token
  client_request,  // node; a: write id
  client_retry,    // a: write id; b: attempt
  workload,        // next workload arrival
  check,           // a: expectation index
};

struct Event {
  TimeUs time_us = 0;
  uint64_t order = 0;  // phase in the top 2 bits, then the insertion sequence
  uint64_t a = 0;
  uint64_t b = 0;
  uint32_t node = 0;
  EventKind kind = EventKind::action;

  Phase phase() const { return static_cast<Phase>(order >> 62); }
};

class EventQueue {
 public:
  void push(Event event, Phase phase);
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Event& top() const { return heap_.front(); }
  Event pop();

 private:
  static bool before(const Event& x, const Event& y) {
    return x.time_us != y.time_us ? x.time_us < y.time_us : x.order < y.order;
  }
  std::vector<Event> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace sim
