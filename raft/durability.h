// Durability bookkeeping of one node: the durable write being built during
// an input (PersistOp), which of the node's writes have completed, how far
// its log is durable, and the messages held until the write they depend on
// completes (etcd's msgsAfterAppend). Figure 2: persistent state is
// "updated on stable storage before responding to RPCs". Pure bookkeeping:
// the node decides what is dirty and what each message waits for.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "raft/log.h"
#include "raft/message.h"
#include "raft/offset_vector.h"
#include "raft/types.h"

namespace raft {

// Figure 2's persistent state, plus the commit index (as etcd's HardState
// does) so that a restarted node knows which configuration entries committed.
struct HardState {
  Term current_term = 0;
  NodeId voted_for = kNoNode;
  Index commit_index = 0;
};

// Everything a node keeps across a crash.
struct DurableState {
  HardState hard_state;
  RaftLog log;
  std::shared_ptr<const Snapshot> snapshot;  // null until the first snapshot
  // The configuration before any log entry; empty for a spare, which knows
  // none until one that includes it reaches it.
  Configuration bootstrap_config;
};

// One durable write. The disk applies, in this order: the snapshot (if any:
// the log is discarded unless it holds the snapshot's last entry), then the
// compaction (entries up to compact_index dropped, if set), then "truncate
// the log after first_index - 1 and append entries" (if has_entries), then
// the hard state.
struct PersistOp {
  uint64_t token = 0;
  HardState hard_state;
  std::shared_ptr<const Snapshot> snapshot;
  Index compact_index = 0;
  Term compact_term = 0;
  bool has_entries = false;
  Index first_index = 0;
  // (An OffsetVector, so that a disk log smaller than the write takes its
  // storage instead of copying it: OffsetVector::append.)
  OffsetVector<Entry> entries;
};

// What a disk does with a durable write, in the order PersistOp describes:
// the one definition the simulator's disk and the tests share.
void apply_persist(DurableState& disk, PersistOp op);

// Writes are numbered by tokens and complete in token order; one input
// issues at most one write.
class Durability {
 public:
  // A node that starts from a log durable up to last_index.
  explicit Durability(Index last_index) : durable_index_(last_index), written_index_(last_index) {}

  // The write of the current input, begun on first use.
  PersistOp& pending();
  // The log changes from index `from` on: the write rewrites it from there.
  void log_dirty(Index from);
  // The term or the vote changed: every message waits for this write.
  void hard_state_dirty() { hard_state_token_ = pending().token; }
  // Ends the current input's write, if any: it carries hard_state and the
  // log's entries from the first dirty index on.
  void flush(const HardState& hard_state, const RaftLog& log, std::vector<PersistOp>& out);
  // The write `token` (and every earlier one) completed: releases the
  // messages that waited for it.
  void persisted(uint64_t token, std::vector<Message>& out);
  // Sends msg once write after_token (0: none) and the latest change of term
  // or vote are durable; at once if they are.
  void send(Message&& msg, uint64_t after_token, std::vector<Message>& out);

  // The last write that changed the log (0: none yet).
  uint64_t last_log_token() const { return last_log_token_; }
  // The write an acknowledgement of the log up to index must wait for.
  uint64_t log_token_for(Index index) const {
    return index <= durable_index_ ? 0 : last_log_token_;
  }
  // The log is durable up to here.
  Index durable_index() const { return durable_index_; }
  bool hard_state_durable() const { return durable_token_ >= hard_state_token_; }

 private:
  // (Laid out by use: every input reads the first line, one that writes or
  // sends the second, and only a write the op being built.)
  uint64_t next_token_ = 1;
  uint64_t durable_token_ = 0;
  uint64_t hard_state_token_ = 0;  // last write that changed term or vote
  uint64_t last_log_token_ = 0;    // last write that changed the log
  Index op_dirty_from_ = 0;        // first log index the op rewrites, 0 = none
  Index durable_index_ = 0;        // log durable up to here
  Index written_index_ = 0;        // last index of the latest log write issued
  bool op_open_ = false;           // op_ is being built during the current input
  struct LogWrite {
    uint64_t token;
    Index last_index;  // the log's last index once this write is durable
    Index dirty_from;  // first index it rewrites
  };
  OffsetVector<std::pair<uint64_t, Message>> held_;  // messages waiting for a token
  OffsetVector<LogWrite> log_tokens_;                // every pending log write
  OffsetVector<LogWrite> rewrites_;  // pending writes that rewrite already written entries
  PersistOp op_;                     // the write of the current input, while op_open_
};

}  // namespace raft
