// Checker: each invariant is fed a synthetic history that breaks it (and
// must fire, with its name) and a consistent twin (which must not).
#include "sim/check/checker.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "raft/test_cluster.h"

namespace sim {
namespace {

using raft::Entry;
using raft::MsgType;
using raft::test::write_entry;

const std::vector<NodeId> kVoters = {1, 2, 3};

raft::PersistOp log_write(Index first_index, const std::vector<Entry>& entries) {
  raft::PersistOp op;
  op.has_entries = true;
  op.first_index = first_index;
  op.entries.append(entries.data(), entries.data() + entries.size());
  return op;
}

raft::DurableState durable_term(Term term, NodeId voted_for = 0) {
  raft::DurableState d;
  d.hard_state.current_term = term;
  d.hard_state.voted_for = voted_for;
  return d;
}

raft::Message message(MsgType type, NodeId from, NodeId to, Term term, bool success = false) {
  raft::Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  m.success = success;
  return m;
}

raft::Applied applied(Index index, const Entry& entry, uint64_t state_hash) {
  return raft::Applied(index, entry, false, state_hash);
}

std::string fired(const Checker& c) {
  return c.violation() ? c.violation()->invariant : "";
}

// Nodes 1 and 2 hold [t1 w1, t1 w2]; node 1, as leader of `term`, commits
// both.
void committed_pair(Checker& c, Term term = 1) {
  for (NodeId n : {1u, 2u}) {
    c.on_log_write(n, log_write(1, {write_entry(1, 1), write_entry(1, 2)}), n == 1, 0);
  }
  c.on_became_leader(1, term);
  c.on_commit(1, 2, true, kVoters);
  REQUIRE(fired(c) == "");
  REQUIRE(c.committed_max() == 2);
}

// ---------------------------------------------------------------------------

TEST_CASE("election_safety: two leaders in one term") {
  Checker c({1, 2, 3});
  c.on_became_leader(1, 5);
  c.on_became_leader(1, 5);  // the same leader reported again is fine
  c.on_became_leader(2, 6);  // a leader of another term is fine
  CHECK(fired(c) == "");
  c.on_became_leader(3, 5);
  CHECK(fired(c) == "election_safety");
  CHECK(c.violation()->nodes == std::vector<NodeId>{1, 3});
}

TEST_CASE("log_matching: an entry of the same index and term over a different prefix") {
  Checker c({1, 2, 3});
  c.on_log_write(1, log_write(1, {write_entry(1, 1), write_entry(2, 2)}), true, 0);
  // Divergent logs are allowed while the (index, term) pairs differ...
  c.on_log_write(3, log_write(1, {write_entry(1, 1), write_entry(3, 7)}), false, 0);
  // ...and identical logs of course.
  c.on_log_write(2, log_write(1, {write_entry(1, 1), write_entry(2, 2)}), false, 0);
  CHECK(fired(c) == "");
  // Index 2 term 2 again, but after a different entry at index 1.
  Checker bad({1, 2, 3});
  bad.on_log_write(1, log_write(1, {write_entry(1, 1), write_entry(2, 2)}), true, 0);
  bad.on_log_write(2, log_write(1, {write_entry(2, 5), write_entry(2, 2)}), false, 0);
  CHECK(fired(bad) == "log_matching");
  CHECK(bad.violation()->nodes == std::vector<NodeId>{2});
}

TEST_CASE("log_matching: a rewrite of a suffix is compared from where it starts") {
  Checker c({1, 2, 3});
  c.on_log_write(1, log_write(1, {write_entry(1, 1), write_entry(2, 2)}), true, 0);
  c.on_log_write(2, log_write(1, {write_entry(1, 1), write_entry(1, 9)}), false, 0);
  // Node 2's conflicting entry 2 is replaced by the leader's (§5.3): consistent.
  c.on_log_write(2, log_write(2, {write_entry(2, 2)}), false, 0);
  CHECK(fired(c) == "");
}

TEST_CASE("leader_completeness: a new leader missing a committed entry") {
  SUBCASE("consistent: a leader holding every committed entry") {
    Checker c({1, 2, 3});
    committed_pair(c);
    c.on_became_leader(2, 2);
    CHECK(fired(c) == "");
  }
  SUBCASE("a log too short") {
    Checker c({1, 2, 3});
    committed_pair(c);
    c.on_log_write(3, log_write(1, {write_entry(1, 1)}), false, 0);
    c.on_became_leader(3, 2);
    CHECK(fired(c) == "leader_completeness");
  }
  SUBCASE("a log as long, with another entry at the committed index") {
    Checker c({1, 2, 3});
    committed_pair(c);
    c.on_log_write(3, log_write(1, {write_entry(1, 1), write_entry(2, 9)}), false, 0);
    c.on_became_leader(3, 3);
    CHECK(fired(c) == "leader_completeness");
  }
  SUBCASE("consistent: a late winner of an older term owes nothing to later commits") {
    // Entries of term 1 committed in term 3; a candidate of term 2 (which
    // was paused mid-election, say) may still win term 2 with an empty log.
    Checker c({1, 2, 3});
    committed_pair(c, 3);
    c.on_became_leader(3, 2);
    CHECK(fired(c) == "");
  }
  SUBCASE("a winner of a term after the commit's") {
    Checker c({1, 2, 3});
    committed_pair(c, 3);
    c.on_became_leader(3, 4);
    CHECK(fired(c) == "leader_completeness");
  }
}

TEST_CASE("state_machine_safety: different entries applied at one index") {
  Checker c({1, 2, 3});
  committed_pair(c);
  c.on_applied(1, applied(1, write_entry(1, 1), 111));
  c.on_applied(2, applied(1, write_entry(1, 1), 111));
  CHECK(fired(c) == "");
  c.on_applied(3, applied(1, write_entry(1, 4), 444));
  CHECK(fired(c) == "state_machine_safety");
}

TEST_CASE("state_machine_safety: the same entry reaching a different state") {
  Checker c({1, 2, 3});
  committed_pair(c);
  c.on_applied(1, applied(2, write_entry(1, 2), 222));
  c.on_applied(2, applied(2, write_entry(1, 2), 223));
  CHECK(fired(c) == "state_machine_safety");
}

TEST_CASE("state_machine_safety: entries applied in one batch are each compared") {
  // One input's applied entries (a restart's replay) are checked as a run
  // of consecutive slots; a batch that is not one falls back to each index.
  const std::vector<raft::Applied> pair = {applied(1, write_entry(1, 1), 111),
                                           applied(2, write_entry(1, 2), 222)};
  SUBCASE("the same entries and states: fine; a different second entry is caught") {
    Checker c({1, 2, 3});
    committed_pair(c);
    c.on_applied(1, pair);
    c.on_applied(2, pair);
    CHECK(fired(c) == "");
    c.on_applied(3, {pair[0], applied(2, write_entry(1, 9), 222)});
    CHECK(fired(c) == "state_machine_safety");
  }
  SUBCASE("out of order, and past the commit index") {
    Checker c({1, 2, 3});
    committed_pair(c);
    c.on_applied(1, pair);
    c.on_applied(2, {pair[1], applied(1, write_entry(1, 1), 110)});
    CHECK(fired(c) == "state_machine_safety");
    Checker d({1, 2, 3});
    committed_pair(d);
    d.on_applied(1, {pair[0], pair[1], applied(3, write_entry(1, 3), 333)});
    CHECK(fired(d) == "state_machine_safety");
  }
}

TEST_CASE("on_applied tells whether a batch applied a write new to the state machine") {
  // The simulator's last_write_applied_us comes from this answer, in the
  // window of slots and out of it (the second batch reaches past the commit).
  Checker c({1, 2, 3});
  committed_pair(c);
  std::vector<raft::Applied> pair = {applied(1, write_entry(1, 1), 111),
                                     applied(2, write_entry(1, 2), 222)};
  CHECK(c.on_applied(1, pair));
  pair[0].duplicate = pair[1].duplicate = true;
  CHECK_FALSE(c.on_applied(2, pair));
  pair[1].duplicate = false;
  CHECK(c.on_applied(3, pair));
  CHECK(fired(c) == "");
}

TEST_CASE("state_machine_safety: applying an index before it is committed") {
  Checker c({1, 2, 3});
  c.on_log_write(1, log_write(1, {write_entry(1, 1)}), true, 0);
  c.on_applied(1, applied(1, write_entry(1, 1), 1));
  CHECK(fired(c) == "state_machine_safety");
}

TEST_CASE("state_machine_safety: committing a different log at an already committed index") {
  Checker c({1, 2, 3});
  committed_pair(c);
  c.on_log_write(3, log_write(1, {write_entry(1, 1), write_entry(2, 8)}), false, 0);
  c.on_commit(3, 1, false, kVoters);  // the common prefix: fine
  CHECK(fired(c) == "");
  c.on_commit(3, 2, false, kVoters);
  CHECK(fired(c) == "state_machine_safety");
}

TEST_CASE("persistence: two votes in one term") {
  Checker c({1, 2, 3});
  c.on_durable(1, durable_term(3, 2));
  c.on_message(1, message(MsgType::vote_resp, 1, 2, 3, true));
  c.on_message(1, message(MsgType::vote_resp, 1, 2, 3, true));   // a resend
  c.on_message(1, message(MsgType::vote_resp, 1, 3, 3, false));  // a refusal
  CHECK(fired(c) == "");
  // A second grant of term 3, released late after the node moved on to
  // term 4 (vote_durability compares only grants of the durable term).
  c.on_durable(1, durable_term(4));
  c.on_message(1, message(MsgType::vote_resp, 1, 3, 3, true));
  CHECK(fired(c) == "persistence");
  CHECK(c.violation()->nodes == std::vector<NodeId>{1, 2, 3});
}

TEST_CASE("persistence: one vote in each of two terms is fine") {
  Checker c({1, 2, 3});
  c.on_durable(1, durable_term(3, 2));
  c.on_message(1, message(MsgType::vote_resp, 1, 2, 3, true));
  c.on_durable(1, durable_term(4, 3));
  c.on_message(1, message(MsgType::vote_resp, 1, 3, 4, true));
  CHECK(fired(c) == "");
}

TEST_CASE("persistence: the durable term goes back") {
  Checker c({1, 2, 3});
  c.on_durable(1, durable_term(5));
  c.on_durable(1, durable_term(5));
  CHECK(fired(c) == "");
  c.on_durable(1, durable_term(4));
  CHECK(fired(c) == "persistence");
}

TEST_CASE("persistence: a message of a term not yet durable (pre-vote exempt)") {
  Checker c({1, 2, 3});
  c.on_durable(1, durable_term(2));
  c.on_message(1, message(MsgType::append, 1, 2, 2));
  c.on_message(1, message(MsgType::pre_vote, 1, 2, 3));  // pre-vote changes no term
  CHECK(fired(c) == "");
  c.on_message(1, message(MsgType::append, 1, 2, 3));
  CHECK(fired(c) == "persistence");
}

// Every node of `nodes` starts from an empty log in a cluster of `voters`.
void boot(Checker& c, const std::vector<NodeId>& nodes, const std::vector<NodeId>& voters) {
  raft::DurableState d;
  raft::Configuration config;
  config.voters = voters;
  d.bootstrap_config = config;
  for (NodeId n : nodes) c.on_restart(n, d);
}

// Node `voter` grants node `candidate` its vote in `term`.
void grant(Checker& c, NodeId voter, NodeId candidate, Term term) {
  c.on_durable(voter, durable_term(term, candidate));
  c.on_message(voter, message(MsgType::vote_resp, voter, candidate, term, true));
}

TEST_CASE("learner_vote: a leader whose majority is made up with a learner's vote") {
  Checker c({1, 2, 3, 4});
  boot(c, {1, 2, 3, 4}, kVoters);
  grant(c, 4, 1, 1);  // learner 4 grants: allowed, but it must not count
  c.on_election_won(1, 1);
  CHECK(fired(c) == "learner_vote");
}

TEST_CASE("learner_vote: a majority of the voters, with or without learners' votes, is fine") {
  Checker c({1, 2, 3, 4});
  boot(c, {1, 2, 3}, kVoters);
  boot(c, {4}, {4});  // node 4 believes it is alone
  grant(c, 4, 1, 1);
  grant(c, 2, 1, 1);
  c.on_election_won(1, 1);
  grant(c, 1, 3, 2);  // with its own vote, which is no message
  c.on_election_won(3, 2);
  c.on_election_won(4, 3);  // a lone voter elects itself
  CHECK(fired(c) == "");
}

TEST_CASE("learner_vote: votes granted to another candidate or in another term do not count") {
  Checker c({1, 2, 3});
  boot(c, {1, 2, 3}, kVoters);
  grant(c, 2, 3, 1);
  grant(c, 3, 1, 2);
  c.on_election_won(1, 1);
  CHECK(fired(c) == "learner_vote");
}

// Node `voter` grants node `candidate` a pre-vote for `term` (no durable
// write: a pre-vote changes nobody's term or vote).
void pre_grant(Checker& c, NodeId voter, NodeId candidate, Term term) {
  c.on_message(voter, message(MsgType::pre_vote_resp, voter, candidate, term, true));
}

TEST_CASE("pre_vote: a pre-candidate campaigns on a late grant of its previous round") {
  // Node 1 (term 1) wins a pre-vote round for term 2 with node 2's grant and
  // campaigns; it loses, and its next round asks for term 3. Node 3's grant
  // of the first round arrives late (or duplicated): it is for term 2.
  Checker c({1, 2, 3});
  boot(c, {1, 2, 3}, kVoters);
  pre_grant(c, 2, 1, 2);
  c.on_pre_vote_won(1, 2);
  REQUIRE(fired(c) == "");
  pre_grant(c, 3, 1, 2);
  c.on_pre_vote_won(1, 3);
  CHECK(fired(c) == "pre_vote");
  CHECK(c.violation()->nodes == std::vector<NodeId>{1});
}

TEST_CASE("pre_vote: grants of the round's term from a majority of voters are needed") {
  Checker c({1, 2, 3, 4, 5});
  boot(c, {1, 2, 3, 4, 5}, kVoters);
  boot(c, {5}, {5});      // node 5 believes it is alone
  pre_grant(c, 3, 1, 2);  // two rounds of one term: both count
  c.on_pre_vote_won(1, 2);
  c.on_pre_vote_won(5, 4);  // a lone voter wins on its own grant
  CHECK(fired(c) == "");
  pre_grant(c, 4, 2, 5);  // node 4 is a learner
  pre_grant(c, 3, 1, 5);  // granted to another pre-candidate
  c.on_pre_vote_won(2, 5);
  CHECK(fired(c) == "pre_vote");
  // A vote granted in the term is not a pre-vote grant.
  Checker votes({1, 2, 3});
  boot(votes, {1, 2, 3}, kVoters);
  grant(votes, 2, 1, 2);
  votes.on_pre_vote_won(1, 2);
  CHECK(fired(votes) == "pre_vote");
}

TEST_CASE("vote_durability: a grant leaves only with the durable vote of its term") {
  Checker c({1, 2, 3});
  c.on_durable(1, durable_term(3, 2));
  c.on_message(1, message(MsgType::vote_resp, 1, 2, 3, true));
  CHECK(fired(c) == "");
  // Term 3 durable with no vote, yet a grant of term 3 leaves.
  Checker bad({1, 2, 3});
  bad.on_durable(1, durable_term(3));
  bad.on_message(1, message(MsgType::vote_resp, 1, 2, 3, true));
  CHECK(fired(bad) == "vote_durability");
  CHECK(bad.violation()->nodes == std::vector<NodeId>{1, 2});
}

TEST_CASE("vote_durability: a late grant of an earlier term is fine") {
  // A paused node, or one whose disk is slow, may release a grant after
  // it has moved on: only the durable vote of the grant's term counts.
  Checker c({1, 2, 3});
  c.on_durable(1, durable_term(3, 2));
  c.on_durable(1, durable_term(4, 3));
  c.on_message(1, message(MsgType::vote_resp, 1, 2, 3, true));
  CHECK(fired(c) == "");
}

TEST_CASE("vote_durability: a durable vote never changes within its term") {
  Checker c({1, 2, 3});
  c.on_durable(1, durable_term(3));     // no vote yet
  c.on_durable(1, durable_term(3, 2));  // voting: fine
  c.on_durable(1, durable_term(3, 2));  // a later write keeps it
  c.on_durable(1, durable_term(4));     // a new term clears it
  CHECK(fired(c) == "");
  c.on_durable(1, durable_term(4, 3));
  c.on_durable(1, durable_term(4));  // forgotten (a restart that lost it)
  CHECK(fired(c) == "vote_durability");
}

TEST_CASE("acked_entries: a follower drops an entry it acknowledged in its term") {
  auto ack = [](Index index, Term term) {
    raft::Message m = message(MsgType::append_resp, 2, 1, term, true);
    m.index = index;
    return m;
  };
  SUBCASE("a rewrite with the same entries is fine") {
    Checker c({1, 2, 3});
    c.on_durable(2, durable_term(1));
    c.on_log_write(2, log_write(1, {write_entry(1, 1), write_entry(1, 2)}), false, 0);
    c.on_message(2, ack(2, 1));
    raft::PersistOp op = log_write(2, {write_entry(1, 2), write_entry(1, 3)});
    op.hard_state.current_term = 1;
    c.on_log_write(2, op, false, 0);
    CHECK(fired(c) == "");
  }
  SUBCASE("truncating below the acknowledged index in the same term") {
    Checker c({1, 2, 3});
    c.on_durable(2, durable_term(1));
    c.on_log_write(2, log_write(1, {write_entry(1, 1), write_entry(1, 2)}), false, 0);
    c.on_message(2, ack(2, 1));
    raft::PersistOp op = log_write(2, {});  // drops index 2
    op.hard_state.current_term = 1;
    c.on_log_write(2, op, false, 0);
    CHECK(fired(c) == "acked_entries");
  }
  SUBCASE("the same truncation in a later term is a new leader's right") {
    Checker c({1, 2, 3});
    c.on_durable(2, durable_term(1));
    c.on_log_write(2, log_write(1, {write_entry(1, 1), write_entry(1, 2)}), false, 0);
    c.on_message(2, ack(2, 1));
    raft::PersistOp op = log_write(2, {write_entry(2, 9)});
    op.hard_state.current_term = 2;
    c.on_log_write(2, op, false, 0);
    CHECK(fired(c) == "");
  }
  SUBCASE("a restart that lost them") {
    Checker c({1, 2, 3});
    c.on_durable(2, durable_term(1));
    raft::PersistOp op = log_write(1, {write_entry(1, 1), write_entry(1, 2)});
    op.hard_state.current_term = 1;
    c.on_log_write(2, op, false, 0);
    c.on_message(2, ack(2, 1));
    raft::DurableState disk = durable_term(1);
    disk.log.append(write_entry(1, 1));
    c.on_restart(2, disk);
    CHECK(fired(c) == "acked_entries");
  }
}

TEST_CASE("config_consistency: the configuration in force is the last committed entry's") {
  raft::ConfigArena configs;
  Checker c({1, 2, 3, 4}, configs);
  boot(c, {1, 2, 3, 4}, kVoters);
  raft::Configuration bootstrap;
  bootstrap.voters = kVoters;
  raft::Configuration next = bootstrap;
  next.voters = {1, 2, 3, 4};
  Entry change;
  change.term = 1;
  change.kind = raft::EntryKind::config;
  change.config = configs.intern(next);
  c.on_log_write(2, log_write(1, {write_entry(1, 1), change}), false, 0);
  c.on_config(2, bootstrap);  // appended, not committed: still the old one
  CHECK(fired(c) == "");
  c.on_commit(2, 2, false, kVoters);
  c.on_config(2, next);
  CHECK(fired(c) == "");
  // Node 3 holds the entry uncommitted but already acts on it.
  c.on_log_write(3, log_write(1, {write_entry(1, 1), change}), false, 0);
  c.on_config(3, next);
  CHECK(fired(c) == "config_consistency");
}

TEST_CASE("learner_vote: the voters are the checker's view, not the candidate's word") {
  // Node 1 wins with node 4's vote, believing {1, 4} are the voters; its
  // log says {1, 2, 3}.
  Checker c({1, 2, 3, 4});
  boot(c, {1, 2, 3, 4}, kVoters);
  grant(c, 4, 1, 1);
  c.on_election_won(1, 1);
  CHECK(fired(c) == "learner_vote");
}

TEST_CASE("durability: acknowledging an uncommitted index") {
  Checker c({1, 2, 3});
  c.on_log_write(1, log_write(1, {write_entry(1, 1)}), true, 0);
  c.on_ack(1, 1, 0);
  CHECK(fired(c) == "durability");
}

TEST_CASE("durability: acknowledgements of committed writes, in order, are fine") {
  Checker c({1, 2, 3});
  committed_pair(c);
  c.on_ack(1, 1, 0);
  c.on_ack(2, 2, 1);
  CHECK(fired(c) == "");
}

TEST_CASE("durability: a write acknowledged before one acknowledged before it was submitted") {
  Checker c({1, 2, 3});
  committed_pair(c);
  c.on_ack(2, 1, 2);  // index 1, but a write at index 2 was acknowledged first
  CHECK(fired(c) == "durability");
}

TEST_CASE("commit_quorum: a leader commits an index held by a minority of voters") {
  Checker c({1, 2, 3, 4});
  c.on_log_write(1, log_write(1, {write_entry(1, 1)}), true, 0);
  c.on_log_write(4, log_write(1, {write_entry(1, 1)}), false, 0);  // a learner holds it too
  c.on_commit(1, 1, true, kVoters);
  CHECK(fired(c) == "commit_quorum");
}

TEST_CASE("commit_quorum: a majority of voters holding the index is enough") {
  Checker c({1, 2, 3});
  c.on_log_write(1, log_write(1, {write_entry(1, 1)}), true, 0);
  c.on_log_write(3, log_write(1, {write_entry(1, 1)}), false, 0);
  c.on_commit(1, 1, true, kVoters);
  CHECK(fired(c) == "");
  // A follower's commit is not a quorum decision.
  c.on_log_write(2, log_write(1, {write_entry(1, 1), write_entry(1, 2)}), false, 0);
  c.on_commit(2, 2, false, kVoters);
  CHECK(fired(c) == "");
}

TEST_CASE("config_change: a leader appends a second configuration while one is uncommitted") {
  Entry config = write_entry(1, 0);
  config.kind = raft::EntryKind::config;
  raft::ConfigArena configs;
  config.config = configs.intern(raft::test::make_config({1, 2}));
  SUBCASE("two pending at once") {
    Checker c({1, 2, 3});
    c.on_log_write(1, log_write(1, {config}), true, 0);
    c.on_log_write(1, log_write(2, {config}), true, 0);
    CHECK(fired(c) == "config_change");
  }
  SUBCASE("the second after the first committed") {
    Checker c({1, 2, 3});
    c.on_log_write(1, log_write(1, {config}), true, 0);
    c.on_log_write(1, log_write(2, {config}), true, 1);
    CHECK(fired(c) == "");
  }
  SUBCASE("two in one write") {
    Checker c({1, 2, 3});
    c.on_log_write(1, log_write(1, {config, config}), true, 0);
    CHECK(fired(c) == "config_change");
  }
  SUBCASE("a configuration entry overwritten by a conflicting one no longer counts") {
    Checker c({1, 2, 3});
    c.on_log_write(1, log_write(1, {write_entry(1, 1), config}), false, 0);
    c.on_log_write(1, log_write(2, {write_entry(2, 2)}), true, 1);  // as leader of term 2
    Entry later = config;
    later.term = 2;
    c.on_log_write(1, log_write(3, {later}), true, 2);
    CHECK(fired(c) == "");
  }
  SUBCASE("a new leader's change before an entry of its term committed") {
    Checker c({1, 2, 3});
    c.on_log_write(1, log_write(1, {write_entry(1, 1), write_entry(1, 2)}), false, 1);
    c.on_log_write(1, log_write(3, {write_entry(2, 3)}), true, 1);  // its no-op, as leader of 2
    Entry later = config;
    later.term = 2;
    c.on_log_write(1, log_write(4, {later}), true, 2);  // index 2 is of term 1
    CHECK(fired(c) == "config_change");
  }
  SUBCASE("the same change once the no-op committed") {
    Checker c({1, 2, 3});
    c.on_log_write(1, log_write(1, {write_entry(1, 1), write_entry(1, 2)}), false, 1);
    c.on_log_write(1, log_write(3, {write_entry(2, 3)}), true, 1);
    Entry later = config;
    later.term = 2;
    c.on_log_write(1, log_write(4, {later}), true, 3);
    CHECK(fired(c) == "");
  }
  SUBCASE("a follower receiving both is not proposing anything") {
    Checker c({1, 2, 3});
    c.on_log_write(2, log_write(1, {config, config}), false, 0);
    CHECK(fired(c) == "");
  }
}

TEST_CASE("snapshot: a snapshot whose state differs from applying the log") {
  Checker c({1, 2, 3});
  committed_pair(c);
  raft::StateMachine state;
  state.apply_write(1, 8);
  c.on_applied(1, applied(1, write_entry(1, 1), state.state_hash()));
  raft::Snapshot snap;
  snap.last_included_index = 1;
  snap.last_included_term = 1;
  snap.state = state;
  c.on_snapshot(1, snap, "took");
  CHECK(fired(c) == "");
  snap.state.apply_write(5, 8);
  c.on_snapshot(2, snap, "installed");
  CHECK(fired(c) == "snapshot");
}

TEST_CASE("snapshot: a running node installs a snapshot of what it has already applied") {
  // Figure 13: a snapshot of a prefix of what the follower holds (a late
  // duplicate, say) keeps the entries after it and resets nothing.
  Checker c({1, 2, 3});
  committed_pair(c);
  c.on_applied(2, {applied(1, write_entry(1, 1), 11), applied(2, write_entry(1, 2), 12)});
  c.on_snapshot_installed(3, 2);  // node 3 applied nothing yet
  c.on_restart(2, durable_term(1));
  c.on_snapshot_installed(2, 2);  // a restart applies again from its snapshot
  CHECK(fired(c) == "");
  c.on_applied(1, applied(1, write_entry(1, 1), 11));
  c.on_snapshot_installed(1, 1);
  CHECK(fired(c) == "snapshot");
}

// What node 1's disk holds once the first of its writes is durable.
raft::DurableState durable_log(const raft::PersistOp& op) {
  raft::DurableState d;
  raft::apply_persist(d, op);
  return d;
}

TEST_CASE("a restart keeps the durable prefix of the mirror and drops what was lost") {
  Checker c({1, 2, 3});
  const raft::PersistOp durable = log_write(1, {write_entry(1, 1), write_entry(1, 2)});
  c.on_log_write(1, durable, false, 0);
  c.on_log_write(1, log_write(3, {write_entry(1, 3)}), false, 0);  // lost in the crash
  c.on_restart(1, durable_log(durable));
  c.on_commit(1, 2, false, kVoters);
  CHECK(fired(c) == "");
  c.on_commit(1, 3, false, kVoters);  // index 3 left with the crash
  CHECK(fired(c) == "state_machine_safety");
}

TEST_CASE("a restart after a lost overwrite of the durable log rebuilds the mirror") {
  Checker c({1, 2, 3});
  const raft::PersistOp durable = log_write(1, {write_entry(1, 1), write_entry(1, 2)});
  c.on_log_write(1, durable, false, 0);
  c.on_log_write(1, log_write(2, {write_entry(2, 5)}), false, 0);  // lost in the crash
  c.on_log_write(2, durable, false, 0);
  c.on_restart(1, durable_log(durable));
  // Node 1 holds [t1 w1, t1 w2] again: the same committed log as node 2's.
  c.on_commit(2, 2, false, kVoters);
  c.on_commit(1, 2, false, kVoters);
  CHECK(fired(c) == "");
}

TEST_CASE("only the first violation is kept") {
  Checker c({1, 2, 3});
  c.on_became_leader(1, 1);
  c.on_became_leader(2, 1);
  c.on_durable(1, durable_term(5));
  c.on_durable(1, durable_term(4));
  CHECK(fired(c) == "election_safety");
}

TEST_CASE("a whole cluster history through the harness raises nothing") {
  // Real node outputs, fed as the simulator feeds them: durable writes,
  // commits, elections and messages.
  raft::test::Cluster cluster(raft::test::make_config({1, 2, 3}));
  cluster.elect(1);
  for (uint64_t id = 1; id <= 5; ++id) cluster.write(1, id);
  cluster.settle();
  Checker c({1, 2, 3});
  for (NodeId n : {1u, 2u, 3u}) {
    c.on_durable(n, cluster.node_solo(n).disk());
    c.on_restart(n, cluster.node_solo(n).disk());
  }
  for (NodeId n : {1u, 2u, 3u}) {
    const raft::Node& node = cluster.node(n);
    c.on_commit(n, node.commit_index(), node.role() == raft::Role::leader, kVoters);
    c.on_config(n, node.config());
  }
  for (const raft::Message& m : cluster.delivered) c.on_message(m.from, m);
  c.on_became_leader(1, 1);
  c.on_election_won(1, 1);
  CHECK(cluster.node(1).commit_index() == 6);
  CHECK(fired(c) == "");
}

}  // namespace
}  // namespace sim
