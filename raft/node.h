// One Raft node as a pure state machine.
//
// Inputs (each with the node's current local time): a message, a timer
// firing, a completed durable write, a client write, an admin command.
// Outputs (appended to an Outputs): messages to send, timers to set, durable
// writes to perform, entries applied to the state machine, replies to
// clients, and events worth tracing. The node never reads a clock, never draws
// from a global RNG and never does I/O, so the same core could run behind a
// real network and disk.
//
// Persistence order is explicit (etcd's msgsAfterAppend): a message that
// depends on durable state (a granted vote, an acknowledgement of entries) is
// held inside the node until on_persisted() reports the write that made that
// state durable.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "raft/durability.h"
#include "raft/flat_map.h"
#include "raft/id_set.h"
#include "raft/log.h"
#include "raft/message.h"
#include "raft/offset_vector.h"
#include "raft/options.h"
#include "raft/progress.h"
#include "raft/quorum.h"
#include "raft/random.h"
#include "raft/state_machine.h"
#include "raft/types.h"

namespace raft {

enum class TimerKind : uint8_t { election, heartbeat };
constexpr int kTimerKinds = 2;

struct TimerRequest {
  TimerKind kind;
  bool cancel = false;
  TimeUs at_us = 0;  // local time at which it fires
};

// An entry applied to the state machine. It names the entry by its key
// (entry_key) instead of carrying it: a restarted node replays every entry
// since its snapshot at once, up to a snapshot interval of records, and
// checkers compare keys only. A 32-byte record instead of 64 halves the
// memory the replay writes and the simulator then reads (issue #16).
struct Applied {
  // Uninitialised: a replay makes room for its records, then writes each
  // in place (a defaulted constructor would zero them all first).
  Applied() {}
  Applied(Index index_, const Entry& entry, bool duplicate_, uint64_t state_hash_)
      : index(index_),
        entry_key(raft::entry_key(entry)),
        state_hash(state_hash_),
        kind(entry.kind),
        duplicate(duplicate_) {}
  Index index;
  uint64_t entry_key;   // entry_key() of the entry
  uint64_t state_hash;  // state machine hash after this entry
  EntryKind kind;
  bool duplicate;  // a write whose id the state machine already held
};

// A client write as it reaches a node. Writes that arrive together are
// handed over together, so a leader appends them in one durable write and
// one round of AppendEntries (thesis §10.2.1, batching).
struct ClientWrite {
  uint64_t write_id;
  uint32_t size_bytes;
  uint32_t key = 0;
  WriteOp op = WriteOp::put;
  uint64_t expected = 0;  // cas
};

struct ClientReply {
  uint64_t write_id;
  bool ok;  // true: committed and applied at index; false: redirect
  Index index = 0;
  NodeId leader_hint = kNoNode;
  bool swapped = true;  // a cas: whether it found the expected value
};

// How a read is served (thesis §6.4). read_index: the leader notes its
// commit index, confirms it still leads with a heartbeat round a quorum
// acknowledges, and answers once it has applied that far. lease: the leader
// skips the round while a lease from its last acknowledged round holds
// (§6.4.1). stale: any node answers from what it has applied, which is not
// linearizable (for contrast).
enum class ReadMode : uint8_t { read_index, lease, stale };
const char* read_mode_name(ReadMode mode);

struct ClientRead {
  uint64_t read_id;
  uint32_t key;
  ReadMode mode;
};

struct ReadReply {
  uint64_t read_id;
  bool ok;             // true: value is the key's value; false: redirect
  uint64_t value = 0;  // the write id the key held, 0 if absent
  Index applied = 0;   // the answering state machine had applied this far
  NodeId leader_hint = kNoNode;
};

enum class EventType : uint8_t {
  role,
  election_started,
  vote_granted,
  elected,
  step_down,
  commit,
  config_committed,  // reported by the leader that commits it
  snapshot_taken,
  snapshot_sent,
  snapshot_installed,
};

struct NodeEvent {
  explicit NodeEvent(EventType event_type) : type(event_type) {}
  EventType type;
  Term term = 0;
  Role from = Role::follower;
  Role to = Role::follower;
  const char* reason = "";
  NodeId peer = kNoNode;  // candidate (vote_granted), to (snapshot_sent), from (installed)
  Index index = 0;
  uint64_t bytes = 0;
  bool pre_vote = false;
  uint32_t votes = 0;
  const Configuration* config = nullptr;          // config_committed; commit: config in force
  std::vector<std::pair<NodeId, uint64_t>> lags;  // config_committed: lag of each changed node
};

struct Outputs {
  std::vector<Message> messages;
  std::vector<PersistOp> persists;
  std::vector<TimerRequest> timers;
  std::vector<Applied> applied;
  std::vector<ClientReply> replies;
  std::vector<ReadReply> read_replies;
  std::vector<NodeEvent> events;
  // Inline: the simulator clears its outputs before every input, and most
  // inputs leave all but one or two of these empty.
  void clear() {
    if (!messages.empty()) messages.clear();
    if (!persists.empty()) persists.clear();
    if (!timers.empty()) timers.clear();
    if (!applied.empty()) applied.clear();
    if (!replies.empty()) replies.clear();
    if (!read_replies.empty()) read_replies.clear();
    if (!events.empty()) events.clear();
  }
};

enum class ConfigChange : uint8_t { add_learner, promote, demote, remove };

class Node {
 public:
  // A node restarts from its durable state; a new node passes a DurableState
  // that holds only the bootstrap configuration.
  // `configs` is the run's arena, which outlives the node and every entry
  // it makes.
  Node(NodeId id, const Options& options, Random& random, const DurableState& durable,
       ConfigArena& configs);

  // Starts the node: re-applies committed entries and arms its timers.
  void start(TimeUs now, Outputs& out);
  void step(const Message& msg, TimeUs now, Outputs& out);
  void on_timer(TimerKind kind, TimeUs now, Outputs& out);
  void on_persisted(uint64_t token, TimeUs now, Outputs& out);
  void client_writes(const std::vector<ClientWrite>& writes, TimeUs now, Outputs& out);
  void client_write(uint64_t write_id, uint32_t size_bytes, TimeUs now, Outputs& out) {
    client_writes({{write_id, size_bytes}}, now, out);
  }
  // Reads that reach the node at the same instant (thesis §6.4).
  void client_reads(const std::vector<ClientRead>& reads, TimeUs now, Outputs& out);

  // Admin commands. campaign: the election timer fires now.
  void campaign(TimeUs now, Outputs& out);
  // Returns false when this node is not the leader or `to` is not a voter.
  bool transfer_leadership(NodeId to, TimeUs now, Outputs& out);
  // Queues a configuration change at the leader; it is proposed as soon as no
  // other change is uncommitted. Returns false when this node is not leader.
  bool request_config_change(ConfigChange change, NodeId node, std::optional<bool> promote,
                             TimeUs now, Outputs& out);
  void take_snapshot(TimeUs now, Outputs& out);

  // Observation, for drivers and checkers.
  NodeId id() const { return id_; }
  Role role() const { return role_; }
  Term current_term() const { return current_term_; }
  NodeId voted_for() const { return voted_for_; }
  NodeId leader_id() const { return leader_id_; }
  Index commit_index() const { return commit_index_; }
  Index last_applied() const { return last_applied_; }
  const RaftLog& log() const { return log_; }
  const Configuration& config() const { return *config_; }
  // The newest configuration in the log, committed or not.
  const Configuration& latest_config() const;
  const StateMachine& state_machine() const { return state_machine_; }
  const Options& options() const { return options_; }
  // Voters the leader currently counts toward a commit quorum (all voters of
  // the configuration, unless a planted bug says otherwise).
  std::vector<NodeId> counted_voters() const;
  const FlatMap<NodeId, Progress>& voter_progress() const { return voter_progress_; }
  const FlatMap<NodeId, Progress>& learner_progress() const { return learner_progress_; }

 private:
  // Role changes: the only functions that assign role_ (thesis Figure 3.3).
  void become_follower(Term term, NodeId leader, const char* reason, TimeUs now, Outputs& out);
  void become_precandidate(const char* reason, TimeUs now, Outputs& out);
  void become_candidate(const char* reason, bool transfer, TimeUs now, Outputs& out);
  void become_leader(TimeUs now, Outputs& out);
  void become_learner(const char* reason, TimeUs now, Outputs& out);
  void set_role(Role to, const char* reason, Outputs& out);

  void handle_append(const Message& msg, TimeUs now, Outputs& out);
  void append_entries_from(const Message& msg, Index prev, size_t skip);
  void handle_append_resp(const Message& msg, TimeUs now, Outputs& out);
  void handle_vote(const Message& msg, TimeUs now, Outputs& out);
  void handle_vote_resp(const Message& msg, TimeUs now, Outputs& out);
  void handle_snapshot(const Message& msg, TimeUs now, Outputs& out);
  void handle_snapshot_resp(const Message& msg, TimeUs now, Outputs& out);
  void handle_timeout_now(const Message& msg, TimeUs now, Outputs& out);

  void start_election(bool pre_vote, bool transfer, TimeUs now, Outputs& out);
  // Whether `node` is a voter of the committed or of the latest configuration.
  bool knows_voter(NodeId node) const;
  // Thesis §4.2.3: a follower or learner heard from a leader within the
  // minimum election timeout.
  bool leader_recently_heard(TimeUs now) const;
  bool log_up_to_date(Index last_index, Term last_term) const;
  void reset_election_timer(TimeUs now, Outputs& out);
  void record_leader_contact(NodeId leader, TimeUs now, Outputs& out);

  // Leader replication.
  Progress* progress_of(NodeId id);
  void broadcast_heartbeat(TimeUs now, Outputs& out);
  void send_append(NodeId peer, Progress& pr, bool heartbeat, TimeUs now, Outputs& out);
  // The prev index and last entry of a probe (one AppendEntries at a time).
  std::pair<Index, Index> probe_range(const Progress& pr) const;
  // The log's entries first..last (first <= last) as a batch, shared with the
  // AppendEntries built before it that carry them (see EntryBatch).
  EntryBatch entries_batch(Index first, Index last);
  void send_snapshot_chunk(NodeId peer, Progress& pr, TimeUs now, Outputs& out);
  void maybe_commit(TimeUs now, Outputs& out);
  // The largest index a majority of these voters holds, as far as known.
  Index quorum_match(const std::vector<NodeId>& voters);
  void on_voter_match(Index before, Index after, TimeUs now, Outputs& out);
  void recount_above_commit();
  void append_entry(Entry entry);
  void rebuild_progress(TimeUs now);
  void check_quorum(TimeUs now, Outputs& out);
  void maybe_change_membership(TimeUs now, Outputs& out);
  void propose_config(const Configuration& next, TimeUs now, Outputs& out);
  void maybe_finish_transfer(TimeUs now, Outputs& out);
  void maybe_finish_leaving(TimeUs now, Outputs& out);

  // Reads (thesis §6.4).
  void serve_reads(TimeUs now, Outputs& out);
  // The latest heartbeat round a quorum of voters (the leader included) has
  // answered: leadership was confirmed after that round began.
  uint64_t confirmed_round();
  bool lease_holds(TimeUs now);
  void redirect_reads(Outputs& out);

  // Commit, apply, snapshots, configuration.
  void advance_commit(Index index, TimeUs now, Outputs& out);
  void apply_committed(TimeUs now, Outputs& out);
  // Applies a committed write: false if the state machine already held it.
  bool apply_write(const Entry& entry, Index index, Outputs& out);
  void apply_config(const Configuration* config, Index index, TimeUs now, Outputs& out);
  void maybe_snapshot(Outputs& out);
  void snapshot_now(Outputs& out);
  static constexpr uint64_t kSnapshotHeaderBytes = 64;  // index, term, configuration

  // Persistence.
  void mark_log_dirty(Index from);
  void mark_hard_state_dirty();
  void flush(Outputs& out);
  void send(Message&& msg, uint64_t after_token, Outputs& out);

  // Members are laid out by how often an input touches them, hottest first,
  // rather than in Figure 2's order (each is still labelled with its role). In
  // a large cluster nearly every event lands on a node whose object is no
  // longer in cache, and each cache line an input reads is a miss: a
  // follower's AppendEntries and the completion of its durable write read
  // only the first few lines, leader, candidate and membership state follow.

  // Identity and volatile state on all servers (Figure 2), and the
  // persistent term and vote (durable through PersistOp).
  const NodeId id_;
  Role role_ = Role::follower;
  bool heard_from_leader_ = false;
  bool self_lagging_ = false;  // only the demote_without_consensus planted bug reads it
  NodeId leader_id_ = kNoNode;
  NodeId voted_for_ = kNoNode;
  Term current_term_ = 0;
  Index commit_index_ = 0;
  Index last_applied_ = 0;
  TimeUs last_leader_contact_us_ = 0;
  Index applied_since_snapshot_ = 0;
  // Membership: an uncommitted configuration entry in the log, or 0.
  Index pending_config_index_ = 0;

  // Figure 2: the log (persistent, durable through PersistOp).
  RaftLog log_;
  // Membership: the configuration in force is the latest committed one
  // (applied on commit, as etcd does).
  const Configuration* config_ = nullptr;  // in configs_, never null
  Random& random_;
  const Options options_;

  // Persistence bookkeeping (messages held until a write completes).
  Durability writes_;

  // Figure 2: volatile state on all servers, continued.
  StateMachine state_machine_;
  ConfigArena* configs_;
  // Persistent: the latest snapshot (paper §7).
  std::shared_ptr<const Snapshot> snapshot_;

  // Leader: replication progress, voters and learners kept apart.
  FlatMap<NodeId, Progress> voter_progress_;
  FlatMap<NodeId, Progress> learner_progress_;
  Index term_start_index_ = 0;        // index of this term's no-op
  size_t above_commit_ = 0;           // voters whose match index is past commit_index_
  std::vector<Index> quorum_buffer_;  // reused by quorum_match and confirmed_round
  NodeId transfer_target_ = kNoNode;
  // A leader whose removal (or demotion) committed, until the remaining
  // voters know it: the configuration entry's index, or 0.
  Index leaving_index_ = 0;
  TimeUs leaving_deadline_us_ = 0;
  TimeUs transfer_deadline_us_ = 0;
  // The entries of the latest AppendEntries built with entries: from index
  // batch_first_index_, as the log held them at generation batch_generation_.
  EntryBatch batch_;
  Index batch_first_index_ = 0;
  uint64_t batch_generation_ = 0;
  // Leader only: the writes in its log not yet applied (only looked up).
  IdSet unapplied_writes_;
  struct QueuedChange {
    ConfigChange change;
    NodeId node;
    std::optional<bool> promote;
  };
  OffsetVector<QueuedChange> queued_changes_;

  // Leader: reads (thesis §6.4). Every broadcast of heartbeats starts a
  // round; AppendEntries carry the latest round and responses echo it.
  struct PendingRead {
    ClientRead read;
    bool indexed = false;  // read_index is set (once this term's no-op has committed)
    Index read_index = 0;
    uint64_t round = 0;  // the round that must confirm leadership, 0 = none yet
  };
  std::vector<PendingRead> pending_reads_;
  uint64_t heartbeat_round_ = 0;
  bool read_round_wanted_ = false;  // reads wait for a round not yet begun
  // Start times of the recent rounds, for the lease (§6.4.1).
  OffsetVector<std::pair<uint64_t, TimeUs>> round_started_us_;

  // Candidate / pre-candidate.
  VoteTally votes_;

  // Follower: an incoming chunked snapshot.
  std::shared_ptr<const Snapshot> incoming_snapshot_;
  uint64_t incoming_offset_ = 0;
};

}  // namespace raft
