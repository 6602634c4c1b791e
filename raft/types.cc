#include "raft/types.h"

#include <cstring>

#include "raft/message.h"
#include "raft/node.h"
#include "raft/options.h"

namespace raft {

const char* role_name(Role role) {
  switch (role) {
    case Role::follower: return "follower";
    case Role::precandidate: return "precandidate";
    case Role::candidate: return "candidate";
    case Role::leader: return "leader";
    case Role::learner: return "learner";
  }
  return "?";
}

const char* read_mode_name(ReadMode mode) {
  switch (mode) {
    case ReadMode::read_index: return "read_index";
    case ReadMode::lease: return "lease";
    case ReadMode::stale: return "stale";
  }
  return "?";
}

const char* msg_type_name(MsgType type) {
  switch (type) {
    case MsgType::append: return "append";
    case MsgType::append_resp: return "append_resp";
    case MsgType::vote: return "vote";
    case MsgType::vote_resp: return "vote_resp";
    case MsgType::pre_vote: return "pre_vote";
    case MsgType::pre_vote_resp: return "pre_vote_resp";
    case MsgType::snapshot: return "snapshot";
    case MsgType::snapshot_resp: return "snapshot_resp";
    case MsgType::timeout_now: return "timeout_now";
  }
  return "?";
}

static void describe_ids(std::string& out, const std::vector<NodeId>& ids) {
  out += '[';
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  out += ']';
}

std::string Configuration::describe() const {
  std::string out = "voters=";
  describe_ids(out, voters);
  out += " learners=";
  describe_ids(out, learners);
  return out;
}

// Any strict order will do (the set is never iterated): sizes first, then
// the bytes, so that interning 1,001 voters compares memory, not ids one
// by one (a node and the checker intern the bootstrap configuration at
// every boot).
bool ConfigArena::Less::operator()(const Configuration& a, const Configuration& b) const {
  const std::vector<NodeId>* x[] = {&a.voters, &a.learners, &a.permanent_learners};
  const std::vector<NodeId>* y[] = {&b.voters, &b.learners, &b.permanent_learners};
  for (int i = 0; i < 3; ++i) {
    if (x[i]->size() != y[i]->size()) return x[i]->size() < y[i]->size();
  }
  for (int i = 0; i < 3; ++i) {
    if (x[i]->empty()) continue;
    const int c = std::memcmp(x[i]->data(), y[i]->data(), x[i]->size() * sizeof(NodeId));
    if (c != 0) return c < 0;
  }
  return false;
}

const Configuration* ConfigArena::intern(const Configuration& config) {
  return &*configs_.insert(config).first;
}

uint64_t config_entry_key(const Entry& entry) {
  uint64_t h = hash_combine(entry.term, static_cast<uint64_t>(entry.kind));
  h = hash_combine(h, entry.write_id);
  for (NodeId v : entry.config->voters) h = hash_combine(h, v);
  h = hash_combine(h, 0xffffffffULL);
  for (NodeId l : entry.config->learners) h = hash_combine(h, l);
  return h;
}

const std::vector<std::string>& PlantedBugs::names() {
  static const std::vector<std::string> kNames = {
      "vote_ignores_log",         "commit_prior_term",   "forget_vote_on_restart",
      "no_truncate_on_conflict",  "ack_before_persist",  "no_check_quorum",
      "demote_without_consensus", "lease_ignores_drift", "read_index_without_heartbeat",
      "read_before_noop_commit"};
  return kNames;
}

bool PlantedBugs::enable(const std::string& name) {
  bool* flags[] = {&vote_ignores_log,         &commit_prior_term,   &forget_vote_on_restart,
                   &no_truncate_on_conflict,  &ack_before_persist,  &no_check_quorum,
                   &demote_without_consensus, &lease_ignores_drift, &read_index_without_heartbeat,
                   &read_before_noop_commit};
  const auto& all = names();
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] == name) {
      *flags[i] = true;
      return true;
    }
  }
  return false;
}

}  // namespace raft
