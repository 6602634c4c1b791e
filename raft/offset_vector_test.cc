// OffsetVector against std::deque under random pushes, appends, front drops,
// truncations, moves and swaps: compaction, growth by realloc and storage
// taken from a longer vector (trivially copyable elements), and the
// std::vector storage of the others, must keep every element and its
// position.
#include "raft/offset_vector.h"

#include <doctest/doctest.h>

#include <deque>
#include <vector>

#include "raft/types.h"

namespace raft {
namespace {

// Not trivially copyable: stored in a std::vector, not a PodVector.
struct Boxed {
  uint64_t value = 0;
  Boxed() = default;
  Boxed(uint64_t v) : value(v) {}  // NOLINT: implicit, to compare with numbers
  Boxed(const Boxed& other) : value(other.value) {}
  Boxed& operator=(const Boxed& other) = default;
  bool operator==(const Boxed& other) const { return value == other.value; }
};
static_assert(!std::is_trivially_copyable_v<Boxed>);
static_assert(std::is_same_v<OffsetVector<Boxed>::Storage, std::vector<Boxed>>);
static_assert(std::is_same_v<OffsetVector<uint64_t>::Storage, PodVector<uint64_t>>);

TEST_CASE_TEMPLATE("OffsetVector behaves like a deque trimmed at the front", T, uint64_t, Boxed) {
  OffsetVector<T> items;
  std::deque<T> model;
  uint64_t state = 99;
  uint64_t next = 0;
  for (int step = 0; step < 100000; ++step) {
    state = mix64(state);
    const uint64_t roll = state % 100;
    if (roll < 40) {
      items.push_back(next);
      model.push_back(next++);
    } else if (roll < 55) {
      std::vector<T> more;
      for (uint64_t k = (state >> 20) % 200; k > 0; --k) more.push_back(next++);
      model.insert(model.end(), more.begin(), more.end());
      if (roll % 2) {
        items.append(more.data(), more.data() + more.size());
      } else {
        // Another OffsetVector, with dead elements at its head, whose
        // storage items takes when it is the longer one.
        OffsetVector<T> batch;
        const uint64_t dead = (state >> 40) % 8;
        for (uint64_t k = 0; k < dead; ++k) batch.push_back(0);
        batch.drop_front(dead);
        for (const T& item : more) batch.push_back(item);
        items.append(std::move(batch));
      }
    } else if (roll < 59) {
      // Moved out and back, or swapped with a copy and back.
      if (roll % 2) {
        OffsetVector<T> moved(std::move(items));
        items = std::move(moved);
      } else {
        OffsetVector<T> other = items;
        other.swap(items);
        REQUIRE(other.size() == items.size());
      }
    } else if (roll < 85) {
      const size_t n = model.empty() ? 0 : (state >> 20) % (model.size() + 1);
      items.drop_front(n);
      model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(n));
    } else {
      const size_t n = model.empty() ? 0 : (state >> 20) % (model.size() + 1);
      items.truncate(n);
      model.resize(n);
    }
    REQUIRE(items.size() == model.size());
    REQUIRE(items.empty() == model.empty());
    if (!model.empty()) {
      REQUIRE(items.front() == model.front());
      REQUIRE(items.back() == model.back());
      const size_t mid = (state >> 32) % model.size();
      REQUIRE(items[mid] == model[mid]);
    }
  }
}

TEST_CASE("OffsetVector::append of a longer vector keeps its own elements first") {
  OffsetVector<uint64_t> items;
  items.push_back(1);
  items.push_back(2);
  items.push_back(3);
  items.drop_front(1);  // 2, 3, with a dead element in front
  OffsetVector<uint64_t> more;
  for (uint64_t k = 10; k < 100; ++k) more.push_back(k);
  items.append(std::move(more));
  REQUIRE(items.size() == 92);
  CHECK(items.front() == 2);
  CHECK(items[1] == 3);
  CHECK(items[2] == 10);
  CHECK(items.back() == 99);
  const uint64_t one = 100;
  items.append(&one, &one + 1);
  CHECK(items.size() == 93);
  CHECK(items.back() == 100);
}

TEST_CASE("OffsetVector::reserve_for makes room for a whole batch at once") {
  OffsetVector<uint64_t> items;
  items.push_back(0);
  items.reserve_for(1000);
  const uint64_t* first = &items.front();
  for (uint64_t i = 1; i <= 1000; ++i) items.push_back(i);
  CHECK(&items.front() == first);  // no reallocation on the way
  CHECK(items.size() == 1001);
  CHECK(items.back() == 1000);
}

// A copy keeps only the live elements, in order.
TEST_CASE("OffsetVector copies hold the live elements only") {
  OffsetVector<uint64_t> items;
  for (uint64_t i = 0; i < 200; ++i) items.push_back(i);
  items.drop_front(70);
  const OffsetVector<uint64_t> copy = items;
  REQUIRE(copy.size() == 130);
  CHECK(copy.front() == 70);
  CHECK(copy.back() == 199);
  OffsetVector<uint64_t> assigned;
  assigned.push_back(7);
  assigned = copy;
  CHECK(assigned.size() == 130);
  CHECK(assigned[0] == 70);
}

}  // namespace
}  // namespace raft
