#include "sim/engine/simulation.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "raft/quorum.h"
#include "sim/canonical/canonical_node.h"
#include "sim/scenario/scenario_loader.h"

namespace sim {

using raft::Role;

namespace {

constexpr int64_t kPpm = 1'000'000;

// The names every message's trace lines carry, hashed at compile time.
constexpr TraceName kSendLine("send");
constexpr TraceName kDeliverLine("deliver");
constexpr TraceName kDropLine("drop");
constexpr TraceName kDropCut("cut");
constexpr TraceName kDropLoss("loss");
constexpr TraceName kDropCrashed("crashed");
// Lines written for every client write.
constexpr TraceName kWriteLine("write");
constexpr TraceName kWriteCommittedLine("write_committed");
constexpr TraceName kReadLine("read");
constexpr TraceName kReadDoneLine("read_done");
constexpr TraceName kMessageNames[] = {
    TraceName("append"),    TraceName("append_resp"),   TraceName("vote"),
    TraceName("vote_resp"), TraceName("pre_vote"),      TraceName("pre_vote_resp"),
    TraceName("snapshot"),  TraceName("snapshot_resp"), TraceName("timeout_now")};
static_assert(sizeof kMessageNames / sizeof kMessageNames[0] ==
                  static_cast<size_t>(raft::MsgType::timeout_now) + 1,
              "one name per message type");

const TraceName& message_name(raft::MsgType type) {
  return kMessageNames[static_cast<size_t>(type)];
}

std::string ids_text(const std::vector<NodeId>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

nlohmann::ordered_json latency_json(const LatencyModel& m) {
  switch (m.kind) {
    case LatencyModel::Kind::constant: return {{"constant_us", m.a_us}};
    case LatencyModel::Kind::uniform: return {{"min_us", m.a_us}, {"max_us", m.b_us}};
    case LatencyModel::Kind::normal: return {{"mean_us", m.a_us}, {"stddev_us", m.b_us}};
  }
  return {};
}

}  // namespace

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
      checker_(scenario.all_nodes()),
      kv_(scenario.kv()),
      kv_rng_(Prng::stream(seed_, "kv")) {
  for (const std::string& bug : scenario.bugs) raft_options_.bugs.enable(bug);
  raft_options_.lease_reads = scenario.uses_read_mode(raft::ReadMode::lease);
  // The longest one-way latency any link may have during the run: the
  // quorum invariant allows a response already in flight that long.
  auto longest = [](const LatencyModel& m) {
    return m.kind == LatencyModel::Kind::normal ? m.a_us + 6 * m.b_us : m.b_us;
  };
  max_latency_us_ = longest(scenario.network.latency);
  for (const Action& a : scenario.actions) {
    if (a.patch.latency) max_latency_us_ = std::max(max_latency_us_, longest(*a.patch.latency));
    if (a.kind == ActionKind::clock_drift) max_rate_ppm_ = std::max(max_rate_ppm_, a.rate_ppm);
  }
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
      n.api->timer_fired(static_cast<raft::TimerKind>(event.a), local_now(n), scratch_);
      break;
    }
    case EventKind::disk_done: n.api->persisted(event.b, local_now(n), scratch_); break;
    case EventKind::client_request: {
      client_writes_.clear();
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

// ---------------------------------------------------------------------------
// Nodes

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
    n.api = make_canonical_node(n.id, raft_options_, n.rng, n.disk);
  } else {
    n.api = std::make_unique<RaftNodeAdapter>(n.id, raft_options_, n.rng, n.disk);
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
  for (const raft::NodeEvent& ev : out.events) trace_node_event(n, ev);
  checker_.on_applied(n.id, out.applied);
  for (const raft::Applied& applied : out.applied) {
    if (applied.entry.kind == raft::EntryKind::write && !applied.duplicate) {
      result_.last_write_applied_us = now_us_;
      break;
    }
  }
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

void Simulation::trace_node_event(SimNode& n, const raft::NodeEvent& ev) {
  auto count = [&](const char* type, NodeId who, const char* reason) {
    ++result_.event_counts[type];
    remember(type, who, reason ? reason : "");
  };
  switch (ev.type) {
    case raft::EventType::role:
      trace_.event(now_us_, "role", n.id)
          .str("from", raft::role_name(ev.from))
          .str("to", raft::role_name(ev.to))
          .unum("term", ev.term)
          .str("reason", ev.reason);
      ++result_.event_counts[std::string("role:") + raft::role_name(ev.to)];
      connectivity_dirty_ = true;
      break;
    case raft::EventType::election_started:
      trace_.event(now_us_, "election_started", n.id)
          .unum("term", ev.term)
          .boolean("pre_vote", ev.pre_vote);
      ++result_.event_counts[ev.pre_vote ? "pre_vote_started" : "election_started"];
      remember("election_started", n.id, ev.pre_vote ? "pre_vote" : "");
      break;
    case raft::EventType::vote_granted:
      trace_.event(now_us_, "vote_granted", n.id)
          .unum("candidate", ev.peer)
          .unum("term", ev.term)
          .boolean("pre_vote", ev.pre_vote);
      count("vote_granted", n.id, ev.pre_vote ? "pre_vote" : "");
      break;
    case raft::EventType::elected:
      trace_.event(now_us_, "elected", n.id).unum("term", ev.term).unum("votes", ev.votes);
      count("elected", n.id, nullptr);
      checker_.on_became_leader(n.id, ev.term);
      checker_.on_election_won(n.id, ev.term);
      ++result_.elections;
      if (leaderless_since_us_) {
        result_.election_time_ms.push_back(static_cast<double>(now_us_ - *leaderless_since_us_) /
                                           1000.0);
        leaderless_since_us_.reset();
      }
      last_leader_ = n.id;
      break;
    case raft::EventType::step_down:
      trace_.event(now_us_, "step_down", n.id).unum("term", ev.term).str("reason", ev.reason);
      count("step_down", n.id, ev.reason);
      ++result_.event_counts[std::string("step_down:") + ev.reason];
      n.quorum_lost_local_us.reset();
      note_leader_lost();
      break;
    case raft::EventType::commit:
      trace_.event(now_us_, "commit", n.id).unum("index", ev.index).unum("term", ev.term);
      checker_.on_commit(n.id, ev.index, n.api->role() == Role::leader, ev.config->voters);
      break;
    case raft::EventType::config_committed: {
      const raft::Configuration& c = *ev.config;
      trace_.event(now_us_, "config_committed", n.id)
          .ids("voters", c.voters)
          .ids("learners", c.learners)
          .unum("index", ev.index);
      count("config_committed", n.id, nullptr);
      for (const auto& [who, lag] : ev.lags) {
        const bool promoted = c.is_voter(who);
        if (!c.contains(who) && !promoted) {
          count("removed", who, nullptr);
          continue;
        }
        const char* type = promoted ? "promoted" : "demoted";
        trace_.event(now_us_, type, who).unum("lag", lag).unum("index", ev.index);
        count(type, who, nullptr);
      }
      connectivity_dirty_ = true;
      break;
    }
    case raft::EventType::snapshot_taken:
      trace_.event(now_us_, "snapshot_taken", n.id)
          .unum("index", ev.index)
          .unum("term", ev.term)
          .unum("bytes", ev.bytes);
      count("snapshot_taken", n.id, nullptr);
      checker_.on_snapshot_taken(ev.index, n.id);
      break;
    case raft::EventType::snapshot_sent:
      trace_.event(now_us_, "snapshot_sent", n.id)
          .unum("to", ev.peer)
          .unum("index", ev.index)
          .unum("bytes", ev.bytes);
      count("snapshot_sent", n.id, nullptr);
      break;
    case raft::EventType::snapshot_installed:
      trace_.event(now_us_, "snapshot_installed", n.id)
          .unum("from", ev.peer)
          .unum("index", ev.index)
          .unum("bytes", ev.bytes);
      count("snapshot_installed", n.id, nullptr);
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
  n.api->receive(msg, local_now(n), scratch_);
  // process() sends, which may grow in_flight_ and move msg: done with it.
  free_slots_.push_back(slot);
  process(n, scratch_);
}

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
  ++result_.event_counts[r.ok                ? "linearizable"
                         : r.failing.empty() ? "linearizability_undecided"
                                             : "not_linearizable"];
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

// ---------------------------------------------------------------------------
// Scenario actions and checks

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
  n.quorum_lost_local_us.reset();
  trace_.event(now_us_, "crash", n.id);
  ++result_.event_counts["crash"];
  remember("crash", n.id, "");
  connectivity_dirty_ = true;
}

void Simulation::restart_node(SimNode& n) {
  if (!n.crashed) return;
  trace_.event(now_us_, "restart", n.id);
  ++result_.event_counts["restart"];
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

void Simulation::run_action(size_t index, bool retry) {
  const Action& a = scenario_.actions[index];
  std::optional<NodeId> target;
  if (a.node.present()) {
    target = resolve(a.node, a.path + "/node");
    if (!target) return;
  }
  if (!a.as.empty() && target) aliases_[a.as] = *target;
  switch (a.kind) {
    case ActionKind::crash: crash_node(node(*target)); return;
    case ActionKind::restart: restart_node(node(*target)); return;
    case ActionKind::pause: {
      SimNode& n = node(*target);
      if (n.crashed || n.paused) return;
      if (n.api->role() == Role::leader) note_leader_lost();
      n.paused = true;
      n.paused_at_local_us = local_now(n);
      trace_.event(now_us_, "pause", n.id);
      ++result_.event_counts["pause"];
      connectivity_dirty_ = true;
      return;
    }
    case ActionKind::resume: {
      SimNode& n = node(*target);
      if (n.crashed || !n.paused) return;
      n.paused = false;
      // A paused leader cannot act: its quorum deadline does not run meanwhile.
      const TimeUs paused_for = local_now(n) - n.paused_at_local_us;
      for (TimeUs& until : n.reachable_until) {
        if (until != kReachableNow) until += paused_for;
      }
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
      return;
    }
    case ActionKind::partition:
      network_.partition(a.groups);
      trace_.event(now_us_, "network", 0).str("action", "partition").groups("groups", a.groups);
      connectivity_dirty_ = true;
      return;
    case ActionKind::isolate:
      network_.isolate(*target);
      trace_.event(now_us_, "network", 0).str("action", "isolate").unum("node", *target);
      connectivity_dirty_ = true;
      return;
    case ActionKind::cut: {
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
      return;
    }
    case ActionKind::heal:
      network_.heal();
      trace_.event(now_us_, "network", 0).str("action", "heal");
      connectivity_dirty_ = true;
      return;
    case ActionKind::set_network: {
      network_.set(a.patch, a.between ? &*a.between : nullptr);
      auto line = trace_.event(now_us_, "network", 0);
      line.str("action", "set_network");
      if (a.patch.drop) line.raw("drop", nlohmann::json(*a.patch.drop).dump());
      if (a.patch.duplicate) line.raw("duplicate", nlohmann::json(*a.patch.duplicate).dump());
      if (a.patch.latency) line.raw("latency", latency_json(*a.patch.latency).dump());
      if (a.between) line.ids("between", {a.between->first, a.between->second});
      return;
    }
    case ActionKind::write:
      for (uint64_t i = 0; i < a.count; ++i) {
        submit_write(target, a.size_bytes, a.key.value_or(0), a.op, a.expected);
      }
      return;
    case ActionKind::read:
      for (uint64_t i = 0; i < a.count; ++i) submit_read(target, a.key.value_or(0), a.read_mode);
      return;
    case ActionKind::add_learner:
    case ActionKind::promote:
    case ActionKind::demote:
    case ActionKind::remove:
    case ActionKind::transfer_leadership: {
      auto leader = current_leader();
      const char* outcome = "no_leader";
      if (leader) {
        SimNode& l = node(*leader);
        scratch_.clear();
        bool accepted = false;
        if (a.kind == ActionKind::transfer_leadership) {
          accepted = l.api->transfer_leadership(*target, local_now(l), scratch_);
        } else {
          const raft::ConfigChange change =
              a.kind == ActionKind::add_learner ? raft::ConfigChange::add_learner
              : a.kind == ActionKind::promote   ? raft::ConfigChange::promote
              : a.kind == ActionKind::demote    ? raft::ConfigChange::demote
                                                : raft::ConfigChange::remove;
          accepted = l.api->change_config(change, *target, a.promote, local_now(l), scratch_);
        }
        outcome = accepted ? "accepted" : "refused";
        process(l, scratch_);
      } else if (now_us_ + raft_options_.heartbeat_interval_us <= scenario_.duration_us) {
        // The leader proposes it: without one, ask again a heartbeat later.
        outcome = "no_leader_retrying";
        schedule(now_us_ + raft_options_.heartbeat_interval_us, Phase::action,
                 EventKind::action_retry, 0, index);
      }
      if (!retry || leader) {  // a retry that still finds no leader is not news
        trace_.event(now_us_, "admin", leader.value_or(0))
            .str("action", a.name)
            .unum("target", *target)
            .str("outcome", outcome);
      }
      return;
    }
    case ActionKind::snapshot: {
      SimNode& n = node(*target);
      if (n.crashed || n.paused) return;
      scratch_.clear();
      n.api->take_snapshot(local_now(n), scratch_);
      process(n, scratch_);
      return;
    }
    case ActionKind::campaign: {
      SimNode& n = node(*target);
      if (n.crashed || n.paused) return;
      scratch_.clear();
      n.api->campaign(local_now(n), scratch_);
      process(n, scratch_);
      return;
    }
    case ActionKind::clock_drift: {
      SimNode& n = node(*target);
      n.anchor_local_us = local_now(n);
      n.anchor_real_us = now_us_;
      n.rate_ppm = a.rate_ppm;
      trace_.event(now_us_, "clock_drift", n.id).num("rate_ppm", a.rate_ppm);
      for (int k = 0; k < raft::kTimerKinds; ++k) {
        Timer& t = n.timers[k];
        if (t.armed && !n.crashed)
          set_timer(n, static_cast<raft::TimerKind>(k), t.deadline_local_us);
      }
      return;
    }
  }
}

// The quorum invariant. A leader can only have heard from a voter while the
// two could exchange messages (plus one message latency in flight), and
// check-quorum steps down once fewer than a quorum were heard within the last
// election timeout, checked every heartbeat. So the deadline runs from the
// moment the quorum-th most recently reachable voter stopped being reachable
// (in the leader's own clock): reachable sets that change while staying below
// a quorum do not restart it, and neither do they cut it short.
void Simulation::update_quorum_tracking() {
  if (connectivity_dirty_) {
    connectivity_dirty_ = false;
    cut_off_leaders_.clear();
    for (SimNode& l : nodes_) {
      if (l.crashed || l.api->role() != Role::leader) {
        l.quorum_lost_local_us.reset();
        l.reach_term = 0;
        continue;
      }
      const TimeUs now_local = local_now(l);
      const raft::Configuration& config = l.api->config();
      if (l.reach_term != l.api->current_term()) {
        // A new leader starts counting every voter as just heard.
        l.reach_term = l.api->current_term();
        l.reachable_until.assign(nodes_.size(), now_local);
        l.reach_members.clear();
      }
      // The core keeps a learner's last contact when it is promoted, and
      // counts a peer new to its configuration as just heard: so learners
      // are tracked too, and a node that joins starts as reachable now.
      auto track = [&](NodeId v, const std::vector<NodeId>& before) {
        TimeUs& until = l.reachable_until[slot_of_[v]];
        const SimNode& peer = node(v);
        if (!peer.crashed && !peer.paused && !network_.is_cut(l.id, v) &&
            !network_.is_cut(v, l.id)) {
          until = kReachableNow;
        } else if (until == kReachableNow ||
                   std::find(before.begin(), before.end(), v) == before.end()) {
          until = now_local;
        }
        return until;
      };
      std::vector<NodeId> members = config.voters;
      members.insert(members.end(), config.learners.begin(), config.learners.end());
      if (members != l.reach_members) {
        // A configuration change can raise what the leader needs (it stops
        // counting itself, or a voter it cannot reach joins the quorum). The
        // leader checks the new configuration from its next heartbeat on, so
        // a quorum lost by the change itself is lost at the change (fuzz
        // seed 3381: a leader's own demotion committed half a second after
        // it had last reached a voter that the new configuration needs).
        for (NodeId v : members) {
          TimeUs& until = l.reachable_until[slot_of_[v]];
          if (until != kReachableNow) until = std::max(until, now_local);
        }
      }
      std::vector<TimeUs> reach;  // per other voter: until when it was reachable
      for (NodeId v : config.learners) {
        if (v != l.id) track(v, l.reach_members);
      }
      for (NodeId v : config.voters) {
        if (v != l.id) reach.push_back(track(v, l.reach_members));
      }
      l.reach_members = std::move(members);
      const size_t quorum = raft::majority(config.voters.size());
      const size_t others_needed = config.is_voter(l.id) ? quorum - 1 : quorum;
      if (others_needed == 0) {
        l.quorum_lost_local_us.reset();
        continue;
      }
      if (reach.size() < others_needed) {
        reach.assign(others_needed, now_local);  // cannot have a quorum at all
      }
      std::nth_element(reach.begin(),
                       reach.begin() + static_cast<std::ptrdiff_t>(others_needed - 1), reach.end(),
                       std::greater<TimeUs>());
      const TimeUs quorum_until = reach[others_needed - 1];
      if (quorum_until == kReachableNow) {
        l.quorum_lost_local_us.reset();
        continue;
      }
      cut_off_leaders_.push_back(l.id);
      if (!l.quorum_lost_local_us) note_leader_lost();
      l.quorum_lost_local_us = quorum_until;
    }
  }
  if (!raft_options_.check_quorum || cut_off_leaders_.empty()) return;
  // A response can also have waited for the follower's durable write. The
  // election timeout and the heartbeat run on the leader's clock, but the
  // latency and the disk write are real time: a leader whose clock runs k
  // times fast sees a response that was in flight when its quorum became
  // unreachable arrive up to k times that much later by its own clock, and
  // counts its election timeout from then (fuzz seed 2553: a clock at 3.82x
  // stepped down on time by its own rule, 1ms past a deadline that had
  // counted 11.5ms of latency as 11.5ms of its clock instead of 44ms).
  const TimeUs in_flight_us = scenario_.disk_write_latency_us + max_latency_us_;
  const TimeUs in_flight_local_us =
      static_cast<TimeUs>((static_cast<__int128>(in_flight_us) * max_rate_ppm_ + kPpm - 1) / kPpm);
  for (NodeId id : cut_off_leaders_) {
    SimNode& l = node(id);
    if (!l.quorum_lost_local_us || l.paused || l.crashed) continue;
    const TimeUs allowed = l.api->check_quorum_bound_us() + in_flight_local_us;
    if (local_now(l) - *l.quorum_lost_local_us > allowed) {
      checker_.report("quorum",
                      "node " + std::to_string(l.id) + " stayed leader of term " +
                          std::to_string(l.api->current_term()) + " for more than " +
                          format_time(allowed) + " after it last could reach a quorum of voters",
                      {l.id});
      l.quorum_lost_local_us.reset();
      after_event();
      return;
    }
  }
}

void Simulation::evaluate(size_t index) {
  const Expectation& e = scenario_.expectations[index];
  std::string what;
  std::string seen;
  bool ok = false;
  auto node_text = [&](const NodeRef& ref, std::optional<NodeId> id) {
    std::string out;
    if (ref.kind == NodeRef::Kind::alias) out = ref.alias + " ";
    if (ref.kind == NodeRef::Kind::leader) out = "leader ";
    if (id)
      out += (out.empty() ? "node " : "(node ") + std::to_string(*id) + (out.empty() ? "" : ")");
    return out;
  };
  auto describe_leader = [&]() {
    auto l = current_leader();
    return l ? "leader is node " + std::to_string(*l) + " (term " +
                   std::to_string(node(*l).api->current_term()) + ")"
             : std::string("no leader");
  };
  // Resolve a node reference without failing the run: a check that cannot
  // resolve its node simply fails.
  auto soft = [&](const NodeRef& ref) -> std::optional<NodeId> {
    if (ref.kind == NodeRef::Kind::id) return ref.id;
    if (ref.kind == NodeRef::Kind::leader) return current_leader();
    if (ref.kind == NodeRef::Kind::alias) {
      auto it = aliases_.find(ref.alias);
      if (it != aliases_.end()) return it->second;
    }
    return std::nullopt;
  };
  auto bounds_ok = [&](uint64_t v) { return (!e.min || v >= *e.min) && (!e.max || v <= *e.max); };
  auto bounds_text = [&]() {
    std::string s;
    if (e.min) s += " min " + std::to_string(*e.min);
    if (e.max) s += " max " + std::to_string(*e.max);
    return s;
  };

  switch (e.kind) {
    case CheckKind::leader: {
      auto leader = current_leader();
      if (e.not_node.present()) {
        auto n = soft(e.not_node);
        what = "leader not " + node_text(e.not_node, n);
        ok = leader && n && *leader != *n;
      } else if (e.is_node.kind == NodeRef::Kind::any) {
        what = "leader is any";
        ok = leader.has_value();
      } else if (e.is_node.kind == NodeRef::Kind::none) {
        what = "leader is none";
        ok = !leader.has_value();
      } else {
        auto n = soft(e.is_node);
        what = "leader is " + node_text(e.is_node, n);
        ok = leader && n && *leader == *n;
      }
      seen = describe_leader();
      break;
    }
    case CheckKind::leaders: {
      uint64_t count = 0;
      for (const SimNode& n : nodes_) {
        if (!n.crashed && n.api->role() == Role::leader) ++count;
      }
      what = "leaders count " + std::to_string(e.count);
      ok = count == e.count;
      seen = std::to_string(count) + " leaders";
      break;
    }
    case CheckKind::role: {
      auto id = soft(e.node);
      what = "role of " + node_text(e.node, id) + " is " + e.role;
      std::string actual = "unknown node";
      if (id && is_node(*id)) {
        const SimNode& n = node(*id);
        actual = n.crashed ? "crashed" : raft::role_name(n.api->role());
      }
      ok = actual == e.role;
      seen = "role is " + actual;
      break;
    }
    case CheckKind::term: {
      what = "term" +
             (e.node.present() ? " of " + node_text(e.node, soft(e.node))
                               : std::string(" of every live node")) +
             bounds_text();
      ok = true;
      std::vector<const SimNode*> which;
      if (e.node.present()) {
        auto id = soft(e.node);
        if (!id || node(*id).crashed) {
          ok = false;
          seen = "node not live";
        } else {
          which.push_back(&node(*id));
        }
      } else {
        for (const SimNode& n : nodes_) {
          if (!n.crashed) which.push_back(&n);
        }
      }
      for (const SimNode* n : which) {
        const uint64_t term = n->api->current_term();
        if (!bounds_ok(term)) ok = false;
        seen += (seen.empty() ? "" : ", ") + std::string("node ") + std::to_string(n->id) +
                " term " + std::to_string(term);
      }
      break;
    }
    case CheckKind::committed:
      what = "committed" + bounds_text();
      ok = bounds_ok(result_.writes_acknowledged);
      seen = std::to_string(result_.writes_acknowledged) + " writes acknowledged";
      break;
    case CheckKind::applied: {
      what = "applied" + bounds_text();
      ok = true;
      std::vector<const SimNode*> which;
      if (e.node.kind == NodeRef::Kind::all) {
        what += " on all live nodes";
        for (const SimNode& n : nodes_) {
          if (!n.crashed) which.push_back(&n);
        }
      } else {
        auto id = soft(e.node);
        what += " on " + node_text(e.node, id);
        if (!id || node(*id).crashed) {
          ok = false;
          seen = "node not live";
        } else {
          which.push_back(&node(*id));
        }
      }
      for (const SimNode* n : which) {
        const uint64_t applied = n->api->applied_writes();
        if (!bounds_ok(applied)) ok = false;
        seen += (seen.empty() ? "" : ", ") + std::string("node ") + std::to_string(n->id) +
                " applied " + std::to_string(applied);
      }
      break;
    }
    case CheckKind::config: {
      what = "config voters " + ids_text(e.voters) + " learners " + ids_text(e.learners);
      auto leader = current_leader();
      if (!leader) {
        seen = "no leader";
        break;
      }
      const raft::Configuration& c = node(*leader).api->config();
      ok = c.voters == e.voters && c.learners == e.learners;
      seen = "leader " + std::to_string(*leader) + " has " + c.describe();
      break;
    }
    case CheckKind::event:
    case CheckKind::no_event: {
      std::optional<NodeId> who;
      if (e.node.present()) who = soft(e.node);
      what = e.event + (e.node.present() ? " of " + node_text(e.node, who) : std::string()) +
             (e.reason.empty() ? "" : " reason " + e.reason);
      uint64_t count = 0;
      std::string others;
      int shown = 0;
      for (const SeenEvent& s : seen_events_) {
        if (s.type != e.event) continue;
        const bool node_ok = !e.node.present() || (who && s.node == *who);
        const bool reason_ok = e.reason.empty() || s.reason == e.reason;
        const bool in_window = s.t >= e.from_us && s.t <= e.to_us;
        if (node_ok && reason_ok && in_window) {
          ++count;
        } else if (shown < 3 && (node_ok || !e.node.present())) {
          others += "; node " + std::to_string(s.node) + " " + s.type + " at " + format_time(s.t) +
                    (s.reason.empty() ? "" : " reason " + s.reason);
          ++shown;
        }
      }
      if (e.node.present() && !who) {
        seen = "alias not bound";
        ok = false;
        break;
      }
      if (e.kind == CheckKind::event) {
        const uint64_t min = e.min.value_or(1);
        ok = count >= min && (!e.max || count <= *e.max);
        if (e.min || e.max) what += " count" + bounds_text();
      } else {
        ok = count == 0;
      }
      seen =
          (count == 0 ? std::string("none") : std::to_string(count) + " seen") + (ok ? "" : others);
      break;
    }
    case CheckKind::converged: {
      // Liveness after healing: every write submitted is acknowledged, and
      // every live node's state machine holds all of them, identically.
      what = "converged";
      ok = writes_.empty();
      seen = writes_.empty() ? "" : std::to_string(writes_.size()) + " writes unacknowledged";
      // Members are those of the leader's configuration: a node removed
      // while cut off may never learn it and still think itself one.
      const auto leader = current_leader();
      if (!leader) {
        ok = false;
        seen += std::string(seen.empty() ? "" : "; ") + "no leader to name the members";
      }
      const SimNode* reference = nullptr;
      for (const SimNode& n : nodes_) {
        if (n.crashed || !leader || !node(*leader).api->config().contains(n.id)) continue;
        const bool holds_all = n.api->applied_writes() == next_write_id_ - 1;
        const bool same = !reference || n.api->state_hash() == reference->api->state_hash();
        if (!holds_all || !same) {
          ok = false;
          seen += (seen.empty() ? "" : "; ") + std::string("node ") + std::to_string(n.id) +
                  " holds " + std::to_string(n.api->applied_writes()) + " of " +
                  std::to_string(next_write_id_ - 1) + " writes" +
                  (same ? "" : " with a different state");
        }
        if (!reference) reference = &n;
      }
      if (ok) seen = "all live members hold " + std::to_string(next_write_id_ - 1) + " writes";
      break;
    }
  }
  const std::string when =
      e.window ? "within [" + format_time(e.from_us) + "," + format_time(e.to_us) + "]"
               : "at " + format_time(e.at_us);
  const std::string line = std::string(ok ? "ok " : "FAIL ") + when + " " + what + ": " + seen;
  trace_.event(now_us_, "check", 0).boolean("ok", ok).str("what", when + " " + what);
  result_.checks.push_back({ok, line});
  if (!ok) fail("expectation failed: " + when + " " + what + ": " + seen);
}

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  Simulation sim(scenario, options);
  return sim.run();
}

}  // namespace sim
