#include "sim/engine/simulation.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "sim/engine/simulation_internal.h"

namespace sim {

Simulation::Simulation(const Scenario& scenario, const RunOptions& options)
    : scenario_(scenario),
      stop_flag_(options.stop),
      max_work_(options.max_work),
      seed_(options.seed.value_or(scenario.seed)),
      raft_options_(scenario.raft),
      network_(scenario.all_nodes(), scenario.network),
      network_rng_(Prng::stream(seed_, "network")),
      workload_rng_(Prng::stream(seed_, "workload")),
      timeline_rng_(Prng::stream(seed_, "timeline")),
      checker_(scenario.all_nodes(), configs_),
      kv_(scenario.kv()),
      kv_rng_(Prng::stream(seed_, "kv")),
      quorum_(quorum_deadline_for(scenario)) {
  for (const std::string& bug : scenario.bugs) raft_options_.bugs.enable(bug);
  raft_options_.lease_reads = scenario.uses_read_mode(raft::ReadMode::lease);
  trace_.open(options.trace, options.trace_level);
  const std::vector<NodeId> all = scenario.all_nodes();
  NodeId max_id = 0;
  for (NodeId id : all) max_id = std::max(max_id, id);
  slot_of_.assign(max_id + 1, 0);
  nodes_.resize(all.size());
  raft::Configuration bootstrap;
  bootstrap.voters = scenario.voters;
  bootstrap.learners = scenario.learners;
  std::sort(bootstrap.voters.begin(), bootstrap.voters.end());
  std::sort(bootstrap.learners.begin(), bootstrap.learners.end());
  if (!raft_options_.auto_promote) bootstrap.permanent_learners = bootstrap.learners;
  for (size_t i = 0; i < all.size(); ++i) {
    SimNode& n = nodes_[i];
    n.id = all[i];
    slot_of_[n.id] = i;
    n.rng = Prng::stream(seed_, "node/" + std::to_string(n.id));
    // Spares know no configuration until one that includes them reaches them.
    const bool spare =
        std::find(scenario.spares.begin(), scenario.spares.end(), n.id) != scenario.spares.end();
    if (!spare) n.disk.bootstrap_config = bootstrap;
  }
}

Simulation::~Simulation() = default;

// ---------------------------------------------------------------------------
// Event loop

void Simulation::schedule(TimeUs t, Phase phase, EventKind kind, uint32_t node, uint64_t a,
                          uint64_t b) {
  // Whatever is scheduled now comes after the open batch of client writes.
  close_client_batch();
  Event e;
  e.time_us = t;
  e.kind = kind;
  e.node = node;
  e.a = a;
  e.b = b;
  queue_.push(e, phase);
}

void Simulation::schedule_next(const std::vector<std::pair<TimeUs, size_t>>& order, size_t& next,
                               Phase phase, EventKind kind) {
  if (next < order.size()) {
    schedule(order[next].first, phase, kind, 0, order[next].second);
    ++next;
  }
}

RunResult Simulation::run() {
  begin();
  while (step()) {
  }
  return finish();
}

void Simulation::begin() {
  // Header.
  {
    nlohmann::ordered_json h;
    h["type"] = "header";
    h["format"] = "raftsim-trace";
    h["version"] = 1;
    h["scenario"] = scenario_.name;
    h["seed"] = seed_;
    h["nodes"] = scenario_.all_nodes();
    h["voters"] = scenario_.voters;
    h["learners"] = scenario_.learners;
    h["spares"] = scenario_.spares;
    h["duration_us"] = scenario_.duration_us;
    const raft::Options& o = raft_options_;
    h["raft"] = {{"election_timeout_us", {o.election_timeout_min_us, o.election_timeout_max_us}},
                 {"heartbeat_interval_us", o.heartbeat_interval_us},
                 {"check_quorum", o.check_quorum},
                 {"pre_vote", o.pre_vote},
                 {"max_lag_threshold", o.max_lag_threshold},
                 {"promotion_threshold", o.promotion_threshold},
                 {"auto_promote", o.auto_promote},
                 {"min_voters", o.min_voters},
                 {"snapshot_threshold", o.snapshot_threshold},
                 {"snapshot_chunk_size", o.snapshot_chunk_size},
                 {"max_inflight", o.max_inflight},
                 {"max_entries_per_message", o.max_entries_per_message},
                 {"bugs", scenario_.bugs}};
    // (Only when set, so that the traces of scenarios without it stay as they were.)
    if (o.probe_back) h["raft"]["probe_back"] = o.probe_back;
    h["network"] = {{"latency", latency_json(scenario_.network.latency)},
                    {"drop", scenario_.network.drop},
                    {"duplicate", scenario_.network.duplicate}};
    h["disk"] = {{"write_latency_us", scenario_.disk_write_latency_us}};
    trace_.write_raw_line(h.dump());
  }

  // Timeline: random instants are drawn up front, in file order, from the
  // timeline stream.
  // They, and the checks, are queued one at a time in (time, file order), so
  // a long timeline does not deepen the event heap.
  for (size_t i = 0; i < scenario_.actions.size(); ++i) {
    const TimeSpec& at = scenario_.actions[i].at;
    const TimeUs t =
        at.min_us == at.max_us ? at.min_us : timeline_rng_.uniform_int(at.min_us, at.max_us);
    action_order_.emplace_back(t, i);
  }
  for (size_t i = 0; i < scenario_.expectations.size(); ++i) {
    const Expectation& e = scenario_.expectations[i];
    check_order_.emplace_back(e.window ? std::min(e.to_us, scenario_.duration_us) : e.at_us, i);
  }
  for (const Expectation& e : scenario_.expectations) {
    if (e.window) watched_events_.insert(e.event);
  }
  std::sort(action_order_.begin(), action_order_.end());
  std::sort(check_order_.begin(), check_order_.end());
  schedule_next(action_order_, next_action_, Phase::action, EventKind::action);
  schedule_next(check_order_, next_check_, Phase::check, EventKind::check);
  if (scenario_.workload.enabled && scenario_.workload.rate_per_s > 0) {
    schedule(scenario_.workload.start_us, Phase::node, EventKind::workload);
  }
  // Nodes start before anything else happens: the initial state of the run.
  for (SimNode& n : nodes_) boot(n);
}

bool Simulation::step() {
  Event event;
  if (stopped_ || !queue_.pop_until(scenario_.duration_us, event)) return false;
  now_us_ = event.time_us;
  const bool one_node = event.kind == EventKind::deliver || event.kind == EventKind::timer ||
                        event.kind == EventKind::disk_done ||
                        event.kind == EventKind::client_request ||
                        event.kind == EventKind::read_request;
  stepped_node_ = one_node ? event.node : raft::kNoNode;
  if (handle(event)) ++result_.events;
  close_client_batch();
  after_event();
  if (scenario_.max_events != 0 && result_.events >= scenario_.max_events && !stopped_) {
    result_.event_limit = true;
    fail("event limit: " + std::to_string(scenario_.max_events) + " events handled by " +
         format_time(now_us_) + " (max_events), a runaway");
    stopped_ = true;
  }
  // The run's budget (docs/limits.md): handled events plus messages sent,
  // so that a message storm (many nodes, tiny timers) or a backlog of
  // retried writes ends as a failure instead of running for hours.
  if (result_.events + next_message_id_ > max_work_ && !stopped_) {
    result_.work_limit = true;
    fail("work limit: " + std::to_string(result_.events) + " events handled and " +
         std::to_string(next_message_id_) + " messages sent by " + format_time(now_us_) +
         ", more than the limit of " + std::to_string(max_work_) + " (docs/limits.md)");
    stopped_ = true;
  }
  if (stop_flag_ && (result_.events & 4095) == 0 && stop_flag_->load()) {
    result_.interrupted = true;
    fail("interrupted at " + format_time(now_us_));
    stopped_ = true;
  }
  return true;
}

RunResult Simulation::finish() {
  if (!stopped_) now_us_ = scenario_.duration_us;
  if (kv_ && result_.pass) check_history();

  result_.virtual_us = now_us_;
  result_.event_counts.insert(event_counts_.begin(), event_counts_.end());
  result_.digest = trace_.digest_hex();
  nlohmann::ordered_json footer;
  footer["type"] = "end";
  footer["t"] = now_us_;
  footer["events"] = result_.events;
  footer["digest"] = result_.digest;
  footer["result"] = result_.pass ? "pass" : "fail";
  footer["reason"] = result_.pass ? "" : result_.failure;
  trace_.write_raw_line(footer.dump());
  return result_;
}

bool Simulation::handle(const Event& event) {
  switch (event.kind) {
    case EventKind::action:
      run_action(event.a);
      schedule_next(action_order_, next_action_, Phase::action, EventKind::action);
      return true;
    case EventKind::action_retry: run_action(event.a, /*retry=*/true); return true;
    case EventKind::check:
      evaluate(event.a);
      schedule_next(check_order_, next_check_, Phase::check, EventKind::check);
      return true;
    case EventKind::workload: {
      workload_arrival();
      const int64_t mean_us = static_cast<int64_t>(1e6 / scenario_.workload.rate_per_s + 0.5);
      const TimeUs next = now_us_ + std::max<int64_t>(1, workload_rng_.exponential_int(mean_us));
      if (next < scenario_.workload.stop_us) schedule(next, Phase::node, EventKind::workload);
      return true;
    }
    case EventKind::client_retry: {
      bool due = false;
      for (uint64_t id = event.a; id < event.a + event.b; ++id) {
        Write* w = writes_.find(id);
        // Not if acknowledged, nor if sent again since (a later retry is due).
        if (!w || w->retry_at_us != now_us_) continue;
        due = true;
        if (auto target = random_live_node(workload_rng_)) {
          send_client_request(id, *target, client_hop_us());
        } else {
          w->retry_at_us = now_us_ + raft_options_.election_timeout_max_us;
          schedule(w->retry_at_us, Phase::node, EventKind::client_retry, 0, id, 1);
        }
      }
      return due;
    }
    case EventKind::read_retry: {
      auto it = reads_.find(event.a);
      // Not if answered, nor if sent again since (a later retry is due).
      if (it == reads_.end() || it->second.retry_at_us != now_us_) return false;
      if (auto target = random_live_node(workload_rng_)) {
        send_read_request(event.a, *target, client_hop_us());
      } else {
        it->second.retry_at_us = now_us_ + raft_options_.election_timeout_max_us;
        schedule(it->second.retry_at_us, Phase::node, EventKind::read_retry, 0, event.a);
      }
      return true;
    }
    default: break;
  }
  SimNode& n = node(event.node);
  if (event.kind == EventKind::disk_done) {
    // The disk works while the node is paused; only the notice waits.
    if (event.a != n.incarnation || n.crashed) return false;
    raft::apply_persist(n.disk, std::move(n.disk_queue.front()));
    n.disk_queue.pop_front();
    checker_.on_durable(n.id, n.disk);
  }
  return dispatch_to_node(n, event);
}

bool Simulation::dispatch_to_node(SimNode& n, const Event& event) {
  if (event.kind == EventKind::timer) {
    Timer& timer = n.timers[event.a];
    if (n.crashed || event.b != timer.generation) return false;
    timer.scheduled_us = -1;
    if (!timer.armed) return false;
    const TimeUs due = real_time_of(n, timer.deadline_local_us);
    if (due > now_us_) {
      // Reset to a later time since this event was queued: queue it again.
      timer.scheduled_us = due;
      schedule(due, Phase::node, EventKind::timer, n.id, event.a, timer.generation);
      return false;
    }
  }
  if (n.crashed) {
    if (event.kind == EventKind::deliver) deliver(n, event.a);  // traced as a drop
    return event.kind == EventKind::deliver;
  }
  if (n.paused) {
    n.parked.push_back(event);
    return true;
  }
  if (event.kind == EventKind::deliver) {
    deliver(n, event.a);  // clears scratch_ itself, unless the message is dropped
    return true;
  }
  scratch_.clear();
  switch (event.kind) {
    case EventKind::timer: {
      n.timers[event.a].armed = false;
      n.api->on_timer(static_cast<raft::TimerKind>(event.a), local_now(n), scratch_);
      break;
    }
    case EventKind::disk_done: n.api->on_persisted(event.b, local_now(n), scratch_); break;
    case EventKind::client_request: {
      client_writes_.clear();
      client_writes_.reserve(event.b);
      for (uint64_t id = event.a; id < event.a + event.b; ++id) {
        if (const Write* w = writes_.find(id)) {
          client_writes_.push_back({id, w->size_bytes});
          if (kv_) {
            const Operation& op = history_[write_op_[id - 1]];
            client_writes_.back().key = op.key;
            client_writes_.back().op =
                op.kind == OpKind::cas ? raft::WriteOp::cas : raft::WriteOp::put;
            client_writes_.back().expected = op.expected;
          }
        }
      }
      if (client_writes_.empty()) return false;  // all acknowledged meanwhile
      n.api->client_writes(client_writes_, local_now(n), scratch_);
      break;
    }
    case EventKind::read_request: {
      auto it = reads_.find(event.a);
      if (it == reads_.end()) return false;  // answered meanwhile
      n.api->client_reads({{event.a, it->second.key, it->second.mode}}, local_now(n), scratch_);
      break;
    }
    default: return false;
  }
  process(n, scratch_);
  return true;
}

void Simulation::after_event() {
  if (stopped_) return;
  if (const auto& v = checker_.violation()) {
    result_.violation = *v;
    std::vector<NodeId> nodes = v->nodes;
    trace_.event(now_us_, "violation", 0)
        .str("invariant", v->invariant)
        .str("detail", v->detail)
        .ids("nodes", nodes);
    fail("invariant " + v->invariant + " violated at " + format_time(now_us_) + ": " + v->detail);
    result_.failure =
        "invariant " + v->invariant + " violated at " + format_time(now_us_) + ": " + v->detail;
    result_.failure_time_us = now_us_;
    stopped_ = true;
    return;
  }
  update_quorum_tracking();
}

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  Simulation sim(scenario, options);
  return sim.run();
}

}  // namespace sim
