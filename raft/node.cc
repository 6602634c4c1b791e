#include "raft/node.h"

#include <algorithm>

namespace raft {

Node::Node(NodeId id, const Options& options, Random& random, const DurableState& durable,
           ConfigArena& configs)
    : id_(id),
      random_(random),
      options_(options),
      writes_(durable.log.last_index()),
      configs_(&configs) {
  current_term_ = durable.hard_state.current_term;
  voted_for_ = durable.hard_state.voted_for;
  if (options_.bugs.forget_vote_on_restart) voted_for_ = kNoNode;  // PLANTED BUG
  log_ = durable.log;
  snapshot_ = durable.snapshot;
  if (snapshot_) {
    config_ = configs_->intern(snapshot_->config);
    state_machine_ = snapshot_->state;
    commit_index_ = last_applied_ = snapshot_->last_included_index;
  } else {
    config_ = configs_->intern(durable.bootstrap_config);
  }
  commit_index_ =
      std::max(commit_index_, std::min(durable.hard_state.commit_index, log_.last_index()));
  for (Index i = log_.last_index(); i > commit_index_ && i >= log_.first_index(); --i) {
    if (log_.at(i).kind == EntryKind::config) {
      pending_config_index_ = i;
      break;
    }
  }
  role_ = config_->is_voter(id_) ? Role::follower : Role::learner;
}

// ---------------------------------------------------------------------------
// Inputs

void Node::start(TimeUs now, Outputs& out) {
  if (options_.lease_reads && current_term_ > 0) {
    // §6.4.1: a leader's lease counts on every voter that acknowledged its
    // round refusing other candidates for the minimum election timeout. A
    // restarted voter (one that has seen a term) no longer knows when it
    // last heard a leader, so it assumes it just did (§4.2.3).
    heard_from_leader_ = true;
    last_leader_contact_us_ = now;
  }
  apply_committed(now, out);
  if (config_->is_voter(id_)) reset_election_timer(now, out);
  flush(out);
}

void Node::step(const Message& msg, TimeUs now, Outputs& out) {
  const bool vote_request = msg.type == MsgType::vote || msg.type == MsgType::pre_vote;
  if (msg.term > current_term_) {
    // Thesis §4.2.3: "if a server receives a RequestVote request within the
    // minimum election timeout of hearing from a current leader, it does not
    // update its term or grant its vote", so that a server the leader no
    // longer reaches (a removed one that never learned it, or one cut off
    // from the leader alone) cannot depose a leader that still reaches its
    // cluster. A campaign that TimeoutNow started carries the transfer flag
    // and is heard (§3.10: the leader asked for it). Past the lease the term
    // is adopted whoever sent it (§4.1: servers process RPCs without
    // consulting their configurations): the cluster must overtake the term
    // of a removed server that keeps campaigning, or, once that server
    // answers a leader (re-added, say), its higher term deposes one leader
    // after another (fuzz seed 7547). The same holds for a voter whose
    // removal is still uncommitted (fuzz seed 8053).
    if (msg.type == MsgType::vote && !msg.transfer && leader_recently_heard(now)) {
      flush(out);
      return;
    }
    // The leader itself is not bound by the lease: raft-roles.md has a leader
    // step down on any RPC of a higher term. But a server outside its
    // configuration (removed, or a spare not yet added) is not one it
    // answers to, so that such a server cannot depose it.
    if (vote_request && role_ == Role::leader && !knows_voter(msg.from)) {
      flush(out);
      return;
    }
    // Pre-vote messages change nobody's term (thesis §9.6), except a refusal
    // that tells the pre-candidate of a higher term.
    const bool pre_vote_grant = msg.type == MsgType::pre_vote_resp && msg.success;
    if (msg.type != MsgType::pre_vote && !pre_vote_grant) {
      // §5.1: "If RPC request or response contains term T > currentTerm: set
      // currentTerm = T, convert to follower". The step-down reason names the
      // most specific cause: a leader about to grant this vote steps down
      // because it grants it.
      const char* reason = "higher_term";
      if (msg.type == MsgType::vote && role_ == Role::leader &&
          (options_.bugs.vote_ignores_log || log_up_to_date(msg.index, msg.log_term))) {
        reason = "granted_vote";
      }
      const bool from_leader = msg.type == MsgType::append || msg.type == MsgType::snapshot ||
                               msg.type == MsgType::timeout_now;
      become_follower(msg.term, from_leader ? msg.from : kNoNode, reason, now, out);
    }
  } else if (msg.term < current_term_ && msg.type != MsgType::pre_vote) {
    // A stale sender learns our term from the refusal (§5.1); stale
    // responses are ignored.
    Message resp;
    resp.from = id_;
    resp.to = msg.from;
    resp.term = current_term_;
    switch (msg.type) {
      case MsgType::append:
        resp.type = MsgType::append_resp;
        resp.index = msg.index;
        break;
      case MsgType::vote: resp.type = MsgType::vote_resp; break;
      case MsgType::snapshot:
        resp.type = MsgType::snapshot_resp;
        resp.index = msg.index;
        break;
      default: flush(out); return;
    }
    send(std::move(resp), 0, out);
    flush(out);
    return;
  }

  switch (msg.type) {
    case MsgType::append: handle_append(msg, now, out); break;
    case MsgType::append_resp:
      handle_append_resp(msg, now, out);
      if (role_ == Role::leader && !pending_reads_.empty()) serve_reads(now, out);
      break;
    case MsgType::vote:
    case MsgType::pre_vote: handle_vote(msg, now, out); break;
    case MsgType::vote_resp:
    case MsgType::pre_vote_resp: handle_vote_resp(msg, now, out); break;
    case MsgType::snapshot: handle_snapshot(msg, now, out); break;
    case MsgType::snapshot_resp: handle_snapshot_resp(msg, now, out); break;
    case MsgType::timeout_now: handle_timeout_now(msg, now, out); break;
  }
  flush(out);
}

void Node::on_timer(TimerKind kind, TimeUs now, Outputs& out) {
  if (kind == TimerKind::election) {
    // §5.2: "If election timeout elapses without receiving AppendEntries RPC
    // from current leader or granting vote to candidate: convert to candidate".
    if (role_ != Role::leader && role_ != Role::learner && config_->is_voter(id_)) {
      if (options_.pre_vote) {
        become_precandidate("election_timeout", now, out);
      } else {
        become_candidate("election_timeout", false, now, out);
      }
    }
  } else if (role_ == Role::leader) {
    check_quorum(now, out);
    if (role_ == Role::leader) {
      if (transfer_target_ != kNoNode && now >= transfer_deadline_us_) {
        transfer_target_ = kNoNode;  // thesis §3.10: abort a transfer that takes too long
      }
      if (leaving_index_ != 0 && now >= leaving_deadline_us_) {
        become_learner("removed", now, out);
        flush(out);
        return;
      }
      maybe_change_membership(now, out);
      broadcast_heartbeat(now, out);
      out.timers.push_back({TimerKind::heartbeat, false, now + options_.heartbeat_interval_us});
    }
  }
  flush(out);
}

void Node::on_persisted(uint64_t token, TimeUs now, Outputs& out) {
  const Index durable_before = writes_.durable_index();
  writes_.persisted(token, out.messages);
  if (role_ == Role::candidate && writes_.hard_state_durable() &&
      votes_.result(config_->voters.size()) == VoteResult::won) {
    become_leader(now, out);  // a lone voter, whose own vote is now durable
  }
  if (role_ == Role::leader && config_->is_voter(id_)) {
    on_voter_match(durable_before, writes_.durable_index(), now, out);  // the leader's own replica
  }
  flush(out);
}

void Node::client_writes(const std::vector<ClientWrite>& writes, TimeUs now, Outputs& out) {
  const bool accepting =
      role_ == Role::leader && transfer_target_ == kNoNode && leaving_index_ == 0;
  const Index first_new = log_.last_index() + 1;
  if (accepting) log_.reserve_for(writes.size());
  for (const ClientWrite& write : writes) {
    if (!accepting) {
      // Followers, candidates and learners redirect with the leader they know.
      out.replies.push_back(
          {write.write_id, false, 0, role_ == Role::leader ? kNoNode : leader_id_});
    } else if (state_machine_.contains(write.write_id)) {
      // A retry of a write already applied: acknowledge it again (thesis §6.3).
      out.replies.push_back(
          {write.write_id, true, last_applied_, id_, state_machine_.swapped(write.write_id)});
    } else if (unapplied_writes_.insert(write.write_id)) {
      // (A retry of a write already in our log is answered when it applies:
      // appending it again would let retries outgrow a slow pipeline.)
      Entry entry;
      entry.term = current_term_;
      entry.kind = EntryKind::write;
      entry.write_id = write.write_id;
      entry.size_bytes = write.size_bytes;
      entry.key = write.key;
      entry.op = write.op;
      entry.expected = write.expected;
      log_.append(entry);
    }
  }
  if (log_.last_index() >= first_new) {
    mark_log_dirty(first_new);
    // One round of AppendEntries carries the whole batch.
    for (auto* peers : {&voter_progress_, &learner_progress_}) {
      for (auto& [peer, pr] : *peers) {
        if (pr.state == Progress::State::replicate) send_append(peer, pr, false, now, out);
      }
    }
  }
  flush(out);
}

void Node::client_reads(const std::vector<ClientRead>& reads, TimeUs now, Outputs& out) {
  for (const ClientRead& read : reads) {
    if (read.mode == ReadMode::stale) {
      // Whatever this node has applied, however old (not linearizable).
      out.read_replies.push_back(
          {read.read_id, true, state_machine_.get(read.key), last_applied_, id_});
    } else if (role_ == Role::leader) {
      pending_reads_.push_back({read});
    } else {
      // Only the leader serves them: redirect, as a write (thesis §6.4).
      out.read_replies.push_back({read.read_id, false, 0, 0, leader_id_});
    }
  }
  if (!pending_reads_.empty()) serve_reads(now, out);
  flush(out);
}

void Node::campaign(TimeUs now, Outputs& out) {
  on_timer(TimerKind::election, now, out);
}

bool Node::transfer_leadership(NodeId to, TimeUs now, Outputs& out) {
  if (role_ != Role::leader || to == id_ || !config_->is_voter(to)) {
    flush(out);
    return false;
  }
  // Thesis §3.10: stop accepting writes, bring the target up to date, then
  // tell it to start an election at once.
  transfer_target_ = to;
  transfer_deadline_us_ = now + options_.election_timeout_max_us;
  if (Progress* pr = progress_of(to)) send_append(to, *pr, false, now, out);
  maybe_finish_transfer(now, out);
  flush(out);
  return true;
}

bool Node::request_config_change(ConfigChange change, NodeId node, std::optional<bool> promote,
                                 TimeUs now, Outputs& out) {
  if (role_ != Role::leader) {
    flush(out);
    return false;
  }
  queued_changes_.push_back({change, node, promote});
  maybe_change_membership(now, out);
  flush(out);
  return true;
}

void Node::take_snapshot(TimeUs /*now*/, Outputs& out) {
  snapshot_now(out);
  flush(out);
}

const Configuration& Node::latest_config() const {
  if (pending_config_index_ > log_.snapshot_index() && pending_config_index_ <= log_.last_index()) {
    const Entry& entry = log_.at(pending_config_index_);
    if (entry.kind == EntryKind::config) return *entry.config;
  }
  return *config_;
}

bool Node::knows_voter(NodeId node) const {
  return config_->is_voter(node) || latest_config().is_voter(node);
}

bool Node::leader_recently_heard(TimeUs now) const {
  return role_ != Role::leader && heard_from_leader_ &&
         now - last_leader_contact_us_ < options_.election_timeout_min_us;
}

std::vector<NodeId> Node::counted_voters() const {
  if (!options_.bugs.demote_without_consensus || role_ != Role::leader) return config_->voters;
  // PLANTED BUG: lagging voters are dropped from the quorum without a
  // committed configuration change.
  std::vector<NodeId> counted;
  for (NodeId v : config_->voters) {
    auto it = voter_progress_.find(v);
    if (v == id_ || it == voter_progress_.end() ||
        log_.last_index() - it->second.match_index <= options_.max_lag_threshold) {
      counted.push_back(v);
    }
  }
  return counted;
}

// ---------------------------------------------------------------------------
// Role changes

void Node::set_role(Role to, const char* reason, Outputs& out) {
  if (role_ == to) return;
  NodeEvent ev{EventType::role};
  ev.from = role_;
  ev.to = to;
  ev.term = current_term_;
  ev.reason = reason;
  out.events.push_back(std::move(ev));
  if (role_ == Role::leader) {
    NodeEvent down{EventType::step_down};
    down.term = current_term_;
    down.reason = reason;
    out.events.push_back(std::move(down));
    voter_progress_.clear();
    learner_progress_.clear();
    queued_changes_.clear();
    unapplied_writes_.clear();
    redirect_reads(out);
    transfer_target_ = kNoNode;
    leaving_index_ = 0;
    out.timers.push_back({TimerKind::heartbeat, true, 0});
  }
  role_ = to;
}

void Node::become_follower(Term term, NodeId leader, const char* reason, TimeUs now, Outputs& out) {
  const bool timer_running =
      role_ == Role::follower || role_ == Role::candidate || role_ == Role::precandidate;
  if (term > current_term_) {
    if (role_ == Role::leader) {
      // Record the step-down under the term the node led in.
      set_role(config_->is_voter(id_) ? Role::follower : Role::learner, reason, out);
    }
    current_term_ = term;
    voted_for_ = kNoNode;
    mark_hard_state_dirty();
  }
  leader_id_ = leader;
  if (!config_->is_voter(id_)) {
    become_learner(reason, now, out);
    return;
  }
  set_role(Role::follower, reason, out);
  votes_.clear();
  // §5.2: only hearing from the current leader or granting a vote resets the
  // election timer. A follower or candidate that adopts a higher term from a
  // vote request it refuses keeps counting down: otherwise a candidate whose
  // log is too stale to win, retrying every election timeout, keeps the one
  // node that could win from ever campaigning (fuzz seed 4289).
  if (!timer_running || leader != kNoNode) reset_election_timer(now, out);
}

void Node::become_precandidate(const char* reason, TimeUs now, Outputs& out) {
  set_role(Role::precandidate, reason, out);
  leader_id_ = kNoNode;
  heard_from_leader_ = false;
  start_election(true, false, now, out);
}

void Node::become_candidate(const char* reason, bool transfer, TimeUs now, Outputs& out) {
  // §5.2: "increment currentTerm, vote for self, reset election timer, send
  // RequestVote RPCs to all other servers".
  ++current_term_;
  voted_for_ = id_;
  mark_hard_state_dirty();
  leader_id_ = kNoNode;
  heard_from_leader_ = false;
  set_role(Role::candidate, reason, out);
  start_election(false, transfer, now, out);
}

void Node::become_leader(TimeUs now, Outputs& out) {
  set_role(Role::leader, "won_election", out);
  leader_id_ = id_;
  NodeEvent ev{EventType::elected};
  ev.term = current_term_;
  ev.votes = static_cast<uint32_t>(votes_.granted());
  out.events.push_back(std::move(ev));
  votes_.clear();
  voter_progress_.clear();
  learner_progress_.clear();
  rebuild_progress(now);
  // Writes of earlier leaders in our log commit with this term's first entry.
  for (Index i = last_applied_ + 1; i <= log_.last_index(); ++i) {
    if (log_.at(i).kind == EntryKind::write) unapplied_writes_.insert(log_.at(i).write_id);
  }
  recount_above_commit();
  out.timers.push_back({TimerKind::election, true, 0});
  // §8: a leader commits a no-op at the start of its term, so that it learns
  // which entries are committed (and may commit earlier terms' entries).
  term_start_index_ = log_.last_index() + 1;
  Entry noop;
  noop.term = current_term_;
  append_entry(std::move(noop));
  broadcast_heartbeat(now, out);
  out.timers.push_back({TimerKind::heartbeat, false, now + options_.heartbeat_interval_us});
  maybe_commit(now, out);  // a single voter commits on its own
}

void Node::become_learner(const char* reason, TimeUs /*now*/, Outputs& out) {
  set_role(Role::learner, reason, out);
  votes_.clear();
  out.timers.push_back({TimerKind::election, true, 0});
}

// ---------------------------------------------------------------------------
// Persistence

void Node::mark_log_dirty(Index from) {
  writes_.log_dirty(from);
}

void Node::mark_hard_state_dirty() {
  writes_.hard_state_dirty();
}

void Node::send(Message&& msg, uint64_t after_token, Outputs& out) {
  writes_.send(std::move(msg), after_token, out.messages);
}

void Node::flush(Outputs& out) {
  writes_.flush({current_term_, voted_for_, commit_index_}, log_, out.persists);
}

}  // namespace raft
