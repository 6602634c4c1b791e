// FlatMap against std::map: same membership, same values, same iteration order.
#include "raft/flat_map.h"

#include <doctest/doctest.h>

#include <map>

#include "raft/types.h"

namespace raft {
namespace {

TEST_CASE("FlatMap keeps keys sorted and unique, like std::map") {
  FlatMap<uint32_t, int> flat;
  std::map<uint32_t, int> model;
  uint64_t state = 99;
  for (int step = 0; step < 2000; ++step) {
    state = mix64(state);
    const uint32_t key = static_cast<uint32_t>(state % 300);
    const int value = static_cast<int>(state >> 50);
    const bool inserted = flat.emplace(key, value).second;
    REQUIRE(inserted == model.emplace(key, value).second);
  }
  REQUIRE(flat.size() == model.size());
  auto it = model.begin();
  for (const auto& [key, value] : flat) {
    REQUIRE(key == it->first);
    REQUIRE(value == it->second);
    ++it;
  }
  for (uint32_t key = 0; key < 310; ++key) {
    REQUIRE(flat.count(key) == model.count(key));
    if (model.count(key)) REQUIRE(flat.find(key)->second == model[key]);
  }
  flat.clear();
  CHECK(flat.empty());
  CHECK(flat.find(0) == flat.end());
}

TEST_CASE("FlatMap finds every key of a dense range that lacks one (a leader's peers)") {
  FlatMap<uint32_t, uint32_t> peers;
  for (uint32_t id = 1; id <= 9; ++id) {
    if (id != 4) peers.emplace(id, 10 * id);
  }
  for (uint32_t id = 0; id <= 11; ++id) {
    const auto it = peers.find(id);
    if (id == 0 || id == 4 || id > 9) {
      CHECK(it == peers.end());
    } else {
      REQUIRE(it != peers.end());
      CHECK(it->second == 10 * id);
    }
  }
}

}  // namespace
}  // namespace raft
