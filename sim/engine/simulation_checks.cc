#include <algorithm>

#include "sim/engine/simulation.h"
#include "sim/engine/simulation_internal.h"

namespace sim {

using raft::Role;

// ---------------------------------------------------------------------------
// The quorum deadline, fed by the engine, and the scenario's checks

// The quorum invariant (sim/check/quorum_deadline.h): the engine tells the
// deadline who leads and who can reach whom, and asks it after every event.
QuorumDeadline Simulation::quorum_deadline_for(const Scenario& scenario) {
  // The longest one-way latency any link may have during the run, and the
  // fastest any clock runs: the deadline allows a response already in
  // flight, which may also have waited for the follower's durable write.
  auto longest = [](const LatencyModel& m) {
    return m.kind == LatencyModel::Kind::normal ? m.a_us + 6 * m.b_us : m.b_us;
  };
  TimeUs max_latency_us = longest(scenario.network.latency);
  int64_t max_rate_ppm = kPpm;
  for (const Action& a : scenario.actions) {
    if (a.patch.latency) max_latency_us = std::max(max_latency_us, longest(*a.patch.latency));
    if (a.kind == ActionKind::clock_drift) max_rate_ppm = std::max(max_rate_ppm, a.rate_ppm);
  }
  return QuorumDeadline(scenario.all_nodes(), scenario.disk_write_latency_us + max_latency_us,
                        max_rate_ppm);
}

void Simulation::update_quorum_tracking() {
  if (connectivity_dirty_) {
    connectivity_dirty_ = false;
    quorum_.start_update();
    for (SimNode& l : nodes_) {
      if (l.crashed || l.api->role() != Role::leader) {
        quorum_.not_leader(l.id);
        continue;
      }
      auto reachable = [&](NodeId v) {
        const SimNode& peer = node(v);
        return !peer.crashed && !peer.paused && !network_.is_cut(l.id, v) &&
               !network_.is_cut(v, l.id);
      };
      if (quorum_.leader(l.id, l.api->current_term(), l.api->config(), local_now(l), reachable)) {
        note_leader_lost();
      }
    }
  }
  if (!raft_options_.check_quorum) return;
  for (NodeId id : quorum_.cut_off()) {
    SimNode& l = node(id);
    if (l.paused || l.crashed) continue;
    const auto overdue =
        quorum_.overdue(id, l.api->current_term(), local_now(l), l.api->check_quorum_bound_us());
    if (overdue) {
      checker_.report("quorum", *overdue, {l.id});
      after_event();
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// The scenario's checks: each kind's evaluator, chosen by one switch (its
// name, keys and parser are one row of the loader's table,
// loader_expectations.cc).

void Simulation::evaluate(size_t index) {
  const Expectation& e = scenario_.expectations[index];
  Verdict v;
  switch (e.kind) {
    case CheckKind::leader: v = check_leader(e); break;
    case CheckKind::leaders: v = check_leaders(e); break;
    case CheckKind::role: v = check_role(e); break;
    case CheckKind::term: v = check_term(e); break;
    case CheckKind::committed: v = check_committed(e); break;
    case CheckKind::applied: v = check_applied(e); break;
    case CheckKind::config: v = check_config(e); break;
    case CheckKind::event: v = check_events(e); break;
    case CheckKind::no_event: v = check_events(e); break;
    case CheckKind::converged: v = check_converged(); break;
  }
  const std::string when =
      e.window ? "within [" + format_time(e.from_us) + "," + format_time(e.to_us) + "]"
               : "at " + format_time(e.at_us);
  const std::string line =
      std::string(v.ok ? "ok " : "FAIL ") + when + " " + v.what + ": " + v.seen;
  trace_.event(now_us_, "check", 0).boolean("ok", v.ok).str("what", when + " " + v.what);
  result_.checks.push_back({v.ok, line});
  if (!v.ok) fail("expectation failed: " + when + " " + v.what + ": " + v.seen);
}

namespace {

// How a check names a node: "node 3", "leader (node 3)", "a (node 3)".
std::string node_text(const NodeRef& ref, std::optional<NodeId> id) {
  std::string out;
  if (ref.kind == NodeRef::Kind::alias) out = ref.alias + " ";
  if (ref.kind == NodeRef::Kind::leader) out = "leader ";
  if (id)
    out += (out.empty() ? "node " : "(node ") + std::to_string(*id) + (out.empty() ? "" : ")");
  return out;
}

bool bounds_ok(const Expectation& e, uint64_t v) {
  return (!e.min || v >= *e.min) && (!e.max || v <= *e.max);
}

std::string bounds_text(const Expectation& e) {
  std::string s;
  if (e.min) s += " min " + std::to_string(*e.min);
  if (e.max) s += " max " + std::to_string(*e.max);
  return s;
}

}  // namespace

// Resolves a node reference without failing the run: a check that cannot
// resolve its node simply fails.
std::optional<NodeId> Simulation::lookup(const NodeRef& ref) const {
  if (ref.kind == NodeRef::Kind::id) return ref.id;
  if (ref.kind == NodeRef::Kind::leader) return current_leader();
  if (ref.kind == NodeRef::Kind::alias) {
    auto it = aliases_.find(ref.alias);
    if (it != aliases_.end()) return it->second;
  }
  return std::nullopt;
}

Simulation::Verdict Simulation::check_leader(const Expectation& e) const {
  Verdict v;
  auto leader = current_leader();
  if (e.not_node.present()) {
    auto n = lookup(e.not_node);
    v.what = "leader not " + node_text(e.not_node, n);
    v.ok = leader && n && *leader != *n;
  } else if (e.is_node.kind == NodeRef::Kind::any) {
    v.what = "leader is any";
    v.ok = leader.has_value();
  } else if (e.is_node.kind == NodeRef::Kind::none) {
    v.what = "leader is none";
    v.ok = !leader.has_value();
  } else {
    auto n = lookup(e.is_node);
    v.what = "leader is " + node_text(e.is_node, n);
    v.ok = leader && n && *leader == *n;
  }
  v.seen = leader ? "leader is node " + std::to_string(*leader) + " (term " +
                        std::to_string(node(*leader).api->current_term()) + ")"
                  : std::string("no leader");
  return v;
}

Simulation::Verdict Simulation::check_leaders(const Expectation& e) const {
  uint64_t count = 0;
  for (const SimNode& n : nodes_) {
    if (!n.crashed && n.api->role() == Role::leader) ++count;
  }
  return {"leaders count " + std::to_string(e.count), std::to_string(count) + " leaders",
          count == e.count};
}

Simulation::Verdict Simulation::check_role(const Expectation& e) const {
  auto id = lookup(e.node);
  std::string actual = "unknown node";
  if (id && is_node(*id)) {
    const SimNode& n = node(*id);
    actual = n.crashed ? "crashed" : raft::role_name(n.api->role());
  }
  return {"role of " + node_text(e.node, id) + " is " + e.role, "role is " + actual,
          actual == e.role};
}

Simulation::Verdict Simulation::check_term(const Expectation& e) const {
  Verdict v;
  v.what = "term" +
           (e.node.present() ? " of " + node_text(e.node, lookup(e.node))
                             : std::string(" of every live node")) +
           bounds_text(e);
  v.ok = true;
  std::vector<const SimNode*> which;
  if (e.node.present()) {
    auto id = lookup(e.node);
    if (!id || node(*id).crashed) {
      v.ok = false;
      v.seen = "node not live";
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
    if (!bounds_ok(e, term)) v.ok = false;
    v.seen += (v.seen.empty() ? "" : ", ") + std::string("node ") + std::to_string(n->id) +
              " term " + std::to_string(term);
  }
  return v;
}

Simulation::Verdict Simulation::check_committed(const Expectation& e) const {
  return {"committed" + bounds_text(e),
          std::to_string(result_.writes_acknowledged) + " writes acknowledged",
          bounds_ok(e, result_.writes_acknowledged)};
}

Simulation::Verdict Simulation::check_applied(const Expectation& e) const {
  Verdict v;
  v.what = "applied" + bounds_text(e);
  v.ok = true;
  std::vector<const SimNode*> which;
  if (e.node.kind == NodeRef::Kind::all) {
    v.what += " on all live nodes";
    for (const SimNode& n : nodes_) {
      if (!n.crashed) which.push_back(&n);
    }
  } else {
    auto id = lookup(e.node);
    v.what += " on " + node_text(e.node, id);
    if (!id || node(*id).crashed) {
      v.ok = false;
      v.seen = "node not live";
    } else {
      which.push_back(&node(*id));
    }
  }
  for (const SimNode* n : which) {
    const uint64_t applied = n->api->applied_writes();
    if (!bounds_ok(e, applied)) v.ok = false;
    v.seen += (v.seen.empty() ? "" : ", ") + std::string("node ") + std::to_string(n->id) +
              " applied " + std::to_string(applied);
  }
  return v;
}

Simulation::Verdict Simulation::check_config(const Expectation& e) const {
  Verdict v;
  v.what = "config voters " + ids_text(e.voters) + " learners " + ids_text(e.learners);
  auto leader = current_leader();
  if (!leader) {
    v.seen = "no leader";
    return v;
  }
  const raft::Configuration& c = node(*leader).api->config();
  v.ok = c.voters == e.voters && c.learners == e.learners;
  v.seen = "leader " + std::to_string(*leader) + " has " + c.describe();
  return v;
}

// event and no_event: how many of the events a window check names happened
// in its window; when it fails, up to three others that did not match.
Simulation::Verdict Simulation::check_events(const Expectation& e) const {
  Verdict v;
  std::optional<NodeId> who;
  if (e.node.present()) who = lookup(e.node);
  v.what = e.event + (e.node.present() ? " of " + node_text(e.node, who) : std::string()) +
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
    v.seen = "alias not bound";
    return v;
  }
  if (e.kind == CheckKind::event) {
    v.ok = count >= e.min.value_or(1) && (!e.max || count <= *e.max);
    if (e.min || e.max) v.what += " count" + bounds_text(e);
  } else {
    v.ok = count == 0;
  }
  v.seen =
      (count == 0 ? std::string("none") : std::to_string(count) + " seen") + (v.ok ? "" : others);
  return v;
}

// Liveness after healing: every write submitted is acknowledged, and every
// live node's state machine holds all of them, identically.
Simulation::Verdict Simulation::check_converged() const {
  Verdict v{"converged", "", writes_.empty()};
  if (!writes_.empty()) v.seen = std::to_string(writes_.size()) + " writes unacknowledged";
  // Members are those of the leader's configuration: a node removed
  // while cut off may never learn it and still think itself one.
  const auto leader = current_leader();
  if (!leader) {
    v.ok = false;
    v.seen += std::string(v.seen.empty() ? "" : "; ") + "no leader to name the members";
  }
  const SimNode* reference = nullptr;
  for (const SimNode& n : nodes_) {
    if (n.crashed || !leader || !node(*leader).api->config().contains(n.id)) continue;
    const bool holds_all = n.api->applied_writes() == next_write_id_ - 1;
    const bool same = !reference || n.api->state_hash() == reference->api->state_hash();
    if (!holds_all || !same) {
      v.ok = false;
      v.seen += (v.seen.empty() ? "" : "; ") + std::string("node ") + std::to_string(n.id) +
                " holds " + std::to_string(n.api->applied_writes()) + " of " +
                std::to_string(next_write_id_ - 1) + " writes" +
                (same ? "" : " with a different state");
    }
    if (!reference) reference = &n;
  }
  if (v.ok) v.seen = "all live members hold " + std::to_string(next_write_id_ - 1) + " writes";
  return v;
}

}  // namespace sim
