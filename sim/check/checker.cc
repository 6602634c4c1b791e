#include "sim/check/checker.h"

#include <algorithm>
#include <utility>

#include "raft/quorum.h"

namespace sim {

namespace {

std::string idx(Index i) {
  return std::to_string(i);
}

}  // namespace

Checker::Checker(const std::vector<NodeId>& nodes, raft::ConfigArena& configs)
    : configs_(configs), nodes_(nodes) {
  NodeId max_id = 0;
  for (NodeId id : nodes) max_id = std::max(max_id, id);
  slot_of_.assign(max_id + 1, 0);
  for (size_t i = 0; i < nodes.size(); ++i) slot_of_[nodes[i]] = i;
  mirrors_.resize(nodes.size());
  persistence_.resize(nodes.size());
  led_term_.resize(nodes.size());
  applied_index_.resize(nodes.size());
}

void Checker::report(std::string invariant, std::string detail, std::vector<NodeId> nodes) {
  if (violation_) return;
  violation_ = Violation{std::move(invariant), std::move(detail), std::move(nodes)};
}

Checker::Slot* Checker::extend_to(Index i) {
  if (i < slots_base_) return nullptr;
  while (slots_base_ + slots_.size() <= i) slots_.push_back(Slot());
  return &slots_[i - slots_base_];
}

void Checker::set_base(Mirror& mirror, Index index, NodeId node,
                       const raft::Configuration* config) {
  mirror.entries.clear();
  mirror.configs.clear();
  mirror.base_config = config;
  mirror.base_index = index;
  mirror.base_chain = 0;
  if (index == 0) return;
  Slot* s = slot(index);
  if (!s) {
    // Below the window of per-index facts: a snapshot taken earlier (an old
    // transfer finishing late) still names its chain hash.
    auto it = snapshot_chains_.find(index);
    if (it != snapshot_chains_.end()) {
      mirror.base_chain = it->second;
      return;
    }
  }
  if (!s || !s->committed) {
    report("state_machine_safety",
           "node " + std::to_string(node) + " holds a snapshot at index " + idx(index) +
               " that was never committed",
           {node});
    return;
  }
  mirror.base_chain = s->committed_chain;
}

inline void Checker::append_to_mirror(NodeId node, Mirror& mirror, const raft::Entry& entry) {
  const Index index = mirror.last_index() + 1;
  const uint64_t prev = mirror.entries.empty() ? mirror.base_chain : mirror.entries.back().chain;
  const uint64_t chain = chain_after(prev, entry);
  mirror.entries.push_back({entry.term, chain});
  if (entry.kind == raft::EntryKind::config) mirror.configs.emplace_back(index, entry.config);
  Slot* s = slot(index);
  if (!s) return;  // below every snapshot: already compared when it was appended
  if (s->first_term == entry.term) {
    if (s->first_chain != chain) report_log_mismatch(node, index, entry.term);
  } else if (s->first_term == 0) {
    s->first_term = entry.term;
    s->first_chain = chain;
  } else {
    compare_later_term(node, index, entry.term, chain);
  }
}

void Checker::compare_later_term(NodeId node, Index index, Term term, uint64_t chain) {
  auto& more = more_chains_[index];
  for (const auto& [other_term, other_chain] : more) {
    if (other_term != term) continue;
    if (other_chain != chain) report_log_mismatch(node, index, term);
    return;
  }
  more.emplace_back(term, chain);
}

void Checker::report_log_mismatch(NodeId node, Index index, Term term) {
  // Log Matching (§5.3): same index and term must mean identical logs up to it.
  report("log_matching",
         "node " + std::to_string(node) + " holds an entry at index " + idx(index) + " term " +
             std::to_string(term) +
             " whose preceding log differs from another node's entry with the same index and term",
         {node});
}

void Checker::on_log_write(NodeId node, const raft::PersistOp& op, bool from_leader,
                           Index commit_index) {
  // Acknowledged Entries Stay: the leader of a term only appends to its log,
  // and a follower acknowledges only entries that match it (§5.3), so within
  // that term no append of its leader conflicts with them and no snapshot of
  // its leader misses them (Figure 13 rule 6 then keeps the log). A write
  // may rewrite them identically (an install that keeps the log rewrites
  // what follows the snapshot); once the node is in a later term, a new
  // leader may overwrite what never committed.
  Mirror& mirror = mirrors_[node_slot(node)];
  const Persistence& p = persistence_[node_slot(node)];
  std::optional<uint64_t> acked_chain;
  if (p.acked_term == op.hard_state.current_term && p.acked_index > mirror.base_index) {
    acked_chain = mirror.chain_at(p.acked_index);
  }
  apply_log_write(node, op, from_leader, commit_index);
  mirror.term = op.hard_state.current_term;
  if (!acked_chain || p.acked_index <= mirror.base_index) return;
  const std::optional<uint64_t> now = mirror.chain_at(p.acked_index);
  if (now == acked_chain) return;
  report("acked_entries",
         "node " + std::to_string(node) + " dropped or replaced entries up to index " +
             idx(p.acked_index) + " in term " + std::to_string(p.acked_term) +
             " after acknowledging them in that term",
         {node});
}

void Checker::apply_log_write(NodeId node, const raft::PersistOp& op, bool from_leader,
                              Index commit_index) {
  Mirror& mirror = mirrors_[node_slot(node)];
  if (op.snapshot) {
    // RaftLog::install_snapshot: the log is kept only if it holds the
    // snapshot's last entry.
    const raft::Snapshot& snap = *op.snapshot;
    const MirrorEntry* kept = mirror.at(snap.last_included_index);
    const bool holds = snap.last_included_index <= mirror.base_index ||
                       (kept && kept->term == snap.last_included_term);
    if (!holds) set_base(mirror, snap.last_included_index, node, configs_.intern(snap.config));
    // A snapshot covers committed entries only (set_base checks that), and
    // its receiver adopts its index as its commit index.
    mirror.commit_index = std::max(mirror.commit_index, snap.last_included_index);
  }
  if (op.compact_index > mirror.base_index && op.compact_index <= mirror.last_index()) {
    // Compaction covers only committed entries; a node that commits and
    // compacts in one input reports the compaction first, so record what it
    // committed before the entries leave its mirror.
    for (Index i = committed_max_ + 1; i <= op.compact_index; ++i) {
      if (Slot* s = slot(i)) {
        s->committed = true;
        s->committed_chain = *mirror.chain_at(i);
        s->committed_term = op.hard_state.current_term;  // the committer leads in this term
      }
      committed_max_ = i;
    }
    const Index drop = op.compact_index - mirror.base_index;
    auto& configs = mirror.configs;
    auto past = std::find_if(configs.begin(), configs.end(),
                             [&](const auto& c) { return c.first > op.compact_index; });
    if (past != configs.begin()) mirror.base_config = std::prev(past)->second;
    configs.erase(configs.begin(), past);
    mirror.base_chain = mirror.at(op.compact_index)->chain;
    mirror.entries.drop_front(drop);
    mirror.base_index = op.compact_index;
  }
  if (op.snapshot || op.compact_index) trim();
  if (!op.has_entries) return;
  const Index first = std::max(op.first_index, mirror.base_index + 1);
  if (first <= mirror.last_index()) {
    mirror.entries.truncate(first - mirror.base_index - 1);
    while (!mirror.configs.empty() && mirror.configs.back().first >= first) {
      mirror.configs.pop_back();
    }
  }
  // Whether the log already holds an uncommitted configuration entry.
  auto config_pending = [&] {
    return !mirror.configs.empty() && mirror.configs.back().first > commit_index;
  };
  const size_t skip = first > op.first_index ? static_cast<size_t>(first - op.first_index) : 0;
  for (size_t k = skip; k < op.entries.size(); ++k) {
    const raft::Entry& entry = op.entries[k];
    if (from_leader && entry.kind == raft::EntryKind::config && config_pending()) {
      report("config_change",
             "leader " + std::to_string(node) + " appended a configuration entry at index " +
                 idx(mirror.last_index() + 1) + " while another change was uncommitted",
             {node});
    }
    // Nor before it has committed an entry of its own term (thesis §4.1, as
    // corrected in Ongaro's 2015 note on single-server changes): until then
    // an uncommitted change of an earlier term may still commit, and two
    // changes that were never ordered could each form a majority. Terms are
    // ascending in a log, so the entry at the commit index is of this term
    // exactly when one of its entries is committed. At the snapshot base the
    // term is unknown, and nothing is judged. Only for nodes whose
    // configurations take effect on commit (raftsim's): canonical/raft does
    // not follow the rule (81 of its seeds 0..399 would fail here), which is
    // a finding about the library for docs/canonical.md, not a regression.
    if (from_leader && entry.kind == raft::EntryKind::config && !mirror.config_on_append) {
      const MirrorEntry* at_commit = mirror.at(std::min(commit_index, mirror.last_index()));
      if (at_commit && at_commit->term < entry.term) {
        report("config_change",
               "leader " + std::to_string(node) + " of term " + std::to_string(entry.term) +
                   " appended a configuration entry at index " + idx(mirror.last_index() + 1) +
                   " before committing an entry of its term (commit index " + idx(commit_index) +
                   ")",
               {node});
      }
    }
    append_to_mirror(node, mirror, entry);
  }
}

void Checker::on_restart(NodeId node, const raft::DurableState& durable) {
  applied_index_[node_slot(node)] = 0;  // a restart applies again from its snapshot
  Mirror& mirror = mirrors_[node_slot(node)];
  const raft::RaftLog& log = durable.log;
  const Index base = log.snapshot_index();
  const Index last = log.last_index();
  // From the arena the node interns in too, so on_config usually finds the
  // very same configuration; a spare's is empty.
  const raft::Configuration* base_config =
      configs_.intern(durable.snapshot ? durable.snapshot->config : durable.bootstrap_config);
  if (mirror.base_index == base && last <= mirror.last_index() &&
      (last == base || mirror.at(last)->term == log.last_term())) {
    // The usual restart: what was lost only came after the durable log. Every
    // entry of both was compared with the one chain hash of its (index, term)
    // when it was written (Log Matching, §5.3; the slot at `last` exists,
    // since the window starts at or below every durable snapshot), so the
    // mirror already holds the durable log up to `last`: keep that prefix
    // instead of hashing the whole log again.
    mirror.entries.truncate(last - base);
    while (!mirror.configs.empty() && mirror.configs.back().first > last) mirror.configs.pop_back();
    mirror.base_config = base_config;
  } else {
    set_base(mirror, base, node, base_config);
    for (Index i = log.first_index(); i <= last; ++i) append_to_mirror(node, mirror, log.at(i));
  }
  // Entries are acknowledged only once durable (Figure 2: "before
  // responding to RPCs"), so a crash loses none acknowledged in its term.
  const Persistence& p = persistence_[node_slot(node)];
  // A restarted node knows as committed its snapshot and what its durable
  // commit index names of its durable log.
  mirror.commit_index = std::max(durable.snapshot ? durable.snapshot->last_included_index : 0,
                                 std::min(durable.hard_state.commit_index, last));
  mirror.term = durable.hard_state.current_term;
  if (p.acked_term == mirror.term && p.acked_chain && p.acked_index > mirror.base_index &&
      mirror.chain_at(p.acked_index) != p.acked_chain) {
    report("acked_entries",
           "node " + std::to_string(node) + " restarted in term " + std::to_string(p.acked_term) +
               " without the entries up to index " + idx(p.acked_index) +
               " it acknowledged in that term",
           {node});
  }
}

void Checker::on_durable(NodeId node, const raft::DurableState& durable) {
  const raft::HardState& hard = durable.hard_state;
  Persistence& p = persistence_[node_slot(node)];
  p.durable_base = durable.log.snapshot_index();
  if (hard.current_term < p.durable_term) {
    report("persistence",
           "node " + std::to_string(node) + " durable term went from " +
               std::to_string(p.durable_term) + " back to " + std::to_string(hard.current_term),
           {node});
  } else if (hard.current_term == p.durable_term && p.durable_vote != raft::kNoNode &&
             hard.voted_for != p.durable_vote) {
    // Figure 2: votedFor is persistent, one per term: once a vote of a term
    // is durable, only a later term may replace it.
    report("vote_durability",
           "node " + std::to_string(node) + " durable vote in term " +
               std::to_string(hard.current_term) + " changed from " +
               std::to_string(p.durable_vote) + " to " + std::to_string(hard.voted_for),
           {node});
  }
  p.durable_term = hard.current_term;
  p.durable_vote = hard.voted_for;
}

void Checker::on_commit(NodeId node, Index commit, bool leader, const std::vector<NodeId>& voters) {
  Mirror& mirror = mirrors_[node_slot(node)];
  mirror.commit_index = std::max(mirror.commit_index, commit);
  const std::optional<uint64_t> chain = mirror.chain_at(commit);
  if (!chain) {
    report("state_machine_safety",
           "node " + std::to_string(node) + " committed index " + idx(commit) +
               " which its log does not hold",
           {node});
    return;
  }
  if (commit <= committed_max_) {
    Slot* s = slot(commit);
    if (s && s->committed && s->committed_chain != *chain) {
      report("state_machine_safety",
             "node " + std::to_string(node) + " committed a different log up to index " +
                 idx(commit) + " than was committed before",
             {node});
      return;
    }
  } else {
    for (Index i = std::max(committed_max_ + 1, mirror.base_index); i <= commit; ++i) {
      Slot* s = slot(i);
      if (!s) continue;
      s->committed = true;
      s->committed_chain = *mirror.chain_at(i);
      // Entries are first committed by a leader, in the term it leads.
      const Term entry_term = mirror.at(i) ? mirror.at(i)->term : 0;
      s->committed_term = leader ? led_term_[node_slot(node)] : entry_term;
    }
    committed_max_ = commit;
  }
  if (!leader) return;
  // A leader commits only what a majority of the voters of its configuration
  // hold; learners and lagging voters dropped without a committed change
  // cannot make up that majority.
  size_t holders = 0;
  for (NodeId v : voters) {
    if (v >= slot_of_.size()) continue;
    const std::optional<uint64_t> theirs = mirrors_[node_slot(v)].chain_at(commit);
    const bool compacted = mirrors_[node_slot(v)].base_index > commit;
    if (compacted || (theirs && *theirs == *chain)) ++holders;
  }
  if (holders < raft::majority(voters.size())) {
    report("commit_quorum",
           "leader " + std::to_string(node) + " committed index " + idx(commit) + " held by only " +
               std::to_string(holders) + " of " + std::to_string(voters.size()) + " voters",
           {node});
  }
}

inline void Checker::check_applied(NodeId node, const raft::Applied& applied) {
  if (applied.index > committed_max_) return report_applied(node, applied.index, false);
  if (Slot* s = slot(applied.index)) check_applied_at(node, *s, applied);
}

inline void Checker::check_applied_at(NodeId node, Slot& s, const raft::Applied& applied) {
  const uint64_t entry = applied.entry_key;
  if (!s.applied) {
    s.applied = true;
    s.applied_entry = entry;
    s.state_hash = applied.state_hash;
  } else if (s.applied_entry != entry || s.state_hash != applied.state_hash) {
    report_applied(node, applied.index, true);
  }
}

void Checker::on_applied(NodeId node, const raft::Applied& applied) {
  check_applied(node, applied);
  Index& last = applied_index_[node_slot(node)];
  last = std::max(last, applied.index);
}

bool Checker::on_applied(NodeId node, const std::vector<raft::Applied>& applied) {
  if (applied.empty()) return false;
  Index& last = applied_index_[node_slot(node)];
  last = std::max(last, applied.back().index);
  bool new_write = false;
  // One input applies consecutive indexes (a restarted node replays up to a
  // snapshot interval at once): when they are all committed and in the
  // window, their slots are found from the first one's.
  const Index first = applied.front().index;
  const Index span = applied.back().index - first;
  if (applied.back().index < first || first < slots_base_ || first + span > committed_max_ ||
      first + span - slots_base_ >= slots_.size()) {
    for (const raft::Applied& a : applied) {
      check_applied(node, a);
      new_write |= a.kind == raft::EntryKind::write && !a.duplicate;
    }
    return new_write;
  }
  Slot* base = &slots_[first - slots_base_];
  for (const raft::Applied& a : applied) {
    const Index offset = a.index - first;  // (below first, wraps to a huge number)
    if (offset <= span) {
      check_applied_at(node, base[offset], a);
    } else {
      check_applied(node, a);
    }
    new_write |= a.kind == raft::EntryKind::write && !a.duplicate;
  }
  return new_write;
}

void Checker::on_snapshot_installed(NodeId node, Index index) {
  // Figure 13: a snapshot that describes a prefix of what the node holds
  // resets nothing (paper §7: the entries after it stay valid); only one
  // beyond what it applied replaces its state machine. A running node's
  // state never goes back to an index it has applied past (a restart
  // applies again from its snapshot).
  const Index applied = applied_index_[node_slot(node)];
  if (index <= applied) {
    report("snapshot",
           "node " + std::to_string(node) + " installed a snapshot at index " + idx(index) +
               " after applying index " + idx(applied) + ": its state machine went back",
           {node});
  }
}

void Checker::report_applied(NodeId node, Index index, bool differs) {
  report("state_machine_safety",
         differs ? "node " + std::to_string(node) + " applied a different entry at index " +
                       idx(index) + " than another node"
                 : "node " + std::to_string(node) + " applied index " + idx(index) +
                       " before it was committed",
         {node});
}

void Checker::on_snapshot(NodeId node, const raft::Snapshot& snapshot, const char* how) {
  Slot* s = slot(snapshot.last_included_index);
  if (!s || !s->applied) return;
  if (s->state_hash != snapshot.state.state_hash()) {
    report("snapshot",
           "node " + std::to_string(node) + " " + how + " a snapshot at index " +
               idx(snapshot.last_included_index) +
               " whose state differs from applying the log up to it",
           {node});
  }
}

void Checker::on_became_leader(NodeId node, Term term) {
  auto [it, inserted] = leader_of_term_.emplace(term, node);
  if (!inserted && it->second != node) {
    report("election_safety",
           "nodes " + std::to_string(it->second) + " and " + std::to_string(node) +
               " were both elected leader in term " + std::to_string(term),
           {it->second, node});
    return;
  }
  led_term_[node_slot(node)] = term;
  // Leader Completeness (§5.4): the new leader holds every entry committed
  // in earlier terms. (A candidate of an old term can still win, late: it
  // owes nothing to entries committed since, even entries of terms before
  // its own; fuzz seed 5875 elected such a candidate of term 11 after
  // entries of term 6 were committed in term 14.) Commit terms grow along
  // the committed prefix, so the last such entry is found by binary search
  // in the window.
  const Mirror& mirror = mirrors_[node_slot(node)];
  Index lo = std::max<Index>(slots_base_, 1), hi = committed_max_, required = 0;
  while (lo <= hi) {
    const Index mid = lo + (hi - lo) / 2;
    const Slot* s = slot(mid);
    if (s && s->committed && s->committed_term < term) {
      required = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (required <= mirror.base_index) return;
  const std::optional<uint64_t> chain = mirror.chain_at(required);
  if (!chain || slot(required)->committed_chain != *chain) {
    report("leader_completeness",
           "node " + std::to_string(node) + " became leader of term " + std::to_string(term) +
               " without the committed entries up to index " + idx(required),
           {node});
  }
}

void Checker::on_message(NodeId node, const raft::Message& msg) {
  if (msg.type == raft::MsgType::pre_vote_resp && msg.success) {
    record_grant(pre_vote_grants_, pre_vote_floor_, msg.term, node, msg.to);
    return;
  }
  if (msg.type == raft::MsgType::pre_vote || msg.type == raft::MsgType::pre_vote_resp) return;
  Persistence& p = persistence_[node_slot(node)];
  if (msg.term > p.durable_term) {
    report("persistence",
           "node " + std::to_string(node) + " sent a message of term " + std::to_string(msg.term) +
               " before that term was durable (durable term " + std::to_string(p.durable_term) +
               ")",
           {node});
    return;
  }
  if ((msg.type == raft::MsgType::append_resp || msg.type == raft::MsgType::snapshot_resp) &&
      msg.success) {
    // (A chunk's acknowledgement is not one of entries: only the last, done.)
    if (msg.type == raft::MsgType::snapshot_resp && !msg.done) return;
    if (p.acked_term != msg.term) {
      p.acked_term = msg.term;
      p.acked_index = 0;
    }
    if (msg.index <= p.acked_index) return;
    p.acked_index = msg.index;
    // An acknowledgement released after the node moved on to a later term
    // (held back by a slow disk) is of a log the node no longer holds.
    const Mirror& mirror = mirrors_[node_slot(node)];
    p.acked_chain.reset();
    if (mirror.term == msg.term) p.acked_chain = mirror.chain_at(msg.index);
    return;
  }
  if (msg.type != raft::MsgType::vote_resp || !msg.success) return;
  // A vote leaves only once it is durable (Figure 2), so a crash cannot make
  // the node vote again in the term. (A grant of an earlier term, held back
  // by a pause or a slow disk, may leave after the node moved on.)
  if (p.durable_term == msg.term && p.durable_vote != msg.to) {
    report("vote_durability",
           "node " + std::to_string(node) + " granted its vote in term " +
               std::to_string(msg.term) + " to " + std::to_string(msg.to) +
               " while its durable vote in that term is " + std::to_string(p.durable_vote),
           {node, msg.to});
    return;
  }
  if (p.granted_term == msg.term && p.granted_to != msg.to) {
    report("persistence",
           "node " + std::to_string(node) + " voted twice in term " + std::to_string(msg.term) +
               ": for " + std::to_string(p.granted_to) + " and for " + std::to_string(msg.to),
           {node, p.granted_to, msg.to});
    return;
  }
  p.granted_term = msg.term;
  p.granted_to = msg.to;
  record_grant(grants_, grants_floor_, msg.term, node, msg.to);
}

void Checker::record_grant(std::map<Term, std::vector<std::pair<NodeId, NodeId>>>& grants,
                           Term& floor, Term term, NodeId voter, NodeId candidate) {
  if (term < floor) return;
  auto& granted = grants[term];
  const std::pair<NodeId, NodeId> grant{voter, candidate};
  if (std::find(granted.begin(), granted.end(), grant) == granted.end()) granted.push_back(grant);
  if (grants.size() > kGrantTermsKept) {
    floor = grants.begin()->first + 1;
    grants.erase(grants.begin());
  }
}

const raft::Configuration* Checker::config_in_force(const Mirror& mirror) {
  for (auto it = mirror.configs.rbegin(); it != mirror.configs.rend(); ++it) {
    if (mirror.config_on_append || it->first <= mirror.commit_index) return it->second;
  }
  return mirror.base_config;
}

void Checker::on_config(NodeId node, const raft::Configuration& config) {
  const Mirror& mirror = mirrors_[node_slot(node)];
  const raft::Configuration* expected = config_in_force(mirror);
  // The same object (the usual case) or an equal one.
  if (!expected || expected == &config || *expected == config) return;
  if (mirror.config_on_append) {
    // Such a node switches when it handles the entry, which may be when its
    // write is issued or when it completes: any configuration from the last
    // committed one to the last appended one is its own.
    for (auto it = mirror.configs.rbegin(); it != mirror.configs.rend(); ++it) {
      if (*it->second == config) return;
      if (it->first <= mirror.commit_index) break;
    }
    const bool all_uncommitted =
        mirror.configs.empty() || mirror.configs.front().first > mirror.commit_index;
    if (all_uncommitted && mirror.base_config && *mirror.base_config == config) return;
  }
  report("config_consistency",
         "node " + std::to_string(node) + " uses configuration " + config.describe() +
             " but the configuration entries of its log" +
             (mirror.config_on_append ? std::string()
                                      : " up to its commit index " + idx(mirror.commit_index)) +
             " give " + expected->describe(),
         {node});
}

std::pair<size_t, size_t> Checker::granted_votes(
    const std::map<Term, std::vector<std::pair<NodeId, NodeId>>>& grants, NodeId node,
    Term term) const {
  const raft::Configuration* config = config_in_force(mirrors_[node_slot(node)]);
  if (!config) return {0, 0};
  size_t votes = 0;
  const auto it = grants.find(term);
  for (NodeId v : config->voters) {
    bool granted = v == node;
    if (!granted && it != grants.end()) {
      granted = std::find(it->second.begin(), it->second.end(), std::make_pair(v, node)) !=
                it->second.end();
    }
    if (granted) ++votes;
  }
  return {votes, config->voters.size()};
}

void Checker::on_election_won(NodeId node, Term term) {
  // Anyone asked may grant a vote, learners included (a node may not know
  // yet that it was promoted, or know that its demotion committed while the
  // candidate does not): what makes elections safe is that a candidate
  // counts only the voters of its own configuration, a majority of them,
  // itself included. Votes of learners and outsiders must never make up
  // that majority.
  if (term < grants_floor_) return;
  const auto [votes, voters] = granted_votes(grants_, node, term);
  grants_.erase(term);
  if (voters > 0 && votes < raft::majority(voters)) {
    report("learner_vote",
           "node " + std::to_string(node) + " became leader of term " + std::to_string(term) +
               " with the votes of only " + std::to_string(votes) + " of the " +
               std::to_string(voters) + " voters of its configuration",
           {node});
  }
}

void Checker::on_pre_vote_won(NodeId node, Term term) {
  // Thesis §9.6: a pre-candidate campaigns only once a majority would vote
  // for it in the term it is about to start. Grants of an earlier round
  // (an earlier term) say nothing about this one: a late or duplicated one
  // counted again starts an election the cluster did not agree to.
  if (term < pre_vote_floor_) return;
  const auto [votes, voters] = granted_votes(pre_vote_grants_, node, term);
  if (voters > 0 && votes < raft::majority(voters)) {
    report("pre_vote",
           "node " + std::to_string(node) + " campaigned in term " + std::to_string(term) +
               " after pre-vote grants of that term from only " + std::to_string(votes) +
               " of the " + std::to_string(voters) + " voters of its configuration",
           {node});
  }
}

void Checker::on_snapshot_taken(Index index, NodeId node) {
  // The mirror still holds the snapshot's last entry: compaction keeps a
  // trailing window below it, or makes it the base.
  if (auto chain = mirrors_[node_slot(node)].chain_at(index))
    snapshot_chains_.emplace(index, *chain);
  // Only recent snapshots can still be in transfer (a leader moves a stalled
  // transfer to its newest snapshot); keep memory bounded in long runs.
  while (snapshot_chains_.size() > kSnapshotChainsKept) {
    snapshot_chains_.erase(snapshot_chains_.begin());
  }
}

void Checker::on_ack(uint64_t write_id, Index index, Index floor_index) {
  Slot* s = slot(index);
  if (index > committed_max_ || (s && !s->committed)) {
    report("durability",
           "write " + std::to_string(write_id) + " was acknowledged at index " + idx(index) +
               " which is not committed",
           {});
    return;
  }
  if (index <= floor_index) {
    report("durability",
           "write " + std::to_string(write_id) + " was acknowledged at index " + idx(index) +
               ", before a write acknowledged before it was submitted (index " + idx(floor_index) +
               ")",
           {});
  }
}

void Checker::trim() {
  // Keep every index a node may still compare: from the oldest snapshot that
  // any node holds in memory or could restart from. Nodes that hold no log
  // at all (spares) compare nothing until they receive a snapshot or entries.
  Index oldest = UINT64_MAX;
  for (size_t i = 0; i < mirrors_.size(); ++i) {
    const Mirror& m = mirrors_[i];
    if (m.base_index == 0 && m.entries.empty()) continue;
    oldest = std::min({oldest, m.base_index, persistence_[i].durable_base});
  }
  if (oldest == UINT64_MAX) return;
  const Index drop = std::min<Index>(oldest - std::min(oldest, slots_base_), slots_.size());
  slots_.drop_front(drop);
  slots_base_ += drop;
  more_chains_.erase(more_chains_.begin(), more_chains_.lower_bound(slots_base_));
}

}  // namespace sim
