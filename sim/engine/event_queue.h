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
// radix heap. pop takes the least of the heap's top and the lanes' fronts.
// Every lane is sorted and the heap gives its least key, so the order is
// exactly the one above; the lanes only make the common case cheap.
//
// The radix heap (Ahuja, Mehlhorn, Orlin and Tarjan 1990) relies on what a
// discrete-event simulation guarantees: nothing is scheduled before the event
// being handled, so every key pushed is above the last key the heap gave out.
// Bucket k holds the events whose key (time, order) first differs from that
// last key at bit k - 1 (of the 128), and keeps the index of its least. Popping
// the least moves the rest of its bucket to lower buckets, so an event moves
// at most 128 times, each time sequentially through a vector. A 4-ary heap
// instead walked log4(n) random cache lines per pop: with a million client
// writes queued at once (random client latencies, so out of lane order) that
// was a third of the run and made a 1M-write burst superlinear.
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
  // top is; `first` is set to that event.
  int first_source(const Event*& first) const;
  void take_front(int source, Event& event);

  // The radix heap. Bucket 0 holds keys equal to last_ (none, keys being
  // unique, unless the heap was rebased); buckets 1..64 keys of last_'s time
  // that differ in order; 65..128 keys of a later time.
  static constexpr size_t kBuckets = 129;
  size_t bucket_of(const Event& event) const {
    if (event.time_us != last_.time_us) {
      const uint64_t diff =
          static_cast<uint64_t>(event.time_us) ^ static_cast<uint64_t>(last_.time_us);
      return 128 - static_cast<size_t>(__builtin_clzll(diff));
    }
    if (event.order != last_.order) {
      return 64 - static_cast<size_t>(__builtin_clzll(event.order ^ last_.order));
    }
    return 0;
  }
  size_t lowest_bucket() const {
    for (size_t word = 0;; ++word) {
      if (nonempty_[word] != 0) {
        return 64 * word + static_cast<size_t>(__builtin_ctzll(nonempty_[word]));
      }
    }
  }
  const Event& heap_top() const {
    const size_t b = lowest_bucket();
    return buckets_[b][least_[b]];
  }
  void bucket_add(size_t b, const Event& event);
  void heap_push(const Event& event);
  void heap_pop();
  void rebase(const Event& event);

  std::array<std::vector<Event>, kBuckets> buckets_;
  std::array<size_t, kBuckets> least_{};  // index of each bucket's least event
  std::array<uint64_t, 3> nonempty_{};    // bit b set while buckets_[b] has events
  size_t heap_size_ = 0;
  Event last_;  // the key of the last event the heap gave out
  std::array<Lane, kEventKinds> lanes_;
  uint32_t busy_lanes_ = 0;  // bit k set while lanes_[k] is not empty
  size_t size_ = 0;
  uint64_t next_seq_ = 0;
};

}  // namespace sim
