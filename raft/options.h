// Protocol settings of one node. Durations are in microseconds of the node's
// local clock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace raft {

// Deliberate protocol mistakes, each off unless a scenario or `fuzz --bug`
// asks for it, so that the simulator's checkers can be shown to catch them.
// Every use in node.cc is marked "PLANTED BUG".
struct PlantedBugs {
  bool vote_ignores_log = false;          // grant votes without the §5.4.1 up-to-date check
  bool commit_prior_term = false;         // count replicas of earlier-term entries (Figure 8)
  bool forget_vote_on_restart = false;    // voted_for is not durable
  bool no_truncate_on_conflict = false;   // keep a conflicting suffix after the new entries
  bool ack_before_persist = false;        // acknowledge entries before they are durable
  bool no_check_quorum = false;           // a leader never steps down for lost quorum
  bool demote_without_consensus = false;  // lagging voters stop counting without a config change
  bool lease_ignores_drift = false;       // a read lease of the whole minimum election timeout
  bool read_index_without_heartbeat = false;  // read_index reads skip the leadership round
  bool read_before_noop_commit = false;       // reads before this term's no-op has committed

  // Switches on the bug with this name; false if there is none.
  bool enable(const std::string& name);
  static const std::vector<std::string>& names();
};

struct Options {
  // (The settings nearly every input reads come first, the planted bugs
  // among them: a node's options share a cache line or two with its log.)
  int64_t election_timeout_min_us = 150'000;
  int64_t election_timeout_max_us = 300'000;
  int64_t heartbeat_interval_us = 50'000;
  PlantedBugs bugs;
  bool check_quorum = true;
  bool pre_vote = false;
  uint64_t max_lag_threshold = 1000;
  uint64_t promotion_threshold = 10;
  bool auto_promote = true;
  uint32_t min_voters = 3;
  uint64_t snapshot_threshold = 1024;
  uint64_t snapshot_chunk_size = 65536;
  uint32_t max_inflight = 64;
  uint32_t max_entries_per_message = 64;
  // A leader that probes a follower's log (after its election, a refusal or
  // an unanswered AppendEntries) first sends an empty AppendEntries this many
  // entries below where it would probe (never below the known match or its
  // snapshot): legal (§5.3: any prev index the follower holds verifies its
  // log up to there), one round trip slower, and a test of a follower's
  // commit rule (Figure 2, AppendEntries rule 5: the index of the last new
  // entry, not of its last entry). 0 (default): probe where fast
  // backtracking points.
  uint32_t probe_back = 0;
  // Lease reads (thesis §6.4.1): how far any clock may drift from real time,
  // in parts per million. A leader serves reads locally for
  // election_timeout_min * (1 - d) / (1 + d) of its clock after a heartbeat
  // round that a quorum acknowledged: no voter that acknowledged it votes for
  // anyone else within election_timeout_min of its own clock.
  int64_t clock_drift_bound_ppm = 100'000;
  // Set when lease reads may happen: a (re)started node then also waits the
  // minimum election timeout before it grants a vote, since a voter that
  // acknowledged the leader's round and restarted has forgotten when.
  bool lease_reads = false;
};

}  // namespace raft
