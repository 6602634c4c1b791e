#include <algorithm>
#include <limits>

#include "raft/node.h"

namespace raft {

// ---------------------------------------------------------------------------
// Log replication: follower side

void Node::record_leader_contact(NodeId leader, TimeUs now, Outputs& out) {
  if (role_ == Role::candidate || role_ == Role::precandidate) {
    // §5.2: a candidate that hears from the leader of its term steps back.
    become_follower(current_term_, leader, "leader_found", now, out);
  }
  leader_id_ = leader;
  last_leader_contact_us_ = now;
  heard_from_leader_ = true;
  if (role_ == Role::follower) reset_election_timer(now, out);
}

void Node::handle_append(const Message& msg, TimeUs now, Outputs& out) {
  if (role_ == Role::leader) return;  // two leaders in one term: the checker reports it
  record_leader_contact(msg.from, now, out);
  if (options_.bugs.demote_without_consensus) {
    self_lagging_ = msg.commit > log_.last_index() + options_.max_lag_threshold;
  }

  Message resp;
  resp.type = MsgType::append_resp;
  resp.from = id_;
  resp.to = msg.from;
  resp.term = current_term_;
  resp.round = msg.round;  // any answer confirms the leader's round (thesis §6.4)

  // Entries up to our snapshot are committed and therefore match the
  // leader's: skip them.
  Index prev = msg.index;
  Term prev_term = msg.log_term;
  size_t skip = 0;
  if (prev < log_.snapshot_index()) {
    skip = static_cast<size_t>(std::min<Index>(log_.snapshot_index() - prev, msg.entries.size()));
    prev += skip;
    prev_term = skip ? msg.entries[skip - 1].term : prev_term;
    if (prev < log_.snapshot_index()) {
      resp.success = true;
      resp.index = log_.snapshot_index();
      send(std::move(resp), writes_.last_log_token(), out);  // once the snapshot is durable
      return;
    }
  }

  // Figure 2, AppendEntries rule 2: "Reply false if log doesn't contain an
  // entry at prevLogIndex whose term matches prevLogTerm".
  if (log_.term_at(prev) != prev_term) {
    resp.success = false;
    resp.index = msg.index;
    if (prev > log_.last_index()) {
      resp.hint_index = log_.last_index() + 1;
    } else {
      // Fast backtracking: name the conflicting term and where it starts.
      resp.hint_term = *log_.term_at(prev);
      resp.hint_index = prev < log_.first_index() ? prev : log_.first_index_of_term_at(prev);
    }
    send(std::move(resp), 0, out);
    return;
  }

  append_entries_from(msg, prev, skip);  // rules 3 and 4
  const Index last_new = prev + (msg.entries.size() - skip);
  resp.success = true;
  resp.index = last_new;
  // Acknowledge only what is durable: the leader counts this reply toward a
  // commit quorum.
  const uint64_t after = options_.bugs.ack_before_persist ? 0  // PLANTED BUG when set
                                                          : writes_.log_token_for(last_new);
  // Rule 5: "If leaderCommit > commitIndex, set commitIndex =
  // min(leaderCommit, index of last new entry)".
  if (msg.commit > commit_index_) advance_commit(std::min(msg.commit, last_new), now, out);
  resp.commit = commit_index_;  // a leaving leader waits to see its removal known
  send(std::move(resp), after, out);
}

// Figure 2, AppendEntries rules 3 and 4: delete a conflicting entry and all
// that follow it, and append any new entries not already in the log. The
// entries of msg after the first `skip` follow index prev, which matched.
void Node::append_entries_from(const Message& msg, Index prev, size_t skip) {
  Index index = prev;
  Index first_appended = 0;
  for (size_t k = skip; k < msg.entries.size(); ++k) {
    const Entry& entry = msg.entries[k];
    ++index;
    if (index <= log_.last_index()) {
      if (log_.at(index).term == entry.term) continue;
      if (options_.bugs.no_truncate_on_conflict) {
        // PLANTED BUG: overwrite in place and keep the conflicting suffix.
        log_.replace(index, entry);
        mark_log_dirty(index);
        if (entry.kind == EntryKind::config) {
          pending_config_index_ = index;
        } else if (pending_config_index_ == index) {
          pending_config_index_ = 0;
        }
        continue;
      }
      log_.truncate_after(index - 1);
      if (pending_config_index_ >= index) pending_config_index_ = 0;
    }
    // Everything from here on is new: append the rest at once.
    log_.append(msg.entries.data() + k, msg.entries.data() + msg.entries.size());
    first_appended = index;
    for (size_t j = k; j < msg.entries.size(); ++j, ++index) {
      if (msg.entries[j].kind == EntryKind::config) pending_config_index_ = index;
    }
    break;
  }
  if (first_appended != 0) mark_log_dirty(first_appended);  // one durable write for them all
}

void Node::handle_snapshot(const Message& msg, TimeUs now, Outputs& out) {
  if (role_ == Role::leader) return;
  record_leader_contact(msg.from, now, out);
  const std::shared_ptr<const Snapshot>& snapshot = msg.snapshot;
  Message resp;
  resp.type = MsgType::snapshot_resp;
  resp.from = id_;
  resp.to = msg.from;
  resp.term = current_term_;
  resp.index = msg.index;

  if (snapshot->last_included_index <= commit_index_) {
    // Never install a snapshot older than what we hold: report what we have.
    incoming_snapshot_.reset();
    resp.success = true;
    resp.done = true;
    resp.index = commit_index_;
    send(std::move(resp), writes_.last_log_token(), out);  // once the log up to there is durable
    return;
  }
  if (msg.offset == 0) {
    incoming_snapshot_ = snapshot;
    incoming_offset_ = 0;
  }
  if (incoming_snapshot_ != snapshot || msg.offset != incoming_offset_) {
    // A chunk out of order (loss, duplicate, or a transfer that restarted):
    // tell the leader where we are; it resends from there.
    resp.success = false;
    resp.offset = incoming_snapshot_ == snapshot ? incoming_offset_ : 0;
    send(std::move(resp), 0, out);
    return;
  }
  incoming_offset_ += msg.chunk_bytes;
  if (!msg.done) {
    resp.success = true;
    resp.offset = incoming_offset_;
    send(std::move(resp), 0, out);
    return;
  }

  // Paper §7: install, keeping any later entries that match.
  const Index index = snapshot->last_included_index;
  log_.install_snapshot(index, snapshot->last_included_term);
  log_.compact_to(index, snapshot->last_included_term);
  if (pending_config_index_ <= index) pending_config_index_ = 0;
  snapshot_ = snapshot;
  state_machine_ = snapshot->state;
  config_ = configs_->intern(snapshot->config);
  commit_index_ = index;
  last_applied_ = index;
  applied_since_snapshot_ = 0;
  incoming_snapshot_.reset();
  writes_.pending().snapshot = snapshot;
  writes_.pending().compact_index = index;
  writes_.pending().compact_term = snapshot->last_included_term;
  mark_log_dirty(index + 1);
  NodeEvent ev{EventType::snapshot_installed};
  ev.peer = msg.from;
  ev.term = snapshot->last_included_term;
  ev.index = index;
  ev.bytes = snapshot->bytes;
  out.events.push_back(std::move(ev));
  if (config_->is_voter(id_) && role_ == Role::learner) {
    become_follower(current_term_, msg.from, "promoted", now, out);
  } else if (!config_->is_voter(id_) && role_ != Role::learner) {
    become_learner(config_->contains(id_) ? "demoted" : "removed", now, out);
  }
  resp.success = true;
  resp.done = true;
  resp.index = index;
  send(std::move(resp), writes_.last_log_token(), out);
}

// ---------------------------------------------------------------------------
// Log replication: leader side

Progress* Node::progress_of(NodeId id) {
  auto it = voter_progress_.find(id);
  if (it != voter_progress_.end()) return &it->second;
  it = learner_progress_.find(id);
  if (it != learner_progress_.end()) return &it->second;
  return nullptr;
}

void Node::rebuild_progress(TimeUs now) {
  FlatMap<NodeId, Progress> voters, learners;
  auto take = [&](NodeId peer, FlatMap<NodeId, Progress>& into) {
    Progress pr;
    if (Progress* old = progress_of(peer)) {
      pr = std::move(*old);
    } else {
      pr.next_index = log_.last_index() + 1;
      pr.last_contact_us = now;
    }
    into.emplace(peer, std::move(pr));
  };
  for (NodeId v : config_->voters) {
    if (v != id_) take(v, voters);
  }
  for (NodeId l : config_->learners) {
    if (l != id_) take(l, learners);
  }
  voter_progress_ = std::move(voters);
  learner_progress_ = std::move(learners);
}

void Node::append_entry(Entry entry) {
  const Index index = log_.last_index() + 1;
  log_.append(std::move(entry));
  mark_log_dirty(index);
}

void Node::broadcast_heartbeat(TimeUs now, Outputs& out) {
  // Each broadcast starts a round of the read protocol (thesis §6.4): an
  // answer to any AppendEntries sent from now on confirms this leadership
  // at a time after now. Rounds older than the longest election timeout can
  // grant no lease, so their start times are forgotten.
  ++heartbeat_round_;
  read_round_wanted_ = false;
  round_started_us_.push_back({heartbeat_round_, now});
  while (round_started_us_.front().second < now - options_.election_timeout_max_us) {
    round_started_us_.pop_front();
  }
  for (auto* peers : {&voter_progress_, &learner_progress_}) {
    for (auto& [peer, pr] : *peers) send_append(peer, pr, true, now, out);
  }
}

void Node::send_append(NodeId peer, Progress& pr, bool heartbeat, TimeUs now, Outputs& out) {
  if (pr.state == Progress::State::snapshot) {
    // Resend the current chunk if its answer is overdue (loss), moving to the
    // newest snapshot if one was taken meanwhile: an old one may no longer
    // be followed by the entries this leader still holds.
    // The chunks also stand in for heartbeats, so resend after one interval.
    if (heartbeat && now - pr.snapshot_sent_us >= options_.heartbeat_interval_us) {
      if (pr.snapshot != snapshot_) {
        pr.become_probe(std::min(pr.next_index, log_.snapshot_index()));
        send_append(peer, pr, false, now, out);  // starts a transfer of the newest snapshot
        return;
      }
      send_snapshot_chunk(peer, pr, now, out);
    }
    return;
  }
  if (pr.next_index <= log_.snapshot_index()) {
    // The entries this peer needs are compacted away: send the snapshot
    // (paper §7; the seed's "LearnerEvent" for a learner joining).
    pr.become_snapshot(snapshot_);
    NodeEvent ev{EventType::snapshot_sent};
    ev.peer = peer;
    ev.term = snapshot_->last_included_term;
    ev.index = snapshot_->last_included_index;
    ev.bytes = snapshot_->bytes;
    out.events.push_back(std::move(ev));
    send_snapshot_chunk(peer, pr, now, out);
    return;
  }

  auto make_append = [&](Index prev, Index first, Index last) {
    Message msg;
    msg.type = MsgType::append;
    msg.from = id_;
    msg.to = peer;
    msg.term = current_term_;
    msg.index = prev;
    msg.log_term = *log_.term_at(prev);
    msg.commit = commit_index_;
    msg.round = heartbeat_round_;
    if (first <= last) msg.entries = entries_batch(first, last);
    return msg;
  };
  const Index last_index = log_.last_index();
  auto batch_end = [&](Index first) {
    return std::min<Index>(last_index, first + options_.max_entries_per_message - 1);
  };

  if (pr.state == Progress::State::probe) {
    // One AppendEntries at a time until the follower's log is found to match;
    // a heartbeat resends it in case it was lost.
    if (pr.probe_sent && !heartbeat) return;
    const auto [prev, last] = probe_range(pr);
    send(make_append(prev, prev + 1, last), 0, out);
    pr.probe_sent = true;
    return;
  }

  // Replicate: pipeline up to max_inflight AppendEntries.
  if (heartbeat) {
    if (!pr.inflight.empty() &&
        now - pr.inflight.oldest_sent_us() >= 2 * options_.heartbeat_interval_us) {
      // The oldest AppendEntries went unanswered for two heartbeats: take it
      // as lost and probe again from the last known match.
      pr.become_probe(pr.match_index + 1);
      send_append(peer, pr, false, now, out);
      return;
    }
    // An empty AppendEntries at the last known match: it always matches, and
    // it carries the commit index (Figure 2: min(leaderCommit, prevLogIndex)).
    const Index prev = log_.term_at(pr.match_index) ? pr.match_index : pr.next_index - 1;
    send(make_append(prev, prev + 1, prev), 0, out);
  }
  while (!pr.inflight.full(options_.max_inflight) && pr.next_index <= last_index) {
    const Index first = pr.next_index;
    const Index last = batch_end(first);
    send(make_append(first - 1, first, last), 0, out);
    pr.sent_entries(last, now);
  }
}

EntryBatch Node::entries_batch(Index first, Index last) {
  const size_t count = static_cast<size_t>(last - first + 1);
  if (batch_.empty() || batch_generation_ != log_.generation() || first < batch_first_index_ ||
      last >= batch_first_index_ + batch_.size()) {
    batch_ = EntryBatch(&log_.at(first), &log_.at(last) + 1);
    batch_first_index_ = first;
    batch_generation_ = log_.generation();
    return batch_;
  }
  return batch_.slice(static_cast<size_t>(first - batch_first_index_), count);
}

std::pair<Index, Index> Node::probe_range(const Progress& pr) const {
  const Index prev = pr.next_index - 1;
  if (options_.probe_back == 0) {
    return {prev, std::min<Index>(log_.last_index(), prev + options_.max_entries_per_message)};
  }
  // Options::probe_back: an empty probe below where backtracking points; its
  // answer moves the follower to replicate from there.
  const Index below = prev > options_.probe_back ? prev - options_.probe_back : 0;
  const Index from = std::max({below, pr.match_index, log_.snapshot_index()});
  return {from, from};
}

void Node::send_snapshot_chunk(NodeId peer, Progress& pr, TimeUs now, Outputs& out) {
  Message msg;
  msg.type = MsgType::snapshot;
  msg.from = id_;
  msg.to = peer;
  msg.term = current_term_;
  msg.snapshot = pr.snapshot;
  msg.index = pr.snapshot->last_included_index;
  msg.log_term = pr.snapshot->last_included_term;
  msg.offset = pr.snapshot_offset;
  msg.chunk_bytes =
      std::min<uint64_t>(options_.snapshot_chunk_size, pr.snapshot->bytes - pr.snapshot_offset);
  msg.done = pr.snapshot_offset + msg.chunk_bytes >= pr.snapshot->bytes;
  pr.snapshot_sent_us = now;
  send(std::move(msg), 0, out);
}

void Node::handle_append_resp(const Message& msg, TimeUs now, Outputs& out) {
  if (role_ != Role::leader) return;
  Progress* found = progress_of(msg.from);
  if (!found) return;
  Progress& pr = *found;
  pr.last_contact_us = now;
  pr.acked_round = std::max(pr.acked_round, msg.round);
  if (pr.state == Progress::State::snapshot) return;
  if (msg.success) {
    const Index match_before = pr.match_index;
    const bool advanced = pr.maybe_update(msg.index);
    if (pr.state == Progress::State::probe) pr.become_replicate();
    if (advanced && voter_progress_.count(msg.from)) {
      on_voter_match(match_before, pr.match_index, now, out);
    } else if (advanced && pending_config_index_ != 0 && latest_config().is_voter(msg.from)) {
      maybe_commit(now, out);  // a promoted learner's ack may complete the new majority
    }
    if (role_ != Role::leader) return;
    if (leaving_index_ != 0) {
      // Looked up again: applying a configuration rebuilds the progress maps.
      if (Progress* again = progress_of(msg.from)) {
        again->known_commit = std::max(again->known_commit, msg.commit);
      }
      maybe_finish_leaving(now, out);
      if (role_ != Role::leader) return;
    }
    if (msg.from == transfer_target_) maybe_finish_transfer(now, out);
    if (role_ != Role::leader) return;
    if (Progress* again = progress_of(msg.from)) send_append(msg.from, *again, false, now, out);
    return;
  }
  Index next = msg.hint_index;
  if (msg.hint_term != 0) {
    // Fast backtracking (§5.3): skip the follower's whole conflicting term,
    // or straight to our last entry of that term if we have one.
    if (auto last_of_term = log_.last_index_of_term(msg.hint_term)) next = *last_of_term + 1;
  }
  // A refusal of an index at or below the known match is stale (reordered).
  if (!pr.maybe_decrease_to(msg.index, next)) return;
  send_append(msg.from, pr, false, now, out);
}

void Node::handle_snapshot_resp(const Message& msg, TimeUs now, Outputs& out) {
  if (role_ != Role::leader) return;
  Progress* found = progress_of(msg.from);
  if (!found) return;
  Progress& pr = *found;
  pr.last_contact_us = now;
  if (msg.done && msg.success) {
    const Index match_before = pr.match_index;
    pr.snapshot_done(msg.index);
    if (voter_progress_.count(msg.from)) on_voter_match(match_before, pr.match_index, now, out);
    if (role_ != Role::leader) return;
    maybe_change_membership(now, out);
    if (Progress* again = progress_of(msg.from)) send_append(msg.from, *again, false, now, out);
    return;
  }
  if (pr.state != Progress::State::snapshot || msg.index != pr.snapshot->last_included_index) {
    return;
  }
  pr.snapshot_offset = msg.offset;
  send_snapshot_chunk(msg.from, pr, now, out);
}

// Commit-index computation without sorting all match indexes on every
// acknowledgement: above_commit_ counts the voters whose match index is past
// the commit index, and only when a quorum of them is (so the commit index can
// move) does maybe_commit look at every voter. A cluster of n voters then
// pays O(n) per commit advance instead of per acknowledgement.
void Node::on_voter_match(Index before, Index after, TimeUs now, Outputs& out) {
  if (before <= commit_index_ && after > commit_index_) ++above_commit_;
  if (above_commit_ >= majority(config_->voters.size()) || options_.bugs.demote_without_consensus) {
    maybe_commit(now, out);
  }
}

void Node::recount_above_commit() {
  above_commit_ = 0;
  for (NodeId v : config_->voters) {
    Index match = 0;
    if (v == id_) {
      match = writes_.durable_index();
    } else if (auto it = voter_progress_.find(v); it != voter_progress_.end()) {
      match = it->second.match_index;
    }
    if (match > commit_index_) ++above_commit_;
  }
}

Index Node::quorum_match(const std::vector<NodeId>& voters) {
  std::vector<Index>& matches = quorum_buffer_;
  matches.clear();
  for (NodeId v : voters) {
    if (v == id_) {
      matches.push_back(writes_.durable_index());  // the leader counts itself once durable
    } else if (auto it = voter_progress_.find(v); it != voter_progress_.end()) {
      matches.push_back(it->second.match_index);
    } else if (auto l = learner_progress_.find(v); l != learner_progress_.end()) {
      matches.push_back(l->second.match_index);  // a learner whose promotion is pending
    } else {
      matches.push_back(0);
    }
  }
  return majority_value(matches);
}

void Node::maybe_commit(TimeUs now, Outputs& out) {
  if (role_ != Role::leader) return;
  Index candidate = quorum_match(counted_voters());
  // A configuration entry commits only once a majority of the new
  // configuration holds it too (as the thesis's rule of using the latest
  // configuration requires): a promoted learner votes only once its
  // promotion is in its log, so a promotion committed by the old majority
  // alone could leave the new one unable to elect anyone.
  if (pending_config_index_ != 0 && candidate >= pending_config_index_ &&
      quorum_match(latest_config().voters) < pending_config_index_) {
    candidate = pending_config_index_ - 1;
  }
  if (candidate <= commit_index_) return;
  // §5.4.2 (Figure 8): only entries of the current term are committed by
  // counting replicas; earlier ones commit with them.
  if (!options_.bugs.commit_prior_term && log_.term_at(candidate) != current_term_) return;
  advance_commit(candidate, now, out);
  if (role_ == Role::leader) recount_above_commit();
}

void Node::check_quorum(TimeUs now, Outputs& out) {
  if (!options_.check_quorum || options_.bugs.no_check_quorum) return;  // PLANTED BUG when set
  // Every other voter of the configuration in force has a progress entry.
  auto last_response_us = [this](NodeId v) {
    const auto it = voter_progress_.find(v);
    return it == voter_progress_.end() ? std::numeric_limits<TimeUs>::min()
                                       : it->second.last_contact_us;
  };
  if (!quorum_active(config_->voters, id_, now - options_.election_timeout_max_us,
                     last_response_us)) {
    become_follower(current_term_, kNoNode, "lost_quorum", now, out);
  }
}

}  // namespace raft
