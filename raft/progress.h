// The leader's view of one peer's replication (etcd's tracker.Progress and
// tracker.Inflights): how far the peer's log is known to match, what to send
// next, and the AppendEntries in flight. Pure bookkeeping: the node decides
// what to send and when, these types only record it.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "raft/message.h"
#include "raft/offset_vector.h"
#include "raft/types.h"

namespace raft {

// The AppendEntries sent in replicate state and not yet acknowledged, oldest
// first: the last index each carries and when it left. Acknowledgements are
// cumulative, so one frees every message up to its index.
class Inflights {
 public:
  bool empty() const { return sent_.empty(); }
  size_t size() const { return sent_.size(); }
  bool full(size_t max_inflight) const { return sent_.size() >= max_inflight; }
  // When the oldest unacknowledged message left (not empty()).
  TimeUs oldest_sent_us() const { return sent_.front().second; }
  // Records a message whose last entry is last_index (above every earlier one).
  void add(Index last_index, TimeUs sent_us) { sent_.push_back({last_index, sent_us}); }
  // Frees every message whose entries are all at or below index.
  void free_le(Index index) {
    while (!sent_.empty() && sent_.front().first <= index) sent_.drop_front(1);
  }
  void reset() { sent_.clear(); }

 private:
  OffsetVector<std::pair<Index, TimeUs>> sent_;
};

// Invariant: match_index < next_index. The state says how the leader sends
// (etcd's three): probe, one AppendEntries at a time until the follower's log
// is found to match; replicate, a pipeline of up to max_inflight; snapshot,
// a snapshot transfer, no AppendEntries.
struct Progress {
  enum class State : uint8_t { probe, replicate, snapshot };
  Index match_index = 0;
  Index next_index = 1;
  State state = State::probe;
  bool probe_sent = false;     // probe: an AppendEntries is out, wait for its answer
  Inflights inflight;          // replicate
  TimeUs last_contact_us = 0;  // last response of any kind, for check_quorum
  uint64_t acked_round = 0;    // latest heartbeat round it answered (reads, §6.4)
  // Snapshot transfer in progress (snapshot state).
  std::shared_ptr<const Snapshot> snapshot;
  uint64_t snapshot_offset = 0;
  TimeUs snapshot_sent_us = 0;
  Index known_commit = 0;  // the peer's commit index, as its last answer said

  // Probe from `next` (above match_index), nothing in flight.
  void become_probe(Index next);
  // The follower's log matches up to match_index: pipeline from there on.
  void become_replicate();
  // The entries the peer needs are compacted away: send it `from` instead.
  void become_snapshot(std::shared_ptr<const Snapshot> from);
  // An AppendEntries carrying entries up to last_index left at sent_us
  // (replicate state).
  void sent_entries(Index last_index, TimeUs sent_us);
  // A successful AppendEntries answer: the peer's log matches up to index.
  // Returns whether match_index advanced.
  bool maybe_update(Index index);
  // A refusal of the AppendEntries that followed `rejected` (paper §5.3): probe
  // again from hint, but never past the refused message, nor back to or below
  // match_index. Returns false for a stale refusal (at or below match_index,
  // overtaken by a later success), which changes nothing.
  bool maybe_decrease_to(Index rejected, Index hint);
  // The peer installed a snapshot, or holds a log, up to index: probe after.
  void snapshot_done(Index index);
};

}  // namespace raft
