// The narrow interface through which the simulator drives a Raft node:
// inputs in, outputs out, plus the few observations the checkers and the
// scenario runner need. raft::Node sits behind RaftNodeAdapter; another Raft
// implementation can run under the same scenarios, checkers and fuzzer by
// implementing this interface and translating its messages to raft::Message.
#pragma once

#include <memory>

#include "raft/node.h"

namespace sim {

class NodeApi {
 public:
  virtual ~NodeApi() = default;

  // Inputs, named as raft::Node's. `now` is the node's local clock.
  virtual void start(raft::TimeUs now, raft::Outputs& out) = 0;
  virtual void step(const raft::Message& msg, raft::TimeUs now, raft::Outputs& out) = 0;
  virtual void on_timer(raft::TimerKind kind, raft::TimeUs now, raft::Outputs& out) = 0;
  virtual void on_persisted(uint64_t token, raft::TimeUs now, raft::Outputs& out) = 0;
  // Client writes that reach the node at the same instant, in arrival order.
  virtual void client_writes(const std::vector<raft::ClientWrite>& writes, raft::TimeUs now,
                             raft::Outputs& out) = 0;
  virtual void client_reads(const std::vector<raft::ClientRead>& reads, raft::TimeUs now,
                            raft::Outputs& out) = 0;
  virtual void campaign(raft::TimeUs now, raft::Outputs& out) = 0;
  virtual bool transfer_leadership(raft::NodeId to, raft::TimeUs now, raft::Outputs& out) = 0;
  virtual bool request_config_change(raft::ConfigChange change, raft::NodeId node,
                                     std::optional<bool> promote, raft::TimeUs now,
                                     raft::Outputs& out) = 0;
  virtual void take_snapshot(raft::TimeUs now, raft::Outputs& out) = 0;

  // Observations.
  virtual raft::Role role() const = 0;
  virtual raft::Term current_term() const = 0;
  virtual raft::NodeId leader_id() const = 0;  // the leader it knows of, kNoNode if none
  // Whether a configuration entry takes effect as soon as it is in the log
  // (thesis §4.1, canonical/raft) rather than when it commits (raft::Node,
  // raft-roles.md); the checker judges each node's configuration by its rule.
  virtual bool config_on_append() const = 0;
  // Whether the node's role events with reason "pre_vote_won" (pre-candidate
  // to candidate, thesis §9.6) follow pre-vote grants of that round's term
  // (the term it then campaigns in) from a majority of its configuration,
  // sent as pre_vote_resp of that term; the checker then judges each such
  // win. An implementation whose pre-vote messages or events differ opts out.
  virtual bool pre_vote_wins_judged() const = 0;
  // How long, on its own clock, a leader may stay leader after it last heard
  // from a quorum, by the node's own check-quorum rule (thesis §6.2); the
  // quorum invariant adds the latency of messages in flight.
  virtual raft::TimeUs check_quorum_bound_us() const = 0;
  virtual raft::Index commit_index() const = 0;
  virtual const raft::Configuration& config() const = 0;
  virtual uint64_t applied_writes() const = 0;
  virtual uint64_t state_hash() const = 0;
  virtual bool holds_write(uint64_t write_id) const = 0;
};

class RaftNodeAdapter final : public NodeApi {
 public:
  RaftNodeAdapter(raft::NodeId id, const raft::Options& options, raft::Random& random,
                  const raft::DurableState& durable, raft::ConfigArena& configs)
      : node_(id, options, random, durable, configs) {}

  void start(raft::TimeUs now, raft::Outputs& out) override { node_.start(now, out); }
  void step(const raft::Message& msg, raft::TimeUs now, raft::Outputs& out) override {
    node_.step(msg, now, out);
  }
  void on_timer(raft::TimerKind kind, raft::TimeUs now, raft::Outputs& out) override {
    node_.on_timer(kind, now, out);
  }
  void on_persisted(uint64_t token, raft::TimeUs now, raft::Outputs& out) override {
    node_.on_persisted(token, now, out);
  }
  void client_writes(const std::vector<raft::ClientWrite>& writes, raft::TimeUs now,
                     raft::Outputs& out) override {
    node_.client_writes(writes, now, out);
  }
  void client_reads(const std::vector<raft::ClientRead>& reads, raft::TimeUs now,
                    raft::Outputs& out) override {
    node_.client_reads(reads, now, out);
  }
  void campaign(raft::TimeUs now, raft::Outputs& out) override { node_.campaign(now, out); }
  bool transfer_leadership(raft::NodeId to, raft::TimeUs now, raft::Outputs& out) override {
    return node_.transfer_leadership(to, now, out);
  }
  bool request_config_change(raft::ConfigChange change, raft::NodeId node,
                             std::optional<bool> promote, raft::TimeUs now,
                             raft::Outputs& out) override {
    return node_.request_config_change(change, node, promote, now, out);
  }
  void take_snapshot(raft::TimeUs now, raft::Outputs& out) override {
    node_.take_snapshot(now, out);
  }

  raft::Role role() const override { return node_.role(); }
  raft::Term current_term() const override { return node_.current_term(); }
  raft::NodeId leader_id() const override { return node_.leader_id(); }
  bool config_on_append() const override { return false; }
  bool pre_vote_wins_judged() const override { return true; }
  // Checked every heartbeat against the last election timeout (raft-roles.md).
  raft::TimeUs check_quorum_bound_us() const override {
    return node_.options().election_timeout_max_us + node_.options().heartbeat_interval_us;
  }
  raft::Index commit_index() const override { return node_.commit_index(); }
  const raft::Configuration& config() const override { return node_.config(); }
  uint64_t applied_writes() const override { return node_.state_machine().applied_writes(); }
  uint64_t state_hash() const override { return node_.state_machine().state_hash(); }
  bool holds_write(uint64_t write_id) const override {
    return node_.state_machine().contains(write_id);
  }

 private:
  raft::Node node_;
};

}  // namespace sim
