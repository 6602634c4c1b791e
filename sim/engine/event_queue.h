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
// Structure: most events are scheduled a fixed delay ahead of the moment
// they are created (a link's latency, the disk's write latency, the client
// retry timeout, a heartbeat interval), so the events of one kind mostly come
// in the order they must leave. Each kind has a FIFO lane: an event no earlier
// than the last one in its lane is appended there in O(1); any other goes to a
// 4-ary min-heap (half the depth of a binary heap; four children share a cache
// line or two). pop takes the least of the heap's top and the lanes' fronts.
// Every lane is sorted and the heap is a heap, so the order is exactly the one
// above; the lanes only make the common case cheap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/base/time.h"

namespace sim {

enum class Phase : uint8_t { action = 0, node = 1, check = 2 };

enum class EventKind : uint8_t {
  action,          // a: timeline action index
  action_retry,    // a: timeline action index (a membership action waiting for a leader)
  deliver,         // node: receiver; a: in-flight message slot
  timer,           // node; a: timer kind; b: generation
  disk_done,       // node; a: incarnation; b: token
  client_request,  // node; a: first write id; b: number of writes (consecutive ids)
  client_retry,    // a: first write id; b: number of writes
  workload,        // next workload arrival
  read_request,    // node; a: read id
  read_retry,      // a: read id
  check,           // a: expectation index
};
constexpr size_t kEventKinds = static_cast<size_t>(EventKind::check) + 1;

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
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  const Event& top() const;
  Event pop();
  // Pops the next event into `event` unless it is due after `limit_us`;
  // one scan of the lanes instead of top() and pop()'s two.
  bool pop_until(TimeUs limit_us, Event& event);

 private:
  // A growable ring buffer of events in the order they must leave.
  // (The mask is kept beside the buffer: slots_.size() of 40-byte events
  // is a multiplication by an inverse, on every push and pop.)
  class Lane {
   public:
    bool empty() const { return count_ == 0; }
    const Event& front() const { return slots_[head_]; }
    const Event& back() const { return slots_[(head_ + count_ - 1) & mask_]; }
    void push_back(const Event& event) {
      if (count_ == slots_.size()) grow();
      slots_[(head_ + count_) & mask_] = event;
      ++count_;
    }
    void pop_front() {
      head_ = (head_ + 1) & mask_;
      --count_;
    }

   private:
    void grow();
    std::vector<Event> slots_;  // size is zero or a power of two
    size_t mask_ = 0;           // slots_.size() - 1 once it has slots
    size_t head_ = 0;
    size_t count_ = 0;
  };

  static bool before(const Event& x, const Event& y) {
    return x.time_us != y.time_us ? x.time_us < y.time_us : x.order < y.order;
  }
  static constexpr int kHeap = -1;
  // The index of the lane whose front is due first, or kHeap if the heap's
  // top is.
  int first_source() const;
  const Event& front_of(int source) const {
    return source == kHeap ? heap_.front() : lanes_[static_cast<size_t>(source)].front();
  }
  void take_front(int source, Event& event);
  void heap_push(const Event& event);
  void heap_pop();

  std::vector<Event> heap_;
  std::array<Lane, kEventKinds> lanes_;
  uint32_t busy_lanes_ = 0;  // bit k set while lanes_[k] is not empty
  size_t size_ = 0;
  uint64_t next_seq_ = 0;
};

}  // namespace sim
