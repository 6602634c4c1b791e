// raft::Node, one rule at a time: each test scripts the inputs a rule is
// about (paper Figure 2 and §5, thesis §3.10, §4, §9.6) and checks what the
// node emits. Nodes are driven by hand through raft/test_cluster.h.
#include "raft/node.h"

#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <vector>

#include "raft/test_cluster.h"

namespace doctest {
template <>
struct StringMaker<raft::Role> {
  static String convert(raft::Role role) { return raft::role_name(role); }
};
}  // namespace doctest

namespace raft {
namespace {

using test::append_msg;
using test::append_resp_msg;
using test::Cluster;
using test::disk_with;
using test::find_event;
using test::has_election_timer;
using test::make_config;
using test::make_leader;
using test::of_type;
using test::Solo;
using test::timeout_now_msg;
using test::vote_msg;
using test::vote_resp_msg;
using test::write_entry;

const Configuration kThree = make_config({1, 2, 3});

// The one message of this type the node emitted.
Message only(const Outputs& out, MsgType type) {
  const std::vector<Message> found = of_type(out, type);
  REQUIRE(found.size() == 1);
  return found[0];
}

// What a node emits for a message once its durable writes complete: the
// response to a request that changed the term or vote waits for the disk.
Outputs respond(Solo& n, const Message& m) {
  Outputs out = n.step(m);
  test::append_outputs(out, n.persist());
  return out;
}

// The step_down event's reason, or "" when the node did not step down.
std::string step_down_reason(const std::vector<NodeEvent>& events) {
  const NodeEvent* ev = find_event(events, EventType::step_down);
  return ev ? ev->reason : "";
}
std::string step_down_reason(const Outputs& out) {
  return step_down_reason(out.events);
}

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

// ---------------------------------------------------------------------------
// Leaders (Figure 2, §5.3, §5.4.2, §8)

TEST_CASE("§8: a new leader appends a no-op of its term and sends it to every peer") {
  Solo n(1, kThree);
  n.start();
  const Outputs out = make_leader(n, {2});
  REQUIRE(n.node().role() == Role::leader);
  REQUIRE(n.node().log().last_index() == 1);
  CHECK(n.node().log().at(1).kind == EntryKind::noop);
  CHECK(n.node().log().at(1).term == 1);
  const NodeEvent* elected = find_event(out.events, EventType::elected);
  REQUIRE(elected);
  CHECK(elected->term == 1);
  for (NodeId peer : {2u, 3u}) {
    CAPTURE(peer);
    bool sent = false;
    for (const Message& m : of_type(out, MsgType::append)) {
      if (m.to == peer && !m.entries.empty() && m.entries[0].kind == EntryKind::noop) sent = true;
    }
    CHECK(sent);
  }
}

// Figure 8: node 1 led term 2 and left an uncommitted entry at index 2; as
// leader of term 3 it must not commit it by counting replicas, only together
// with an entry of term 3.
void figure8(bool commit_prior_term_bug) {
  Options options;
  options.bugs.commit_prior_term = commit_prior_term_bug;
  Solo n(1, disk_with(kThree, {1, 2}, 2), options);
  n.start();
  make_leader(n, {2});
  REQUIRE(n.node().current_term() == 3);
  REQUIRE(n.node().log().last_index() == 3);  // the no-op of term 3

  n.step(append_resp_msg(2, 1, 3, true, 2));
  if (commit_prior_term_bug) {
    CHECK(n.node().commit_index() == 2);  // the planted bug commits a term-2 entry by counting
    return;
  }
  CHECK(n.node().commit_index() == 0);
  n.step(append_resp_msg(3, 1, 3, true, 2));
  CHECK(n.node().commit_index() == 0);  // on every node, and still not committed
  const Outputs out = n.step(append_resp_msg(2, 1, 3, true, 3));
  CHECK(n.node().commit_index() == 3);  // the term-3 entry commits, and index 2 with it
  CHECK(out.applied.size() == 3);
}

TEST_CASE("§5.4.2 (Figure 8): a leader commits by counting only entries of its own term") {
  figure8(false);
}

TEST_CASE("§5.2: a candidate that receives AppendEntries from a leader of its term steps back") {
  Solo n(1, kThree);
  n.start();
  n.timer(TimerKind::election);
  n.persist();
  REQUIRE(n.node().role() == Role::candidate);
  const Outputs out = n.step(append_msg(3, 1, 1, 0, 0));
  CHECK(n.node().role() == Role::follower);
  CHECK(n.node().current_term() == 1);
  CHECK(n.node().leader_id() == 3);
  const NodeEvent* role = find_event(out.events, EventType::role);
  REQUIRE(role);
  CHECK(role->from == Role::candidate);
  CHECK(std::string(role->reason) == "leader_found");
  CHECK(only(out, MsgType::append_resp).success);
}

TEST_CASE("client writes to a non-leader are redirected with the leader it knows") {
  SUBCASE("follower that heard from leader 3") {
    Solo n(1, kThree);
    n.start();
    n.step(append_msg(3, 1, 1, 0, 0));
    const Outputs out = n.write(7);
    REQUIRE(out.replies.size() == 1);
    CHECK(out.replies[0].write_id == 7);
    CHECK_FALSE(out.replies[0].ok);
    CHECK(out.replies[0].leader_hint == 3);
    CHECK(n.node().log().last_index() == 0);
  }
  SUBCASE("candidate: no leader to name") {
    Solo n(1, kThree);
    n.start();
    n.timer(TimerKind::election);
    const Outputs out = n.write(7);
    REQUIRE(out.replies.size() == 1);
    CHECK_FALSE(out.replies[0].ok);
    CHECK(out.replies[0].leader_hint == kNoNode);
  }
  SUBCASE("leader accepts: appends, replies only once committed") {
    Solo n(1, kThree);
    n.start();
    make_leader(n, {2});
    const Outputs out = n.write(7);
    CHECK(out.replies.empty());
    CHECK(n.node().log().last_index() == 2);
    CHECK(n.node().log().at(2).write_id == 7);
  }
}

TEST_CASE("§10.2.1: writes that arrive together are one durable write and one append per peer") {
  Solo n(1, kThree);
  n.start();
  make_leader(n, {2});
  n.persist();
  for (NodeId peer : {2u, 3u}) n.step(append_resp_msg(peer, 1, 1, true, 1));  // replicate state
  const Outputs out = n.writes({{7, 8}, {8, 8}, {9, 16}});
  CHECK(n.node().log().last_index() == 4);
  REQUIRE(out.persists.size() == 1);
  CHECK(out.persists[0].first_index == 2);
  CHECK(out.persists[0].entries.size() == 3);
  const std::vector<Message> appends = of_type(out, MsgType::append);
  REQUIRE(appends.size() == 2);
  for (const Message& m : appends) {
    CAPTURE(m.to);
    CHECK(m.index == 1);
    REQUIRE(m.entries.size() == 3);
    CHECK(m.entries[0].write_id == 7);
    CHECK(m.entries[2].write_id == 9);
    CHECK(m.entries[2].size_bytes == 16);
  }
  // A batch to a follower is redirected write by write.
  Solo f(2, kThree);
  f.start();
  f.step(append_msg(3, 1, 1, 0, 0));
  const Outputs redirected = f.writes({{7, 8}, {8, 8}});
  REQUIRE(redirected.replies.size() == 2);
  CHECK(redirected.replies[1].write_id == 8);
  CHECK(redirected.replies[1].leader_hint == 3);
  CHECK(f.node().log().last_index() == 0);
}

// ---------------------------------------------------------------------------
// Persistence before responding (Figure 2: "updated on stable storage before
// responding to RPCs")

TEST_CASE("a granted vote is sent only after on_persisted reports the vote durable") {
  Solo n(1, kThree);
  n.start();
  const Outputs out = n.step(vote_msg(2, 1, 1, 0, 0));
  CHECK(out.messages.empty());
  REQUIRE(out.persists.size() == 1);
  CHECK(out.persists[0].hard_state.current_term == 1);
  CHECK(out.persists[0].hard_state.voted_for == 2);
  const Message resp = only(n.persist(), MsgType::vote_resp);
  CHECK(resp.success);
  CHECK(n.disk().hard_state.voted_for == 2);
}

void ack_persist_order(bool ack_before_persist_bug) {
  Options options;
  options.bugs.ack_before_persist = ack_before_persist_bug;
  Solo n(1, disk_with(kThree, {}, 1), options);
  n.start();
  const Outputs out = n.step(append_msg(2, 1, 1, 0, 0, {write_entry(1, 1)}));
  REQUIRE(out.persists.size() == 1);
  if (ack_before_persist_bug) {
    // PLANTED BUG: the ack leaves before the entry is on disk.
    const Message ack = only(out, MsgType::append_resp);
    CHECK(ack.success);
    CHECK(ack.index == 1);
    CHECK(n.disk().log.last_index() == 0);
    return;
  }
  CHECK(out.messages.empty());
  const Message ack = only(n.persist(), MsgType::append_resp);
  CHECK(ack.success);
  CHECK(ack.index == 1);
  CHECK(n.disk().log.last_index() == 1);
}

TEST_CASE("an AppendEntries ack of new entries is sent only after on_persisted") {
  ack_persist_order(false);
}

TEST_CASE("a heartbeat ack that depends on nothing new is sent at once") {
  Solo n(1, disk_with(kThree, {1}, 1));
  n.start();
  const Outputs out = n.step(append_msg(2, 1, 1, 1, 1));
  CHECK(only(out, MsgType::append_resp).success);
  CHECK(out.persists.empty());
}

// ---------------------------------------------------------------------------
// Pre-vote (thesis §9.6) and leadership transfer (thesis §3.10)

TEST_CASE("§9.6: a pre-candidate asks for term+1 without changing its term or vote") {
  Options options;
  options.pre_vote = true;
  Solo n(1, kThree, options);
  n.start();
  const Outputs out = n.timer(TimerKind::election);
  CHECK(n.node().role() == Role::precandidate);
  CHECK(n.node().current_term() == 0);
  CHECK(n.node().voted_for() == kNoNode);
  CHECK(out.persists.empty());
  const std::vector<Message> asks = of_type(out, MsgType::pre_vote);
  REQUIRE(asks.size() == 2);
  for (const Message& m : asks) CHECK(m.term == 1);

  // A quorum of pre-votes starts the real election.
  const Outputs won = n.step(vote_resp_msg(2, 1, 1, true, true));
  CHECK(n.node().role() == Role::candidate);
  CHECK(n.node().current_term() == 1);
  CHECK(n.node().voted_for() == 1);
  CHECK(won.messages.empty());  // the votes wait for the new term on disk
  CHECK(of_type(n.persist(), MsgType::vote).size() == 2);
}

TEST_CASE("§9.6: a pre-vote is granted without changing the voter's term or vote") {
  Options options;
  options.pre_vote = true;
  Solo n(2, kThree, options);
  n.start();
  const Outputs out = n.step(vote_msg(1, 2, 1, 0, 0, true));
  const Message resp = only(out, MsgType::pre_vote_resp);
  CHECK(resp.success);
  CHECK(resp.term == 1);
  CHECK(n.node().current_term() == 0);
  CHECK(n.node().voted_for() == kNoNode);
  CHECK(out.persists.empty());
}

TEST_CASE("§9.6: a pre-vote is refused while a leader was heard within election_timeout_min") {
  Options options;
  options.pre_vote = true;
  Solo n(2, disk_with(kThree, {}, 1), options);
  n.start();
  n.step(append_msg(3, 2, 1, 0, 0));  // leader 3 heard at t=0

  n.now = options.election_timeout_min_us - 1;
  const Message refused = only(n.step(vote_msg(1, 2, 2, 0, 0, true)), MsgType::pre_vote_resp);
  CHECK_FALSE(refused.success);
  CHECK(refused.term == 1);
  CHECK(n.node().current_term() == 1);

  n.now = options.election_timeout_min_us;
  CHECK(only(n.step(vote_msg(1, 2, 2, 0, 0, true)), MsgType::pre_vote_resp).success);
  CHECK(n.node().current_term() == 1);
}

TEST_CASE("§3.10: TimeoutNow makes the target campaign at once, skipping pre-vote") {
  Options options;
  options.pre_vote = true;
  Solo n(2, disk_with(kThree, {}, 1), options);
  n.start();
  n.step(append_msg(1, 2, 1, 0, 0));  // a live leader: a pre-vote would be refused
  n.step(timeout_now_msg(1, 2, 1));
  CHECK(n.node().role() == Role::candidate);
  CHECK(n.node().current_term() == 2);
  const std::vector<Message> votes = of_type(n.persist(), MsgType::vote);
  REQUIRE(votes.size() == 2);
  for (const Message& m : votes) {
    CHECK(m.term == 2);
    CHECK(m.transfer);
  }
}

TEST_CASE("§3.10: a TimeoutNow of an older term is ignored") {
  Solo n(2, disk_with(kThree, {}, 2));
  n.start();
  n.step(timeout_now_msg(1, 2, 1));
  CHECK(n.node().role() == Role::follower);
  CHECK(n.node().current_term() == 2);
}

// ---------------------------------------------------------------------------
// Leader step-down, one test per reason (shared/spec/raft-roles.md)

TEST_CASE("step down: higher_term, from an AppendEntries of a newer leader") {
  Solo n(1, kThree);
  n.start();
  make_leader(n, {2});
  const Outputs out = n.step(append_msg(2, 1, 2, 1, 1));
  CHECK(n.node().role() == Role::follower);
  CHECK(n.node().leader_id() == 2);
  CHECK(step_down_reason(out) == "higher_term");
  CHECK(find_event(out.events, EventType::step_down)->term == 1);  // the term it led in
}

TEST_CASE("step down: higher_term, from a RequestVote of a higher term that it refuses") {
  Solo n(1, kThree);
  n.start();
  make_leader(n, {2});
  const Outputs out = n.step(vote_msg(3, 1, 2, 0, 0));  // candidate lacks the leader's no-op
  CHECK(n.node().role() == Role::follower);
  CHECK(n.node().current_term() == 2);
  CHECK(step_down_reason(out) == "higher_term");
  CHECK_FALSE(only(n.persist(), MsgType::vote_resp).success);
}

TEST_CASE("step down: granted_vote, when the leader grants a higher-term candidate its vote") {
  Solo n(1, kThree);
  n.start();
  make_leader(n, {2});
  const Outputs out = n.step(vote_msg(3, 1, 2, 1, 1));
  CHECK(n.node().role() == Role::follower);
  CHECK(step_down_reason(out) == "granted_vote");
  CHECK(only(n.persist(), MsgType::vote_resp).success);
  CHECK(n.node().voted_for() == 3);
}

// A leader elected at t=0 whose heartbeat timer fires at `at` with no
// response ever received.
Outputs silent_leader_tick(TimeUs at, Solo& n) {
  n.start();
  make_leader(n, {2});
  REQUIRE(n.node().role() == Role::leader);
  n.now = at;
  return n.timer(TimerKind::heartbeat);
}

TEST_CASE("step down: lost_quorum, after more than election_timeout_max without a quorum") {
  const Options options;
  Solo n(1, kThree, options);
  const Outputs at_limit = silent_leader_tick(options.election_timeout_max_us, n);
  CHECK(n.node().role() == Role::leader);
  CHECK(step_down_reason(at_limit) == "");

  n.now = options.election_timeout_max_us + 1;
  const Outputs past = n.timer(TimerKind::heartbeat);
  CHECK(n.node().role() == Role::follower);
  CHECK(n.node().current_term() == 1);
  CHECK(step_down_reason(past) == "lost_quorum");
}

TEST_CASE("lost_quorum never happens with check_quorum off") {
  Options options;
  options.check_quorum = false;
  Solo n(1, kThree, options);
  const Outputs out = silent_leader_tick(10 * options.election_timeout_max_us, n);
  CHECK(n.node().role() == Role::leader);
  CHECK(step_down_reason(out) == "");
}

TEST_CASE("a leader that hears from a quorum every heartbeat does not step down") {
  const Options options;
  Solo n(1, kThree, options);
  n.start();
  make_leader(n, {2});
  for (TimeUs t = options.heartbeat_interval_us; t <= 20 * options.election_timeout_max_us;
       t += options.heartbeat_interval_us) {
    n.now = t;
    n.step(append_resp_msg(2, 1, 1, true, 1));  // node 3 stays silent
    CHECK(step_down_reason(n.timer(TimerKind::heartbeat)) == "");
  }
  CHECK(n.node().role() == Role::leader);
}

TEST_CASE("step down: transfer, once the target is caught up and TimeoutNow is sent") {
  Solo n(1, kThree);
  n.start();
  make_leader(n, {2});
  n.persist();
  n.step(append_resp_msg(2, 1, 1, true, 1));  // node 2 holds the whole log
  const Outputs out = n.transfer(2);
  const Message tn = only(out, MsgType::timeout_now);
  CHECK(tn.to == 2);
  CHECK(tn.term == 1);
  CHECK(n.node().role() == Role::follower);
  CHECK(step_down_reason(out) == "transfer");
}

TEST_CASE("§3.10: a transfer to a lagging target waits for it, refusing writes meanwhile") {
  Solo n(1, kThree);
  n.start();
  make_leader(n, {2});
  const Outputs started = n.transfer(3);  // node 3 has acknowledged nothing
  CHECK(of_type(started, MsgType::timeout_now).empty());
  CHECK(n.node().role() == Role::leader);
  const Outputs refused = n.write(9);
  REQUIRE(refused.replies.size() == 1);
  CHECK_FALSE(refused.replies[0].ok);

  const Outputs caught_up = n.step(append_resp_msg(3, 1, 1, true, 1));
  CHECK(only(caught_up, MsgType::timeout_now).to == 3);
  CHECK(step_down_reason(caught_up) == "transfer");
}

TEST_CASE("step down: removed, when a configuration without the leader commits") {
  Solo n(1, kThree);
  n.start();
  make_leader(n, {2});
  n.step(append_resp_msg(2, 1, 1, true, 1));
  REQUIRE(n.node().commit_index() == 1);  // the no-op: changes wait for it

  n.change_config(ConfigChange::remove, 1);
  REQUIRE(n.node().log().last_index() == 2);
  REQUIRE(n.node().log().at(2).kind == EntryKind::config);
  n.persist();
  CHECK(n.node().role() == Role::leader);  // not yet committed: still leads

  n.step(append_resp_msg(2, 1, 1, true, 2));
  // A configuration entry also needs a majority of the new configuration
  // ({2, 3}) before it commits.
  CHECK(n.node().commit_index() == 1);
  n.step(append_resp_msg(3, 1, 1, true, 2));
  CHECK(n.node().commit_index() == 2);
  CHECK_FALSE(n.node().config().contains(1));
  // Configurations apply on commit, so the leader stays (not counting
  // itself) until a quorum of the new configuration knows the change
  // committed; otherwise they would keep electing under the old one.
  CHECK(n.node().role() == Role::leader);
  Message known_by_2 = append_resp_msg(2, 1, 1, true, 2);
  known_by_2.commit = 2;
  CHECK(step_down_reason(n.step(known_by_2)) == "");
  Message known_by_3 = append_resp_msg(3, 1, 1, true, 2);
  known_by_3.commit = 2;
  const Outputs out = n.step(known_by_3);
  CHECK(n.node().role() == Role::learner);
  CHECK(step_down_reason(out) == "removed");
}

TEST_CASE("step down: removed, at the latest one election timeout after the change commits") {
  Solo n(1, kThree);
  n.start();
  make_leader(n, {2});
  n.step(append_resp_msg(2, 1, 1, true, 1));
  n.change_config(ConfigChange::remove, 1);
  n.persist();
  n.step(append_resp_msg(2, 1, 1, true, 2));
  n.step(append_resp_msg(3, 1, 1, true, 2));
  REQUIRE(n.node().commit_index() == 2);
  REQUIRE(n.node().role() == Role::leader);
  n.now += Options{}.election_timeout_max_us;
  const Outputs out = n.timer(TimerKind::heartbeat);
  CHECK(n.node().role() == Role::learner);
  CHECK(step_down_reason(out) == "removed");
}

// ---------------------------------------------------------------------------
// Learners (thesis §4.2.1)

const Configuration kThreePlusLearner = make_config({1, 2, 3}, {4});

TEST_CASE("a learner never campaigns, even when its election timer fires") {
  Solo n(4, kThreePlusLearner);
  const Outputs started = n.start();
  CHECK(n.node().role() == Role::learner);
  CHECK_FALSE(has_election_timer(started));
  const Outputs out = n.timer(TimerKind::election);
  CHECK(n.node().role() == Role::learner);
  CHECK(n.node().current_term() == 0);
  CHECK(out.messages.empty());
}

TEST_CASE("a learner asked for its vote grants it, but still never campaigns") {
  // Only a candidate whose configuration has node 4 as a voter asks it: it
  // was promoted by a change that committed without reaching it (fuzz seed
  // 7604). The candidate counts the votes of its own voters only.
  Solo n(4, kThreePlusLearner);
  n.start();
  const Outputs out = respond(n, vote_msg(1, 4, 1, 0, 0));
  CHECK(only(out, MsgType::vote_resp).success);
  CHECK(n.node().current_term() == 1);
  CHECK(n.node().voted_for() == 1);
  CHECK(n.node().role() == Role::learner);
  CHECK_FALSE(has_election_timer(out));
}

// A disk whose log holds a write (term 1) and then a configuration entry
// (term 1) that replaces `before` with `after`, committed up to `commit`.
DurableState disk_changing(const Configuration& before, const Configuration& after, Index commit) {
  DurableState d = disk_with(before, {1}, 1, kNoNode, commit);
  Entry change;
  change.term = 1;
  change.kind = EntryKind::config;
  change.config = intern_config(after);
  d.log.append(change);
  return d;
}

TEST_CASE("a node that knows its removal committed votes for a candidate that does not") {
  // Fuzz seed 4276: node 1 led {1, 3}, removed itself and stepped down once
  // {3} committed, before node 3 learned of the commit. Node 3 still
  // counts under {1, 3}; only node 1's vote can elect it, and only a leader
  // can tell it of the commit.
  Solo n(1, disk_changing(make_config({1, 3}), make_config({3}), 2));
  n.start();
  REQUIRE(n.node().role() == Role::learner);
  CHECK(only(respond(n, vote_msg(3, 1, 2, 2, 1)), MsgType::vote_resp).success);
  CHECK(n.node().voted_for() == 3);
}

TEST_CASE("a voter whose removal has not committed is heard: its higher term is adopted") {
  // Fuzz seed 8053: node 1 holds an uncommitted change that removes node 3,
  // and the longer log. Had it ignored node 3's vote requests, node 3 would
  // stay a term ahead, refusing node 1's requests as a repeat of its own
  // vote term after term.
  Solo n(1, disk_changing(make_config({1, 3}), make_config({1}), 1));
  n.start();
  REQUIRE(n.node().latest_config().voters == std::vector<NodeId>{1});
  const Message refused = only(respond(n, vote_msg(3, 1, 5, 1, 1)), MsgType::vote_resp);
  CHECK_FALSE(refused.success);  // node 3 lacks the configuration entry
  CHECK(n.node().current_term() == 5);
  n.timer(TimerKind::election);
  CHECK(n.node().current_term() == 6);
}

TEST_CASE("§4.2.3: within election_timeout_min of hearing a leader, a RequestVote is ignored") {
  Solo n(2, disk_with(kThree, {}, 1));
  n.start();
  n.step(append_msg(3, 2, 1, 0, 0));  // leader 3 heard at t=0

  n.now = Options{}.election_timeout_min_us - 1;
  const Outputs ignored = n.step(vote_msg(1, 2, 2, 0, 0));
  CHECK(ignored.messages.empty());
  CHECK(ignored.persists.empty());
  CHECK(n.node().current_term() == 1);
  CHECK(n.node().voted_for() == kNoNode);

  // A campaign that TimeoutNow started may disrupt the leader: it asked.
  Message transfer = vote_msg(1, 2, 2, 0, 0);
  transfer.transfer = true;
  CHECK(only(respond(n, transfer), MsgType::vote_resp).success);
  CHECK(n.node().current_term() == 2);
}

TEST_CASE("§4.2.3: once election_timeout_min has passed, a RequestVote is heard again") {
  Solo n(2, disk_with(kThree, {}, 1));
  n.start();
  n.step(append_msg(3, 2, 1, 0, 0));
  n.now = Options{}.election_timeout_min_us;
  CHECK(only(respond(n, vote_msg(1, 2, 2, 0, 0)), MsgType::vote_resp).success);
  CHECK(n.node().current_term() == 2);
}

TEST_CASE("a learner's acknowledgement does not count toward a commit quorum") {
  Solo n(1, kThreePlusLearner);
  n.start();
  make_leader(n, {2});
  REQUIRE(n.node().learner_progress().count(4) == 1);
  n.step(append_resp_msg(4, 1, 1, true, 1));
  CHECK(n.node().commit_index() == 0);  // leader + learner is not a majority of {1,2,3}
  n.step(append_resp_msg(2, 1, 1, true, 1));
  CHECK(n.node().commit_index() == 1);
}

// ---------------------------------------------------------------------------
// Planted bugs: each flag changes exactly the behaviour it names; the
// unflagged twin of each script lives in the tests above.

TEST_CASE("planted bug vote_ignores_log: grants a vote to a candidate with a stale log") {
  for (bool bug : {false, true}) {
    CAPTURE(bug);
    Options options;
    options.bugs.vote_ignores_log = bug;
    Solo n(1, disk_with(kThree, {1, 1, 2}, 2), options);
    n.start();
    // An older last term than the voter's.
    CHECK(only(respond(n, vote_msg(2, 1, 3, 5, 1)), MsgType::vote_resp).success == bug);
  }
}

TEST_CASE("planted bug commit_prior_term: commits an earlier-term entry by counting replicas") {
  figure8(true);
}

TEST_CASE("planted bug forget_vote_on_restart: votes again in the same term after a restart") {
  for (bool bug : {false, true}) {
    CAPTURE(bug);
    Options options;
    options.bugs.forget_vote_on_restart = bug;
    Solo n(1, kThree, options);
    n.start();
    REQUIRE(only(respond(n, vote_msg(2, 1, 1, 0, 0)), MsgType::vote_resp).success);
    REQUIRE(n.disk().hard_state.voted_for == 2);

    n.restart();
    CHECK(n.node().current_term() == 1);
    CHECK(only(respond(n, vote_msg(3, 1, 1, 0, 0)), MsgType::vote_resp).success == bug);
  }
}

TEST_CASE("planted bug no_truncate_on_conflict: keeps the conflicting suffix") {
  Options options;
  options.bugs.no_truncate_on_conflict = true;
  Solo n(1, disk_with(kThree, {1, 1, 2, 2, 2}, 3), options);
  n.start();
  n.step(append_msg(2, 1, 3, 2, 1, {write_entry(3, 100)}));
  CHECK(n.node().log().last_index() == 5);  // the fixed node truncates to 3
  CHECK(n.node().log().term_at(3) == Term{3});
  CHECK(n.node().log().term_at(4) == Term{2});
}

TEST_CASE("planted bug ack_before_persist: acknowledges entries before on_persisted") {
  ack_persist_order(true);
}

TEST_CASE("planted bug no_check_quorum: a leader never steps down for lost quorum") {
  Options options;
  options.bugs.no_check_quorum = true;
  Solo n(1, kThree, options);
  const Outputs out = silent_leader_tick(10 * options.election_timeout_max_us, n);
  CHECK(n.node().role() == Role::leader);
  CHECK(step_down_reason(out) == "");
}

TEST_CASE("planted bug demote_without_consensus: the leader stops counting lagging voters") {
  for (bool bug : {false, true}) {
    CAPTURE(bug);
    Options options;
    options.max_lag_threshold = 2;
    options.bugs.demote_without_consensus = bug;
    Solo n(1, kThree, options);
    n.start();
    make_leader(n, {2});
    for (uint64_t id = 1; id <= 4; ++id) n.write(id);
    n.persist();
    // Peers have acknowledged nothing: they lag 5 entries, beyond the threshold.
    const std::vector<NodeId> counted = n.node().counted_voters();
    CHECK(counted == (bug ? std::vector<NodeId>{1} : std::vector<NodeId>{1, 2, 3}));
    // So with the bug the leader commits on its own disk alone.
    CHECK(n.node().commit_index() == (bug ? 5 : 0));
    CHECK(n.node().config().voters == std::vector<NodeId>{1, 2, 3});  // no config change
  }
}

TEST_CASE("planted bug demote_without_consensus: a follower seeing itself lag refuses votes") {
  for (bool bug : {false, true}) {
    CAPTURE(bug);
    Options options;
    options.max_lag_threshold = 2;
    options.bugs.demote_without_consensus = bug;
    Solo n(1, disk_with(kThree, {}, 1), options);
    n.start();
    n.step(append_msg(2, 1, 1, 0, 0, {}, 10));  // leader commit far past our log
    n.now = options.election_timeout_min_us;    // past the leader's lease (§4.2.3)
    CHECK(only(respond(n, vote_msg(3, 1, 2, 0, 0)), MsgType::vote_resp).success == !bug);
  }
}

// A happy path touches none of the planted mistakes: no earlier-term entry
// to commit, no conflict, no restart, no stale log, no lost quorum, no lag.
struct HappyPath {
  std::vector<std::tuple<MsgType, NodeId, NodeId, Term, Index, bool>> delivered;
  std::vector<std::tuple<Term, Index, uint64_t>> final_state;
};

HappyPath run_happy_path(const Options& options) {
  Cluster c(kThree, options);
  c.elect(1);
  for (uint64_t id = 1; id <= 3; ++id) c.write(1, id);
  c.settle();
  c.advance(options.heartbeat_interval_us);
  c.timer(1, TimerKind::heartbeat);
  c.settle();
  HappyPath run;
  for (const Message& m : c.delivered) {
    run.delivered.emplace_back(m.type, m.from, m.to, m.term, m.index, m.success);
  }
  for (NodeId id : {1u, 2u, 3u}) {
    run.final_state.emplace_back(c.node(id).current_term(), c.node(id).commit_index(),
                                 c.node(id).state_machine().state_hash());
  }
  return run;
}

TEST_CASE("planted bugs: each flag leaves a run that never meets its mistake unchanged") {
  const HappyPath baseline = run_happy_path(Options{});
  REQUIRE(std::get<1>(baseline.final_state[0]) == 4);
  for (const std::string& name : PlantedBugs::names()) {
    CAPTURE(name);
    Options options;
    REQUIRE(options.bugs.enable(name));
    const HappyPath run = run_happy_path(options);
    CHECK(run.final_state == baseline.final_state);
    // Acknowledging before the disk reorders acks relative to other
    // messages; every other flag leaves the exchange itself identical.
    if (name != "ack_before_persist") CHECK(run.delivered == baseline.delivered);
  }
  Options options;
  CHECK_FALSE(options.bugs.enable("no_such_bug"));
}

// ---------------------------------------------------------------------------
// Membership guards, single voter

TEST_CASE("§4.2.3: a leader ignores a RequestVote from a node outside its configuration") {
  Solo n(1, kThree);
  n.start();
  make_leader(n, {2});
  const Outputs out = n.step(vote_msg(9, 1, 5, 10, 4));
  CHECK(out.messages.empty());
  CHECK(out.persists.empty());
  CHECK(n.node().role() == Role::leader);
  CHECK(n.node().current_term() == 1);
}

TEST_CASE("§4.2.3: past the lease, a follower adopts an outsider's term but refuses its vote") {
  // Fuzz seed 7547: a removed node that never learned it campaigned for
  // seconds; re-added as a learner, its answers at its higher term deposed
  // each new leader, whose term the cluster never raised past its own.
  Solo n(1, kThree);
  n.start();
  const Message refused = only(respond(n, vote_msg(9, 1, 5, 10, 4)), MsgType::vote_resp);
  CHECK_FALSE(refused.success);
  CHECK(n.node().current_term() == 5);
  CHECK(n.node().voted_for() == kNoNode);
}

TEST_CASE("a single voter leads once its vote is durable, and commits once its entry is") {
  Solo n(1, make_config({1}));
  n.start();
  const Outputs out = n.timer(TimerKind::election);
  CHECK(n.node().role() == Role::candidate);  // its term and vote are not yet durable
  CHECK(n.node().current_term() == 1);
  CHECK(out.messages.empty());
  n.persist();
  CHECK(n.node().role() == Role::leader);
  CHECK(n.node().commit_index() == 1);  // the no-op, durable with the persist above
  n.write(5);
  CHECK(n.node().commit_index() == 1);
  const Outputs acked = n.persist();
  CHECK(n.node().commit_index() == 2);
  REQUIRE(acked.replies.size() == 1);
  CHECK(acked.replies[0].ok);
  CHECK(acked.replies[0].index == 2);
}

TEST_CASE("a single voter that crashes before its vote is durable never led that term") {
  // Fuzz seed 5946: elected at once, it appended a no-op of term 5 in
  // memory, crashed before the disk had term 5, restarted in term 4 and led
  // term 5 again, appending another entry at the same index and term.
  Solo n(1, make_config({1}));
  n.start();
  const Outputs campaign = n.timer(TimerKind::election);
  CHECK(find_event(campaign.events, EventType::elected) == nullptr);
  CHECK(n.node().log().last_index() == 0);  // no entry of term 1 before the crash
  n.restart();                              // the write of term 1 and the vote is lost
  CHECK(n.node().current_term() == 0);
  n.timer(TimerKind::election);
  const Outputs durable = n.persist();
  CHECK(find_event(durable.events, EventType::elected) != nullptr);
  CHECK(n.node().current_term() == 1);
  CHECK(n.node().log().last_index() == 1);
}

// ---------------------------------------------------------------------------
// Restart and a whole cluster through the harness

TEST_CASE("a restarted node re-applies the entries its durable commit index covers") {
  Solo n(1, disk_with(kThree, {1, 1, 1}, 1, kNoNode, 2));
  const Outputs out = n.start();
  CHECK(n.node().commit_index() == 2);
  CHECK(n.node().last_applied() == 2);
  REQUIRE(out.applied.size() == 2);
  CHECK(n.node().state_machine().contains(1));
  CHECK(n.node().state_machine().contains(2));
  CHECK_FALSE(n.node().state_machine().contains(3));
}

TEST_CASE("three nodes elect a leader, commit a write and converge") {
  Cluster c(kThree);
  c.elect(1);
  REQUIRE(c.node(1).role() == Role::leader);
  CHECK(c.node(2).leader_id() == 1);
  CHECK(c.node(3).leader_id() == 1);

  c.write(1, 42);
  c.settle();
  REQUIRE(c.replies[1].size() == 1);
  CHECK(c.replies[1][0].ok);
  CHECK(c.replies[1][0].index == 2);

  c.advance(Options().heartbeat_interval_us);
  c.timer(1, TimerKind::heartbeat);  // carries the commit index to the followers
  c.settle();
  for (NodeId id : {1u, 2u, 3u}) {
    CAPTURE(id);
    CHECK(c.node(id).commit_index() == 2);
    CHECK(c.node(id).state_machine().contains(42));
    CHECK(c.node(id).state_machine() == c.node(1).state_machine());
  }
}

TEST_CASE("§7: a follower behind the leader's compacted log catches up by a chunked snapshot") {
  Options options;
  options.snapshot_threshold = 8;    // snapshot every 8 applied entries, keep 2 behind
  options.snapshot_chunk_size = 50;  // several chunks per snapshot
  Cluster c(kThree, options);
  c.elect(1);
  c.isolated = {3};
  for (uint64_t id = 1; id <= 20; ++id) c.write(1, id);
  c.settle();
  REQUIRE(c.node(1).commit_index() == 21);
  REQUIRE(c.node(1).log().snapshot_index() > 1);  // node 3's next entry is gone

  c.isolated.clear();
  for (int beat = 1; beat <= 3; ++beat) {
    c.advance(options.heartbeat_interval_us);
    c.timer(1, TimerKind::heartbeat);
    c.settle();
  }
  const NodeEvent* installed = find_event(c.events[3], EventType::snapshot_installed);
  REQUIRE(installed);
  CHECK(installed->peer == 1);
  CHECK(c.node(3).commit_index() == 21);
  CHECK(c.node(3).state_machine() == c.node(1).state_machine());
  CHECK(c.node(3).state_machine().applied_writes() == 20);
  CHECK(c.node(3).log().last_index() == c.node(1).log().last_index());
  CHECK(static_cast<bool>(c.node_solo(3).disk().snapshot));  // the snapshot is durable too
  int chunks = 0;
  for (const Message& m : c.delivered) chunks += m.type == MsgType::snapshot;
  CHECK(chunks > 1);
}

TEST_CASE("an isolated old leader is replaced, and on its return adopts the new term and log") {
  Cluster c(kThree);
  c.elect(1);
  c.isolated = {1};
  c.write(1, 7);  // appended at the old leader only
  c.settle();
  c.advance(Options().election_timeout_min_us);  // node 3 no longer hears from node 1 (§4.2.3)
  c.elect(2);
  REQUIRE(c.node(2).role() == Role::leader);
  REQUIRE(c.node(2).current_term() == 2);

  c.isolated.clear();
  c.advance(Options().heartbeat_interval_us);
  c.timer(2, TimerKind::heartbeat);
  c.settle();
  CHECK(c.node(1).role() == Role::follower);
  CHECK(c.node(1).current_term() == 2);
  CHECK(c.node(1).log().last_index() == c.node(2).log().last_index());
  CHECK(c.node(1).log().last_term() == 2);  // the uncommitted write 7 was truncated away
  CHECK(step_down_reason(c.events[1]) == "higher_term");
}

}  // namespace
}  // namespace raft
