// bare_loop: the ceiling for any discrete-event simulator on this machine.
//
// Only the event loop is measured: a binary heap of small events ordered by
// (time, seq), and a trivial handler that reschedules one new event per popped
// event at a pseudo-random delay of 1..5000 us.  No Raft logic, no allocation
// per event, no I/O.  A simulator that does real work per event cannot beat
// this number; the ratio between the two tells how much of the simulator's cost
// is the protocol and bookkeeping rather than the queue.
//
// Usage: bare_loop [events] [pending]   (defaults: 20,000,000 and 1,000)
// Output: one JSON line.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <queue>
#include <vector>

namespace {

struct Event {
  int64_t time_us;
  uint64_t seq;
  uint32_t kind;
  uint32_t target;
};

// std::priority_queue is a max-heap: "greater" puts the earliest (time, seq) on top.
struct Later {
  bool operator()(const Event& a, const Event& b) const {
    if (a.time_us != b.time_us) return a.time_us > b.time_us;
    return a.seq > b.seq;
  }
};

// xorshift64: cheap, deterministic, good enough to scatter event times.
struct XorShift {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n_events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000000ULL;
  const uint64_t pending = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000ULL;

  XorShift rng{0x9E3779B97F4A7C15ULL};
  std::vector<Event> storage;
  storage.reserve(pending + 1);
  std::priority_queue<Event, std::vector<Event>, Later> heap(Later{}, std::move(storage));

  uint64_t seq = 0;
  for (uint64_t i = 0; i < pending; ++i) {
    heap.push(Event{static_cast<int64_t>(1 + rng.next() % 5000), seq++,
                    static_cast<uint32_t>(i & 3), static_cast<uint32_t>(i % 5)});
  }

  // Counters the handler updates so the compiler cannot drop the work.
  uint64_t per_kind[4] = {0, 0, 0, 0};
  int64_t now = 0;

  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t done = 0; done < n_events; ++done) {
    const Event ev = heap.top();
    heap.pop();
    now = ev.time_us;
    // Trivial handler: one cheap, data-dependent branch, then reschedule one
    // event so the number pending stays constant.
    uint64_t r = rng.next();
    uint32_t kind = ev.kind;
    if ((r & 7) == 0) {
      kind = (kind + 1) & 3;  // e.g. "a timer fired and became a message"
    }
    per_kind[kind]++;
    heap.push(
        Event{now + 1 + static_cast<int64_t>((r >> 8) % 5000), seq++, kind, (ev.target + 1) % 5});
  }
  const auto t1 = std::chrono::steady_clock::now();
  const double wall = std::chrono::duration<double>(t1 - t0).count();

  std::printf(
      "{\"bench\":\"bare_loop\",\"events\":%llu,\"pending\":%llu,\"wall_s\":%.6f,"
      "\"events_per_s\":%.0f,\"virtual_s\":%.3f,\"checksum\":%llu}\n",
      static_cast<unsigned long long>(n_events), static_cast<unsigned long long>(pending), wall,
      static_cast<double>(n_events) / wall, static_cast<double>(now) / 1e6,
      static_cast<unsigned long long>(per_kind[0] ^ (per_kind[1] << 1) ^ (per_kind[2] << 2) ^
                                      (per_kind[3] << 3)));
  return 0;
}
