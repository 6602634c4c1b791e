#include <algorithm>

#include "sim/engine/simulation.h"
#include "sim/engine/simulation_internal.h"

namespace sim {

// ---------------------------------------------------------------------------
// Clients

TimeUs Simulation::client_hop_us() {
  // Clients reach nodes over links with the default latency model; they are
  // not subject to partitions or loss (their retries model what a real
  // client does on a lost request).
  return std::max<TimeUs>(100, Network::draw_latency(scenario_.network.latency, workload_rng_));
}

std::optional<NodeId> Simulation::random_live_node(Prng& rng) {
  if (crashed_nodes_ == 0 && !nodes_.empty()) {
    // Every node is live: the same draw, without reading a flag from each
    // node's (cold) state for every client write.
    const int64_t last = static_cast<int64_t>(nodes_.size()) - 1;
    return nodes_[static_cast<size_t>(rng.uniform_int(0, last))].id;
  }
  std::vector<NodeId> live;
  for (const SimNode& n : nodes_) {
    if (!n.crashed) live.push_back(n.id);
  }
  if (live.empty()) return std::nullopt;
  return live[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(live.size()) - 1))];
}

void Simulation::workload_arrival() {
  const Workload& wl = scenario_.workload;
  if (wl.keys == 0) {
    submit_write(std::nullopt, wl.size_bytes);
    return;
  }
  // Key-value draws come from their own stream: arrivals and targets stay
  // those of the same workload without keys.
  const uint32_t key = static_cast<uint32_t>(kv_rng_.uniform_int(0, wl.keys - 1));
  if (kv_rng_.chance(probability_threshold(wl.read_ratio))) {
    submit_read(std::nullopt, key, wl.read_mode);
  } else if (kv_rng_.chance(probability_threshold(wl.cas_ratio))) {
    // A client swaps from the newest value any client has seen for the key.
    auto seen = last_seen_.find(key);
    submit_write(std::nullopt, wl.size_bytes, key, raft::WriteOp::cas,
                 seen == last_seen_.end() ? 0 : seen->second);
  } else {
    submit_write(std::nullopt, wl.size_bytes, key);
  }
}

size_t Simulation::begin_operation(uint32_t key, OpKind kind) {
  Operation op;
  if (free_clients_.empty()) {
    op.client = next_client_++;
  } else {
    op.client = *free_clients_.begin();
    free_clients_.erase(free_clients_.begin());
  }
  op.key = key;
  op.kind = kind;
  op.call_us = now_us_;
  history_.push_back(op);
  stale_read_.push_back(false);
  return history_.size() - 1;
}

void Simulation::end_operation(Operation& op) {
  op.return_us = now_us_;
  free_clients_.insert(op.client);
}

void Simulation::submit_write(std::optional<NodeId> target, uint32_t size_bytes, uint32_t key,
                              raft::WriteOp write_op, uint64_t expected) {
  const uint64_t id = next_write_id_++;
  Write& w = writes_.add(id);
  w.size_bytes = size_bytes;
  w.submitted_us = now_us_;
  w.floor_index = max_acked_index_;
  {
    auto line = trace_.event(now_us_, kWriteLine, target.value_or(0));
    line.unum("id", id);
    if (kv_) {
      const bool cas = write_op == raft::WriteOp::cas;
      const size_t op = begin_operation(key, cas ? OpKind::cas : OpKind::put);
      line.unum("key", key).str("op", cas ? "cas" : "put").unum("client", history_[op].client);
      if (cas) line.unum("expected", expected);
      history_[op].value = id;
      history_[op].expected = expected;
      write_op_.push_back(op);
    }
  }
  if (!target) target = random_live_node(workload_rng_);
  if (!target) target = nodes_.front().id;
  send_client_request(id, *target, client_hop_us());
}

void Simulation::send_client_request(uint64_t write_id, NodeId target, TimeUs delay_us) {
  const TimeUs arrival_us = now_us_ + delay_us;
  // Without an answer, the client tries again (at a random live node).
  writes_.find(write_id)->retry_at_us = arrival_us + 2 * raft_options_.election_timeout_max_us;
  if (client_batch_ && client_batch_->target == target && client_batch_->arrival_us == arrival_us &&
      client_batch_->first_id + client_batch_->count == write_id) {
    ++client_batch_->count;
    return;
  }
  close_client_batch();
  client_batch_ = ClientBatch{target, arrival_us, write_id, 1};
}

void Simulation::close_client_batch() {
  if (!client_batch_) return;
  const ClientBatch batch = *client_batch_;
  client_batch_.reset();
  schedule(batch.arrival_us, Phase::node, EventKind::client_request, batch.target, batch.first_id,
           batch.count);
  schedule(batch.arrival_us + 2 * raft_options_.election_timeout_max_us, Phase::node,
           EventKind::client_retry, 0, batch.first_id, batch.count);
}

void Simulation::on_reply(SimNode& n, const raft::ClientReply& reply) {
  const Write* outstanding = writes_.find(reply.write_id);
  if (!outstanding) return;  // already acknowledged
  if (reply.ok) {
    const Write w = *outstanding;
    writes_.erase(reply.write_id);
    ++result_.writes_acknowledged;
    checker_.on_ack(reply.write_id, reply.index, w.floor_index);
    max_acked_index_ = std::max(max_acked_index_, reply.index);
    const TimeUs latency = now_us_ - w.submitted_us;
    result_.commit_latency_us.add(static_cast<uint64_t>(latency));
    auto line = trace_.event(now_us_, kWriteCommittedLine, n.id);
    line.unum("id", reply.write_id).unum("index", reply.index).num("latency_us", latency);
    if (kv_) {
      Operation& op = history_[write_op_[reply.write_id - 1]];
      end_operation(op);
      op.ok = reply.swapped;
      op.order_hint = 2 * reply.index;
      if (reply.swapped) last_seen_[op.key] = op.value;
      line.unum("key", op.key).boolean("ok", reply.swapped);
    }
    return;
  }
  TimeUs delay = 0;
  const NodeId target = redirect_target(n, reply.leader_hint, delay);
  send_client_request(reply.write_id, target, delay);
}

NodeId Simulation::redirect_target(const SimNode& n, NodeId leader_hint, TimeUs& delay_us) {
  // Go to the leader named, or wait a heartbeat and try a random node.
  delay_us = client_hop_us();
  if (leader_hint != raft::kNoNode && leader_hint != n.id && is_node(leader_hint)) {
    return leader_hint;
  }
  delay_us += raft_options_.heartbeat_interval_us;
  return random_live_node(workload_rng_).value_or(n.id);
}

void Simulation::submit_read(std::optional<NodeId> target, uint32_t key, raft::ReadMode mode) {
  const uint64_t id = next_read_id_++;
  const size_t op = begin_operation(key, OpKind::get);
  stale_read_[op] = mode == raft::ReadMode::stale;
  reads_[id] = Read{op, key, mode, 0};
  trace_.event(now_us_, kReadLine, target.value_or(0))
      .unum("id", id)
      .unum("key", key)
      .str("mode", raft::read_mode_name(mode))
      .unum("client", history_[op].client);
  if (!target) target = random_live_node(workload_rng_);
  if (!target) target = nodes_.front().id;
  send_read_request(id, *target, client_hop_us());
}

void Simulation::send_read_request(uint64_t read_id, NodeId target, TimeUs delay_us) {
  const TimeUs arrival_us = now_us_ + delay_us;
  // Without an answer (a crashed or paused node, a leader that lost its
  // quorum), the client tries again at a random live node.
  const TimeUs retry_us = arrival_us + 2 * raft_options_.election_timeout_max_us;
  reads_.at(read_id).retry_at_us = retry_us;
  schedule(arrival_us, Phase::node, EventKind::read_request, target, read_id);
  schedule(retry_us, Phase::node, EventKind::read_retry, 0, read_id);
}

void Simulation::on_read_reply(SimNode& n, const raft::ReadReply& reply) {
  auto it = reads_.find(reply.read_id);
  if (it == reads_.end()) return;  // already answered
  if (reply.ok) {
    Operation& op = history_[it->second.op];
    end_operation(op);
    op.read_value = reply.value;
    op.order_hint = 2 * reply.applied + 1;
    if (reply.value != 0 && it->second.mode != raft::ReadMode::stale) {
      last_seen_[op.key] = reply.value;
    }
    trace_.event(now_us_, kReadDoneLine, n.id)
        .unum("id", reply.read_id)
        .unum("key", op.key)
        .unum("value", reply.value)
        .unum("index", reply.applied)
        .num("latency_us", now_us_ - op.call_us);
    reads_.erase(it);
    return;
  }
  TimeUs delay = 0;
  const NodeId target = redirect_target(n, reply.leader_hint, delay);
  send_read_request(reply.read_id, target, delay);
}

void Simulation::check_history() {
  // Stale reads are expected to be stale: they count only when the scenario
  // asks for it (check_stale_reads).
  std::vector<Operation> checked;
  std::vector<size_t> origin;
  checked.reserve(history_.size());
  for (size_t i = 0; i < history_.size(); ++i) {
    if (stale_read_[i] && !scenario_.check_stale_reads) continue;
    checked.push_back(history_[i]);
    origin.push_back(i);
  }
  const LinearizabilityResult r = check_linearizable(checked);
  // Counted with the protocol coverage, so that a campaign shows how often
  // the checker gave up.
  count(r.ok                ? "linearizable"
        : r.failing.empty() ? "linearizability_undecided"
                            : "not_linearizable");
  result_.linearizability_undecided = r.undecided && r.failing.empty();
  if (r.ok || r.failing.empty()) return;
  TimeUs last_us = 0;
  for (size_t i : r.failing) {
    const Operation& op = checked[i];
    last_us = std::max(last_us, op.return_us.value_or(op.call_us));
  }
  Violation v;
  v.invariant = "linearizability";
  // The smallest failing sub-history with its trace times, on one line (fuzz
  // and its scripts read one line per failure): operations apart by "; ".
  std::string ops = r.detail;
  while (!ops.empty() && ops.back() == '\n') ops.pop_back();
  for (size_t at = ops.find('\n'); at != std::string::npos; at = ops.find('\n', at)) {
    ops.replace(at, 1, "; ");
  }
  v.detail = "key " + std::to_string(r.key) + ": no linearization of " +
             std::to_string(r.failing.size()) + " operations: " + ops;
  trace_.event(now_us_, "violation", 0)
      .str("invariant", v.invariant)
      .str("detail", v.detail)
      .ids("nodes", {});
  result_.violation = v;
  fail("invariant linearizability violated at " + format_time(last_us) + ": " + v.detail);
  result_.failure =
      "invariant linearizability violated at " + format_time(last_us) + ": " + v.detail;
  result_.failure_time_us = last_us;
}

Simulation::Write& Simulation::WriteTable::add(uint64_t id) {
  if (window_.empty()) base_ = id;
  window_.push_back(Write());
  Write& w = window_.back();
  w.outstanding = true;
  ++outstanding_;
  return w;
}

Simulation::Write* Simulation::WriteTable::find(uint64_t id) {
  if (id < base_ || id - base_ >= window_.size()) return nullptr;
  Write& w = window_[id - base_];
  return w.outstanding ? &w : nullptr;
}

void Simulation::WriteTable::erase(uint64_t id) {
  Write* w = find(id);
  if (!w) return;
  w->outstanding = false;
  --outstanding_;
  while (!window_.empty() && !window_.front().outstanding) {
    window_.drop_front(1);
    ++base_;
  }
}

}  // namespace sim
