// Quorum arithmetic against a brute force: majority values of every small
// voter set, vote outcomes as answers arrive, check-quorum at its boundary.
#include "raft/quorum.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace raft {
namespace {

// The largest v that at least a majority of the values reach.
uint64_t brute_majority_value(const std::vector<uint64_t>& values) {
  uint64_t best = 0;
  for (uint64_t v : values) {
    const auto reach =
        std::count_if(values.begin(), values.end(), [v](uint64_t w) { return w >= v; });
    if (static_cast<size_t>(reach) >= majority(values.size())) best = std::max(best, v);
  }
  return best;
}

TEST_CASE("majority is more than half") {
  CHECK(majority(1) == 1);
  CHECK(majority(2) == 2);
  CHECK(majority(3) == 2);
  CHECK(majority(4) == 3);
  CHECK(majority(5) == 3);
  CHECK(majority(1001) == 501);
}

TEST_CASE("majority_value: the index a majority holds") {
  std::vector<uint64_t> none;
  CHECK(majority_value(none) == 0);
  std::vector<uint64_t> one{7};
  CHECK(majority_value(one) == 7);
  std::vector<uint64_t> two{7, 3};  // both must hold it
  CHECK(majority_value(two) == 3);
  std::vector<uint64_t> five{9, 1, 5, 5, 2};
  CHECK(majority_value(five) == 5);
  std::vector<uint64_t> four{9, 8, 1, 2};  // three of four
  CHECK(majority_value(four) == 2);
}

TEST_CASE("majority_value agrees with a brute force on random voter sets") {
  uint64_t draws = 15;           // a fixed sequence of mix64 values
  std::vector<uint64_t> values;  // reused, as the node reuses its buffer
  for (int round = 0; round < 2000; ++round) {
    values.resize(1 + mix64(++draws) % 9);
    for (uint64_t& v : values) v = mix64(++draws) % 7;
    const uint64_t expected = brute_majority_value(values);
    CHECK(majority_value(values) == expected);
  }
}

TEST_CASE("VoteTally: a candidate wins with a majority, itself included") {
  VoteTally votes;
  votes.reset(1);
  CHECK(votes.result(5) == VoteResult::pending);
  CHECK(votes.record(2, true));
  CHECK(votes.result(5) == VoteResult::pending);
  CHECK(votes.record(3, true));
  CHECK(votes.granted() == 3);
  CHECK(votes.result(5) == VoteResult::won);
  votes.reset(1);
  CHECK(votes.result(1) == VoteResult::won);  // a lone voter
  CHECK(votes.result(2) == VoteResult::pending);
}

TEST_CASE("VoteTally: duplicates count once, refusals can lose the election") {
  VoteTally votes;
  votes.reset(1);
  CHECK(votes.record(2, true));
  CHECK_FALSE(votes.record(2, true));  // a duplicated response
  CHECK(votes.granted() == 2);
  CHECK(votes.result(5) == VoteResult::pending);
  CHECK(votes.record(3, false));
  CHECK_FALSE(votes.record(3, false));
  CHECK(votes.record(4, false));
  CHECK(votes.result(5) == VoteResult::pending);  // voter 5 could still make 3
  CHECK(votes.record(5, false));
  CHECK(votes.result(5) == VoteResult::lost);
  CHECK_FALSE(votes.record(2, false));  // a grant is not taken back
  CHECK(votes.granted() == 2);
}

TEST_CASE("VoteTally: a grant after a refusal of the same request counts") {
  VoteTally votes;
  votes.reset(1);
  CHECK(votes.record(2, false));
  CHECK(votes.record(2, true));
  CHECK(votes.result(3) == VoteResult::won);
  votes.clear();
  CHECK(votes.granted() == 0);
  CHECK(votes.result(3) == VoteResult::pending);
}

TEST_CASE("quorum_active: a majority heard at or after since_us, the leader included") {
  const std::vector<NodeId> voters{1, 2, 3, 4, 5};
  std::vector<TimeUs> last_us{0, 0, 100, 99, 150, 40};  // by node id
  auto last = [&last_us](NodeId v) { return last_us[v]; };
  CHECK(quorum_active(voters, 1, 100, last));        // 1 itself, 2 at 100 (boundary), 4
  CHECK_FALSE(quorum_active(voters, 1, 101, last));  // 1 and 4 only
  CHECK_FALSE(quorum_active(voters, 6, 100, last));  // a leader outside: 2 and 4
  last_us[3] = 100;
  CHECK(quorum_active(voters, 6, 100, last));
  CHECK(quorum_active({1}, 1, 1'000'000, last));  // a lone voter always has its quorum
}

}  // namespace
}  // namespace raft
