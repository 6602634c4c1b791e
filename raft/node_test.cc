// raft::Node, one rule at a time: each test scripts the inputs a rule is
// about (paper Figure 2 and §5, thesis §3.10, §4, §9.6) and checks what the
// node emits. Nodes are driven by hand through raft/test_cluster.h.
#include "raft/node.h"

#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <vector>

#include "raft/node_test_util.h"

namespace raft {
namespace {

using namespace node_test;  // the shared test vocabulary

// ---------------------------------------------------------------------------
// Figure 2, "Rules for Servers: All Servers"

TEST_CASE("§5.1: a message with a higher term updates currentTerm and makes a leader a follower") {
  Solo n(1, kThree);
  n.start();
  make_leader(n, {2});
  REQUIRE(n.node().role() == Role::leader);
  REQUIRE(n.node().current_term() == 1);

  // Even a response (here a refusal) carries the term.
  const Outputs out = n.step(append_resp_msg(3, 1, 5, false, 0));
  CHECK(n.node().role() == Role::follower);
  CHECK(n.node().current_term() == 5);
  CHECK(n.node().voted_for() == kNoNode);
  CHECK(n.node().leader_id() == kNoNode);
  // The new term is written to disk.
  REQUIRE(!out.persists.empty());
  CHECK(out.persists.back().hard_state.current_term == 5);
}

TEST_CASE("§5.1: a candidate that sees a higher term in a vote response becomes a follower") {
  Solo n(1, kThree);
  n.start();
  n.timer(TimerKind::election);
  REQUIRE(n.node().role() == Role::candidate);
  n.step(vote_resp_msg(2, 1, 4, false));
  CHECK(n.node().role() == Role::follower);
  CHECK(n.node().current_term() == 4);
}

TEST_CASE("§5.1: AppendEntries of a stale term is refused with the current term") {
  Solo n(1, disk_with(kThree, {}, 3));
  n.start();
  const Outputs out = n.step(append_msg(2, 1, 2, 0, 0, {write_entry(2, 1)}, 1));
  const Message resp = only(out, MsgType::append_resp);
  CHECK(resp.term == 3);
  CHECK_FALSE(resp.success);
  // Nothing changes: no entry, no leader, no term, no election timer reset.
  CHECK(n.node().log().last_index() == 0);
  CHECK(n.node().leader_id() == kNoNode);
  CHECK(n.node().current_term() == 3);
  CHECK_FALSE(has_election_timer(out));
}

TEST_CASE("§5.1: RequestVote of a stale term is refused with the current term") {
  Solo n(1, disk_with(kThree, {}, 3));
  n.start();
  const Outputs out = n.step(vote_msg(2, 1, 2, 10, 2));
  const Message resp = only(out, MsgType::vote_resp);
  CHECK(resp.term == 3);
  CHECK_FALSE(resp.success);
  CHECK(n.node().voted_for() == kNoNode);
}

// ---------------------------------------------------------------------------
// RequestVote (Figure 2, §5.2, §5.4.1)

TEST_CASE("§5.2: a node votes at most once per term, first come first served") {
  Solo n(1, kThree);
  n.start();
  CHECK(only(respond(n, vote_msg(2, 1, 1, 0, 0)), MsgType::vote_resp).success);
  CHECK(n.node().voted_for() == 2);

  // Another candidate of the same term is refused...
  CHECK_FALSE(only(respond(n, vote_msg(3, 1, 1, 0, 0)), MsgType::vote_resp).success);
  CHECK(n.node().voted_for() == 2);

  // ...while a retransmitted request from the one it voted for is granted again.
  CHECK(only(respond(n, vote_msg(2, 1, 1, 0, 0)), MsgType::vote_resp).success);
}

TEST_CASE("§5.4.1: a vote needs a log at least as up-to-date, last term first, then length") {
  // The voter's log: terms 1, 1, 2 (last index 3, last term 2).
  struct Case {
    Index last_index;
    Term last_term;
    bool granted;
    const char* why;
  };
  const Case cases[] = {
      {5, 1, false, "longer log but older last term"},
      {2, 2, false, "same last term but shorter"},
      {3, 2, true, "identical"},
      {4, 2, true, "same last term and longer"},
      {1, 3, true, "shorter log but newer last term"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.why);
    Solo n(1, disk_with(kThree, {1, 1, 2}, 2));
    n.start();
    CHECK(only(respond(n, vote_msg(2, 1, 3, c.last_index, c.last_term)), MsgType::vote_resp)
              .success == c.granted);
    CHECK(n.node().voted_for() == (c.granted ? NodeId{2} : kNoNode));
  }
}

TEST_CASE("§5.2: granting a vote resets the election timer; refusing one does not") {
  // The node is already in the candidates' term, so no term change resets it.
  Solo n(1, disk_with(kThree, {1, 1, 2}, 2));
  n.start();
  n.now = 1000;
  const Options defaults;

  const Outputs refused = n.step(vote_msg(2, 1, 2, 1, 1));  // stale log
  CHECK_FALSE(has_election_timer(refused));

  const Outputs granted = n.step(vote_msg(3, 1, 2, 3, 2));
  REQUIRE(has_election_timer(granted));
  for (const TimerRequest& t : granted.timers) {
    if (t.kind == TimerKind::election) CHECK(t.at_us == 1000 + defaults.election_timeout_min_us);
  }
}

TEST_CASE("§5.2: adopting a higher term from a vote it refuses does not reset the election timer") {
  // A candidate whose log is ahead refuses a stale candidate of a higher
  // term: it becomes a follower of that term but its timer keeps running, so
  // it campaigns again instead of waiting on a candidate that cannot win.
  Solo n(1, disk_with(kThree, {1, 1, 2}, 2));
  n.start();
  n.timer(TimerKind::election);  // candidate of term 3
  REQUIRE(n.node().role() == Role::candidate);
  n.now = 1000;
  const Outputs refused = n.step(vote_msg(2, 1, 7, 1, 1));  // term 7, stale log
  CHECK(n.node().role() == Role::follower);
  CHECK(n.node().current_term() == 7);
  CHECK_FALSE(has_election_timer(refused));
  // A leader stepping down had no timer running: it gets one.
  Solo l(1, kThree);
  l.start();
  make_leader(l, {2});
  const Outputs stepped_down = l.step(vote_msg(3, 1, 9, 0, 0));
  CHECK(l.node().role() == Role::follower);
  CHECK(has_election_timer(stepped_down));
}

// ---------------------------------------------------------------------------
// AppendEntries (Figure 2, §5.3)

TEST_CASE("§5.3: the consistency check refuses a mismatching prevLog entry, with a hint") {
  // Follower log: terms 1, 1, 2, 2.
  Solo n(1, disk_with(kThree, {1, 1, 2, 2}, 3));
  n.start();

  SUBCASE("conflicting term at prevLogIndex: hint names that term and where it starts") {
    const Message resp = only(n.step(append_msg(2, 1, 3, 4, 3)), MsgType::append_resp);
    CHECK_FALSE(resp.success);
    CHECK(resp.index == 4);
    CHECK(resp.hint_term == 2);
    CHECK(resp.hint_index == 3);
  }
  SUBCASE("prevLogIndex past the end: hint is the next index the follower lacks") {
    const Message resp = only(n.step(append_msg(2, 1, 3, 7, 3)), MsgType::append_resp);
    CHECK_FALSE(resp.success);
    CHECK(resp.index == 7);
    CHECK(resp.hint_term == 0);
    CHECK(resp.hint_index == 5);
  }
  CHECK(n.node().log().last_index() == 4);
  CHECK(n.node().log().last_term() == 2);
  CHECK(n.pending_persists() == 0);
}

TEST_CASE("§5.3: the leader uses the hint to skip the follower's whole conflicting term") {
  // Leader of term 5 with log terms 1, 1, 1, 4, 4 and its no-op (5) at 6.
  Solo n(1, disk_with(kThree, {1, 1, 1, 4, 4}, 4));
  n.start();
  make_leader(n, {2});
  REQUIRE(n.node().role() == Role::leader);
  REQUIRE(n.node().log().last_index() == 6);

  SUBCASE("a term the leader does not hold: resume at the hint index") {
    Message refusal = append_resp_msg(2, 1, 5, false, 5);
    refusal.hint_term = 2;
    refusal.hint_index = 3;
    const Message probe = only(n.step(refusal), MsgType::append);
    CHECK(probe.index == 2);
    CHECK(probe.log_term == 1);
  }
  SUBCASE("a term the leader holds: resume after its last entry of that term") {
    Message refusal = append_resp_msg(2, 1, 5, false, 5);
    refusal.hint_term = 1;
    refusal.hint_index = 1;
    const Message probe = only(n.step(refusal), MsgType::append);
    CHECK(probe.index == 3);
    CHECK(probe.log_term == 1);
    REQUIRE(!probe.entries.empty());
    CHECK(probe.entries.front().term == 4);
  }
}

TEST_CASE("§5.3: a conflicting entry and all that follow it are deleted") {
  Solo n(1, disk_with(kThree, {1, 1, 2, 2, 2}, 3));
  n.start();
  const Outputs out = n.step(append_msg(2, 1, 3, 2, 1, {write_entry(3, 100)}));
  CHECK(n.node().log().last_index() == 3);
  CHECK(n.node().log().term_at(3) == Term{3});
  // The durable write rewrites the log from the conflict on.
  REQUIRE(out.persists.size() == 1);
  CHECK(out.persists[0].has_entries);
  CHECK(out.persists[0].first_index == 3);
  n.persist();
  CHECK(n.disk().log.last_index() == 3);
  CHECK(n.disk().log.term_at(3) == Term{3});
}

TEST_CASE("§5.3: matching entries are kept: a late, shorter AppendEntries truncates nothing") {
  Solo n(1, disk_with(kThree, {1, 1, 2, 2, 2}, 3));
  n.start();
  const Outputs out = n.step(append_msg(2, 1, 3, 1, 1, {write_entry(1, 2)}));
  CHECK(only(out, MsgType::append_resp).success);
  CHECK(n.node().log().last_index() == 5);
  CHECK(out.persists.empty());
}

TEST_CASE("§5.3: commitIndex = min(leaderCommit, index of last new entry)") {
  SUBCASE("leaderCommit beyond the entries received") {
    Solo n(1, disk_with(kThree, {}, 1));
    n.start();
    const Outputs out =
        n.step(append_msg(2, 1, 1, 0, 0, {write_entry(1, 1), write_entry(1, 2)}, 5));
    CHECK(n.node().commit_index() == 2);
    CHECK(out.applied.size() == 2);
  }
  SUBCASE("the follower's longer log beyond the last new entry is not committed") {
    // Entries 3..5 may differ from the leader's: only up to the last new one is known to match.
    Solo n(1, disk_with(kThree, {1, 1, 1, 1, 1}, 1));
    n.start();
    n.step(append_msg(2, 1, 1, 1, 1, {write_entry(1, 2)}, 5));
    CHECK(n.node().commit_index() == 2);
  }
  SUBCASE("leaderCommit below the entries received") {
    Solo n(1, disk_with(kThree, {}, 1));
    n.start();
    n.step(append_msg(2, 1, 1, 0, 0, {write_entry(1, 1), write_entry(1, 2)}, 1));
    CHECK(n.node().commit_index() == 1);
  }
}

// ---------------------------------------------------------------------------
// Reads (thesis §6.4)

// An acknowledgement of AppendEntries that echoes heartbeat round `round`.
Message ack(NodeId from, Index index, uint64_t round, Term term = 1) {
  Message m = append_resp_msg(from, 1, term, true, index);
  m.round = round;
  return m;
}

// The round the leader's latest AppendEntries carry.
uint64_t latest_round(const Outputs& out) {
  const std::vector<Message> appends = of_type(out, MsgType::append);
  REQUIRE_FALSE(appends.empty());
  return appends.back().round;
}

TEST_CASE("§6.4: a read_index read waits for the term's no-op, then a round begun after it") {
  Solo n(1, kThree);
  n.start();
  const uint64_t first = latest_round(make_leader(n, {2}));
  n.writes({{7, 8, 4}});  // a put of key 4, index 2
  n.persist();
  CHECK(n.reads({{1, 4, ReadMode::read_index}}).read_replies.empty());
  // The no-op and the put commit; the read takes commit index 2 and needs a
  // round that begins now, the first one having started before it came.
  const Outputs commit = n.step(ack(2, 2, first));
  REQUIRE(n.node().commit_index() == 2);
  CHECK(commit.read_replies.empty());
  const uint64_t second = latest_round(commit);
  CHECK(second == first + 1);
  CHECK(n.step(ack(3, 2, first)).read_replies.empty());  // an answer to the old round
  const Outputs confirmed = n.step(ack(3, 2, second));
  REQUIRE(confirmed.read_replies.size() == 1);
  CHECK(confirmed.read_replies[0].ok);
  CHECK(confirmed.read_replies[0].value == 7);
  CHECK(confirmed.read_replies[0].applied == 2);
}

TEST_CASE("§6.4: planted bugs read_index_without_heartbeat and read_before_noop_commit") {
  SUBCASE("without heartbeat: answered as soon as the no-op commits") {
    Options options;
    options.bugs.read_index_without_heartbeat = true;
    Solo n(1, kThree, options);
    n.start();
    make_leader(n, {2});
    CHECK(n.reads({{1, 0, ReadMode::read_index}}).read_replies.empty());
    const Outputs out = n.step(ack(2, 1, 0));  // not even an answer to a round
    REQUIRE(out.read_replies.size() == 1);
    CHECK(out.read_replies[0].ok);
  }
  SUBCASE("before the no-op commits: the round alone suffices") {
    Options options;
    options.bugs.read_before_noop_commit = true;
    Solo n(1, kThree, options);
    n.start();
    const uint64_t first = latest_round(make_leader(n, {2}));
    const Outputs sent = n.reads({{1, 0, ReadMode::read_index}});
    CHECK(sent.read_replies.empty());
    const uint64_t round = latest_round(n.step(ack(2, 0, first)));
    Message refusal = append_resp_msg(3, 1, 1, false, 1);  // a lagging follower refuses
    refusal.round = round;
    const Outputs out = n.step(refusal);
    CHECK(n.node().commit_index() == 0);
    REQUIRE(out.read_replies.size() == 1);
    CHECK(out.read_replies[0].applied == 0);
  }
}

TEST_CASE("§6.4.1: a lease read skips the round while the lease holds, shortened by drift") {
  for (bool ignore_drift : {false, true}) {
    CAPTURE(ignore_drift);
    Options options;
    options.lease_reads = true;
    options.bugs.lease_ignores_drift = ignore_drift;
    Solo n(1, kThree, options);
    n.start();
    const uint64_t first = latest_round(make_leader(n, {2}));  // round begins at time 0
    n.step(ack(2, 1, first));                                  // no-op committed, round confirmed
    REQUIRE(n.node().commit_index() == 1);
    // 150ms * (1 - 0.1) / (1 + 0.1) = 122.727ms with the default bound.
    const TimeUs lease_us = ignore_drift ? 150'000 : 122'727;
    n.now = lease_us - 1;
    const Outputs within = n.reads({{1, 0, ReadMode::lease}});
    REQUIRE(within.read_replies.size() == 1);
    CHECK(of_type(within, MsgType::append).empty());  // no round needed
    n.now = lease_us + 1;
    const Outputs after = n.reads({{2, 0, ReadMode::lease}});
    CHECK(after.read_replies.empty());  // falls back to a round
    const Outputs confirmed = n.step(ack(2, 1, latest_round(after)));
    REQUIRE(confirmed.read_replies.size() == 1);
    CHECK(confirmed.read_replies[0].read_id == 2);
  }
}

TEST_CASE("§6.4: followers redirect read_index and lease reads; any node answers a stale read") {
  Solo n(2, kThree);
  n.start();
  n.step(append_msg(1, 2, 1, 0, 0, {write_entry(1, 5)}, 1));
  const Outputs out =
      n.reads({{1, 0, ReadMode::read_index}, {2, 0, ReadMode::lease}, {3, 0, ReadMode::stale}});
  REQUIRE(out.read_replies.size() == 3);
  CHECK_FALSE(out.read_replies[0].ok);
  CHECK(out.read_replies[0].leader_hint == 1);
  CHECK_FALSE(out.read_replies[1].ok);
  CHECK(out.read_replies[2].ok);
  CHECK(out.read_replies[2].value == 5);  // write_entry puts key 0
  CHECK(out.read_replies[2].applied == 1);
}

TEST_CASE("§6.4: a leader that steps down redirects the reads it holds") {
  Solo n(1, kThree);
  n.start();
  make_leader(n, {2});
  n.reads({{1, 0, ReadMode::read_index}});
  const Outputs out = n.step(append_msg(3, 1, 5, 0, 0, {}, 0));
  CHECK(n.node().role() == Role::follower);
  REQUIRE(out.read_replies.size() == 1);
  CHECK_FALSE(out.read_replies[0].ok);
}

}  // namespace
}  // namespace raft
