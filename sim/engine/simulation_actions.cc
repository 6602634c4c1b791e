#include <nlohmann/json.hpp>

#include "sim/engine/simulation.h"
#include "sim/engine/simulation_internal.h"

namespace sim {

using raft::Role;

// ---------------------------------------------------------------------------
// Scenario actions and faults

std::optional<NodeId> Simulation::current_leader() const {
  std::optional<NodeId> best;
  raft::Term best_term = 0;
  for (const SimNode& n : nodes_) {
    if (n.crashed || n.api->role() != Role::leader) continue;
    if (!best || n.api->current_term() > best_term) {
      best = n.id;
      best_term = n.api->current_term();
    }
  }
  return best;
}

std::optional<NodeId> Simulation::resolve(const NodeRef& ref, const std::string& path) {
  switch (ref.kind) {
    case NodeRef::Kind::id: return ref.id;
    case NodeRef::Kind::leader: {
      auto leader = current_leader();
      if (!leader) {
        action_failed(path + ": \"leader\" at " + format_time(now_us_) +
                      ": there is no live leader");
      }
      return leader;
    }
    case NodeRef::Kind::alias: {
      auto it = aliases_.find(ref.alias);
      if (it == aliases_.end()) {
        action_failed(path + ": alias \"" + ref.alias + "\" is not bound at " +
                      format_time(now_us_));
        return std::nullopt;
      }
      return it->second;
    }
    default: return std::nullopt;
  }
}

void Simulation::action_failed(const std::string& why) {
  // The action cannot run, and later ones may depend on it: the run ends
  // here, failed, with the reason printed among the checks and in the trace.
  trace_.event(now_us_, "check", 0).boolean("ok", false).str("what", why);
  result_.checks.push_back({false, "FAIL " + why});
  result_.pass = true;  // this reason, not an earlier check, names why the run stopped
  fail("the run stopped: " + why);
  stopped_ = true;
}

void Simulation::fail(const std::string& why) {
  if (result_.pass) {
    result_.pass = false;
    result_.failure = why;
    result_.failure_time_us = now_us_;
  }
}

void Simulation::note_leader_lost() {
  if (!leaderless_since_us_) leaderless_since_us_ = now_us_;
}

void Simulation::crash_node(SimNode& n) {
  if (n.crashed) return;
  if (n.api->role() == Role::leader) note_leader_lost();
  n.crashed = true;
  ++crashed_nodes_;
  n.paused = false;
  n.parked.clear();
  n.api.reset();
  ++n.incarnation;
  n.disk_queue.clear();  // what was not durable is lost
  n.disk_busy_until_us = 0;
  for (Timer& t : n.timers) {
    t.armed = false;
    t.scheduled_us = -1;
    ++t.generation;
  }
  quorum_.stop(n.id);
  trace_.event(now_us_, "crash", n.id);
  count("crash");
  remember("crash", n.id, "");
  connectivity_dirty_ = true;
}

void Simulation::restart_node(SimNode& n) {
  if (!n.crashed) return;
  trace_.event(now_us_, "restart", n.id);
  count("restart");
  remember("restart", n.id, "");
  boot(n);
}

void Simulation::crash(NodeId id) {
  crash_node(node(id));
  after_event();
}

void Simulation::restart(NodeId id) {
  restart_node(node(id));
  after_event();
}

void Simulation::pause(NodeId id) {
  pause_node(node(id));
  after_event();
}

void Simulation::resume(NodeId id) {
  resume_node(node(id));
  after_event();
}

void Simulation::isolate(NodeId id) {
  isolate_node(id);
  after_event();
}

void Simulation::heal() {
  heal_network();
  after_event();
}

// The timeline: each action kind's runner, chosen by one switch (its name,
// keys and parser are one row of the loader's table, loader_actions.cc).
void Simulation::run_action(size_t index, bool retry) {
  const Action& a = scenario_.actions[index];
  std::optional<NodeId> target;
  if (a.node.present()) {
    target = resolve(a.node, a.path + "/node");
    if (!target) return;
  }
  if (!a.as.empty() && target) aliases_[a.as] = *target;
  switch (a.kind) {
    case ActionKind::crash: return crash_node(node(*target));
    case ActionKind::restart: return restart_node(node(*target));
    case ActionKind::pause: return pause_node(node(*target));
    case ActionKind::resume: return resume_node(node(*target));
    case ActionKind::partition: return partition_network(a.groups);
    case ActionKind::isolate: return isolate_node(*target);
    case ActionKind::cut: return cut_link(a);
    case ActionKind::heal: return heal_network();
    case ActionKind::set_network: return set_network(a);
    case ActionKind::write: return submit_writes(a, target);
    case ActionKind::read: return submit_reads(a, target);
    case ActionKind::add_learner: return admin_action(index, *target, retry);
    case ActionKind::promote: return admin_action(index, *target, retry);
    case ActionKind::demote: return admin_action(index, *target, retry);
    case ActionKind::remove: return admin_action(index, *target, retry);
    case ActionKind::transfer_leadership: return admin_action(index, *target, retry);
    case ActionKind::snapshot: return snapshot_node(node(*target));
    case ActionKind::campaign: return campaign_node(node(*target));
    case ActionKind::clock_drift: return drift_clock(node(*target), a.rate_ppm);
  }
}

void Simulation::pause_node(SimNode& n) {
  if (n.crashed || n.paused) return;
  if (n.api->role() == Role::leader) note_leader_lost();
  n.paused = true;
  n.paused_at_local_us = local_now(n);
  trace_.event(now_us_, "pause", n.id);
  count("pause");
  connectivity_dirty_ = true;
}

void Simulation::resume_node(SimNode& n) {
  if (n.crashed || !n.paused) return;
  n.paused = false;
  quorum_.resumed(n.id, local_now(n) - n.paused_at_local_us);
  trace_.event(now_us_, "resume", n.id);
  connectivity_dirty_ = true;
  // Waiting messages arrive and overdue timers fire, in arrival order.
  raft::OffsetVector<Event> parked;
  parked.swap(n.parked);
  for (const Event& e : parked) {
    if (n.crashed || n.paused) break;
    dispatch_to_node(n, e);
    if (checker_.violation()) return;
  }
}

void Simulation::partition_network(const std::vector<std::vector<NodeId>>& groups) {
  network_.partition(groups);
  trace_.event(now_us_, "network", 0).str("action", "partition").groups("groups", groups);
  connectivity_dirty_ = true;
}

void Simulation::isolate_node(NodeId id) {
  network_.isolate(id);
  trace_.event(now_us_, "network", 0).str("action", "isolate").unum("node", id);
  connectivity_dirty_ = true;
}

void Simulation::cut_link(const Action& a) {
  auto from = resolve(a.from, a.path + "/from");
  auto to = resolve(a.to, a.path + "/to");
  if (!from || !to) return;
  network_.cut(*from, *to, a.both);
  trace_.event(now_us_, "network", 0)
      .str("action", "cut")
      .unum("from", *from)
      .unum("to", *to)
      .boolean("both", a.both);
  connectivity_dirty_ = true;
}

void Simulation::heal_network() {
  network_.heal();
  trace_.event(now_us_, "network", 0).str("action", "heal");
  connectivity_dirty_ = true;
}

void Simulation::set_network(const Action& a) {
  network_.set(a.patch, a.between ? &*a.between : nullptr);
  auto line = trace_.event(now_us_, "network", 0);
  line.str("action", "set_network");
  if (a.patch.drop) line.raw("drop", nlohmann::json(*a.patch.drop).dump());
  if (a.patch.duplicate) line.raw("duplicate", nlohmann::json(*a.patch.duplicate).dump());
  if (a.patch.latency) line.raw("latency", latency_json(*a.patch.latency).dump());
  if (a.between) line.ids("between", {a.between->first, a.between->second});
}

void Simulation::submit_writes(const Action& a, std::optional<NodeId> target) {
  writes_.reserve_for(a.count);
  for (uint64_t i = 0; i < a.count; ++i) {
    submit_write(target, a.size_bytes, a.key.value_or(0), a.op, a.expected);
  }
}

void Simulation::submit_reads(const Action& a, std::optional<NodeId> target) {
  for (uint64_t i = 0; i < a.count; ++i) submit_read(target, a.key.value_or(0), a.read_mode);
}

// A membership change (thesis §4.1) or a leadership transfer (thesis §3.10):
// the leader proposes it; without one, it is asked again a heartbeat later.
void Simulation::admin_action(size_t index, NodeId target, bool retry) {
  const Action& a = scenario_.actions[index];
  auto leader = current_leader();
  const char* outcome = "no_leader";
  if (leader) {
    SimNode& l = node(*leader);
    scratch_.clear();
    bool accepted = false;
    if (a.kind == ActionKind::transfer_leadership) {
      accepted = l.api->transfer_leadership(target, local_now(l), scratch_);
    } else {
      const raft::ConfigChange change =
          a.kind == ActionKind::add_learner ? raft::ConfigChange::add_learner
          : a.kind == ActionKind::promote   ? raft::ConfigChange::promote
          : a.kind == ActionKind::demote    ? raft::ConfigChange::demote
                                            : raft::ConfigChange::remove;
      accepted = l.api->request_config_change(change, target, a.promote, local_now(l), scratch_);
    }
    outcome = accepted ? "accepted" : "refused";
    process(l, scratch_);
  } else if (now_us_ + raft_options_.heartbeat_interval_us <= scenario_.duration_us) {
    outcome = "no_leader_retrying";
    schedule(now_us_ + raft_options_.heartbeat_interval_us, Phase::action, EventKind::action_retry,
             0, index);
  }
  if (!retry || leader) {  // a retry that still finds no leader is not news
    trace_.event(now_us_, "admin", leader.value_or(0))
        .str("action", a.name)
        .unum("target", target)
        .str("outcome", outcome);
  }
}

void Simulation::snapshot_node(SimNode& n) {
  if (n.crashed || n.paused) return;
  scratch_.clear();
  n.api->take_snapshot(local_now(n), scratch_);
  process(n, scratch_);
}

void Simulation::campaign_node(SimNode& n) {
  if (n.crashed || n.paused) return;
  scratch_.clear();
  n.api->campaign(local_now(n), scratch_);
  process(n, scratch_);
}

// The node's clock runs at rate_ppm from now on; its armed timers are due at
// other real times.
void Simulation::drift_clock(SimNode& n, int64_t rate_ppm) {
  n.anchor_local_us = local_now(n);
  n.anchor_real_us = now_us_;
  n.rate_ppm = rate_ppm;
  trace_.event(now_us_, "clock_drift", n.id).num("rate_ppm", rate_ppm);
  for (int k = 0; k < raft::kTimerKinds; ++k) {
    Timer& t = n.timers[k];
    if (t.armed && !n.crashed) set_timer(n, static_cast<raft::TimerKind>(k), t.deadline_local_us);
  }
}

}  // namespace sim
