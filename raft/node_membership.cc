#include <algorithm>

#include "raft/node.h"

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

// ---------------------------------------------------------------------------
// Membership changes and leadership transfer (thesis §4, §3.10)

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
  entry.config = configs_->intern(next);
  append_entry(std::move(entry));
  pending_config_index_ = log_.last_index();
  for (auto* peers : {&voter_progress_, &learner_progress_}) {
    for (auto& [peer, pr] : *peers) {
      if (pr.state == Progress::State::replicate) send_append(peer, pr, false, now, out);
    }
  }
}

}  // namespace raft
