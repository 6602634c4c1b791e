#include <algorithm>

#include "raft/quorum.h"
#include "sim/engine/simulation.h"
#include "sim/engine/simulation_internal.h"

namespace sim {

using raft::Role;

// ---------------------------------------------------------------------------
// Invariants the engine checks itself (the quorum deadline) and the scenario's expectations

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

}  // namespace sim
