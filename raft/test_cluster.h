// Test-only harness for raft::Node: drives nodes by hand, with a fake Random,
// an in-memory disk per node and explicit message routing, so that a test can
// script one Raft rule step by step and inspect exactly what a node emits.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "raft/node.h"

namespace raft::test {

// Election timeouts come from Random; a test wants them predictable: every
// draw returns the low end of the range.
class FakeRandom final : public Random {
 public:
  int64_t uniform_int(int64_t lo, int64_t /*hi*/) override { return lo; }
};

inline Configuration make_config(std::vector<NodeId> voters, std::vector<NodeId> learners = {}) {
  Configuration config;
  config.voters = std::move(voters);
  config.learners = std::move(learners);
  return config;
}

// A write entry of the given term (write ids must be unique in one log).
inline Entry write_entry(Term term, uint64_t write_id) {
  Entry e;
  e.term = term;
  e.kind = EntryKind::write;
  e.write_id = write_id;
  e.expected = 0;  // (the write's member of the union, see Entry)
  e.size_bytes = 8;
  return e;
}

// A disk holding a log whose entries have these terms (writes with ids
// 1, 2, ...), a current term and a vote.
inline DurableState disk_with(const Configuration& config, const std::vector<Term>& terms,
                              Term current_term = 0, NodeId voted_for = kNoNode,
                              Index commit_index = 0) {
  DurableState d;
  d.bootstrap_config = config;
  for (size_t i = 0; i < terms.size(); ++i) d.log.append(write_entry(terms[i], i + 1));
  d.hard_state.current_term = current_term;
  d.hard_state.voted_for = voted_for;
  d.hard_state.commit_index = commit_index;
  return d;
}

inline void append_outputs(Outputs& into, Outputs&& from) {
  auto move_all = [](auto& dst, auto& src) {
    for (auto& x : src) dst.push_back(std::move(x));
  };
  move_all(into.messages, from.messages);
  move_all(into.persists, from.persists);
  move_all(into.timers, from.timers);
  move_all(into.applied, from.applied);
  move_all(into.replies, from.replies);
  move_all(into.read_replies, from.read_replies);
  move_all(into.events, from.events);
}

// Message builders, one per RPC of Figure 2.
inline Message append_msg(NodeId from, NodeId to, Term term, Index prev_index, Term prev_term,
                          std::vector<Entry> entries = {}, Index commit = 0) {
  Message m;
  m.type = MsgType::append;
  m.from = from;
  m.to = to;
  m.term = term;
  m.index = prev_index;
  m.log_term = prev_term;
  m.entries = std::move(entries);
  m.commit = commit;
  return m;
}

inline Message append_resp_msg(NodeId from, NodeId to, Term term, bool success, Index index) {
  Message m;
  m.type = MsgType::append_resp;
  m.from = from;
  m.to = to;
  m.term = term;
  m.success = success;
  m.index = index;
  return m;
}

inline Message vote_msg(NodeId from, NodeId to, Term term, Index last_index, Term last_term,
                        bool pre_vote = false) {
  Message m;
  m.type = pre_vote ? MsgType::pre_vote : MsgType::vote;
  m.from = from;
  m.to = to;
  m.term = term;
  m.index = last_index;
  m.log_term = last_term;
  return m;
}

inline Message vote_resp_msg(NodeId from, NodeId to, Term term, bool granted,
                             bool pre_vote = false) {
  Message m;
  m.type = pre_vote ? MsgType::pre_vote_resp : MsgType::vote_resp;
  m.from = from;
  m.to = to;
  m.term = term;
  m.success = granted;
  return m;
}

inline Message timeout_now_msg(NodeId from, NodeId to, Term term) {
  Message m;
  m.type = MsgType::timeout_now;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

// One node with its own fake Random and disk. Every input returns what the
// node emitted for it; durable writes stay pending until persist(). Its
// configurations live in `configs` (a Cluster's, shared by its members) or,
// alone, in an arena of its own.
class Solo {
 public:
  Solo(NodeId id, const DurableState& disk, Options options = {}, ConfigArena* configs = nullptr)
      : configs_(configs ? *configs : own_configs_), disk_(disk), options_(std::move(options)) {
    node_ = std::make_unique<Node>(id, options_, random_, disk_, configs_);
  }
  Solo(NodeId id, const Configuration& config, Options options = {}, ConfigArena* configs = nullptr)
      : Solo(id, disk_with(config, {}), std::move(options), configs) {}

  Node& node() { return *node_; }
  const Node& node() const { return *node_; }
  const DurableState& disk() const { return disk_; }
  size_t pending_persists() const { return pending_.size(); }

  TimeUs now = 0;

  Outputs start() {
    return take([&](Outputs& o) { node_->start(now, o); });
  }
  Outputs step(const Message& m) {
    return take([&](Outputs& o) { node_->step(m, now, o); });
  }
  Outputs timer(TimerKind kind) {
    return take([&](Outputs& o) { node_->on_timer(kind, now, o); });
  }
  Outputs write(uint64_t write_id, uint32_t size_bytes = 8) {
    return take([&](Outputs& o) { node_->client_write(write_id, size_bytes, now, o); });
  }
  Outputs writes(const std::vector<ClientWrite>& batch) {
    return take([&](Outputs& o) { node_->client_writes(batch, now, o); });
  }
  Outputs reads(const std::vector<ClientRead>& batch) {
    return take([&](Outputs& o) { node_->client_reads(batch, now, o); });
  }
  Outputs transfer(NodeId to) {
    return take([&](Outputs& o) { node_->transfer_leadership(to, now, o); });
  }
  Outputs change_config(ConfigChange change, NodeId id) {
    return take(
        [&](Outputs& o) { node_->request_config_change(change, id, std::nullopt, now, o); });
  }

  // Completes every durable write issued so far (applying each to the disk)
  // and returns what the node emitted once told so.
  Outputs persist() {
    Outputs total;
    while (!pending_.empty()) {
      uint64_t last = 0;
      while (!pending_.empty()) {
        apply_persist(disk_, pending_.front());
        last = pending_.front().token;
        pending_.pop_front();
      }
      append_outputs(total, take([&](Outputs& o) { node_->on_persisted(last, now, o); }));
    }
    return total;
  }

  // A crash loses the writes still pending; the node restarts from its disk.
  Outputs restart() {
    pending_.clear();
    node_ = std::make_unique<Node>(node_->id(), options_, random_, disk_, configs_);
    return start();
  }

  // Records the durable writes of an input's outputs so persist() can
  // complete them; the outputs go back to the caller unchanged.
  template <typename Input>
  Outputs take(Input input) {
    Outputs out;
    input(out);
    for (const PersistOp& op : out.persists) pending_.push_back(op);
    return out;
  }

 private:
  ConfigArena own_configs_;
  ConfigArena& configs_;
  FakeRandom random_;
  DurableState disk_;
  Options options_;
  std::unique_ptr<Node> node_;
  std::deque<PersistOp> pending_;
};

// Several Solos with a message queue between them. settle() completes every
// durable write and delivers every message (FIFO) until nothing is left;
// messages to or from an isolated node are dropped. Timers never fire on
// their own: a test fires them with timer(), so time is entirely scripted.
class Cluster {
 public:
  Cluster(const Configuration& config, Options options = {}) {
    std::vector<NodeId> ids = config.voters;
    ids.insert(ids.end(), config.learners.begin(), config.learners.end());
    for (NodeId id : ids) {
      members_.emplace(id, std::make_unique<Solo>(id, config, options, &configs_));
    }
    for (NodeId id : ids) route(id, node_solo(id).start());
  }

  Node& node(NodeId id) { return node_solo(id).node(); }
  Solo& node_solo(NodeId id) { return *members_.at(id); }

  void set_now(TimeUs now) {
    for (auto& [id, m] : members_) m->now = now;
  }
  void advance(TimeUs delta) { set_now(members_.begin()->second->now + delta); }

  void timer(NodeId id, TimerKind kind) { route(id, node_solo(id).timer(kind)); }
  void write(NodeId id, uint64_t write_id) { route(id, node_solo(id).write(write_id)); }
  void deliver(const Message& m) { route(m.to, node_solo(m.to).step(m)); }

  void settle() {
    for (;;) {
      bool progressed = false;
      for (auto& [id, m] : members_) {
        if (m->pending_persists() == 0) continue;
        route(id, m->persist());
        progressed = true;
      }
      if (!queue_.empty()) {
        Message m = std::move(queue_.front());
        queue_.pop_front();
        delivered.push_back(m);
        deliver(m);
        progressed = true;
      }
      if (!progressed) return;
    }
  }

  // The election timer of `id` fires and the cluster settles.
  void elect(NodeId id) {
    timer(id, TimerKind::election);
    settle();
  }

  std::set<NodeId> isolated;
  std::vector<Message> delivered;                   // every message delivered, in order
  std::map<NodeId, std::vector<NodeEvent>> events;  // every event, per node
  std::map<NodeId, std::vector<ClientReply>> replies;

 private:
  void route(NodeId id, Outputs out) {
    for (Message& m : out.messages) {
      if (isolated.count(m.from) || isolated.count(m.to) || !members_.count(m.to)) continue;
      queue_.push_back(std::move(m));
    }
    for (NodeEvent& e : out.events) events[id].push_back(std::move(e));
    for (ClientReply& r : out.replies) replies[id].push_back(r);
  }

  ConfigArena configs_;  // the members'
  std::map<NodeId, std::unique_ptr<Solo>> members_;
  std::deque<Message> queue_;
};

// Helpers for reading outputs.
inline std::vector<Message> of_type(const Outputs& out, MsgType type) {
  std::vector<Message> found;
  for (const Message& m : out.messages) {
    if (m.type == type) found.push_back(m);
  }
  return found;
}

inline const NodeEvent* find_event(const std::vector<NodeEvent>& events, EventType type) {
  for (const NodeEvent& e : events) {
    if (e.type == type) return &e;
  }
  return nullptr;
}

inline bool has_election_timer(const Outputs& out) {
  for (const TimerRequest& t : out.timers) {
    if (t.kind == TimerKind::election && !t.cancel) return true;
  }
  return false;
}

// Makes `solo` (a voter of a fresh cluster with these peers) leader of the
// next term: its election timer fires, its vote is persisted, and peers grant.
inline Outputs make_leader(Solo& solo, const std::vector<NodeId>& granting_peers) {
  Outputs all = solo.timer(TimerKind::election);
  append_outputs(all, solo.persist());
  const Term term = solo.node().current_term();
  for (NodeId peer : granting_peers) {
    append_outputs(all, solo.step(vote_resp_msg(peer, solo.node().id(), term, true)));
  }
  append_outputs(all, solo.persist());
  return all;
}

}  // namespace raft::test
