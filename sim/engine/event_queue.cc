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

int EventQueue::first_source(const Event*& first) const {
  // The heap's top is found once, then each busy lane's front is compared
  // with the best so far.
  int best = kHeap;
  first = heap_size_ != 0 ? &heap_top() : nullptr;
  for (uint32_t busy = busy_lanes_; busy != 0; busy &= busy - 1) {
    const int lane = __builtin_ctz(busy);
    const Event& front = lanes_[static_cast<size_t>(lane)].front();
    if (first == nullptr || before(front, *first)) {
      best = lane;
      first = &front;
    }
  }
  return best;
}

void EventQueue::take_front(int source, Event& event) {
  --size_;
  if (source == kHeap) {
    event = heap_top();
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
  const Event* first = nullptr;
  const int source = first_source(first);
  if (first->time_us > limit_us) return false;
  take_front(source, event);
  return true;
}

const Event& EventQueue::top() const {
  const Event* first = nullptr;
  first_source(first);
  return *first;
}

Event EventQueue::pop() {
  Event event;
  const Event* first = nullptr;
  take_front(first_source(first), event);
  return event;
}

void EventQueue::bucket_add(size_t b, const Event& event) {
  std::vector<Event>& bucket = buckets_[b];
  if (bucket.empty()) {
    least_[b] = 0;
    nonempty_[b / 64] |= uint64_t{1} << (b % 64);
  } else if (before(event, bucket[least_[b]])) {
    least_[b] = bucket.size();
  }
  bucket.push_back(event);
}

void EventQueue::heap_push(const Event& event) {
  if (before(event, last_)) rebase(event);
  bucket_add(bucket_of(event), event);
  ++heap_size_;
}

void EventQueue::heap_pop() {
  const size_t b = lowest_bucket();
  std::vector<Event>& bucket = buckets_[b];
  const size_t least = least_[b];
  last_ = bucket[least];
  --heap_size_;
  nonempty_[b / 64] &= ~(uint64_t{1} << (b % 64));
  // The others of the bucket now differ from last_ below bit b - 1: each goes
  // to a lower bucket (never back to b, so the vector is not touched while
  // read).
  for (size_t i = 0; i < bucket.size(); ++i) {
    if (i != least) bucket_add(bucket_of(bucket[i]), bucket[i]);
  }
  bucket.clear();
}

void EventQueue::rebase(const Event& event) {
  // A push below the last key given out: never from the simulator, whose
  // events are scheduled no earlier than the one being handled, but the
  // queue stays exact for any caller. Every event is filed again relative
  // to the new, lower last key.
  std::vector<Event> all;
  all.reserve(heap_size_);
  for (size_t b = 0; b < kBuckets; ++b) {
    all.insert(all.end(), buckets_[b].begin(), buckets_[b].end());
    buckets_[b].clear();
  }
  nonempty_ = {};
  last_.time_us = event.time_us;
  last_.order = event.order;
  for (const Event& e : all) bucket_add(bucket_of(e), e);
}

}  // namespace sim
