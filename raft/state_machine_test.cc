// StateMachine: each write id applies once (thesis §6.3), in bounded memory
// (ids below a floor), and equal histories give equal hashes.
#include "raft/state_machine.h"

#include <doctest/doctest.h>

namespace raft {
namespace {

TEST_CASE("§6.3: a write id applies once; a duplicate changes nothing") {
  StateMachine sm;
  CHECK(sm.apply_write(1, 10));
  const uint64_t hash = sm.state_hash();
  CHECK_FALSE(sm.apply_write(1, 10));
  CHECK(sm.applied_writes() == 1);
  CHECK(sm.size_bytes() == 10);
  CHECK(sm.state_hash() == hash);
}

TEST_CASE("counts and sizes accumulate over distinct writes") {
  StateMachine sm;
  CHECK(sm.state_hash() == 0);
  sm.apply_write(1, 10);
  sm.apply_write(2, 32);
  CHECK(sm.applied_writes() == 2);
  CHECK(sm.size_bytes() == 42);
  CHECK(sm.state_hash() != 0);
}

TEST_CASE("ids applied out of order are remembered until the floor passes them") {
  StateMachine sm;
  sm.apply_write(3, 1);
  sm.apply_write(1, 1);
  CHECK(sm.contains(1));
  CHECK_FALSE(sm.contains(2));  // a gap below an applied id
  CHECK(sm.contains(3));
  CHECK_FALSE(sm.apply_write(3, 1));

  sm.apply_write(2, 1);  // fills the gap: the floor moves past 3
  CHECK(sm.contains(2));
  CHECK(sm.contains(3));
  CHECK_FALSE(sm.contains(4));
  CHECK_FALSE(sm.apply_write(1, 1));
  CHECK_FALSE(sm.apply_write(3, 1));
  CHECK(sm.apply_write(4, 1));
  CHECK(sm.applied_writes() == 4);
}

TEST_CASE("many in-order ids: everything below the floor is held, nothing above") {
  StateMachine sm;
  for (uint64_t id = 1; id <= 10000; ++id) REQUIRE(sm.apply_write(id, 1));
  CHECK(sm.contains(1));
  CHECK(sm.contains(5000));
  CHECK(sm.contains(10000));
  CHECK_FALSE(sm.contains(10001));
  CHECK_FALSE(sm.apply_write(777, 1));
  CHECK(sm.applied_writes() == 10000);
}

TEST_CASE("equal histories are equal; a different order or set is not") {
  StateMachine a, b, c, d;
  for (uint64_t id : {1u, 2u, 3u}) a.apply_write(id, 5);
  for (uint64_t id : {1u, 2u, 3u}) b.apply_write(id, 5);
  b.apply_write(2, 5);  // a duplicate does not alter the state
  for (uint64_t id : {1u, 3u, 2u}) c.apply_write(id, 5);
  for (uint64_t id : {1u, 2u, 4u}) d.apply_write(id, 5);

  CHECK(a == b);
  CHECK(a.state_hash() == b.state_hash());
  CHECK_FALSE(a == c);  // same ids, different order
  CHECK(a.state_hash() != c.state_hash());
  CHECK_FALSE(a == d);
  CHECK(a.state_hash() != d.state_hash());
}

TEST_CASE("one late write: every later id is remembered, then the floor passes them all") {
  // A lost request retried late (a burst of writes): the ids above it span
  // many words of the window, and a copy (a snapshot) keeps them.
  StateMachine sm;
  sm.apply_write(1, 1);
  for (uint64_t id = 3; id <= 5000; ++id) CHECK(sm.apply_write(id, 1));
  const StateMachine snapshot = sm;
  CHECK_FALSE(sm.contains(2));
  CHECK(sm.contains(3));
  CHECK(sm.contains(5000));
  CHECK_FALSE(sm.contains(5001));
  CHECK_FALSE(sm.apply_write(4242, 1));
  CHECK(sm.apply_write(2, 1));  // the late one: the floor moves past 5000
  for (uint64_t id = 1; id <= 5000; ++id) CHECK(sm.contains(id));
  CHECK_FALSE(sm.contains(5001));
  CHECK(sm.apply_write(5001, 1));  // in order again
  CHECK(sm.applied_writes() == 5001);
  CHECK_FALSE(snapshot.contains(2));  // the copy kept its own state
  CHECK(snapshot.contains(4999));
  CHECK(snapshot.applied_writes() == 4999);
  // Gaps far apart, filled in reverse.
  StateMachine gaps;
  for (uint64_t id : {1000u, 700u, 130u, 64u, 63u, 2u}) CHECK(gaps.apply_write(id, 1));
  CHECK(gaps.contains(64));
  CHECK_FALSE(gaps.contains(65));
  for (uint64_t id = 1000; id >= 1; --id) gaps.apply_write(id, 1);
  for (uint64_t id = 1; id <= 1000; ++id) CHECK(gaps.contains(id));
  CHECK(gaps.applied_writes() == 1000);
}

TEST_CASE("key-value: a put sets its key to its id; keys are independent registers") {
  StateMachine sm;
  CHECK(sm.get(0) == 0);  // every key starts absent
  sm.apply_write(1, 8);   // no key: the default key 0
  sm.apply_write(2, 8, 5);
  sm.apply_write(3, 8, 5);
  CHECK(sm.get(0) == 1);
  CHECK(sm.get(5) == 3);
  CHECK(sm.get(6) == 0);
  CHECK_FALSE(sm.apply_write(2, 8, 5));  // a retried put does not go back in time
  CHECK(sm.get(5) == 3);
}

TEST_CASE("key-value: a cas swaps only on the expected value, and its answer is kept") {
  StateMachine sm;
  CHECK(sm.apply_write(1, 8, 7, WriteOp::cas, 0));  // absent, as expected
  CHECK(sm.get(7) == 1);
  CHECK(sm.swapped(1));
  CHECK(sm.apply_write(2, 8, 7, WriteOp::cas, 99));  // applied, but 7 holds 1
  CHECK(sm.get(7) == 1);
  CHECK_FALSE(sm.swapped(2));
  CHECK(sm.contains(2));  // the id is spent: a retry changes nothing
  CHECK_FALSE(sm.apply_write(2, 8, 7, WriteOp::cas, 1));
  CHECK(sm.get(7) == 1);
  CHECK_FALSE(sm.swapped(2));
  CHECK(sm.apply_write(3, 8, 7, WriteOp::cas, 1));
  CHECK(sm.get(7) == 3);
  CHECK(sm.swapped(3));
  CHECK(sm.swapped(4));  // a put (or anything not a failed cas) counts as swapped
}

}  // namespace
}  // namespace raft
