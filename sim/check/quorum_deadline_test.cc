// QuorumDeadline: when a leader's deadline starts, what moves it, and when it
// is overdue. Each case drives it as the engine does: a connectivity change
// (start_update, then every node judged) at some local time, then overdue().
#include "sim/check/quorum_deadline.h"

#include <doctest/doctest.h>

#include <set>
#include <vector>

namespace sim {
namespace {

using raft::NodeId;

raft::Configuration config(std::vector<NodeId> voters, std::vector<NodeId> learners = {}) {
  raft::Configuration c;
  c.voters = std::move(voters);
  c.learners = std::move(learners);
  return c;
}

// Node 1 leads `term` with `c` at local time `now`; `cut` are the nodes it
// cannot reach. True when it has just lost its quorum.
bool judge(QuorumDeadline& q, const raft::Configuration& c, TimeUs now, std::set<NodeId> cut,
           raft::Term term = 1) {
  q.start_update();
  const bool lost = q.leader(1, term, c, now, [&](NodeId v) { return cut.count(v) == 0; });
  for (NodeId other : {2u, 3u, 4u, 5u}) q.not_leader(other);
  return lost;
}

const std::vector<NodeId> kNodes = {1, 2, 3, 4, 5};
constexpr TimeUs kBound = 1000;  // the leader's check-quorum bound

TEST_CASE("quorum deadline: a leader that reaches a quorum is never cut off") {
  QuorumDeadline q(kNodes, 0, 1'000'000);
  CHECK_FALSE(judge(q, config({1, 2, 3}), 100, {3}));
  CHECK(q.cut_off().empty());
  CHECK_FALSE(q.overdue(1, 1, 1'000'000, kBound));
}

TEST_CASE("quorum deadline: overdue one microsecond past the bound, once") {
  QuorumDeadline q(kNodes, 0, 1'000'000);
  CHECK(judge(q, config({1, 2, 3}), 100, {2, 3}));
  CHECK(q.cut_off() == std::vector<NodeId>{1});
  // A later change that keeps it cut off neither restarts nor reports anew.
  CHECK_FALSE(judge(q, config({1, 2, 3}), 400, {2, 3}));
  CHECK_FALSE(q.overdue(1, 1, 100 + kBound, kBound));
  const auto why = q.overdue(1, 7, 100 + kBound + 1, kBound);
  REQUIRE(why);
  CHECK(*why ==
        "node 1 stayed leader of term 7 for more than 0.001s after it last could reach a quorum of "
        "voters");
  CHECK_FALSE(q.overdue(1, 7, 100 + kBound + 2, kBound));  // reported once
}

TEST_CASE("quorum deadline: runs from when the quorum-th most recent voter was lost") {
  QuorumDeadline q(kNodes, 0, 1'000'000);
  const raft::Configuration c = config({1, 2, 3, 4, 5});
  CHECK_FALSE(judge(q, c, 10, {2}));
  CHECK_FALSE(judge(q, c, 20, {2, 3}));  // 1, 4, 5 are a quorum
  CHECK(judge(q, c, 30, {2, 3, 4}));     // lost when 4 went
  CHECK_FALSE(judge(q, c, 40, {2, 3, 4, 5}));
  CHECK_FALSE(q.overdue(1, 1, 30 + kBound, kBound));
  CHECK(q.overdue(1, 1, 30 + kBound + 1, kBound));
}

TEST_CASE("quorum deadline: regaining a quorum clears it") {
  QuorumDeadline q(kNodes, 0, 1'000'000);
  CHECK(judge(q, config({1, 2, 3}), 100, {2, 3}));
  CHECK_FALSE(judge(q, config({1, 2, 3}), 200, {3}));
  CHECK(q.cut_off().empty());
  CHECK_FALSE(q.overdue(1, 1, 100 + kBound + 1, kBound));
}

TEST_CASE("quorum deadline: what may be in flight, converted at the fastest clock rate") {
  // 1000us of real time at 2x is 2000us of the leader's clock.
  QuorumDeadline fast(kNodes, 1000, 2'000'000);
  CHECK(fast.allowed_us(kBound) == kBound + 2000);
  CHECK(judge(fast, config({1, 2, 3}), 0, {2, 3}));
  CHECK_FALSE(fast.overdue(1, 1, kBound + 2000, kBound));
  CHECK(fast.overdue(1, 1, kBound + 2001, kBound));
  // Rounded up: 1us at 1.5x allows 2us.
  CHECK(QuorumDeadline(kNodes, 1, 1'500'000).allowed_us(0) == 2);
}

TEST_CASE("quorum deadline: a pause does not count against the leader") {
  QuorumDeadline q(kNodes, 0, 1'000'000);
  CHECK(judge(q, config({1, 2, 3}), 100, {2, 3}));
  q.resumed(1, 50);  // paused for 50us of its clock
  CHECK_FALSE(judge(q, config({1, 2, 3}), 160, {2, 3}));
  CHECK_FALSE(q.overdue(1, 1, 150 + kBound, kBound));
  CHECK(q.overdue(1, 1, 150 + kBound + 1, kBound));
}

TEST_CASE("quorum deadline: a configuration change that needs an unreachable voter") {
  // Node 3 is unreachable from 10 on; the leader (a voter) and node 2 are a
  // quorum until, at 500, the leader's own demotion makes it need node 3 too.
  QuorumDeadline q(kNodes, 0, 1'000'000);
  CHECK_FALSE(judge(q, config({1, 2, 3}), 10, {3}));
  CHECK(judge(q, config({2, 3}, {1}), 500, {3}));
  CHECK_FALSE(q.overdue(1, 1, 500 + kBound, kBound));  // not from 10
  CHECK(q.overdue(1, 1, 500 + kBound + 1, kBound));
}

TEST_CASE("quorum deadline: the promotion of an unreachable learner is a configuration change") {
  // Learner 4 and voter 3 are unreachable from 10 on; 1 and 2 are a quorum
  // of three until, at 500, 4's promotion makes them too few of four.
  QuorumDeadline q(kNodes, 0, 1'000'000);
  CHECK_FALSE(judge(q, config({1, 2, 3}, {4}), 10, {3, 4}));
  CHECK(judge(q, config({1, 2, 3, 4}), 500, {3, 4}));
  CHECK_FALSE(q.overdue(1, 1, 500 + kBound, kBound));  // not from 10
  CHECK(q.overdue(1, 1, 500 + kBound + 1, kBound));
}

TEST_CASE("quorum deadline: a voter new to the configuration counts as just heard") {
  QuorumDeadline q(kNodes, 0, 1'000'000);
  CHECK_FALSE(judge(q, config({1, 2, 3}), 10, {}));
  // Nodes 4 and 5 join unreachable at 300: 1, 2, 3 are still a quorum of five.
  CHECK_FALSE(judge(q, config({1, 2, 3, 4, 5}), 300, {4, 5}));
  CHECK(judge(q, config({1, 2, 3, 4, 5}), 400, {3, 4, 5}));
  CHECK_FALSE(q.overdue(1, 1, 400 + kBound, kBound));
  CHECK(q.overdue(1, 1, 400 + kBound + 1, kBound));
}

TEST_CASE("quorum deadline: a new term, a step-down and a lone voter start afresh") {
  QuorumDeadline q(kNodes, 0, 1'000'000);
  CHECK(judge(q, config({1, 2, 3}), 100, {2, 3}));
  q.stop(1);  // stepped down or crashed
  CHECK_FALSE(q.overdue(1, 1, 100 + kBound + 1, kBound));
  // Found cut off again in the same term: the voters' times are kept.
  CHECK(judge(q, config({1, 2, 3}), 200, {2, 3}));
  CHECK(q.overdue(1, 1, 100 + kBound + 1, kBound));
  // Leading a new term counts every voter as heard at its start.
  q.start_update();
  q.not_leader(1);
  CHECK(judge(q, config({1, 2, 3}), 300, {2, 3}, 2));
  CHECK_FALSE(q.overdue(1, 2, 300 + kBound, kBound));
  CHECK(q.overdue(1, 2, 300 + kBound + 1, kBound));
  // A lone voter is its own quorum.
  CHECK_FALSE(judge(q, config({1}), 400, {2, 3, 4, 5}, 3));
  CHECK(q.cut_off().empty());
}

}  // namespace
}  // namespace sim
