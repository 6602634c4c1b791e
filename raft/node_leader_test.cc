// raft::Node, one rule at a time (see node_test.cc): a leader's no-op,
// client writes, durability order, the planted bugs, and whole clusters.
#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <vector>

#include "raft/node.h"
#include "raft/node_test_util.h"

namespace raft {
namespace {

using namespace node_test;  // the shared test vocabulary

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

TEST_CASE("Options::probe_back: a leader probes with an empty AppendEntries that far back") {
  // §5.3: any prev index the follower holds verifies its log up to there;
  // the probe carries no entries, so the follower commits nothing past it.
  Options options;
  options.probe_back = 3;
  Solo n(1, disk_with(kThree, {1, 1, 1, 1, 1}, 1), options);
  n.start();
  const Outputs out = make_leader(n, {2});
  REQUIRE(n.node().log().last_index() == 6);  // and the no-op
  const std::vector<Message> probes = of_type(out, MsgType::append);
  REQUIRE(probes.size() == 2);
  for (const Message& m : probes) {
    CHECK(m.index == 2);  // 3 below the no-op's prev, 5
    CHECK(m.entries.empty());
  }
  // Node 2 holds index 2: the leader replicates from there.
  const std::vector<Message> rest =
      of_type(n.step(append_resp_msg(2, 1, 2, true, 2)), MsgType::append);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].index == 2);
  CHECK(rest[0].entries.size() == 4);
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
  // The appends of one broadcast carry the same entries: one buffer for all.
  CHECK(appends[0].entries.data() == appends[1].entries.data());
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
