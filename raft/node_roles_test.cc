// raft::Node, one rule at a time (see node_test.cc): pre-vote, leadership
// transfer, every step-down reason, learners and membership guards.
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
// (term 1) that replaces `before` with `after` (in `configs`), committed up
// to `commit`.
DurableState disk_changing(ConfigArena& configs, const Configuration& before,
                           const Configuration& after, Index commit) {
  DurableState d = disk_with(before, {1}, 1, kNoNode, commit);
  Entry change;
  change.term = 1;
  change.kind = EntryKind::config;
  change.config = configs.intern(after);
  d.log.append(change);
  return d;
}

TEST_CASE("a node that knows its removal committed votes for a candidate that does not") {
  // Fuzz seed 4276: node 1 led {1, 3}, removed itself and stepped down once
  // {3} committed, before node 3 learned of the commit. Node 3 still
  // counts under {1, 3}; only node 1's vote can elect it, and only a leader
  // can tell it of the commit.
  ConfigArena configs;
  Solo n(1, disk_changing(configs, make_config({1, 3}), make_config({3}), 2), {}, &configs);
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
  ConfigArena configs;
  Solo n(1, disk_changing(configs, make_config({1, 3}), make_config({1}), 1), {}, &configs);
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

}  // namespace
}  // namespace raft
