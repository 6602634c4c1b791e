#include <algorithm>

#include "raft/node.h"

namespace raft {

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

}  // namespace raft
