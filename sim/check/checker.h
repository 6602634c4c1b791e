// Safety invariants (shared/spec/scenarios.md "Invariants"), checked from
// outside the nodes after every event, from what the nodes emit: durable
// writes (which mirror each node's log), commits, applied entries, role
// changes, messages and client acknowledgements.
//
// Every check is incremental: a log is mirrored as one 64-bit chain hash per
// entry (hash of the entry and of the chain before it, so equal hashes at an
// index mean equal logs up to it), and the cluster-wide facts per index
// (each (index, term)'s chain hash, the committed chain hash, the applied
// entry and the state after it) live in a window that starts at the oldest
// snapshot any node may still restart from. The cost of an event does not
// grow with the length of the logs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "raft/node.h"
#include "raft/offset_vector.h"

namespace sim {

using raft::Index;
using raft::NodeId;
using raft::Term;

struct Violation {
  std::string invariant;
  std::string detail;
  std::vector<NodeId> nodes;
};

class Checker {
 public:
  // `configs` is the run's arena, shared with the nodes: a node's
  // configuration and the one its log says are then the same object.
  Checker(const std::vector<NodeId>& nodes, raft::ConfigArena& configs);
  // A checker alone (unit tests) keeps an arena of its own.
  explicit Checker(const std::vector<NodeId>& nodes) : Checker(nodes, own_configs_) {}

  // A node's in-memory log changed as this durable write describes;
  // commit_index is the node's after the input that made the change.
  void on_log_write(NodeId node, const raft::PersistOp& op, bool from_leader, Index commit_index);
  // A node (re)started from its durable state.
  void on_restart(NodeId node, const raft::DurableState& durable);
  // The node's configurations take effect on append (NodeApi::config_on_append).
  void set_config_on_append(NodeId node, bool on_append) {
    mirrors_[node_slot(node)].config_on_append = on_append;
  }
  // A durable write completed; `durable` is the node's disk after it.
  void on_durable(NodeId node, const raft::DurableState& durable);
  void on_commit(NodeId node, Index commit_index, bool leader, const std::vector<NodeId>& voters);
  void on_applied(NodeId node, const raft::Applied& applied);
  // In order. Returns whether any was a write new to the state machine
  // (not a duplicate): the simulator's last_write_applied_us, found on the
  // way instead of in a second pass over a restart's replay.
  bool on_applied(NodeId node, const std::vector<raft::Applied>& applied);
  void on_snapshot(NodeId node, const raft::Snapshot& snapshot, const char* how);
  // A node installed a snapshot (InstallSnapshot) whose last entry is at index.
  void on_snapshot_installed(NodeId node, Index index);
  void on_became_leader(NodeId node, Term term);
  void on_message(NodeId node, const raft::Message& msg);
  // `node` won `term`; the voters that must have elected it are those of the
  // configuration the checker holds in force at the node, not its own word.
  void on_election_won(NodeId node, Term term);
  // `node` won a pre-vote round and now campaigns in `term` (thesis §9.6):
  // pre-vote grants of that term from a majority of the configuration the
  // checker holds in force at the node, itself included, must have been
  // sent (NodeApi::pre_vote_wins_judged).
  void on_pre_vote_won(NodeId node, Term term);
  // After every input of a node: `config` is the configuration it now uses.
  void on_config(NodeId node, const raft::Configuration& config);
  // A node took a snapshot whose last entry is at index.
  void on_snapshot_taken(Index index, NodeId node);
  void on_ack(uint64_t write_id, Index index, Index floor_index);

  // The first violation, if any; checking stops there.
  const std::optional<Violation>& violation() const { return violation_; }
  void report(std::string invariant, std::string detail, std::vector<NodeId> nodes);
  Index committed_max() const { return committed_max_; }

 private:
  struct MirrorEntry {
    Term term;
    uint64_t chain;
  };
  struct Mirror {
    Index base_index = 0;  // snapshot index
    uint64_t base_chain = 0;
    raft::OffsetVector<MirrorEntry> entries;  // base_index + 1 ...
    // The node's rule: a configuration takes effect once appended, not once
    // committed (NodeApi::config_on_append).
    bool config_on_append = false;
    // The configuration entries (rare) in entries, ascending by index.
    std::vector<std::pair<Index, const raft::Configuration*>> configs;
    // The configuration in force at base_index: the bootstrap one, the
    // snapshot's, or the last configuration entry compacted away.
    const raft::Configuration* base_config = nullptr;
    // The node's commit index as its inputs made it: commits it reported, a
    // snapshot it installed, what a restart recovers.
    Index commit_index = 0;
    // The node's term at its latest write (a node writes whenever its term
    // changes).
    Term term = 0;
    Index last_index() const { return base_index + entries.size(); }
    std::optional<uint64_t> chain_at(Index i) const {
      if (i == base_index) return base_chain;
      if (i < base_index || i > last_index()) return std::nullopt;
      return entries[i - base_index - 1].chain;
    }
    const MirrorEntry* at(Index i) const {
      return i > base_index && i <= last_index() ? &entries[i - base_index - 1] : nullptr;
    }
  };
  struct Slot {  // (flags last: one per index, 56 bytes)
    // One chain hash per term seen at this index. Almost every index only
    // ever sees one term: that one is kept here, any others in more_chains_.
    Term first_term = 0;
    uint64_t first_chain = 0;
    uint64_t committed_chain = 0;
    // The term in which the entry was first committed (the committing
    // leader's), which Leader Completeness is about: a candidate of an old
    // term that wins late owes nothing to entries committed after its term.
    Term committed_term = 0;
    uint64_t applied_entry = 0;
    uint64_t state_hash = 0;
    bool committed = false;
    bool applied = false;
  };
  struct Persistence {
    Term durable_term = 0;
    Term granted_term = 0;
    NodeId granted_to = 0;
    NodeId durable_vote = 0;
    Index durable_base = 0;  // snapshot index a restart would begin from
    // The last AppendEntries (or InstallSnapshot) acknowledgement: its term
    // and the highest index acknowledged in that term.
    Term acked_term = 0;
    Index acked_index = 0;
    // The chain hash of the log up to acked_index when it was acknowledged,
    // unless the log had moved on to a later term by then.
    std::optional<uint64_t> acked_chain;
  };

  // The facts about index i, or nullptr below the window.
  Slot* slot(Index i) {
    // (Below the window, i - slots_base_ wraps around to a huge number.)
    if (i - slots_base_ < slots_.size()) return &slots_[i - slots_base_];
    return extend_to(i);
  }
  Slot* extend_to(Index i);
  // A log's chain hash after `entry`, given the chain before it.
  static uint64_t chain_after(uint64_t prev, const raft::Entry& entry) {
    return raft::mix64(prev ^ raft::entry_key(entry));
  }
  void compare_later_term(NodeId node, Index index, Term term, uint64_t chain);
  void check_applied(NodeId node, const raft::Applied& applied);
  void check_applied_at(NodeId node, Slot& s, const raft::Applied& applied);
  [[gnu::cold, gnu::noinline]] void report_applied(NodeId node, Index index, bool differs);
  [[gnu::cold, gnu::noinline]] void report_log_mismatch(NodeId node, Index index, Term term);
  size_t node_slot(NodeId id) const { return slot_of_[id]; }
  void set_base(Mirror& mirror, Index index, NodeId node, const raft::Configuration* config);
  // The configuration in force by the node's rule: the last configuration
  // entry at or below the mirror's commit index (raft-roles.md), or in the
  // whole log for a node whose configurations take effect on append; nullptr
  // if the checker never saw the node's durable state.
  static const raft::Configuration* config_in_force(const Mirror& mirror);
  void apply_log_write(NodeId node, const raft::PersistOp& op, bool from_leader,
                       Index commit_index);
  void append_to_mirror(NodeId node, Mirror& mirror, const raft::Entry& entry);
  void trim();

  raft::ConfigArena own_configs_;  // unused when given the run's
  raft::ConfigArena& configs_;
  std::vector<size_t> slot_of_;
  std::vector<NodeId> nodes_;
  std::vector<Mirror> mirrors_;
  std::vector<Persistence> persistence_;
  raft::OffsetVector<Slot> slots_;
  Index slots_base_ = 0;  // index of slots_[0]
  // The chain hashes of the second and later terms seen at an index (rare).
  std::map<Index, std::vector<std::pair<Term, uint64_t>>> more_chains_;
  Index committed_max_ = 0;
  std::map<Term, NodeId> leader_of_term_;
  std::vector<Term> led_term_;  // per node: the term of its latest election
  // Per node: the highest index it applied since it last (re)started.
  std::vector<Index> applied_index_;
  // Granted votes (vote responses sent), per term: (voter, candidate). A
  // term's are dropped once it has a leader; only the most recent terms
  // without one are kept, and a win in an older term is not judged.
  std::map<Term, std::vector<std::pair<NodeId, NodeId>>> grants_;
  Term grants_floor_ = 0;
  static constexpr size_t kGrantTermsKept = 1024;
  // Pre-vote grants sent, per term they grant: (voter, pre-candidate);
  // bounded the same way.
  std::map<Term, std::vector<std::pair<NodeId, NodeId>>> pre_vote_grants_;
  Term pre_vote_floor_ = 0;
  // Records a grant of a vote (or pre-vote) in `term`: one per term and pair.
  static void record_grant(std::map<Term, std::vector<std::pair<NodeId, NodeId>>>& grants,
                           Term& floor, Term term, NodeId voter, NodeId candidate);
  // How many of the voters of the configuration in force at `node` granted
  // it `term` in `grants` (itself included), and how many voters it has;
  // {0, 0} if the checker never saw the node's durable state.
  std::pair<size_t, size_t> granted_votes(
      const std::map<Term, std::vector<std::pair<NodeId, NodeId>>>& grants, NodeId node,
      Term term) const;
  // Chain hash at each snapshot's index: one entry per snapshot taken, so a
  // late transfer of an old snapshot can still be checked after its index
  // left the window.
  std::map<Index, uint64_t> snapshot_chains_;
  static constexpr size_t kSnapshotChainsKept = 256;
  std::optional<Violation> violation_;
};

}  // namespace sim
