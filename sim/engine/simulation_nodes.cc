#include <algorithm>
#include <string_view>

#include "sim/canonical/canonical_node.h"
#include "sim/engine/simulation.h"
#include "sim/engine/simulation_internal.h"

namespace sim {

using raft::Role;

// ---------------------------------------------------------------------------
// Nodes: booting, timers, the outputs of a node, the trace of its events, sending and delivering

TimeUs Simulation::local_now(const SimNode& n) const {
  if (n.rate_ppm == kPpm) return n.anchor_local_us + (now_us_ - n.anchor_real_us);
  const __int128 elapsed = static_cast<__int128>(now_us_ - n.anchor_real_us) * n.rate_ppm / kPpm;
  return n.anchor_local_us + static_cast<TimeUs>(elapsed);
}

TimeUs Simulation::real_time_of(const SimNode& n, TimeUs local_us) const {
  const TimeUs delta = local_us - n.anchor_local_us;
  if (delta <= 0) return n.anchor_real_us;
  if (n.rate_ppm == kPpm) return n.anchor_real_us + delta;
  const __int128 real = (static_cast<__int128>(delta) * kPpm + n.rate_ppm - 1) / n.rate_ppm;
  return n.anchor_real_us + static_cast<TimeUs>(real);
}

void Simulation::boot(SimNode& n) {
  if (scenario_.implementation == Implementation::canonical) {
    n.api = make_canonical_node(n.id, raft_options_, n.rng, n.disk, configs_);
  } else {
    n.api = std::make_unique<RaftNodeAdapter>(n.id, raft_options_, n.rng, n.disk, configs_);
  }
  checker_.set_config_on_append(n.id, n.api->config_on_append());
  if (n.crashed) --crashed_nodes_;
  n.crashed = false;
  checker_.on_restart(n.id, n.disk);
  scratch_.clear();
  n.api->start(local_now(n), scratch_);
  process(n, scratch_);
  connectivity_dirty_ = true;
}

void Simulation::set_timer(SimNode& n, raft::TimerKind kind, TimeUs local_us) {
  Timer& timer = n.timers[static_cast<int>(kind)];
  timer.armed = true;
  timer.deadline_local_us = local_us;
  const TimeUs due = std::max(now_us_, real_time_of(n, local_us));
  // Timers are mostly pushed later before they fire (every heartbeat resets
  // a follower's election timer): keep the queued event and re-queue it when
  // it comes due, instead of queuing one event per reset.
  if (timer.scheduled_us >= 0 && timer.scheduled_us <= due) return;
  ++timer.generation;
  timer.scheduled_us = due;
  schedule(due, Phase::node, EventKind::timer, n.id, static_cast<uint64_t>(kind), timer.generation);
}

void Simulation::process(SimNode& n, raft::Outputs& out) {
  const bool leader = n.api->role() == Role::leader;
  // Durable writes first: they describe the log changes the other outputs
  // (commits, applied entries) refer to.
  std::vector<std::shared_ptr<const raft::Snapshot>> snapshots;
  for (raft::PersistOp& op : out.persists) {
    checker_.on_log_write(n.id, op, leader, n.api->commit_index());
    if (op.snapshot) snapshots.push_back(op.snapshot);
    const TimeUs done = std::max(now_us_ + scenario_.disk_write_latency_us, n.disk_busy_until_us);
    n.disk_busy_until_us = done;
    schedule(done, Phase::node, EventKind::disk_done, n.id, n.incarnation, op.token);
    n.disk_queue.push_back(std::move(op));
  }
  leader_until_role_event_ =
      std::any_of(out.events.begin(), out.events.end(), [](const raft::NodeEvent& ev) {
        return ev.type == raft::EventType::role && ev.from == Role::leader;
      });
  for (const raft::NodeEvent& ev : out.events) trace_node_event(n, ev);
  leader_until_role_event_ = false;
  if (checker_.on_applied(n.id, out.applied)) result_.last_write_applied_us = now_us_;
  // Snapshots are compared with the applied state only now, after this
  // input's applied entries are recorded.
  for (const auto& snapshot : snapshots) checker_.on_snapshot(n.id, *snapshot, "holds");
  for (const raft::ClientReply& reply : out.replies) on_reply(n, reply);
  for (const raft::ReadReply& reply : out.read_replies) on_read_reply(n, reply);
  for (raft::Message& msg : out.messages) {
    checker_.on_message(n.id, msg);
    send_message(n, msg);
  }
  for (const raft::TimerRequest& t : out.timers) {
    if (t.cancel) {
      n.timers[static_cast<int>(t.kind)].armed = false;
    } else {
      set_timer(n, t.kind, t.at_us);
    }
  }
  // Configuration consistency: the one the node uses now is the one its log says.
  checker_.on_config(n.id, n.api->config());
}

void Simulation::remember(const char* type, NodeId node, const char* reason) {
  // Only the event types some window check asks about are kept: a long run
  // takes thousands of snapshots that no check looks at.
  if (watched_events_.count(type)) seen_events_.push_back({now_us_, type, node, reason});
}

// Counts an event of `type` (fuzz coverage) and remembers it as the latest
// (what a failure's signature names).
void Simulation::count_event(const char* type, NodeId who, const char* reason) {
  count(type);
  remember(type, who, reason ? reason : "");
}

void Simulation::count(std::string_view type) {
  auto it = event_counts_.find(type);
  if (it == event_counts_.end()) it = event_counts_.emplace(type, 0).first;
  ++it->second;
}

void Simulation::count(std::string_view prefix, std::string_view name) {
  count_key_.assign(prefix).append(name);
  count(count_key_);
}

// A leader elected: the checker judges the election, and the time without a
// leader ends.
void Simulation::on_elected(SimNode& n, raft::Term term) {
  checker_.on_became_leader(n.id, term);
  checker_.on_election_won(n.id, term);
  ++result_.elections;
  if (leaderless_since_us_) {
    result_.election_time_ms.push_back(static_cast<double>(now_us_ - *leaderless_since_us_) /
                                       1000.0);
    leaderless_since_us_.reset();
  }
  last_leader_ = n.id;
}

// A leader's configuration entry committed: the configuration, and each
// member whose role it changed.
void Simulation::trace_config_committed(SimNode& n, const raft::NodeEvent& ev) {
  const raft::Configuration& c = *ev.config;
  trace_.event(now_us_, "config_committed", n.id)
      .ids("voters", c.voters)
      .ids("learners", c.learners)
      .unum("index", ev.index);
  count_event("config_committed", n.id, nullptr);
  for (const auto& [who, lag] : ev.lags) {
    const bool promoted = c.is_voter(who);
    if (!c.contains(who) && !promoted) {
      count_event("removed", who, nullptr);
      continue;
    }
    const char* type = promoted ? "promoted" : "demoted";
    trace_.event(now_us_, type, who).unum("lag", lag).unum("index", ev.index);
    count_event(type, who, nullptr);
  }
  connectivity_dirty_ = true;
}

void Simulation::trace_role(SimNode& n, const raft::NodeEvent& ev) {
  trace_.event(now_us_, "role", n.id)
      .str("from", raft::role_name(ev.from))
      .str("to", raft::role_name(ev.to))
      .unum("term", ev.term)
      .str("reason", ev.reason);
  count("role:", raft::role_name(ev.to));
  connectivity_dirty_ = true;
  if (ev.from == Role::leader) leader_until_role_event_ = false;
  if (ev.to == Role::candidate && std::string_view(ev.reason) == "pre_vote_won" &&
      n.api->pre_vote_wins_judged()) {
    checker_.on_pre_vote_won(n.id, ev.term);
  }
}

void Simulation::trace_node_event(SimNode& n, const raft::NodeEvent& ev) {
  switch (ev.type) {
    case raft::EventType::role: trace_role(n, ev); break;
    case raft::EventType::election_started:
      trace_.event(now_us_, "election_started", n.id)
          .unum("term", ev.term)
          .boolean("pre_vote", ev.pre_vote);
      count(ev.pre_vote ? "pre_vote_started" : "election_started");
      remember("election_started", n.id, ev.pre_vote ? "pre_vote" : "");
      break;
    case raft::EventType::vote_granted:
      trace_.event(now_us_, "vote_granted", n.id)
          .unum("candidate", ev.peer)
          .unum("term", ev.term)
          .boolean("pre_vote", ev.pre_vote);
      count_event("vote_granted", n.id, ev.pre_vote ? "pre_vote" : "");
      break;
    case raft::EventType::elected:
      trace_.event(now_us_, "elected", n.id).unum("term", ev.term).unum("votes", ev.votes);
      count_event("elected", n.id, nullptr);
      on_elected(n, ev.term);
      break;
    case raft::EventType::step_down:
      trace_.event(now_us_, "step_down", n.id).unum("term", ev.term).str("reason", ev.reason);
      count_event("step_down", n.id, ev.reason);
      count("step_down:", ev.reason);
      quorum_.stop(n.id);
      note_leader_lost();
      break;
    case raft::EventType::commit:
      trace_.event(now_us_, "commit", n.id).unum("index", ev.index).unum("term", ev.term);
      checker_.on_commit(n.id, ev.index, n.api->role() == Role::leader || leader_until_role_event_,
                         ev.config->voters);
      break;
    case raft::EventType::config_committed: trace_config_committed(n, ev); break;
    case raft::EventType::snapshot_taken:
      trace_.event(now_us_, "snapshot_taken", n.id)
          .unum("index", ev.index)
          .unum("term", ev.term)
          .unum("bytes", ev.bytes);
      count_event("snapshot_taken", n.id, nullptr);
      checker_.on_snapshot_taken(ev.index, n.id);
      break;
    case raft::EventType::snapshot_sent:
      trace_.event(now_us_, "snapshot_sent", n.id)
          .unum("to", ev.peer)
          .unum("index", ev.index)
          .unum("bytes", ev.bytes);
      count_event("snapshot_sent", n.id, nullptr);
      break;
    case raft::EventType::snapshot_installed:
      trace_.event(now_us_, "snapshot_installed", n.id)
          .unum("from", ev.peer)
          .unum("index", ev.index)
          .unum("bytes", ev.bytes);
      count_event("snapshot_installed", n.id, nullptr);
      checker_.on_snapshot_installed(n.id, ev.index);
      break;
  }
}

void Simulation::send_message(SimNode& n, raft::Message& msg) {
  const uint64_t id = next_message_id_++;
  const NodeId to = msg.to;
  auto trace_msg = [&](const TraceName& type, const raft::Message& m, const TraceName* reason) {
    auto line = trace_.event(now_us_, type, 0, true);
    line.unum("id", id)
        .unum("from", m.from)
        .unum("to", m.to)
        .str("msg", message_name(m.type))
        .unum("term", m.term);
    switch (m.type) {
      case raft::MsgType::append:
        line.unum("prev_index", m.index)
            .unum("prev_term", m.log_term)
            .unum("entries", m.entries.size())
            .unum("commit", m.commit);
        break;
      case raft::MsgType::append_resp:
        line.boolean("success", m.success).unum("index", m.index);
        break;
      case raft::MsgType::vote:
      case raft::MsgType::pre_vote:
        line.unum("last_index", m.index).unum("last_term", m.log_term);
        break;
      case raft::MsgType::vote_resp:
      case raft::MsgType::pre_vote_resp: line.boolean("granted", m.success); break;
      case raft::MsgType::snapshot:
        line.unum("index", m.index).unum("offset", m.offset).unum("bytes", m.chunk_bytes);
        break;
      case raft::MsgType::snapshot_resp:
        line.boolean("success", m.success).unum("offset", m.offset);
        break;
      case raft::MsgType::timeout_now: break;
    }
    if (reason) line.str("reason", *reason);
  };
  trace_msg(kSendLine, msg, nullptr);
  if (!is_node(to)) return;
  if (network_.is_cut(n.id, to)) {
    trace_msg(kDropLine, msg, &kDropCut);
    return;
  }
  const Network::Chances chances = network_.chances(n.id, to);
  if (network_rng_.chance(chances.drop)) {
    trace_msg(kDropLine, msg, &kDropLoss);
    return;
  }
  const LatencyModel& latency = network_.settings(n.id, to).latency;
  const bool duplicate = network_rng_.chance(chances.duplicate);
  // The message moves once, into its in-flight slot (a copy for a duplicate).
  auto enqueue = [&](bool last) {
    uint64_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = in_flight_.size();
      in_flight_.emplace_back();
    }
    InFlight& f = in_flight_[slot];
    if (last) {
      f.msg = std::move(msg);
    } else {
      f.msg = msg;
    }
    f.id = id;
    schedule(now_us_ + Network::draw_latency(latency, network_rng_), Phase::node,
             EventKind::deliver, to, slot);
  };
  if (duplicate) enqueue(false);
  enqueue(true);
}

void Simulation::deliver(SimNode& n, uint64_t slot) {
  // The message is read in its slot, not moved out: the node takes it by
  // reference, and the slot is only reused (by a send) after the node has
  // taken it in. Its entries' buffer stays with the slot until then.
  const InFlight& f = in_flight_[slot];
  const raft::Message& msg = f.msg;
  const uint64_t id = f.id;
  const TraceName* drop_reason = nullptr;
  if (n.crashed) {
    drop_reason = &kDropCrashed;
  } else if (network_.is_cut(msg.from, msg.to)) {
    drop_reason = &kDropCut;
  }
  {
    // The line is finished before the node runs: a trace line must not be
    // open while another is written.
    auto line = trace_.event(now_us_, drop_reason ? kDropLine : kDeliverLine, 0, true);
    line.unum("id", id)
        .unum("from", msg.from)
        .unum("to", msg.to)
        .str("msg", message_name(msg.type))
        .unum("term", msg.term);
    if (drop_reason) line.str("reason", *drop_reason);
  }
  if (drop_reason) {
    free_slots_.push_back(slot);
    return;
  }
  scratch_.clear();
  n.api->step(msg, local_now(n), scratch_);
  // process() sends, which may grow in_flight_ and move msg: done with it.
  free_slots_.push_back(slot);
  process(n, scratch_);
}

}  // namespace sim
