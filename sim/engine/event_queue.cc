#include "sim/engine/event_queue.h"

namespace sim {

void EventQueue::Lane::grow() {
  // Unroll the ring into a buffer twice the size.
  std::vector<Event> grown(slots_.empty() ? 16 : 2 * slots_.size());
  for (size_t i = 0; i < count_; ++i) grown[i] = slots_[(head_ + i) & mask_];
  slots_.swap(grown);
  mask_ = slots_.size() - 1;
  head_ = 0;
}

void EventQueue::push(Event event, Phase phase) {
  event.order = (static_cast<uint64_t>(phase) << 62) | next_seq_++;
  ++size_;
  const size_t k = static_cast<size_t>(event.kind);
  Lane& lane = lanes_[k];
  if (lane.empty() || !before(event, lane.back())) {
    lane.push_back(event);
    busy_lanes_ |= 1u << k;
  } else {
    heap_push(event);
  }
}

int EventQueue::first_source() const {
  int best = kHeap;
  for (uint32_t busy = busy_lanes_; busy != 0; busy &= busy - 1) {
    const int lane = __builtin_ctz(busy);
    if ((best == kHeap && heap_.empty()) ||
        before(lanes_[static_cast<size_t>(lane)].front(), front_of(best))) {
      best = lane;
    }
  }
  return best;
}

void EventQueue::take_front(int source, Event& event) {
  --size_;
  if (source == kHeap) {
    event = heap_.front();
    heap_pop();
    return;
  }
  Lane& lane = lanes_[static_cast<size_t>(source)];
  event = lane.front();
  lane.pop_front();
  if (lane.empty()) busy_lanes_ &= ~(1u << static_cast<unsigned>(source));
}

bool EventQueue::pop_until(TimeUs limit_us, Event& event) {
  if (size_ == 0) return false;
  const int source = first_source();
  if (front_of(source).time_us > limit_us) return false;
  take_front(source, event);
  return true;
}

const Event& EventQueue::top() const {
  return front_of(first_source());
}

Event EventQueue::pop() {
  Event event;
  take_front(first_source(), event);
  return event;
}

void EventQueue::heap_push(const Event& event) {
  heap_.push_back(event);
  size_t i = heap_.size() - 1;
  while (i > 0) {
    const size_t parent = (i - 1) / 4;
    if (!before(event, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = event;
}

void EventQueue::heap_pop() {
  const Event last = heap_.back();
  heap_.pop_back();
  const size_t n = heap_.size();
  if (n == 0) return;
  size_t i = 0;
  for (;;) {
    const size_t first = 4 * i + 1;
    if (first >= n) break;
    size_t best = first;
    const size_t end = first + 4 < n ? first + 4 : n;
    for (size_t c = first + 1; c < end; ++c) {
      if (before(heap_[c], heap_[best])) best = c;
    }
    if (!before(heap_[best], last)) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = last;
}

}  // namespace sim
