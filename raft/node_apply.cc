#include <algorithm>
#include <utility>

#include "raft/node.h"

namespace raft {

// ---------------------------------------------------------------------------
// Commit and apply

void Node::advance_commit(Index index, TimeUs now, Outputs& out) {
  if (index <= commit_index_) return;
  commit_index_ = index;
  NodeEvent ev{EventType::commit};
  ev.index = index;
  ev.term = *log_.term_at(index);
  ev.config = config_;  // the configuration under which the entries committed
  out.events.push_back(std::move(ev));
  apply_committed(now, out);
}

void Node::apply_committed(TimeUs now, Outputs& out) {
  // A restarted node replays every entry since its snapshot here at once
  // (paper §7): the log is walked by pointer and the records are written in
  // place, into room made for all of them, with the commit index and the
  // state hash in locals, which the records could otherwise alias. Only a
  // configuration entry can change the log (a leader may append the next
  // change) or the commit index, so the walk stops after each one.
  while (last_applied_ < commit_index_) {
    const Index commit = commit_index_;
    const Entry* entry = &log_.at(last_applied_ + 1);
    Index index = last_applied_;
    uint64_t state_hash = state_machine_.state_hash();
    const size_t first = out.applied.size();
    out.applied.resize(first + (commit - index));
    Applied* record = out.applied.data() + first;
    bool config = false;
    while (index < commit && !config) {
      ++index;
      bool duplicate = false;
      if (entry->kind == EntryKind::write) {
        duplicate = !apply_write(*entry, index, out);
        state_hash = state_machine_.state_hash();
      }
      config = entry->kind == EntryKind::config;
      *record++ = Applied(index, *entry++, duplicate, state_hash);
    }
    out.applied.resize(static_cast<size_t>(record - out.applied.data()));
    applied_since_snapshot_ += index - last_applied_;
    last_applied_ = index;
    if (config) apply_config(entry[-1].config, index, now, out);
  }
  maybe_snapshot(out);
  if (role_ == Role::leader && !pending_reads_.empty()) serve_reads(now, out);
}

bool Node::apply_write(const Entry& entry, Index index, Outputs& out) {
  const bool applied = state_machine_.apply_write(entry.write_id, entry.size_bytes, entry.key,
                                                  entry.op, entry.expected);
  if (role_ == Role::leader) {
    out.replies.push_back(
        {entry.write_id, true, index, id_, state_machine_.swapped(entry.write_id)});
    unapplied_writes_.erase(entry.write_id);
  }
  return applied;
}

// ---------------------------------------------------------------------------
// Reads (thesis §6.4)

void Node::serve_reads(TimeUs now, Outputs& out) {
  // §6.4 step 1: "If the leader has not yet marked an entry from its current
  // term committed, it waits until it has done so": only then is its commit
  // index at least that of every earlier leader.
  const bool noop_committed = commit_index_ >= term_start_index_ ||
                              options_.bugs.read_before_noop_commit;  // PLANTED BUG when set
  const uint64_t confirmed = confirmed_round();
  const bool lease = lease_holds(now);
  size_t kept = 0;
  for (PendingRead& pending : pending_reads_) {
    bool ready = true;
    if (!pending.indexed) {
      pending.indexed = noop_committed;
      pending.read_index = commit_index_;
      ready = noop_committed;
    }
    // Step 2: confirm leadership with a round begun after the read arrived,
    // unless the lease still holds (§6.4.1).
    if (ready && !(pending.read.mode == ReadMode::lease && lease) &&
        !options_.bugs.read_index_without_heartbeat) {  // PLANTED BUG when set
      if (pending.round == 0) {
        pending.round = heartbeat_round_ + 1;
        read_round_wanted_ = true;
      }
      ready = confirmed >= pending.round;
    }
    // Step 3: answer once the state machine has applied the read index.
    if (ready && last_applied_ >= pending.read_index) {
      out.read_replies.push_back(
          {pending.read.read_id, true, state_machine_.get(pending.read.key), last_applied_, id_});
    } else {
      pending_reads_[kept++] = pending;
    }
  }
  pending_reads_.resize(kept);
  // One round at a time: reads that came during a round wait for the next,
  // which starts once this one is confirmed (or at the next heartbeat).
  if (read_round_wanted_ && confirmed >= heartbeat_round_) {
    broadcast_heartbeat(now, out);
    if (confirmed_round() >= heartbeat_round_) serve_reads(now, out);  // a lone voter
  }
}

uint64_t Node::confirmed_round() {
  // A quorum of the configuration in force and, during a change, of the new
  // one too (as for commits).
  uint64_t confirmed = heartbeat_round_;
  for (const Configuration* config : {config_, &latest_config()}) {
    std::vector<uint64_t>& rounds = quorum_buffer_;
    rounds.clear();
    for (NodeId v : config->voters) {
      if (v == id_) {
        rounds.push_back(heartbeat_round_);
      } else if (auto it = voter_progress_.find(v); it != voter_progress_.end()) {
        rounds.push_back(it->second.acked_round);
      } else if (auto lt = learner_progress_.find(v); lt != learner_progress_.end()) {
        rounds.push_back(lt->second.acked_round);  // promoted, not yet in force
      } else {
        rounds.push_back(0);
      }
    }
    if (rounds.empty()) return 0;
    confirmed = std::min(confirmed, majority_value(rounds));
  }
  return confirmed;
}

bool Node::lease_holds(TimeUs now) {
  // §6.4.1: the voters that answered the confirmed round grant no vote for
  // election_timeout_min of their own clocks after it; measured on ours,
  // shortened by the drift bound either way. A transfer's TimeoutNow
  // overrides that refusal (§3.10), so no lease holds during one.
  if (!options_.lease_reads || transfer_target_ != kNoNode) return false;
  const uint64_t confirmed = confirmed_round();
  const int64_t d = options_.clock_drift_bound_ppm;
  const TimeUs lease_us =
      options_.bugs.lease_ignores_drift  // PLANTED BUG when set
          ? options_.election_timeout_min_us
          : options_.election_timeout_min_us * (1'000'000 - d) / (1'000'000 + d);
  for (const auto& [round, started_us] : round_started_us_) {
    if (round == confirmed) return now < started_us + lease_us;
  }
  return false;
}

void Node::redirect_reads(Outputs& out) {
  for (const PendingRead& pending : pending_reads_) {
    out.read_replies.push_back({pending.read.read_id, false, 0, 0, kNoNode});
  }
  pending_reads_.clear();
  round_started_us_.clear();
  read_round_wanted_ = false;
}

void Node::apply_config(const Configuration* config, Index index, TimeUs now, Outputs& out) {
  const Configuration* previous = std::exchange(config_, config);
  if (pending_config_index_ <= index) pending_config_index_ = 0;
  writes_.pending();  // make the new commit index durable: a restart must know this config
  if (role_ == Role::leader) {
    NodeEvent ev{EventType::config_committed};
    ev.index = index;
    ev.term = current_term_;
    ev.config = config;
    const Index last = log_.last_index();
    auto lag_of = [&](NodeId n) -> uint64_t {
      if (n == id_) return 0;
      const Progress* pr = progress_of(n);
      return pr ? last - pr->match_index : last;
    };
    for (NodeId v : config->voters) {
      if (!previous->is_voter(v)) ev.lags.emplace_back(v, lag_of(v));
    }
    for (NodeId v : previous->voters) {
      if (!config->is_voter(v)) ev.lags.emplace_back(v, lag_of(v));
    }
    out.events.push_back(std::move(ev));
    rebuild_progress(now);
    if (!config->is_voter(id_)) {
      // Thesis §4.2.2: a removed leader steps down once C_new commits. Since
      // configurations apply on commit here, the remaining voters must first
      // learn that it committed, or they would keep electing under C_old:
      // stay (without counting itself) until a quorum of C_new reports the
      // commit, or for one election timeout at most.
      leaving_index_ = index;
      leaving_deadline_us_ = now + options_.election_timeout_max_us;
      transfer_target_ = kNoNode;  // leaving comes first: a transfer would skip the wait
      recount_above_commit();
      broadcast_heartbeat(now, out);
      return;
    }
    recount_above_commit();
    maybe_change_membership(now, out);
    return;
  }
  if (config->is_voter(id_) && role_ == Role::learner) {
    become_follower(current_term_, leader_id_, "promoted", now, out);
  } else if (!config->is_voter(id_) && role_ != Role::learner) {
    become_learner(config->contains(id_) ? "demoted" : "removed", now, out);
  }
}

void Node::maybe_snapshot(Outputs& out) {
  if (applied_since_snapshot_ >= options_.snapshot_threshold) snapshot_now(out);
}

void Node::snapshot_now(Outputs& out) {
  if (last_applied_ <= (snapshot_ ? snapshot_->last_included_index : 0)) return;
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->last_included_index = last_applied_;
  snapshot->last_included_term = *log_.term_at(last_applied_);
  // Configurations apply on commit, in log order, so config_ is the one in
  // force at last_applied_.
  snapshot->config = *config_;
  snapshot->state = state_machine_;
  snapshot->bytes = state_machine_.size_bytes() + kSnapshotHeaderBytes;
  // Log changes made before the snapshot go to disk first, in their own write.
  flush(out);
  // Paper §7: discard the log the snapshot covers, but keep a trailing
  // window (as etcd does) so that a follower a little behind, or one whose
  // appends were reordered, catches up from the log instead of needing the
  // whole snapshot. Memory stays bounded by the threshold.
  const Index trailing = options_.snapshot_threshold / 4;
  Index compact = last_applied_ > trailing ? last_applied_ - trailing : 0;
  // Nor past a snapshot still being sent: once installed, its receiver
  // continues from the log, instead of chasing ever newer snapshots.
  for (const auto* peers : {&voter_progress_, &learner_progress_}) {
    for (const auto& [peer, pr] : *peers) {
      if (pr.state == Progress::State::snapshot) {
        compact = std::min(compact, pr.snapshot->last_included_index);
      }
    }
  }
  if (compact > log_.snapshot_index()) {
    const Term compact_term = *log_.term_at(compact);
    log_.compact_to(compact, compact_term);
    writes_.pending().compact_index = compact;
    writes_.pending().compact_term = compact_term;
  }
  snapshot_ = snapshot;
  writes_.pending().snapshot = snapshot;
  applied_since_snapshot_ = 0;
  NodeEvent ev{EventType::snapshot_taken};
  ev.term = snapshot->last_included_term;
  ev.index = snapshot->last_included_index;
  ev.bytes = snapshot->bytes;
  out.events.push_back(std::move(ev));
}

}  // namespace raft
