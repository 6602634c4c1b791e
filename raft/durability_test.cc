// Durability: what a write carries, which messages wait for which write, how
// far the log is durable while appends and rewrites are pending, and what a
// disk does with a write.
#include "raft/durability.h"

#include <doctest/doctest.h>

namespace raft {
namespace {

Entry entry_of(Term term) {
  Entry e;
  e.term = term;
  return e;
}

Message message_to(NodeId to) {
  Message m;
  m.to = to;
  return m;
}

TEST_CASE("Durability: a write carries the hard state and the log from its first dirty index") {
  RaftLog log;
  for (Term t : {1u, 1u, 2u}) log.append(entry_of(t));
  Durability writes(1);  // entry 1 durable already
  std::vector<PersistOp> persists;
  writes.flush({2, 3, 1}, log, persists);
  CHECK(persists.empty());  // nothing changed, no write
  writes.log_dirty(3);
  writes.log_dirty(2);  // the earliest dirty index wins
  writes.flush({2, 3, 1}, log, persists);
  REQUIRE(persists.size() == 1);
  const PersistOp& op = persists[0];
  CHECK(op.token == 1);
  CHECK(op.hard_state.current_term == 2);
  CHECK(op.hard_state.voted_for == 3);
  CHECK(op.has_entries);
  CHECK(op.first_index == 2);
  REQUIRE(op.entries.size() == 2);
  CHECK(op.entries[1].term == 2);
  CHECK(writes.durable_index() == 1);
  writes.hard_state_dirty();  // a new input, a new token
  writes.flush({3, 0, 1}, log, persists);
  REQUIRE(persists.size() == 2);
  CHECK(persists[1].token == 2);
  CHECK_FALSE(persists[1].has_entries);
}

TEST_CASE("Durability: messages wait for their write and for the vote, in token order") {
  RaftLog log;
  log.append(entry_of(1));
  Durability writes(0);
  std::vector<PersistOp> persists;
  std::vector<Message> sent;
  writes.send(message_to(1), 0, sent);
  CHECK(sent.size() == 1);  // depends on nothing
  writes.log_dirty(1);
  CHECK(writes.log_token_for(1) == 1);
  CHECK(writes.log_token_for(0) == 0);
  writes.send(message_to(2), writes.log_token_for(1), sent);
  writes.flush({1, 0, 0}, log, persists);
  writes.hard_state_dirty();            // token 2: a vote
  writes.send(message_to(3), 0, sent);  // waits for the vote though it names no write
  writes.flush({1, 5, 0}, log, persists);
  CHECK(sent.size() == 1);
  CHECK_FALSE(writes.hard_state_durable());
  writes.persisted(1, sent);
  REQUIRE(sent.size() == 2);
  CHECK(sent[1].to == 2);
  CHECK(writes.durable_index() == 1);
  CHECK(writes.log_token_for(1) == 0);
  writes.persisted(2, sent);
  REQUIRE(sent.size() == 3);
  CHECK(sent[2].to == 3);
  CHECK(writes.hard_state_durable());
}

TEST_CASE("Durability: a pending rewrite keeps the rewritten entries from counting as durable") {
  RaftLog log;
  for (Term t : {1u, 1u, 1u}) log.append(entry_of(t));
  Durability writes(0);
  std::vector<PersistOp> persists;
  std::vector<Message> sent;
  writes.log_dirty(1);
  writes.flush({1, 0, 0}, log, persists);  // token 1: entries 1..3
  log.truncate_after(1);
  log.append(entry_of(2));
  writes.log_dirty(2);
  writes.flush({2, 0, 0}, log, persists);  // token 2 rewrites from 2
  writes.persisted(1, sent);
  CHECK(writes.durable_index() == 1);  // entry 2 on disk is not the one in the log
  writes.persisted(2, sent);
  CHECK(writes.durable_index() == 2);
}

TEST_CASE("apply_persist: snapshot, then compaction, then entries, then hard state") {
  DurableState disk;
  for (Term t : {1u, 1u, 1u}) disk.log.append(entry_of(t));
  PersistOp op;
  op.hard_state = {2, 1, 2};
  op.has_entries = true;
  op.first_index = 3;
  op.entries.push_back(entry_of(2));
  op.entries.push_back(entry_of(2));
  op.compact_index = 1;
  op.compact_term = 1;
  apply_persist(disk, op);
  CHECK(disk.log.snapshot_index() == 1);
  CHECK(disk.log.last_index() == 4);
  CHECK(*disk.log.term_at(3) == 2);
  CHECK(disk.hard_state.current_term == 2);
  CHECK(disk.hard_state.commit_index == 2);
}

}  // namespace
}  // namespace raft
