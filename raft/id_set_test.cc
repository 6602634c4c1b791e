// IdSet against std::set under random inserts and erases: the moving window
// and the ids below it must never lose or invent a member.
#include "raft/id_set.h"

#include <doctest/doctest.h>

#include <set>

#include "raft/types.h"

namespace raft {
namespace {

TEST_CASE("IdSet inserts, finds and erases like a set") {
  IdSet ids;
  CHECK_FALSE(ids.contains(7));
  CHECK(ids.insert(7));
  CHECK_FALSE(ids.insert(7));
  CHECK(ids.contains(7));
  CHECK(ids.size() == 1);
  CHECK(ids.erase(7));
  CHECK_FALSE(ids.erase(7));
  CHECK_FALSE(ids.contains(7));
  CHECK(ids.size() == 0);
}

TEST_CASE("IdSet: ids below the window stay members when the window empties and refills") {
  IdSet ids;
  CHECK(ids.insert(1000));
  CHECK(ids.insert(5));    // a retry of an old write: below the window
  CHECK(ids.erase(1000));  // the window is empty now
  CHECK(ids.insert(3));
  CHECK(ids.contains(5));
  CHECK(ids.contains(3));
  CHECK_FALSE(ids.insert(5));
  CHECK(ids.erase(5));
  CHECK(ids.size() == 1);
}

TEST_CASE("IdSet agrees with std::set over many random operations") {
  IdSet ids;
  std::set<uint64_t> model;
  uint64_t state = 12345;
  for (int step = 0; step < 200000; ++step) {
    state = mix64(state);
    // A small id range makes collisions, long probe runs and re-inserts common.
    const uint64_t id = 1 + state % 5000;
    if ((state >> 40) % 3 == 0) {
      REQUIRE(ids.erase(id) == (model.erase(id) == 1));
    } else {
      REQUIRE(ids.insert(id) == model.insert(id).second);
    }
    REQUIRE(ids.size() == model.size());
  }
  for (uint64_t id = 1; id <= 5000; ++id) REQUIRE(ids.contains(id) == (model.count(id) == 1));
  ids.clear();
  CHECK(ids.size() == 0);
  CHECK_FALSE(ids.contains(*model.begin()));
}

TEST_CASE("IdSet: a window that advances past old members still finds them") {
  // Writes mostly arrive and leave in order, with retries of old ids and
  // jumps: the window moves up as its front empties, older ids go below it.
  IdSet ids;
  std::set<uint64_t> model;
  uint64_t state = 777;
  uint64_t next = 1;
  for (int step = 0; step < 200000; ++step) {
    state = mix64(state);
    const uint64_t roll = state % 100;
    uint64_t id;
    if (roll < 50) {
      id = next++;  // a new write
      REQUIRE(ids.insert(id) == model.insert(id).second);
    } else if (roll < 90 && !model.empty()) {
      id = *model.begin();  // the oldest applies
      REQUIRE(ids.erase(id) == (model.erase(id) == 1));
    } else if (roll < 97) {
      id = 1 + (state >> 20) % next;  // a retry of any earlier write
      REQUIRE(ids.insert(id) == model.insert(id).second);
    } else if (roll < 99) {
      id = 1 + (state >> 20) % next;
      REQUIRE(ids.erase(id) == (model.erase(id) == 1));
    } else {
      next += (state >> 20) % 10000;  // a jump in ids
      continue;
    }
    REQUIRE(ids.size() == model.size());
    REQUIRE(ids.contains(id) == (model.count(id) == 1));
  }
  for (uint64_t id = 1; id < next; id += 7) REQUIRE(ids.contains(id) == (model.count(id) == 1));
  for (uint64_t id : model) REQUIRE(ids.contains(id));
  ids.clear();
  CHECK(ids.size() == 0);
  CHECK_FALSE(ids.contains(*model.begin()));
}

}  // namespace
}  // namespace raft
