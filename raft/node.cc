#include "raft/node.h"

#include <algorithm>
#include <limits>

namespace raft {

namespace {

std::vector<NodeId> without(std::vector<NodeId> ids, NodeId id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  return ids;
}

std::vector<NodeId> with(std::vector<NodeId> ids, NodeId id) {
  if (!std::binary_search(ids.begin(), ids.end(), id)) {
    ids.insert(std::upper_bound(ids.begin(), ids.end(), id), id);
  }
  return ids;
}

}  // namespace

Node::Node(NodeId id, const Options& options, Random& random, const DurableState& durable)
    : id_(id), random_(random), writes_(durable.log.last_index()), options_(options) {
  current_term_ = durable.hard_state.current_term;
  voted_for_ = durable.hard_state.voted_for;
  if (options_.bugs.forget_vote_on_restart) voted_for_ = kNoNode;  // PLANTED BUG
  log_ = durable.log;
  snapshot_ = durable.snapshot;
  if (snapshot_) {
    config_ = intern_config(snapshot_->config);
    state_machine_ = snapshot_->state;
    commit_index_ = last_applied_ = snapshot_->last_included_index;
  } else {
    config_ = intern_config(durable.bootstrap_config);
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
// Elections

bool Node::log_up_to_date(Index last_index, Term last_term) const {
  // §5.4.1: compare the terms of the last entries, then the lengths.
  if (last_term != log_.last_term()) return last_term > log_.last_term();
  return last_index >= log_.last_index();
}

void Node::reset_election_timer(TimeUs now, Outputs& out) {
  const int64_t timeout =
      random_.uniform_int(options_.election_timeout_min_us, options_.election_timeout_max_us);
  out.timers.push_back({TimerKind::election, false, now + timeout});
}

void Node::start_election(bool pre_vote, bool transfer, TimeUs now, Outputs& out) {
  votes_.reset(id_);
  const Term term = pre_vote ? current_term_ + 1 : current_term_;
  NodeEvent ev{EventType::election_started};
  ev.term = term;
  ev.pre_vote = pre_vote;
  out.events.push_back(std::move(ev));
  reset_election_timer(now, out);
  if (votes_.result(config_->voters.size()) == VoteResult::won) {
    // A lone voter elects itself, but leads only once its term and vote are
    // durable (on_persisted), as other voters grant only then: leading
    // before, it could crash, restart in the previous term, and lead the
    // same term again with a different log (fuzz seed 5946).
    if (pre_vote) become_candidate("pre_vote_won", false, now, out);
    return;
  }
  for (NodeId peer : config_->voters) {
    if (peer == id_) continue;
    Message msg;
    msg.type = pre_vote ? MsgType::pre_vote : MsgType::vote;
    msg.from = id_;
    msg.to = peer;
    msg.term = term;
    msg.index = log_.last_index();
    msg.log_term = log_.last_term();
    msg.transfer = transfer;
    send(std::move(msg), 0, out);
  }
}

void Node::handle_vote(const Message& msg, TimeUs now, Outputs& out) {
  const bool pre_vote = msg.type == MsgType::pre_vote;
  const bool log_ok = options_.bugs.vote_ignores_log  // PLANTED BUG when set
                          ? true
                          : log_up_to_date(msg.index, msg.log_term);
  // Whoever is asked votes, whatever it believes its own role to be (etcd's
  // rule; thesis §4.1: servers process RPCs without consulting their
  // configurations). A candidate asks only the voters of its configuration
  // and counts only their answers, so a request means that configuration
  // counts us. We may not have learned yet that we were promoted (a
  // promotion commits on the acknowledgements of a majority, not
  // necessarily ours), or we may know that our own removal or demotion
  // committed while the candidate does not: refusing would then cost
  // liveness (the candidate can need exactly our vote, and nothing else
  // tells it of the commit) and buys no safety, which rests on a candidate
  // counting a majority of its own configuration and on each node voting
  // once per term. Nobody votes for a candidate outside the configuration.
  bool grant = knows_voter(msg.from) && log_ok;
  if (options_.bugs.demote_without_consensus && self_lagging_) grant = false;  // PLANTED BUG
  if (pre_vote) {
    // Thesis §9.6: grant only if the election could succeed and we have not
    // heard from a leader within the minimum election timeout.
    const bool leader_alive = role_ == Role::leader || leader_recently_heard(now);
    grant = grant && msg.term > current_term_ && !leader_alive;
  } else {
    // §5.2: at most one vote per term, first come first served.
    grant = grant && (voted_for_ == kNoNode || voted_for_ == msg.from);
    if (grant) {
      voted_for_ = msg.from;
      mark_hard_state_dirty();
      if (role_ != Role::learner) reset_election_timer(now, out);  // learners never campaign
    }
  }
  if (grant) {
    NodeEvent ev{EventType::vote_granted};
    ev.peer = msg.from;
    ev.term = msg.term;
    ev.pre_vote = pre_vote;
    out.events.push_back(std::move(ev));
  }
  Message resp;
  resp.type = pre_vote ? MsgType::pre_vote_resp : MsgType::vote_resp;
  resp.from = id_;
  resp.to = msg.from;
  resp.term = pre_vote && grant ? msg.term : current_term_;
  resp.success = grant;
  send(std::move(resp), 0, out);
}

void Node::handle_vote_resp(const Message& msg, TimeUs now, Outputs& out) {
  const bool pre_vote = msg.type == MsgType::pre_vote_resp;
  const Role expected = pre_vote ? Role::precandidate : Role::candidate;
  const Term expected_term = pre_vote ? current_term_ + 1 : current_term_;
  if (role_ != expected || msg.term != expected_term) return;
  if (!config_->is_voter(msg.from)) return;
  if (!votes_.record(msg.from, msg.success)) return;  // a duplicated response counts once
  // A lost election is not cut short: the candidate waits out its election
  // timer and tries again (§5.2).
  if (votes_.result(config_->voters.size()) != VoteResult::won) return;
  if (pre_vote) {
    become_candidate("pre_vote_won", false, now, out);
  } else {
    become_leader(now, out);
  }
}

void Node::handle_timeout_now(const Message& msg, TimeUs now, Outputs& out) {
  if (msg.term != current_term_ || role_ == Role::leader || !config_->is_voter(id_)) return;
  // Thesis §3.10: the target starts an election at once, skipping pre-vote.
  become_candidate("timeout_now", true, now, out);
}

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

  // Rules 3 and 4: delete a conflicting entry and all that follow it, and
  // append any new entries not already in the log.
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
  config_ = intern_config(snapshot->config);
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
    log_.copy_to(msg.entries, first, last);
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
    const Index prev = pr.next_index - 1;
    send(make_append(prev, pr.next_index, batch_end(pr.next_index)), 0, out);
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

void Node::maybe_finish_leaving(TimeUs now, Outputs& out) {
  size_t known = 0;
  for (const auto& [peer, pr] : voter_progress_) {
    if (pr.known_commit >= leaving_index_) ++known;
  }
  if (known >= majority(config_->voters.size())) become_learner("removed", now, out);
}

void Node::maybe_finish_transfer(TimeUs now, Outputs& out) {
  if (transfer_target_ == kNoNode) return;
  Progress* pr = progress_of(transfer_target_);
  if (!pr || pr->match_index < log_.last_index()) return;
  Message msg;
  msg.type = MsgType::timeout_now;
  msg.from = id_;
  msg.to = transfer_target_;
  msg.term = current_term_;
  send(std::move(msg), 0, out);
  become_follower(current_term_, kNoNode, "transfer", now, out);
}

// Membership changes: one server at a time (thesis §4.1). Each change adds,
// removes, promotes or demotes a single node, so the voter sets of
// consecutive configurations differ by at most one voter and any majority of
// the old overlaps any majority of the new: two leaders cannot be elected in
// one term by disjoint majorities. A configuration takes effect when its entry
// commits (as in etcd), a new change is proposed only once the previous one
// has committed, and only after the leader has committed an entry of its own
// term (the fix to the single-server algorithm in Ongaro's raft-dev note of
// 2015), so no node stops voting or being counted before the change commits.
void Node::maybe_change_membership(TimeUs now, Outputs& out) {
  if (role_ != Role::leader || pending_config_index_ != 0) return;
  if (commit_index_ < term_start_index_ || transfer_target_ != kNoNode || leaving_index_ != 0) {
    return;
  }
  const Configuration& current = *config_;
  while (!queued_changes_.empty()) {
    const QueuedChange change = queued_changes_.front();
    queued_changes_.pop_front();
    Configuration next = current;
    const NodeId n = change.node;
    switch (change.change) {
      case ConfigChange::add_learner:
        if (current.contains(n)) continue;
        next.learners = with(next.learners, n);
        if (change.promote.has_value() ? !*change.promote : !options_.auto_promote) {
          next.permanent_learners = with(next.permanent_learners, n);
        }
        break;
      case ConfigChange::promote:
        if (!current.is_learner(n)) continue;
        next.learners = without(next.learners, n);
        next.permanent_learners = without(next.permanent_learners, n);
        next.voters = with(next.voters, n);
        break;
      case ConfigChange::demote:
        // A demotion asked for by hand stays until a promote asks otherwise.
        if (!current.is_voter(n) || current.voters.size() <= 1) continue;
        next.voters = without(next.voters, n);
        next.learners = with(next.learners, n);
        next.permanent_learners = with(next.permanent_learners, n);
        break;
      case ConfigChange::remove:
        if (!current.contains(n) || (current.is_voter(n) && current.voters.size() <= 1)) continue;
        next.voters = without(next.voters, n);
        next.learners = without(next.learners, n);
        next.permanent_learners = without(next.permanent_learners, n);
        break;
    }
    propose_config(next, now, out);
    return;
  }
  // Automatic changes, driven by replication lag (the seed's "Failure
  // Adaptation"): promote caught-up learners, demote voters that lag too far.
  const Index last = log_.last_index();
  for (const auto& [peer, pr] : learner_progress_) {
    if (current.is_permanent_learner(peer) ||
        last - pr.match_index > options_.promotion_threshold) {
      continue;
    }
    Configuration next = current;
    next.learners = without(next.learners, peer);
    next.voters = with(next.voters, peer);
    propose_config(next, now, out);
    return;
  }
  if (current.voters.size() <= options_.min_voters) return;
  for (const auto& [peer, pr] : voter_progress_) {
    if (last - pr.match_index <= options_.max_lag_threshold) continue;
    Configuration next = current;
    next.voters = without(next.voters, peer);
    next.learners = with(next.learners, peer);
    if (!options_.auto_promote) next.permanent_learners = with(next.permanent_learners, peer);
    propose_config(next, now, out);
    return;
  }
}

void Node::propose_config(const Configuration& next, TimeUs now, Outputs& out) {
  Entry entry;
  entry.term = current_term_;
  entry.kind = EntryKind::config;
  entry.config = intern_config(next);
  append_entry(std::move(entry));
  pending_config_index_ = log_.last_index();
  for (auto* peers : {&voter_progress_, &learner_progress_}) {
    for (auto& [peer, pr] : *peers) {
      if (pr.state == Progress::State::replicate) send_append(peer, pr, false, now, out);
    }
  }
}

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
  while (last_applied_ < commit_index_) {
    const Index index = ++last_applied_;
    const Entry& entry = log_.at(index);
    bool duplicate = false;
    if (entry.kind == EntryKind::write) {
      duplicate = !state_machine_.apply_write(entry.write_id, entry.size_bytes, entry.key, entry.op,
                                              entry.expected);
      if (role_ == Role::leader) {
        out.replies.push_back(
            {entry.write_id, true, index, id_, state_machine_.swapped(entry.write_id)});
        unapplied_writes_.erase(entry.write_id);
      }
    }
    out.applied.push_back({index, entry, duplicate, state_machine_.state_hash()});
    ++applied_since_snapshot_;
    if (entry.kind == EntryKind::config) {
      apply_config(entry.config, index, now, out);
    }
  }
  maybe_snapshot(out);
  if (role_ == Role::leader && !pending_reads_.empty()) serve_reads(now, out);
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
  const Configuration* previous = config_;
  config_ = config;
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

// ---------------------------------------------------------------------------
// Persistence

void Node::mark_log_dirty(Index from) {
  writes_.log_dirty(from);
}

void Node::mark_hard_state_dirty() {
  writes_.hard_state_dirty();
}

void Node::send(Message msg, uint64_t after_token, Outputs& out) {
  writes_.send(std::move(msg), after_token, out.messages);
}

void Node::flush(Outputs& out) {
  writes_.flush({current_term_, voted_for_, commit_index_}, log_, out.persists);
}

}  // namespace raft
