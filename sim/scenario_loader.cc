#include "sim/scenario_loader.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace sim {

using json = nlohmann::json;

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& options) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const std::string& o : options) {
    const size_t d = edit_distance(word, o);
    if (d < best_distance) {
      best_distance = d;
      best = o;
    }
  }
  if (best.empty() || best_distance > std::max<size_t>(2, word.size() / 3)) return "";
  return " (did you mean \"" + best + "\"?)";
}

std::string list(const std::vector<std::string>& options) {
  std::string out;
  for (size_t i = 0; i < options.size(); ++i) out += (i ? ", " : "") + options[i];
  return out;
}

std::string type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "a number";
  }
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void error(const std::string& path, const std::string& message) const {
    throw ScenarioError(file_ + ": " + (path.empty() ? "/" : path) + ": " + message);
  }

  Scenario load(const json& root);

 private:
  void keys(const json& obj, const std::string& path, const std::vector<std::string>& allowed,
            const std::vector<std::string>& required = {}) {
    if (!obj.is_object()) error(path, "expected an object, found " + type_name(obj));
    for (const auto& [key, value] : obj.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        error(path + "/" + key, "unknown key \"" + key + "\"" + did_you_mean(key, allowed) +
                                    "; expected one of: " + list(allowed));
      }
    }
    for (const std::string& key : required) {
      if (!obj.contains(key)) error(path, "missing required key \"" + key + "\"");
    }
  }

  TimeUs time(const json& v, const std::string& path) {
    double ms;
    if (v.is_number()) {
      ms = v.get<double>();
    } else if (v.is_string()) {
      const std::string s = v.get<std::string>();
      size_t pos = 0;
      double number;
      try {
        number = std::stod(s, &pos);
      } catch (const std::exception&) {
        error(path, "\"" + s + "\" is not a time; write a number of milliseconds or a string such as \"250us\", \"150ms\", \"1.5s\"");
      }
      const std::string unit = s.substr(pos);
      if (unit == "us") {
        ms = number / 1000.0;
      } else if (unit == "ms") {
        ms = number;
      } else if (unit == "s") {
        ms = number * 1000.0;
      } else {
        error(path, "\"" + s + "\" has unknown time unit \"" + unit + "\"; use us, ms or s");
      }
    } else {
      error(path, "expected a time (number of ms or a string like \"150ms\"), found " + type_name(v));
    }
    if (!std::isfinite(ms)) error(path, "time is not a finite number");
    if (ms < 0) error(path, "time may not be negative");
    if (ms > static_cast<double>(ScenarioLimits::kMaxDurationUs) / 1000.0) {
      error(path, "time exceeds the limit of 48 hours");
    }
    return static_cast<TimeUs>(std::llround(ms * 1000.0));
  }

  double probability(const json& v, const std::string& path) {
    if (!v.is_number()) error(path, "expected a probability (a number in [0, 1]), found " + type_name(v));
    const double p = v.get<double>();
    if (!(p >= 0.0 && p <= 1.0)) error(path, "probability must be in [0, 1]");
    return p;
  }

  uint64_t count(const json& v, const std::string& path, uint64_t min, uint64_t max) {
    if (!v.is_number_integer()) {
      if (v.is_number_float()) {
        const double d = v.get<double>();
        if (d == std::floor(d) && d >= static_cast<double>(min) && d <= static_cast<double>(max)) {
          return static_cast<uint64_t>(d);
        }
      }
      error(path, "expected an integer, found " + type_name(v));
    }
    if (v.is_number_unsigned() ? v.get<uint64_t>() < min || v.get<uint64_t>() > max
                               : v.get<int64_t>() < static_cast<int64_t>(min) ||
                                     static_cast<uint64_t>(v.get<int64_t>()) > max) {
      error(path, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    return v.get<uint64_t>();
  }

  bool boolean(const json& v, const std::string& path) {
    if (!v.is_boolean()) error(path, "expected true or false, found " + type_name(v));
    return v.get<bool>();
  }

  std::string string(const json& v, const std::string& path) {
    if (!v.is_string()) error(path, "expected a string, found " + type_name(v));
    return v.get<std::string>();
  }

  NodeId node_id(const json& v, const std::string& path) {
    const NodeId id = static_cast<NodeId>(count(v, path, 1, ScenarioLimits::kMaxNodeId));
    if (!scenario_.has_node(id)) {
      error(path, "node " + std::to_string(id) + " is not in the cluster (nodes: " + nodes_text() + ")");
    }
    return id;
  }

  std::string nodes_text() const {
    std::string out;
    for (NodeId id : scenario_.all_nodes()) out += (out.empty() ? "" : ",") + std::to_string(id);
    return out;
  }

  std::vector<NodeId> id_list(const json& v, const std::string& path, bool must_exist) {
    if (!v.is_array()) error(path, "expected an array of node ids, found " + type_name(v));
    std::vector<NodeId> ids;
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string p = path + "/" + std::to_string(i);
      const NodeId id = must_exist ? node_id(v[i], p)
                                   : static_cast<NodeId>(count(v[i], p, 1, ScenarioLimits::kMaxNodeId));
      if (std::find(ids.begin(), ids.end(), id) != ids.end()) {
        error(p, "node " + std::to_string(id) + " is listed twice");
      }
      ids.push_back(id);
    }
    return ids;
  }

  LatencyModel latency(const json& v, const std::string& path) {
    LatencyModel m;
    if (v.is_object() && (v.contains("mean") || v.contains("stddev"))) {
      keys(v, path, {"mean", "stddev"}, {"mean", "stddev"});
      m.kind = LatencyModel::Kind::normal;
      m.a_us = time(v["mean"], path + "/mean");
      m.b_us = time(v["stddev"], path + "/stddev");
    } else if (v.is_object()) {
      keys(v, path, {"min", "max"}, {"min", "max"});
      m.kind = LatencyModel::Kind::uniform;
      m.a_us = time(v["min"], path + "/min");
      m.b_us = time(v["max"], path + "/max");
      if (m.b_us < m.a_us) error(path, "latency min is greater than max");
    } else {
      m.kind = LatencyModel::Kind::constant;
      m.a_us = m.b_us = time(v, path);
    }
    return m;
  }

  NodeRef node_ref(const json& v, const std::string& path, bool allow_leader, size_t action_index) {
    NodeRef ref;
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      if (s == "leader") {
        if (!allow_leader) {
          error(path, "a window check may not name \"leader\" (it changes over the window); bind an alias with \"as\" in the timeline");
        }
        ref.kind = NodeRef::Kind::leader;
        return ref;
      }
      auto it = alias_bound_at_.find(s);
      if (it == alias_bound_at_.end() || it->second >= action_index) {
        error(path, "alias \"" + s + "\" is not bound by an earlier timeline action's \"as\"");
      }
      ref.kind = NodeRef::Kind::alias;
      ref.alias = s;
      return ref;
    }
    ref.kind = NodeRef::Kind::id;
    ref.id = node_id(v, path);
    return ref;
  }

  void load_cluster(const json& v);
  void load_raft(const json& v);
  void load_action(const json& v, size_t index);
  void load_expectation(const json& v, size_t index);

  std::string file_;
  Scenario scenario_;
  std::map<std::string, size_t> alias_bound_at_;  // alias -> index of the action binding it
  uint64_t total_writes_ = 0;
};

void Loader::load_cluster(const json& v) {
  keys(v, "/cluster", {"voters", "learners", "spares"}, {"voters"});
  const json& voters = v["voters"];
  if (voters.is_array()) {
    scenario_.voters = id_list(voters, "/cluster/voters", false);
  } else {
    const uint64_t n = count(voters, "/cluster/voters", 1, ScenarioLimits::kMaxNodes);
    for (uint64_t i = 1; i <= n; ++i) scenario_.voters.push_back(static_cast<NodeId>(i));
  }
  if (scenario_.voters.empty()) error("/cluster/voters", "a cluster needs at least one voter");
  if (v.contains("learners")) scenario_.learners = id_list(v["learners"], "/cluster/learners", false);
  if (v.contains("spares")) scenario_.spares = id_list(v["spares"], "/cluster/spares", false);
  std::set<NodeId> seen;
  auto check = [&](const std::vector<NodeId>& ids, const std::string& path) {
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!seen.insert(ids[i]).second) {
        error(path + "/" + std::to_string(i), "node " + std::to_string(ids[i]) + " is listed in more than one of voters, learners and spares");
      }
    }
  };
  check(scenario_.voters, "/cluster/voters");
  check(scenario_.learners, "/cluster/learners");
  check(scenario_.spares, "/cluster/spares");
  if (seen.size() > ScenarioLimits::kMaxNodes) {
    error("/cluster", "more than " + std::to_string(ScenarioLimits::kMaxNodes) + " nodes");
  }
}

void Loader::load_raft(const json& v) {
  keys(v, "/raft",
       {"election_timeout", "heartbeat_interval", "check_quorum", "pre_vote", "max_lag_threshold",
        "promotion_threshold", "auto_promote", "min_voters", "snapshot_threshold",
        "snapshot_chunk_size", "max_inflight", "max_entries_per_message", "bugs"});
  raft::Options& o = scenario_.raft;
  if (v.contains("election_timeout")) {
    const json& et = v["election_timeout"];
    if (!et.is_array() || et.size() != 2) {
      error("/raft/election_timeout", "expected [min, max], two times");
    }
    o.election_timeout_min_us = time(et[0], "/raft/election_timeout/0");
    o.election_timeout_max_us = time(et[1], "/raft/election_timeout/1");
    if (o.election_timeout_min_us <= 0) error("/raft/election_timeout/0", "must be greater than 0");
    if (o.election_timeout_max_us < o.election_timeout_min_us) {
      error("/raft/election_timeout", "min is greater than max");
    }
  }
  if (v.contains("heartbeat_interval")) {
    o.heartbeat_interval_us = time(v["heartbeat_interval"], "/raft/heartbeat_interval");
    if (o.heartbeat_interval_us <= 0) error("/raft/heartbeat_interval", "must be greater than 0");
  }
  if (v.contains("check_quorum")) o.check_quorum = boolean(v["check_quorum"], "/raft/check_quorum");
  if (v.contains("pre_vote")) o.pre_vote = boolean(v["pre_vote"], "/raft/pre_vote");
  if (v.contains("auto_promote")) o.auto_promote = boolean(v["auto_promote"], "/raft/auto_promote");
  const uint64_t big = 1'000'000'000;
  if (v.contains("max_lag_threshold")) o.max_lag_threshold = count(v["max_lag_threshold"], "/raft/max_lag_threshold", 0, big);
  if (v.contains("promotion_threshold")) o.promotion_threshold = count(v["promotion_threshold"], "/raft/promotion_threshold", 0, big);
  if (v.contains("min_voters")) o.min_voters = static_cast<uint32_t>(count(v["min_voters"], "/raft/min_voters", 1, ScenarioLimits::kMaxNodes));
  if (v.contains("snapshot_threshold")) o.snapshot_threshold = count(v["snapshot_threshold"], "/raft/snapshot_threshold", 1, big);
  if (v.contains("snapshot_chunk_size")) o.snapshot_chunk_size = count(v["snapshot_chunk_size"], "/raft/snapshot_chunk_size", 1, big);
  if (v.contains("max_inflight")) o.max_inflight = static_cast<uint32_t>(count(v["max_inflight"], "/raft/max_inflight", 1, 1'000'000));
  if (v.contains("max_entries_per_message")) o.max_entries_per_message = static_cast<uint32_t>(count(v["max_entries_per_message"], "/raft/max_entries_per_message", 1, 1'000'000));
  if (v.contains("bugs")) {
    const json& bugs = v["bugs"];
    if (!bugs.is_array()) error("/raft/bugs", "expected an array of bug names, found " + type_name(bugs));
    for (size_t i = 0; i < bugs.size(); ++i) {
      const std::string path = "/raft/bugs/" + std::to_string(i);
      const std::string name = string(bugs[i], path);
      raft::PlantedBugs probe;
      if (!probe.enable(name)) {
        error(path, "unknown bug \"" + name + "\"" + did_you_mean(name, raft::PlantedBugs::names()) +
                        "; known bugs: " + list(raft::PlantedBugs::names()));
      }
      scenario_.bugs.push_back(name);
    }
  }
}

const std::vector<std::string>& action_names() {
  static const std::vector<std::string> names = {
      "crash", "restart", "pause", "resume", "partition", "isolate", "cut", "heal", "set_network",
      "write", "add_learner", "promote", "demote", "remove", "transfer_leadership", "snapshot",
      "campaign", "clock_drift"};
  return names;
}

void Loader::load_action(const json& v, size_t index) {
  const std::string path = "/timeline/" + std::to_string(index);
  if (!v.is_object()) error(path, "expected an action object, found " + type_name(v));
  if (!v.contains("action")) error(path, "missing required key \"action\"");
  Action a;
  a.path = path;
  a.name = string(v["action"], path + "/action");
  const auto& names = action_names();
  auto it = std::find(names.begin(), names.end(), a.name);
  if (it == names.end()) {
    error(path + "/action", "unknown action \"" + a.name + "\"" + did_you_mean(a.name, names) +
                                "; known actions: " + list(names));
  }
  a.kind = static_cast<ActionKind>(it - names.begin());
  std::vector<std::string> allowed = {"at", "action", "as"};
  std::vector<std::string> required = {"at"};
  auto need = [&](std::initializer_list<const char*> req, std::initializer_list<const char*> opt) {
    for (const char* k : req) {
      allowed.push_back(k);
      required.push_back(k);
    }
    for (const char* k : opt) allowed.push_back(k);
  };
  switch (a.kind) {
    case ActionKind::crash: case ActionKind::restart: case ActionKind::pause:
    case ActionKind::resume: case ActionKind::isolate: case ActionKind::snapshot:
    case ActionKind::campaign: case ActionKind::promote: case ActionKind::demote:
    case ActionKind::remove:
      need({"node"}, {});
      break;
    case ActionKind::add_learner: need({"node"}, {"promote"}); break;
    case ActionKind::partition: need({"groups"}, {}); break;
    case ActionKind::cut: need({"from", "to"}, {"both"}); break;
    case ActionKind::heal: break;
    case ActionKind::set_network: need({}, {"latency", "drop", "duplicate", "between"}); break;
    case ActionKind::write: need({"count"}, {"node", "size"}); break;
    case ActionKind::transfer_leadership: need({"to"}, {}); break;
    case ActionKind::clock_drift: need({"node", "rate"}, {}); break;
  }
  keys(v, path, allowed, required);

  // "at": a time, or {"min", "max"}.
  const json& at = v["at"];
  if (at.is_object()) {
    keys(at, path + "/at", {"min", "max"}, {"min", "max"});
    a.at.min_us = time(at["min"], path + "/at/min");
    a.at.max_us = time(at["max"], path + "/at/max");
    if (a.at.max_us < a.at.min_us) error(path + "/at", "min is after max");
  } else {
    a.at.min_us = a.at.max_us = time(at, path + "/at");
  }
  if (a.at.max_us > scenario_.duration_us) {
    error(path + "/at", "the action is at or may fall after the scenario's duration");
  }

  if (v.contains("node")) {
    a.node = node_ref(v["node"], path + "/node", true, index);
  }
  if (a.kind == ActionKind::transfer_leadership) a.node = node_ref(v["to"], path + "/to", true, index);
  if (a.kind == ActionKind::cut) {
    a.from = node_ref(v["from"], path + "/from", true, index);
    a.to = node_ref(v["to"], path + "/to", true, index);
    if (v.contains("both")) a.both = boolean(v["both"], path + "/both");
  }
  if (a.kind == ActionKind::partition) {
    const json& groups = v["groups"];
    if (!groups.is_array()) error(path + "/groups", "expected an array of arrays of node ids");
    std::set<NodeId> seen;
    for (size_t g = 0; g < groups.size(); ++g) {
      const std::string gp = path + "/groups/" + std::to_string(g);
      std::vector<NodeId> ids = id_list(groups[g], gp, true);
      for (size_t i = 0; i < ids.size(); ++i) {
        if (!seen.insert(ids[i]).second) {
          error(gp + "/" + std::to_string(i), "node " + std::to_string(ids[i]) + " is in more than one partition group");
        }
      }
      a.groups.push_back(std::move(ids));
    }
  }
  if (a.kind == ActionKind::set_network) {
    if (v.contains("latency")) a.patch.latency = latency(v["latency"], path + "/latency");
    if (v.contains("drop")) a.patch.drop = probability(v["drop"], path + "/drop");
    if (v.contains("duplicate")) a.patch.duplicate = probability(v["duplicate"], path + "/duplicate");
    if (v.contains("between")) {
      std::vector<NodeId> pair = id_list(v["between"], path + "/between", true);
      if (pair.size() != 2) error(path + "/between", "expected two node ids");
      a.between = std::make_pair(pair[0], pair[1]);
    }
  }
  if (a.kind == ActionKind::write) {
    a.count = count(v["count"], path + "/count", 1, ScenarioLimits::kMaxWrites);
    total_writes_ += a.count;
    if (v.contains("size")) a.size_bytes = static_cast<uint32_t>(count(v["size"], path + "/size", 0, 1 << 20));
  }
  if (a.kind == ActionKind::add_learner && v.contains("promote")) {
    a.promote = boolean(v["promote"], path + "/promote");
  }
  if (a.kind == ActionKind::clock_drift) {
    const json& rate = v["rate"];
    if (!rate.is_number()) error(path + "/rate", "expected a number (1.0 is real speed), found " + type_name(rate));
    const double r = rate.get<double>();
    if (!(r >= 0.01 && r <= 100.0)) error(path + "/rate", "rate must be in [0.01, 100]");
    a.rate_ppm = std::llround(r * 1e6);
  }
  if (v.contains("as")) {
    a.as = string(v["as"], path + "/as");
    if (a.as.empty() || a.as == "leader" || a.as == "all" || a.as == "any" || a.as == "none") {
      error(path + "/as", "\"" + a.as + "\" cannot be an alias");
    }
    if (!a.node.present()) error(path + "/as", "this action names no node to bind");
    alias_bound_at_.emplace(a.as, index);
  }
  scenario_.actions.push_back(std::move(a));
}

const std::vector<std::string>& check_names() {
  static const std::vector<std::string> names = {"leader", "leaders", "role", "term", "committed",
                                                 "applied", "config", "event", "no_event", "converged"};
  return names;
}

const std::vector<std::string>& event_names() {
  static const std::vector<std::string> names = {
      "elected", "step_down", "election_started", "vote_granted", "demoted", "promoted",
      "config_committed", "snapshot_sent", "snapshot_installed", "snapshot_taken", "crash",
      "restart"};
  return names;
}

void Loader::load_expectation(const json& v, size_t index) {
  const std::string path = "/expect/" + std::to_string(index);
  if (!v.is_object()) error(path, "expected a check object, found " + type_name(v));
  if (!v.contains("check")) error(path, "missing required key \"check\"");
  Expectation e;
  e.path = path;
  e.name = string(v["check"], path + "/check");
  const auto& names = check_names();
  auto it = std::find(names.begin(), names.end(), e.name);
  if (it == names.end()) {
    error(path + "/check", "unknown check \"" + e.name + "\"" + did_you_mean(e.name, names) +
                               "; known checks: " + list(names));
  }
  e.kind = static_cast<CheckKind>(it - names.begin());
  std::vector<std::string> allowed = {"at", "within", "check"};
  switch (e.kind) {
    case CheckKind::leader: allowed.insert(allowed.end(), {"is", "not"}); break;
    case CheckKind::leaders: allowed.push_back("count"); break;
    case CheckKind::role: allowed.insert(allowed.end(), {"node", "is"}); break;
    case CheckKind::term: allowed.insert(allowed.end(), {"node", "min", "max"}); break;
    case CheckKind::committed: allowed.insert(allowed.end(), {"min", "max"}); break;
    case CheckKind::applied: allowed.insert(allowed.end(), {"node", "min"}); break;
    case CheckKind::config: allowed.insert(allowed.end(), {"voters", "learners"}); break;
    case CheckKind::event: allowed.insert(allowed.end(), {"event", "node", "reason", "count"}); break;
    case CheckKind::no_event: allowed.insert(allowed.end(), {"event", "node", "reason"}); break;
    case CheckKind::converged: break;
  }
  keys(v, path, allowed);
  const bool has_at = v.contains("at");
  const bool has_within = v.contains("within");
  if (has_at == has_within) error(path, "a check needs exactly one of \"at\" (instant) or \"within\" (window)");
  const size_t no_action = SIZE_MAX;  // aliases of any action may be used by checks
  if (has_at) {
    e.at_us = time(v["at"], path + "/at");
    if (e.at_us > scenario_.duration_us) error(path + "/at", "the check is after the scenario's duration");
  } else {
    const json& w = v["within"];
    if (!w.is_array() || w.size() != 2) error(path + "/within", "expected [from, to], two times");
    e.window = true;
    e.from_us = time(w[0], path + "/within/0");
    e.to_us = time(w[1], path + "/within/1");
    if (e.to_us < e.from_us) error(path + "/within", "the window ends before it starts");
    if (e.from_us > scenario_.duration_us) error(path + "/within/0", "the window starts after the scenario's duration");
  }
  const bool window_kind = e.kind == CheckKind::event || e.kind == CheckKind::no_event;
  if (window_kind && !e.window) error(path, "\"" + e.name + "\" is a window check: use \"within\": [from, to]");
  if (!window_kind && e.window) error(path, "\"" + e.name + "\" is an instant check: use \"at\"");

  auto bound = [&](const char* key) -> std::optional<uint64_t> {
    if (!v.contains(key)) return std::nullopt;
    return count(v[key], path + "/" + key, 0, UINT64_MAX / 2);
  };
  switch (e.kind) {
    case CheckKind::leader: {
      if (v.contains("is") == v.contains("not")) error(path, "\"leader\" needs exactly one of \"is\" or \"not\"");
      if (v.contains("is")) {
        const json& is = v["is"];
        if (is == "any") {
          e.is_node.kind = NodeRef::Kind::any;
        } else if (is == "none") {
          e.is_node.kind = NodeRef::Kind::none;
        } else {
          e.is_node = node_ref(is, path + "/is", true, no_action);
        }
      } else {
        e.not_node = node_ref(v["not"], path + "/not", true, no_action);
      }
      break;
    }
    case CheckKind::leaders:
      if (!v.contains("count")) error(path, "missing required key \"count\"");
      e.count = count(v["count"], path + "/count", 0, ScenarioLimits::kMaxNodes);
      break;
    case CheckKind::role: {
      if (!v.contains("node")) error(path, "missing required key \"node\"");
      if (!v.contains("is")) error(path, "missing required key \"is\"");
      e.node = node_ref(v["node"], path + "/node", true, no_action);
      e.role = string(v["is"], path + "/is");
      const std::vector<std::string> roles = {"leader", "follower", "candidate", "precandidate", "learner", "crashed"};
      if (std::find(roles.begin(), roles.end(), e.role) == roles.end()) {
        error(path + "/is", "unknown role \"" + e.role + "\"" + did_you_mean(e.role, roles) + "; roles: " + list(roles));
      }
      break;
    }
    case CheckKind::term:
      if (v.contains("node")) e.node = node_ref(v["node"], path + "/node", true, no_action);
      e.min = bound("min");
      e.max = bound("max");
      if (e.min && e.max && *e.min > *e.max) error(path, "min is greater than max");
      break;
    case CheckKind::committed:
      if (!v.contains("min")) error(path, "missing required key \"min\"");
      e.min = bound("min");
      e.max = bound("max");
      if (e.max && *e.min > *e.max) error(path, "min is greater than max");
      break;
    case CheckKind::applied:
      if (!v.contains("node")) error(path, "missing required key \"node\"");
      if (!v.contains("min")) error(path, "missing required key \"min\"");
      if (v["node"] == "all") {
        e.node.kind = NodeRef::Kind::all;
      } else {
        e.node = node_ref(v["node"], path + "/node", true, no_action);
      }
      e.min = bound("min");
      break;
    case CheckKind::config:
      if (!v.contains("voters")) error(path, "missing required key \"voters\"");
      e.voters = id_list(v["voters"], path + "/voters", true);
      if (v.contains("learners")) e.learners = id_list(v["learners"], path + "/learners", true);
      std::sort(e.voters.begin(), e.voters.end());
      std::sort(e.learners.begin(), e.learners.end());
      break;
    case CheckKind::event:
    case CheckKind::no_event: {
      if (!v.contains("event")) error(path, "missing required key \"event\"");
      e.event = string(v["event"], path + "/event");
      const auto& events = event_names();
      if (std::find(events.begin(), events.end(), e.event) == events.end()) {
        error(path + "/event", "unknown event \"" + e.event + "\"" + did_you_mean(e.event, events) +
                                   "; events: " + list(events));
      }
      if (v.contains("node")) e.node = node_ref(v["node"], path + "/node", false, no_action);
      if (v.contains("reason")) {
        e.reason = string(v["reason"], path + "/reason");
        const std::vector<std::string> reasons = {"higher_term", "granted_vote", "lost_quorum", "removed", "transfer"};
        if (e.event != "step_down") error(path + "/reason", "only step_down events have a reason");
        if (std::find(reasons.begin(), reasons.end(), e.reason) == reasons.end()) {
          error(path + "/reason", "unknown reason \"" + e.reason + "\"" + did_you_mean(e.reason, reasons) +
                                      "; reasons: " + list(reasons));
        }
      }
      if (v.contains("count")) {
        const json& c = v["count"];
        keys(c, path + "/count", {"min", "max"});
        if (c.contains("min")) e.min = count(c["min"], path + "/count/min", 0, UINT64_MAX / 2);
        if (c.contains("max")) e.max = count(c["max"], path + "/count/max", 0, UINT64_MAX / 2);
        if (e.min && e.max && *e.min > *e.max) error(path + "/count", "min is greater than max");
      }
      break;
    }
    case CheckKind::converged: break;
  }
  scenario_.expectations.push_back(std::move(e));
}

Scenario Loader::load(const json& root) {
  keys(root, "",
       {"name", "description", "seed", "duration", "cluster", "raft", "network", "disk",
        "workload", "timeline", "expect"},
       {"name", "duration", "cluster"});
  scenario_.file = file_;
  scenario_.name = string(root["name"], "/name");
  if (root.contains("description")) scenario_.description = string(root["description"], "/description");
  if (root.contains("seed")) scenario_.seed = count(root["seed"], "/seed", 0, UINT64_MAX);
  scenario_.duration_us = time(root["duration"], "/duration");
  if (scenario_.duration_us <= 0) error("/duration", "must be greater than 0");
  load_cluster(root["cluster"]);
  if (root.contains("raft")) load_raft(root["raft"]);
  if (root.contains("network")) {
    const json& n = root["network"];
    keys(n, "/network", {"latency", "drop", "duplicate"});
    if (n.contains("latency")) scenario_.network.latency = latency(n["latency"], "/network/latency");
    if (n.contains("drop")) scenario_.network.drop = probability(n["drop"], "/network/drop");
    if (n.contains("duplicate")) scenario_.network.duplicate = probability(n["duplicate"], "/network/duplicate");
  }
  if (root.contains("disk")) {
    keys(root["disk"], "/disk", {"write_latency"});
    if (root["disk"].contains("write_latency")) {
      scenario_.disk_write_latency_us = time(root["disk"]["write_latency"], "/disk/write_latency");
    }
  }
  if (root.contains("workload")) {
    const json& w = root["workload"];
    keys(w, "/workload", {"rate", "start", "stop", "size"}, {"rate"});
    Workload& wl = scenario_.workload;
    wl.enabled = true;
    if (!w["rate"].is_number() || !(w["rate"].get<double>() >= 0) || w["rate"].get<double>() > 1e6) {
      error("/workload/rate", "expected a rate in writes per second in [0, 1000000]");
    }
    wl.rate_per_s = w["rate"].get<double>();
    wl.start_us = w.contains("start") ? time(w["start"], "/workload/start") : 0;
    wl.stop_us = w.contains("stop") ? time(w["stop"], "/workload/stop") : scenario_.duration_us;
    if (wl.stop_us < wl.start_us) error("/workload", "stop is before start");
    if (w.contains("size")) wl.size_bytes = static_cast<uint32_t>(count(w["size"], "/workload/size", 0, 1 << 20));
    const double expected = wl.rate_per_s * static_cast<double>(std::min(wl.stop_us, scenario_.duration_us) - wl.start_us) / 1e6;
    total_writes_ += static_cast<uint64_t>(expected);
  }
  if (root.contains("timeline")) {
    const json& t = root["timeline"];
    if (!t.is_array()) error("/timeline", "expected an array of actions, found " + type_name(t));
    if (t.size() > ScenarioLimits::kMaxActions) error("/timeline", "more than 100000 actions");
    for (size_t i = 0; i < t.size(); ++i) load_action(t[i], i);
  }
  if (total_writes_ > ScenarioLimits::kMaxWrites) {
    error("/", "the scenario asks for more than " + std::to_string(ScenarioLimits::kMaxWrites) + " client writes");
  }
  if (root.contains("expect")) {
    const json& x = root["expect"];
    if (!x.is_array()) error("/expect", "expected an array of checks, found " + type_name(x));
    if (x.size() > ScenarioLimits::kMaxExpectations) error("/expect", "more than 100000 checks");
    for (size_t i = 0; i < x.size(); ++i) load_expectation(x[i], i);
  }
  return std::move(scenario_);
}

// Nesting depth, counted outside strings, so that a deeply nested file is
// refused before the parser recurses into it.
int max_nesting(const std::string& text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
    else if (c == ']' || c == '}') --depth;
  }
  return max_depth;
}

}  // namespace

Scenario parse_scenario(const std::string& text, const std::string& file) {
  if (text.size() > ScenarioLimits::kMaxFileBytes) {
    throw ScenarioError(file + ": the file is larger than the limit of 16 MiB");
  }
  if (max_nesting(text) > ScenarioLimits::kMaxNesting) {
    throw ScenarioError(file + ": JSON nesting is deeper than the limit of 64");
  }
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    // Turn the byte offset into a line and column.
    const size_t offset = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    size_t line = 1, column = 1;
    for (size_t i = 0; i < offset; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string what = e.what();
    const size_t cut = what.find("parse error");
    if (cut != std::string::npos) what = what.substr(cut);
    throw ScenarioError(file + ":" + std::to_string(line) + ":" + std::to_string(column) +
                        ": invalid JSON: " + what);
  }
  if (!root.is_object()) {
    throw ScenarioError(file + ": /: expected a scenario object, found " + type_name(root));
  }
  return Loader(file).load(root);
}

Scenario load_scenario_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(path + ": cannot read the file");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw ScenarioError(path + ": cannot read the file");
  if (static_cast<size_t>(size) > ScenarioLimits::kMaxFileBytes) {
    throw ScenarioError(path + ": the file is larger than the limit of 16 MiB");
  }
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), size);
  if (!in) throw ScenarioError(path + ": cannot read the file");
  return parse_scenario(text, path);
}

std::vector<NodeId> Scenario::all_nodes() const {
  std::vector<NodeId> all = voters;
  all.insert(all.end(), learners.begin(), learners.end());
  all.insert(all.end(), spares.begin(), spares.end());
  std::sort(all.begin(), all.end());
  return all;
}

bool Scenario::has_node(NodeId id) const {
  return std::find(voters.begin(), voters.end(), id) != voters.end() ||
         std::find(learners.begin(), learners.end(), id) != learners.end() ||
         std::find(spares.begin(), spares.end(), id) != spares.end();
}

const char* action_name(ActionKind kind) {
  return action_names()[static_cast<size_t>(kind)].c_str();
}

}  // namespace sim
