// The messages Raft nodes exchange (paper Figure 2 and §7, thesis §3.10, §9.6).
// One flat struct keeps the driver's network generic: it routes by from/to and
// never needs to know which fields a type uses.
#pragma once

#include <memory>
#include <vector>

#include "raft/entry_batch.h"
#include "raft/state_machine.h"
#include "raft/types.h"

namespace raft {

// A snapshot: the state machine after applying the log up to
// last_included_index, and the configuration in force there (paper §7).
struct Snapshot {
  Index last_included_index = 0;
  Term last_included_term = 0;
  Configuration config;
  StateMachine state;
  uint64_t bytes = 0;  // nominal size on the wire
  // The index of the configuration entry `config` comes from, where an
  // implementation needs it (canonical/raft's configuration_index).
  Index config_index = 0;
};

enum class MsgType : uint8_t {
  append,  // AppendEntries (also the heartbeat)
  append_resp,
  vote,  // RequestVote
  vote_resp,
  pre_vote,  // thesis §9.6: changes nobody's term or vote
  pre_vote_resp,
  snapshot,  // InstallSnapshot, one chunk
  snapshot_resp,
  timeout_now,  // thesis §3.10: leadership transfer
};
const char* msg_type_name(MsgType type);

struct Message {
  // (Fields by size, so that a message is 144 bytes without holes: messages
  // are moved into and out of a network slot or a node's held queue by the
  // million, and in a large cluster those are rarely in cache.)
  MsgType type = MsgType::append;
  // append_resp / snapshot_resp: accepted; vote_resp / pre_vote_resp: granted.
  bool success = false;
  // snapshot: the last chunk; snapshot_resp: the answer to a last chunk.
  bool done = false;
  // vote: the election was started by TimeoutNow (leadership transfer).
  bool transfer = false;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;

  // append: prev_log_index/prev_log_term, entries, leader_commit.
  // append_resp: commit is the follower's commit index after the append.
  // vote / pre_vote: index/log_term are the candidate's last log index/term.
  Index index = 0;
  Term log_term = 0;
  Index commit = 0;
  EntryBatch entries;

  // append_resp: index is the last index known to match (success) or the
  // rejected prev_log_index; hint_index/hint_term guide fast backtracking.
  Index hint_index = 0;
  Term hint_term = 0;

  // append: the leader's latest heartbeat round; append_resp: echoed, so the
  // leader knows its leadership was acknowledged after that round began
  // (thesis §6.4, reads).
  uint64_t round = 0;

  // snapshot: one chunk [offset, offset + chunk_bytes) of *snapshot; done on the last.
  // snapshot_resp: offset is the next byte the receiver expects.
  std::shared_ptr<const Snapshot> snapshot;
  uint64_t offset = 0;
  uint64_t chunk_bytes = 0;

  // Another implementation's own message (sim/canonical_node.cc), carried
  // for delivery; the fields above describe it for the checkers and traces.
  std::shared_ptr<const void> foreign;
};
static_assert(sizeof(Message) == 144);

}  // namespace raft
