// IdSet against std::set under random inserts and erases: the probing and
// backward-shift deletion must never lose or invent a member.
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

}  // namespace
}  // namespace raft
