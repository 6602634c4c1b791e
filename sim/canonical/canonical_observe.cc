// What the adapter reports after each input: the library's messages
// translated for the checkers, and the NodeEvents ::raft::Node would have
// produced, derived by comparing struct raft before and after the input.
#include <cstring>

#include "sim/canonical/canonical_adapter.h"

namespace sim::canonical {

using namespace craft;  // NOLINT: the C API, prefixed raft_ throughout

using ::raft::EntryKind;
using ::raft::Term;

// --- Messages -------------------------------------------------------------

// The simulator's message for a library message: type, term and grant
// are the library's (the checkers read them); the library's own message
// rides along for delivery, without what the simulator's message carries
// (entries, the snapshot's configuration and data).
::raft::Message CanonicalNode::translate(const struct raft_message& m) {
  ::raft::Message out;
  out.from = id_;
  out.to = static_cast<NodeId>(m.server_id);
  struct raft_message copy = m;
  copy.server_address = nullptr;
  switch (m.type) {
    case RAFT_IO_APPEND_ENTRIES: translate_append(m.append_entries, out, copy); break;
    case RAFT_IO_APPEND_ENTRIES_RESULT: {
      const auto& a = m.append_entries_result;
      out.type = ::raft::MsgType::append_resp;
      out.term = a.term;
      out.success = a.rejected == 0;
      out.index = a.rejected == 0 ? a.last_log_index : a.rejected;
      out.hint_index = a.last_log_index;
      break;
    }
    case RAFT_IO_REQUEST_VOTE: {
      const auto& v = m.request_vote;
      out.type = v.pre_vote ? ::raft::MsgType::pre_vote : ::raft::MsgType::vote;
      out.term = v.term;
      out.index = v.last_log_index;
      out.log_term = v.last_log_term;
      out.transfer = v.disrupt_leader;
      break;
    }
    case RAFT_IO_REQUEST_VOTE_RESULT: translate_vote_result(m.request_vote_result, out); break;
    case RAFT_IO_INSTALL_SNAPSHOT: translate_snapshot(m.install_snapshot, out, copy); break;
    case RAFT_IO_TIMEOUT_NOW:
      out.type = ::raft::MsgType::timeout_now;
      out.term = m.timeout_now.term;
      break;
    default: throw std::runtime_error("canonical: unknown message type");
  }
  out.foreign = std::make_shared<const struct raft_message>(copy);
  return out;
}

void CanonicalNode::translate_append(const struct raft_append_entries& a, ::raft::Message& out,
                                     struct raft_message& copy) {
  out.type = ::raft::MsgType::append;
  out.term = a.term;
  out.index = a.prev_log_index;
  out.log_term = a.prev_log_term;
  out.commit = a.leader_commit;
  std::vector<::raft::Entry> entries;
  entries.reserve(a.n_entries);
  for (unsigned i = 0; i < a.n_entries; ++i) entries.push_back(to_entry(a.entries[i], configs_));
  out.entries = std::move(entries);
  copy.append_entries.entries = nullptr;
  copy.append_entries.n_entries = 0;
}

void CanonicalNode::translate_vote_result(const struct raft_request_vote_result& v,
                                          ::raft::Message& out) {
  const bool pre = v.pre_vote == raft_tribool_true;
  out.type = pre ? ::raft::MsgType::pre_vote_resp : ::raft::MsgType::vote_resp;
  out.term = v.term;
  out.success = v.vote_granted;
  if (v.vote_granted) {
    ::raft::NodeEvent ev{::raft::EventType::vote_granted};
    ev.peer = out.to;
    ev.term = v.term;
    ev.pre_vote = pre;
    out_->events.push_back(ev);
  }
}

void CanonicalNode::translate_snapshot(const struct raft_install_snapshot& s, ::raft::Message& out,
                                       struct raft_message& copy) {
  out.type = ::raft::MsgType::snapshot;
  out.term = s.term;
  out.index = s.last_index;
  out.log_term = s.last_term;
  struct raft_snapshot probe;
  std::memset(&probe, 0, sizeof probe);
  probe.index = s.last_index;
  probe.term = s.last_term;
  probe.configuration = s.conf;
  probe.configuration_index = s.conf_index;
  struct raft_buffer data = s.data;
  probe.bufs = &data;
  probe.n_bufs = 1;
  auto snap = resolve_snapshot(probe);
  if (!snap) throw std::runtime_error("canonical: InstallSnapshot of an unknown snapshot");
  out.snapshot = snap;
  out.chunk_bytes = snap->bytes;
  out.done = true;
  copy.install_snapshot.conf.servers = nullptr;
  copy.install_snapshot.conf.n = 0;
  copy.install_snapshot.data.base = nullptr;
  copy.install_snapshot.data.len = 0;
  ::raft::NodeEvent ev{::raft::EventType::snapshot_sent};
  ev.peer = out.to;
  ev.index = snap->last_included_index;
  ev.bytes = snap->bytes;
  out_->events.push_back(ev);
}

void CanonicalNode::snapshot_observation() {
  before_.role = role_;
  before_.term = raft_.current_term;
  before_.commit = raft_.commit_index;
  before_.applied = raft_.last_applied;
  before_.config_index = raft_.configuration_index;
  hash_before_ = sm_.state_hash();
  fsm_applied_.clear();
  restored_ = false;
}

// Outputs ::raft::Node would have produced for the change the input made.
void CanonicalNode::after_input() {
  if (!initialized_ || closing_) return;
  flush_sends(0);
  if (raft_.state == RAFT_UNAVAILABLE) return;
  ::raft::Outputs& out = *out_;
  refresh_config();
  const ::raft::Role now_role = role_of(raft_, config_, id_);
  const Term term = raft_.current_term;
  report_role_change(now_role, term, out);
  if (raft_.commit_index > before_.commit && raft_.commit_index >= view_.log.first_index() - 1) {
    ::raft::NodeEvent ev{::raft::EventType::commit};
    ev.index = raft_.commit_index;
    ev.term = view_.log.term_at(ev.index).value_or(0);
    ev.config = configs_.intern(config_);
    out.events.push_back(ev);
  }
  emit_applied(out);
  if (now_role == ::raft::Role::leader && raft_.configuration_index > before_.config_index &&
      before_.role == ::raft::Role::leader) {
    report_config_committed(term, out);
  }
  if (raft_.configuration_index != before_.config_index) last_committed_config_ = config_;
  role_ = now_role;
  before_.pre_vote_round = raft_.state == RAFT_CANDIDATE && raft_.candidate_state.in_pre_vote;
  if (role_ != ::raft::Role::leader) {
    // Writes a leader accepted and lost with its leadership: the client
    // is told to retry (a redirect), as ::raft::Node's clients are.
    for (auto& [req, ids] : requests_) {
      (void)req;
      for (uint64_t w : ids) {
        if (awaiting_.erase(w)) out.replies.push_back({w, false, 0, current_leader()});
      }
    }
  }
}

// The configuration in force is the latest in the log, committed or not:
// the library uses a configuration as soon as it is appended (thesis §4.1),
// so its quorums, votes and commits follow that one. Decoded only when it
// changed: the library replaces its configuration only when one of these
// indexes moves (append, commit, rollback, snapshot, restart), or when an
// installed snapshot completes (the adapter reports the snapshot's own
// meanwhile).
void CanonicalNode::refresh_config() {
  const std::pair<Index, Index> config_key{raft_.configuration_index,
                                           raft_.configuration_uncommitted_index};
  if (!installing_ && raft_.configuration.n > 0 && config_key != config_key_) {
    config_ = from_raft_configuration(raft_.configuration);
    config_key_ = config_key;
  }
}

// role and step_down events for a role change, election_started for a new
// election, elected for a won one.
void CanonicalNode::report_role_change(::raft::Role now_role, Term term, ::raft::Outputs& out) {
  const bool pre_vote_round = raft_.state == RAFT_CANDIDATE && raft_.candidate_state.in_pre_vote;
  if (now_role != before_.role) {
    const char* reason = role_reason(before_.role, now_role, term > before_.term);
    ::raft::NodeEvent ev{::raft::EventType::role};
    ev.from = before_.role;
    ev.to = now_role;
    ev.term = before_.role == ::raft::Role::leader ? before_.term : term;
    ev.reason = reason;
    out.events.push_back(ev);
    if (before_.role == ::raft::Role::leader) {
      ::raft::NodeEvent down{::raft::EventType::step_down};
      down.term = before_.term;
      down.reason = reason;
      out.events.push_back(down);
      changes_.clear();
      transfer_ = false;
    }
  }
  // A new election: entering candidacy, or a candidate starting another
  // round (its term rose) or leaving pre-vote for the real vote.
  const bool candidate_now =
      now_role == ::raft::Role::candidate || now_role == ::raft::Role::precandidate;
  if (candidate_now && (now_role != before_.role || term != before_.term ||
                        pre_vote_round != before_.pre_vote_round)) {
    ::raft::NodeEvent ev{::raft::EventType::election_started};
    ev.pre_vote = pre_vote_round;
    ev.term = pre_vote_round ? term + 1 : term;
    out.events.push_back(ev);
    votes_.clear();
  }
  if (now_role == ::raft::Role::leader && before_.role != ::raft::Role::leader) {
    ::raft::NodeEvent ev{::raft::EventType::elected};
    ev.term = term;
    ev.votes = static_cast<uint32_t>(votes_.size() + 1);
    out.events.push_back(ev);
    votes_.clear();
  }
}

// A leader's configuration_index rose: config_committed, with the members
// whose role changed (lag 0: the library does not report lag).
void CanonicalNode::report_config_committed(Term term, ::raft::Outputs& out) {
  ::raft::NodeEvent ev{::raft::EventType::config_committed};
  ev.index = raft_.configuration_index;
  ev.term = term;
  ev.config = configs_.intern(config_);
  for (NodeId v : config_.voters) {
    if (!last_committed_config_.is_voter(v)) ev.lags.emplace_back(v, 0);
  }
  for (NodeId l : config_.learners) {
    if (last_committed_config_.is_voter(l)) ev.lags.emplace_back(l, 0);
  }
  for (NodeId v : last_committed_config_.voters) {
    if (!config_.contains(v)) ev.lags.emplace_back(v, 0);
  }
  for (NodeId l : last_committed_config_.learners) {
    if (!config_.contains(l)) ev.lags.emplace_back(l, 0);
  }
  out.events.push_back(ev);
}

::raft::NodeId CanonicalNode::current_leader() const {
  raft_id leader = 0;
  const char* address = nullptr;
  // raft_leader only reads the struct; 0.15 declares it without const.
  raft_leader(const_cast<struct raft*>(&raft_), &leader, &address);
  return static_cast<NodeId>(leader);
}

// The reason for a role change, as far as the library's state shows it.
const char* CanonicalNode::role_reason(::raft::Role from, ::raft::Role to, bool term_rose) const {
  using ::raft::Role;
  if (to == Role::leader) return "won_election";
  if (to == Role::candidate && from == Role::precandidate) return "pre_vote_won";
  if (to == Role::candidate || to == Role::precandidate) {
    return input_timeout_now_ ? "timeout_now" : "election_timeout";
  }
  if (term_rose) return "higher_term";
  if (from == Role::leader) {
    if (!config_.is_voter(id_)) return "removed";
    if (transfer_) return "transfer";
    return "lost_quorum";
  }
  if (from == Role::candidate || from == Role::precandidate) return "leader_found";
  return to == Role::learner ? "demoted" : "promoted";
}

// Reports the entries applied since the last report. Called after each
// input, and before a snapshot compacts the entries away.
void CanonicalNode::emit_applied(::raft::Outputs& out) {
  if (restored_) {
    // A snapshot replaced the state: nothing below its index is applied
    // entry by entry.
    fsm_applied_.clear();
    before_.applied = raft_.last_applied;
    hash_before_ = sm_.state_hash();
    return;
  }
  size_t next = 0;
  uint64_t hash = hash_before_;
  for (Index i = before_.applied + 1; i <= raft_.last_applied; ++i) {
    if (i < view_.log.first_index() || i > view_.log.last_index()) continue;
    const ::raft::Entry& entry = view_.log.at(i);
    ::raft::Applied a{i, entry, false, hash};
    if (entry.kind == EntryKind::write && next < fsm_applied_.size()) {
      a.duplicate = fsm_applied_[next].duplicate;
      a.state_hash = hash = fsm_applied_[next].state_hash;
      ++next;
      if (awaiting_.erase(entry.write_id)) {
        out.replies.push_back({entry.write_id, true, i, id_});
      }
    }
    out.applied.push_back(a);
  }
  fsm_applied_.erase(fsm_applied_.begin(), fsm_applied_.begin() + static_cast<long>(next));
  before_.applied = raft_.last_applied;
  hash_before_ = hash;
}

}  // namespace sim::canonical
