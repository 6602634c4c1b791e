#include "sim/scenario/scenario_loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "sim/base/time.h"
#include "sim/canonical/canonical_caps.h"

namespace sim {

using json = nlohmann::json;

namespace {

// Echoed strings and pointer tokens are cut to this many bytes, so that a
// megabyte-long key still gives a one-line message.
constexpr size_t kEchoBytes = 60;

// The first `limit` bytes of s, cut at a UTF-8 character boundary, with "..."
// when something was cut.
std::string shorten(const std::string& s, size_t limit = kEchoBytes) {
  if (s.size() <= limit) return s;
  size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n) + "...";
}

// A string from the file, quoted and escaped like JSON so that control
// characters cannot break the one-line message.
std::string quote(const std::string& s) {
  return json(shorten(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

// A key as a JSON pointer token (RFC 6901: "~" -> "~0", "/" -> "~1"); control
// characters are shown as \uXXXX so the message stays on one line.
std::string token(const std::string& key) {
  std::string out;
  for (char c : shorten(key)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& options) {
  // Every option is short; a long word is far from all of them, and comparing
  // it would cost |word| x |option| per option.
  if (word.size() > 40) return "";
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
    case json::value_t::string: return "the string " + quote(v.get<std::string>());
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "the number " + v.dump();
  }
}

const std::vector<std::string>& action_names() {
  static const std::vector<std::string> names = {
      "crash",       "restart",  "pause",       "resume",      "partition",
      "isolate",     "cut",      "heal",        "set_network", "write",
      "add_learner", "promote",  "demote",      "remove",      "transfer_leadership",
      "snapshot",    "campaign", "clock_drift", "read"};
  return names;
}

const std::vector<std::string>& check_names() {
  static const std::vector<std::string> names = {"leader",    "leaders",  "role",   "term",
                                                 "committed", "applied",  "config", "event",
                                                 "no_event",  "converged"};
  return names;
}

const std::vector<std::string>& event_names() {
  static const std::vector<std::string> names = {
      "elected",  "step_down",        "election_started", "vote_granted",       "demoted",
      "promoted", "config_committed", "snapshot_sent",    "snapshot_installed", "snapshot_taken",
      "crash",    "restart"};
  return names;
}

const std::vector<std::string>& reason_names() {
  static const std::vector<std::string> names = {"higher_term", "granted_vote", "lost_quorum",
                                                 "removed", "transfer"};
  return names;
}

const std::vector<std::string>& role_names() {
  static const std::vector<std::string> names = {"leader",       "follower", "candidate",
                                                 "precandidate", "learner",  "crashed"};
  return names;
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
        error(path + "/" + token(key), "unknown key " + quote(key) + did_you_mean(key, allowed) +
                                           "; expected one of: " + list(allowed));
      }
    }
    for (const std::string& key : required) {
      if (!obj.contains(key)) error(path, "missing required key \"" + key + "\"");
    }
  }

  TimeUs time_string(const std::string& s, const std::string& path) {
    std::string message;
    const std::optional<TimeUs> t = parse_time(s, &message);
    if (!t) error(path, message);
    return *t;
  }

  TimeUs time(const json& v, const std::string& path) {
    if (v.is_string()) return time_string(v.get<std::string>(), path);
    if (!v.is_number()) {
      error(path,
            "expected a time (a number of milliseconds or a string such as \"150ms\"), found " +
                type_name(v));
    }
    // The parser refuses numbers that overflow a double, so ms is finite.
    const double ms = v.get<double>();
    if (ms < 0) error(path, "a time may not be negative (found " + v.dump() + ")");
    if (ms > static_cast<double>(kMaxTimeUs) / 1000.0) {
      error(path, v.dump() + " ms exceeds the limit of 48 hours");
    }
    return static_cast<TimeUs>(std::llround(ms * 1000.0));
  }

  double probability(const json& v, const std::string& path) {
    if (!v.is_number())
      error(path, "expected a probability (a number in [0, 1]), found " + type_name(v));
    const double p = v.get<double>();
    if (!(p >= 0.0 && p <= 1.0)) error(path, "a probability must be in [0, 1], found " + v.dump());
    return p;
  }

  // A whole number in [min, max]; 2.0 is accepted, 2.5 is not.
  uint64_t integer(const json& v, const std::string& path, uint64_t min, uint64_t max) {
    auto out_of_range = [&] {
      error(path, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                      "], found " + v.dump());
    };
    uint64_t n = 0;
    if (v.is_number_unsigned()) {
      n = v.get<uint64_t>();
    } else if (v.is_number_integer()) {
      if (v.get<int64_t>() < 0) out_of_range();
      n = static_cast<uint64_t>(v.get<int64_t>());
    } else if (v.is_number_float()) {
      const double d = v.get<double>();
      if (d != std::floor(d)) error(path, "expected a whole number, found " + v.dump());
      // 2^64 is the first double past the uint64 range; converting it or
      // anything larger would be undefined.
      if (d < 0 || d >= 18446744073709551616.0) out_of_range();
      n = static_cast<uint64_t>(d);
    } else {
      error(path, "expected an integer, found " + type_name(v));
    }
    if (n < min || n > max) out_of_range();
    return n;
  }

  raft::ReadMode read_mode(const json& v, const std::string& path) {
    const std::string mode = string(v, path);
    static const std::vector<std::string> kModes = {"read_index", "lease", "stale"};
    for (size_t i = 0; i < kModes.size(); ++i) {
      if (mode == kModes[i]) return static_cast<raft::ReadMode>(i);
    }
    error(path, "unknown read mode " + quote(mode) + did_you_mean(mode, kModes) +
                    "; modes: read_index, lease, stale");
  }
  static constexpr uint64_t kMaxKey = 1u << 30;

  bool boolean(const json& v, const std::string& path) {
    if (!v.is_boolean()) error(path, "expected true or false, found " + type_name(v));
    return v.get<bool>();
  }

  std::string string(const json& v, const std::string& path) {
    if (!v.is_string()) error(path, "expected a string, found " + type_name(v));
    return v.get<std::string>();
  }

  NodeId raw_id(const json& v, const std::string& path) {
    if (!v.is_number())
      error(path, "expected a node id (a positive integer), found " + type_name(v));
    return static_cast<NodeId>(integer(v, path, 1, ScenarioLimits::kMaxNodeId));
  }

  bool has_node(NodeId id) const {
    return std::binary_search(members_.begin(), members_.end(), id);
  }

  NodeId node_id(const json& v, const std::string& path) {
    const NodeId id = raw_id(v, path);
    if (!has_node(id))
      error(path,
            "node " + std::to_string(id) + " is not in the cluster (nodes: " + nodes_text() + ")");
    return id;
  }

  std::string nodes_text() const {
    // Ranges keep the message short for large clusters: 1-5,9.
    std::string out;
    for (size_t i = 0; i < members_.size();) {
      size_t j = i;
      while (j + 1 < members_.size() && members_[j + 1] == members_[j] + 1) ++j;
      out += (out.empty() ? "" : ",") + std::to_string(members_[i]);
      if (j > i) out += "-" + std::to_string(members_[j]);
      i = j + 1;
    }
    return out;
  }

  std::vector<NodeId> id_list(const json& v, const std::string& path, bool must_exist) {
    if (!v.is_array()) error(path, "expected an array of node ids, found " + type_name(v));
    if (v.size() > ScenarioLimits::kMaxNodes) {
      error(path,
            "more than the limit of " + std::to_string(ScenarioLimits::kMaxNodes) + " node ids");
    }
    std::vector<NodeId> ids;
    std::set<NodeId> seen;
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string p = path + "/" + std::to_string(i);
      const NodeId id = must_exist ? node_id(v[i], p) : raw_id(v[i], p);
      if (!seen.insert(id).second) error(p, "node " + std::to_string(id) + " is listed twice");
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
      if (m.b_us < m.a_us)
        error(path,
              "latency min " + format_time(m.a_us) + " is greater than max " + format_time(m.b_us));
    } else if (v.is_number() || v.is_string()) {
      m.kind = LatencyModel::Kind::constant;
      m.a_us = m.b_us = time(v, path);
    } else {
      error(path,
            "expected a latency: a time, {\"min\", \"max\"} or {\"mean\", \"stddev\"}; found " +
                type_name(v));
    }
    return m;
  }

  // A node: an id in the cluster, "leader" (where allowed), or an alias. An
  // alias is checked by the caller with alias_bound(), once the bindings it
  // may use are known.
  NodeRef node_ref(const json& v, const std::string& path, bool allow_leader) {
    NodeRef ref;
    if (!v.is_string()) {
      if (!v.is_number()) {
        error(path, "expected a node: an id, \"leader\" or an alias bound with \"as\"; found " +
                        type_name(v));
      }
      ref.kind = NodeRef::Kind::id;
      ref.id = node_id(v, path);
      return ref;
    }
    const std::string s = v.get<std::string>();
    if (all_digits(s))
      error(path, "a node id is a number: write " + shorten(s) + ", not " + quote(s));
    if (s == "leader") {
      if (!allow_leader) {
        error(path,
              "a window check may not name \"leader\" (the leader can change during the window); "
              "bind an alias with \"as\" in the timeline and name it");
      }
      ref.kind = NodeRef::Kind::leader;
      return ref;
    }
    ref.kind = NodeRef::Kind::alias;
    ref.alias = s;
    return ref;
  }

  // An alias used at `at_us` (by the action at `index`; SIZE_MAX for a check,
  // which runs after every action of its instant) must be bound by an action
  // that surely runs before it.
  void alias_bound(const NodeRef& ref, const std::string& path, TimeUs at_us, size_t index,
                   const std::string& what) {
    if (ref.kind != NodeRef::Kind::alias) return;
    auto it = bindings_.find(ref.alias);
    if (it == bindings_.end()) {
      std::vector<std::string> known = {"leader"};
      for (const auto& binding : bindings_) known.push_back(binding.first);
      error(path, "alias " + quote(ref.alias) +
                      " is not bound: no timeline action binds it with \"as\"" +
                      did_you_mean(ref.alias, known));
    }
    const auto [bound_us, binder] = it->second;
    if (std::make_pair(bound_us, binder) >= std::make_pair(at_us, index)) {
      error(path, "alias " + quote(ref.alias) + " is not bound yet " + what + " " +
                      format_time(at_us) + ": the first action binding it (/timeline/" +
                      std::to_string(binder) + ") runs " +
                      (scenario_.actions[binder].at.min_us == bound_us ? "at " : "as late as ") +
                      format_time(bound_us) + (bound_us == at_us ? ", later in the file" : ""));
    }
  }

  void load_cluster(const json& v);
  void load_raft(const json& v);
  void load_action(const json& v, size_t index);
  void load_expectation(const json& v, size_t index);
  void check_budget() const;

  std::string file_;
  Scenario scenario_;
  std::vector<NodeId> members_;  // every node of the cluster, sorted
  // alias -> the earliest (latest possible instant, file index) of an action binding it
  std::map<std::string, std::pair<TimeUs, size_t>> bindings_;
  uint64_t total_writes_ = 0;
  double total_write_bytes_ = 0;
  double max_drift_rate_ = 1.0;
};

void Loader::load_cluster(const json& v) {
  keys(v, "/cluster", {"voters", "learners", "spares"}, {"voters"});
  const json& voters = v["voters"];
  if (voters.is_array()) {
    scenario_.voters = id_list(voters, "/cluster/voters", false);
  } else if (voters.is_number()) {
    const double n = voters.get<double>();
    if (n < 1 || n != std::floor(n)) {
      error("/cluster/voters",
            "expected a positive whole number of voters, found " + voters.dump());
    }
    if (n > static_cast<double>(ScenarioLimits::kMaxNodes)) {
      error("/cluster/voters", voters.dump() + " voters is more than the limit of " +
                                   std::to_string(ScenarioLimits::kMaxNodes) + " nodes");
    }
    for (NodeId i = 1; i <= static_cast<NodeId>(n); ++i) scenario_.voters.push_back(i);
  } else {
    error("/cluster/voters",
          "expected a number of voters or an array of node ids, found " + type_name(voters));
  }
  if (scenario_.voters.empty()) error("/cluster/voters", "a cluster needs at least one voter");
  if (v.contains("learners"))
    scenario_.learners = id_list(v["learners"], "/cluster/learners", false);
  if (v.contains("spares")) scenario_.spares = id_list(v["spares"], "/cluster/spares", false);
  std::map<NodeId, const char*> role;
  auto check = [&](const std::vector<NodeId>& ids, const std::string& path, const char* what) {
    for (size_t i = 0; i < ids.size(); ++i) {
      auto [it, fresh] = role.emplace(ids[i], what);
      if (!fresh) {
        error(path + "/" + std::to_string(i), "node " + std::to_string(ids[i]) + " is both " +
                                                  it->second + " and " + what +
                                                  "; a node has one role");
      }
    }
  };
  check(scenario_.voters, "/cluster/voters", "a voter");
  check(scenario_.learners, "/cluster/learners", "a learner");
  check(scenario_.spares, "/cluster/spares", "a spare");
  if (role.size() > ScenarioLimits::kMaxNodes) {
    error("/cluster", std::to_string(role.size()) + " nodes is more than the limit of " +
                          std::to_string(ScenarioLimits::kMaxNodes));
  }
  for (const auto& entry : role) members_.push_back(entry.first);
}

void Loader::load_raft(const json& v) {
  keys(v, "/raft",
       {"election_timeout", "heartbeat_interval", "check_quorum", "pre_vote", "max_lag_threshold",
        "promotion_threshold", "auto_promote", "min_voters", "snapshot_threshold",
        "snapshot_chunk_size", "max_inflight", "max_entries_per_message", "clock_drift_bound",
        "bugs"});
  raft::Options& o = scenario_.raft;
  if (v.contains("election_timeout")) {
    const json& et = v["election_timeout"];
    if (!et.is_array() || et.size() != 2) {
      error("/raft/election_timeout", "expected [min, max], two times; found " + type_name(et));
    }
    o.election_timeout_min_us = time(et[0], "/raft/election_timeout/0");
    o.election_timeout_max_us = time(et[1], "/raft/election_timeout/1");
    if (o.election_timeout_min_us <= 0) error("/raft/election_timeout/0", "must be greater than 0");
    if (o.election_timeout_max_us < o.election_timeout_min_us) {
      error("/raft/election_timeout", "min " + format_time(o.election_timeout_min_us) +
                                          " is greater than max " +
                                          format_time(o.election_timeout_max_us));
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
  if (v.contains("max_lag_threshold"))
    o.max_lag_threshold = integer(v["max_lag_threshold"], "/raft/max_lag_threshold", 0, big);
  if (v.contains("promotion_threshold"))
    o.promotion_threshold = integer(v["promotion_threshold"], "/raft/promotion_threshold", 0, big);
  if (v.contains("min_voters"))
    o.min_voters = static_cast<uint32_t>(
        integer(v["min_voters"], "/raft/min_voters", 1, ScenarioLimits::kMaxNodes));
  if (v.contains("snapshot_threshold"))
    o.snapshot_threshold = integer(v["snapshot_threshold"], "/raft/snapshot_threshold", 1, big);
  if (v.contains("snapshot_chunk_size"))
    o.snapshot_chunk_size = integer(v["snapshot_chunk_size"], "/raft/snapshot_chunk_size", 1, big);
  if (v.contains("max_inflight"))
    o.max_inflight =
        static_cast<uint32_t>(integer(v["max_inflight"], "/raft/max_inflight", 1, 1'000'000));
  if (v.contains("max_entries_per_message"))
    o.max_entries_per_message = static_cast<uint32_t>(
        integer(v["max_entries_per_message"], "/raft/max_entries_per_message", 1, 1'000'000));
  if (v.contains("clock_drift_bound")) {
    const json& d = v["clock_drift_bound"];
    if (!d.is_number() || !(d.get<double>() >= 0 && d.get<double>() < 1)) {
      error("/raft/clock_drift_bound",
            "expected a fraction in [0, 1) (0.1: clocks run within 10% of real time), found " +
                (d.is_number() ? d.dump() : type_name(d)));
    }
    o.clock_drift_bound_ppm = static_cast<int64_t>(d.get<double>() * 1e6 + 0.5);
  }
  if (v.contains("bugs")) {
    const json& bugs = v["bugs"];
    if (!bugs.is_array())
      error("/raft/bugs", "expected an array of bug names, found " + type_name(bugs));
    for (size_t i = 0; i < bugs.size(); ++i) {
      const std::string path = "/raft/bugs/" + std::to_string(i);
      const std::string name = string(bugs[i], path);
      raft::PlantedBugs probe;
      if (!probe.enable(name)) {
        error(path, "unknown bug " + quote(name) + did_you_mean(name, raft::PlantedBugs::names()) +
                        "; known bugs: " + list(raft::PlantedBugs::names()));
      }
      if (std::find(scenario_.bugs.begin(), scenario_.bugs.end(), name) != scenario_.bugs.end()) {
        error(path, "bug \"" + name + "\" is listed twice");
      }
      scenario_.bugs.push_back(name);
    }
  }
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
    error(path + "/action", "unknown action " + quote(a.name) + did_you_mean(a.name, names) +
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
    case ActionKind::crash:
    case ActionKind::restart:
    case ActionKind::pause:
    case ActionKind::resume:
    case ActionKind::isolate:
    case ActionKind::snapshot:
    case ActionKind::campaign:
    case ActionKind::promote:
    case ActionKind::demote:
    case ActionKind::remove: need({"node"}, {}); break;
    case ActionKind::add_learner: need({"node"}, {"promote"}); break;
    case ActionKind::partition: need({"groups"}, {}); break;
    case ActionKind::cut: need({"from", "to"}, {"both"}); break;
    case ActionKind::heal: break;
    case ActionKind::set_network: need({}, {"latency", "drop", "duplicate", "between"}); break;
    case ActionKind::write: need({"count"}, {"node", "size", "key", "op", "expected"}); break;
    case ActionKind::read: need({"count"}, {"node", "key", "mode"}); break;
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
    if (a.at.max_us < a.at.min_us) {
      error(path + "/at",
            "min " + format_time(a.at.min_us) + " is after max " + format_time(a.at.max_us));
    }
  } else {
    a.at.min_us = a.at.max_us = time(at, path + "/at");
  }
  if (a.at.max_us > scenario_.duration_us) {
    error(path + "/at", std::string(a.at.min_us == a.at.max_us ? "the action at "
                                                               : "the action may run as late as ") +
                            format_time(a.at.max_us) + ", after the scenario's duration " +
                            format_time(scenario_.duration_us));
  }

  if (v.contains("node")) a.node = node_ref(v["node"], path + "/node", true);
  if (a.kind == ActionKind::transfer_leadership) a.node = node_ref(v["to"], path + "/to", true);
  if (a.kind == ActionKind::cut) {
    a.from = node_ref(v["from"], path + "/from", true);
    a.to = node_ref(v["to"], path + "/to", true);
    if (a.from.kind == NodeRef::Kind::id && a.to.kind == NodeRef::Kind::id &&
        a.from.id == a.to.id) {
      error(path + "/to",
            "a link needs two different nodes; both ends are node " + std::to_string(a.from.id));
    }
    if (v.contains("both")) a.both = boolean(v["both"], path + "/both");
  }
  if (a.kind == ActionKind::partition) {
    const json& groups = v["groups"];
    if (!groups.is_array())
      error(path + "/groups",
            "expected an array of arrays of node ids, found " + type_name(groups));
    if (groups.size() > ScenarioLimits::kMaxNodes) {
      error(path + "/groups", "more groups than the limit of " +
                                  std::to_string(ScenarioLimits::kMaxNodes) + " nodes");
    }
    std::map<NodeId, size_t> group_of;
    for (size_t g = 0; g < groups.size(); ++g) {
      const std::string gp = path + "/groups/" + std::to_string(g);
      std::vector<NodeId> ids = id_list(groups[g], gp, true);
      for (size_t i = 0; i < ids.size(); ++i) {
        auto [other, fresh] = group_of.emplace(ids[i], g);
        if (!fresh) {
          error(gp + "/" + std::to_string(i),
                "node " + std::to_string(ids[i]) + " is also in group " +
                    std::to_string(other->second) + "; partition groups may not overlap");
        }
      }
      a.groups.push_back(std::move(ids));
    }
  }
  if (a.kind == ActionKind::set_network) {
    if (!v.contains("latency") && !v.contains("drop") && !v.contains("duplicate")) {
      error(path, "set_network changes nothing: give at least one of latency, drop, duplicate");
    }
    if (v.contains("latency")) a.patch.latency = latency(v["latency"], path + "/latency");
    if (v.contains("drop")) a.patch.drop = probability(v["drop"], path + "/drop");
    if (v.contains("duplicate"))
      a.patch.duplicate = probability(v["duplicate"], path + "/duplicate");
    if (v.contains("between")) {
      std::vector<NodeId> pair = id_list(v["between"], path + "/between", true);
      if (pair.size() != 2)
        error(path + "/between", "expected two node ids, found " + std::to_string(pair.size()));
      a.between = std::make_pair(pair[0], pair[1]);
    }
  }
  if (a.kind == ActionKind::write) {
    a.count = integer(v["count"], path + "/count", 1, ScenarioLimits::kMaxWritesPerAction);
    if (v.contains("size"))
      a.size_bytes = static_cast<uint32_t>(integer(v["size"], path + "/size", 0, 1 << 20));
    total_writes_ += a.count;
    total_write_bytes_ += static_cast<double>(a.count) * a.size_bytes;
    if (v.contains("op")) {
      const std::string op = string(v["op"], path + "/op");
      if (op == "cas") {
        a.op = raft::WriteOp::cas;
      } else if (op != "put") {
        error(path + "/op", "unknown op " + quote(op) + did_you_mean(op, {"put", "cas"}) +
                                "; a write is a \"put\" or a \"cas\"");
      }
    }
    if (v.contains("expected")) {
      if (a.op != raft::WriteOp::cas) {
        error(path + "/expected", "only a \"cas\" write expects a value");
      }
      a.expected = integer(v["expected"], path + "/expected", 0, UINT64_MAX / 2);
    }
  }
  if (a.kind == ActionKind::read) {
    a.count = integer(v["count"], path + "/count", 1, ScenarioLimits::kMaxWritesPerAction);
    if (v.contains("mode")) a.read_mode = read_mode(v["mode"], path + "/mode");
  }
  if ((a.kind == ActionKind::write || a.kind == ActionKind::read) && v.contains("key")) {
    a.key = static_cast<uint32_t>(integer(v["key"], path + "/key", 0, kMaxKey));
  }
  if (a.kind == ActionKind::add_learner && v.contains("promote")) {
    a.promote = boolean(v["promote"], path + "/promote");
  }
  if (a.kind == ActionKind::clock_drift) {
    const json& rate = v["rate"];
    if (!rate.is_number())
      error(path + "/rate", "expected a number (1.0 is real speed), found " + type_name(rate));
    const double r = rate.get<double>();
    if (!(r >= 0.01 && r <= 100.0))
      error(path + "/rate", "rate must be in [0.01, 100], found " + rate.dump());
    a.rate_ppm = std::llround(r * 1e6);
    max_drift_rate_ = std::max(max_drift_rate_, r);
  }
  if (v.contains("as")) {
    a.as = string(v["as"], path + "/as");
    for (const char* reserved : {"", "leader", "all", "any", "none"}) {
      if (a.as == reserved) error(path + "/as", quote(a.as) + " cannot be an alias");
    }
    if (all_digits(a.as))
      error(path + "/as", quote(a.as) + " cannot be an alias: it reads as a node id");
    if (!a.node.present()) error(path + "/as", "this action names no node to bind");
    auto [binding, fresh] = bindings_.emplace(a.as, std::make_pair(a.at.max_us, index));
    if (!fresh) binding->second = std::min(binding->second, std::make_pair(a.at.max_us, index));
  }
  scenario_.actions.push_back(std::move(a));
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
    error(path + "/check", "unknown check " + quote(e.name) + did_you_mean(e.name, names) +
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
    case CheckKind::event:
      allowed.insert(allowed.end(), {"event", "node", "reason", "count"});
      break;
    case CheckKind::no_event: allowed.insert(allowed.end(), {"event", "node", "reason"}); break;
    case CheckKind::converged: break;
  }
  keys(v, path, allowed);
  const bool has_at = v.contains("at");
  const bool has_within = v.contains("within");
  if (has_at == has_within)
    error(path, "a check needs exactly one of \"at\" (instant) or \"within\" (window)");
  const bool window_kind = e.kind == CheckKind::event || e.kind == CheckKind::no_event;
  if (window_kind && has_at) {
    error(path + "/at", "\"" + e.name + "\" is a window check: use \"within\": [from, to]");
  }
  if (!window_kind && has_within)
    error(path + "/within", "\"" + e.name + "\" is an instant check: use \"at\"");
  // The instant by which every alias the check names must be bound, and how
  // to say it.
  TimeUs alias_deadline;
  std::string alias_when;
  if (has_at) {
    e.at_us = time(v["at"], path + "/at");
    if (e.at_us > scenario_.duration_us) {
      error(path + "/at", "the check at " + format_time(e.at_us) +
                              " is after the scenario's duration " +
                              format_time(scenario_.duration_us));
    }
    alias_deadline = e.at_us;
    alias_when = "at the check's time";
  } else {
    const json& w = v["within"];
    if (!w.is_array() || w.size() != 2)
      error(path + "/within", "expected [from, to], two times; found " + type_name(w));
    e.window = true;
    e.from_us = time(w[0], path + "/within/0");
    e.to_us = time(w[1], path + "/within/1");
    if (e.to_us < e.from_us) {
      error(path + "/within", "the window ends (" + format_time(e.to_us) + ") before it starts (" +
                                  format_time(e.from_us) + ")");
    }
    if (e.from_us > scenario_.duration_us) {
      error(path + "/within/0", "the window starts at " + format_time(e.from_us) +
                                    ", after the scenario's duration " +
                                    format_time(scenario_.duration_us));
    }
    // The run ends at the duration: a window that reaches past it would be
    // checked over less time than it says.
    if (e.to_us > scenario_.duration_us) {
      error(path + "/within/1", "the window ends at " + format_time(e.to_us) +
                                    ", after the scenario's duration " +
                                    format_time(scenario_.duration_us) + "; end it at " +
                                    format_time(scenario_.duration_us) + " at the latest");
    }
    // A window check is decided at its end (the run's end at the latest).
    alias_deadline = std::min(e.to_us, scenario_.duration_us);
    alias_when = "at the window's end";
  }
  auto ref = [&](const char* key, bool allow_leader) {
    const NodeRef r = node_ref(v[key], path + "/" + key, allow_leader);
    alias_bound(r, path + "/" + key, alias_deadline, SIZE_MAX, alias_when);
    return r;
  };
  auto bound = [&](const char* key) -> std::optional<uint64_t> {
    if (!v.contains(key)) return std::nullopt;
    return integer(v[key], path + "/" + key, 0, UINT64_MAX / 2);
  };
  auto require = [&](std::initializer_list<const char*> required) {
    for (const char* key : required) {
      if (!v.contains(key))
        error(path,
              "missing required key \"" + std::string(key) + "\" for check \"" + e.name + "\"");
    }
  };
  switch (e.kind) {
    case CheckKind::leader: {
      if (v.contains("is") == v.contains("not"))
        error(path, "\"leader\" needs exactly one of \"is\" or \"not\"");
      const char* key = v.contains("is") ? "is" : "not";
      if (v[key] == "leader") {
        error(path + "/" + key,
              "\"leader\" here names the leader itself; write \"is\": \"any\", or bind an alias "
              "with \"as\"");
      }
      if (v.contains("is") && v["is"] == "any") {
        e.is_node.kind = NodeRef::Kind::any;
      } else if (v.contains("is") && v["is"] == "none") {
        e.is_node.kind = NodeRef::Kind::none;
      } else if (v.contains("is")) {
        e.is_node = ref("is", true);
      } else {
        e.not_node = ref("not", true);
      }
      break;
    }
    case CheckKind::leaders:
      require({"count"});
      e.count = integer(v["count"], path + "/count", 0, ScenarioLimits::kMaxNodes);
      break;
    case CheckKind::role: {
      require({"node", "is"});
      e.node = ref("node", true);
      e.role = string(v["is"], path + "/is");
      const auto& roles = role_names();
      if (std::find(roles.begin(), roles.end(), e.role) == roles.end()) {
        error(path + "/is", "unknown role " + quote(e.role) + did_you_mean(e.role, roles) +
                                "; roles: " + list(roles));
      }
      break;
    }
    case CheckKind::term:
      if (v.contains("node")) e.node = ref("node", true);
      e.min = bound("min");
      e.max = bound("max");
      if (e.min && e.max && *e.min > *e.max)
        error(path,
              "min " + std::to_string(*e.min) + " is greater than max " + std::to_string(*e.max));
      break;
    case CheckKind::committed:
      require({"min"});
      e.min = bound("min");
      e.max = bound("max");
      if (e.max && *e.min > *e.max)
        error(path,
              "min " + std::to_string(*e.min) + " is greater than max " + std::to_string(*e.max));
      break;
    case CheckKind::applied:
      require({"node", "min"});
      if (v["node"] == "all") {
        e.node.kind = NodeRef::Kind::all;
      } else {
        e.node = ref("node", true);
      }
      e.min = bound("min");
      break;
    case CheckKind::config:
      require({"voters"});
      e.voters = id_list(v["voters"], path + "/voters", true);
      if (v.contains("learners")) e.learners = id_list(v["learners"], path + "/learners", true);
      for (size_t i = 0; i < e.learners.size(); ++i) {
        if (std::find(e.voters.begin(), e.voters.end(), e.learners[i]) != e.voters.end()) {
          error(path + "/learners/" + std::to_string(i),
                "node " + std::to_string(e.learners[i]) + " is both a voter and a learner");
        }
      }
      std::sort(e.voters.begin(), e.voters.end());
      std::sort(e.learners.begin(), e.learners.end());
      break;
    case CheckKind::event:
    case CheckKind::no_event: {
      require({"event"});
      e.event = string(v["event"], path + "/event");
      const auto& events = event_names();
      if (std::find(events.begin(), events.end(), e.event) == events.end()) {
        error(path + "/event", "unknown event " + quote(e.event) + did_you_mean(e.event, events) +
                                   "; events: " + list(events));
      }
      if (v.contains("node")) e.node = ref("node", false);
      if (v.contains("reason")) {
        e.reason = string(v["reason"], path + "/reason");
        const auto& reasons = reason_names();
        if (std::find(reasons.begin(), reasons.end(), e.reason) == reasons.end()) {
          error(path + "/reason", "unknown reason " + quote(e.reason) +
                                      did_you_mean(e.reason, reasons) +
                                      "; reasons: " + list(reasons));
        }
        if (e.event != "step_down")
          error(path + "/reason", "only step_down events have a reason, not " + e.event);
      }
      if (v.contains("count")) {
        const json& c = v["count"];
        if (!c.is_object())
          error(path + "/count", "expected {\"min\": n, \"max\": m}, found " + type_name(c));
        keys(c, path + "/count", {"min", "max"});
        if (c.contains("min")) e.min = integer(c["min"], path + "/count/min", 0, UINT64_MAX / 2);
        if (c.contains("max")) e.max = integer(c["max"], path + "/count/max", 0, UINT64_MAX / 2);
        if (e.min && e.max && *e.min > *e.max) {
          error(path + "/count",
                "min " + std::to_string(*e.min) + " is greater than max " + std::to_string(*e.max));
        }
      }
      break;
    }
    case CheckKind::converged: break;
  }
  scenario_.expectations.push_back(std::move(e));
}

// Bounds on how long the run can take, from what the file asks for.
void Loader::check_budget() const {
  if (total_writes_ > ScenarioLimits::kMaxWrites) {
    error("/", "the scenario asks for about " + std::to_string(total_writes_) +
                   " client writes, more than the limit of " +
                   std::to_string(ScenarioLimits::kMaxWrites));
  }
  const raft::Options& o = scenario_.raft;
  const double nodes = static_cast<double>(members_.size());
  const double shortest_timer_us =
      static_cast<double>(std::min(o.heartbeat_interval_us, o.election_timeout_min_us)) /
      max_drift_rate_;
  const double work =
      nodes * nodes * static_cast<double>(scenario_.duration_us) / shortest_timer_us;
  if (work > ScenarioLimits::kMaxTimerWork) {
    char figure[32];
    std::snprintf(figure, sizeof figure, "%.2g", work);
    error("/duration",
          "the run would be too long: " + std::to_string(members_.size()) + " nodes for " +
              format_time(scenario_.duration_us) + " with a timer every " +
              format_time(static_cast<TimeUs>(shortest_timer_us)) + " is " + figure +
              " units of work (nodes² × duration / shortest timer), more than the limit of 1e9; "
              "use fewer nodes, a shorter duration or a longer heartbeat_interval");
  }
  const double chunks = total_write_bytes_ / static_cast<double>(o.snapshot_chunk_size);
  if (chunks > ScenarioLimits::kMaxSnapshotChunks) {
    error("/raft/snapshot_chunk_size",
          "a snapshot of every byte written would take more than 1e7 chunks of " +
              std::to_string(o.snapshot_chunk_size) + " bytes; use larger chunks");
  }
}

Scenario Loader::load(const json& root) {
  if (!root.is_object()) error("", "expected a scenario object, found " + type_name(root));
  keys(root, "",
       {"name", "description", "seed", "duration", "max_events", "implementation", "cluster",
        "raft", "network", "disk", "workload", "timeline", "expect", "check_stale_reads"},
       {"name", "duration", "cluster"});
  scenario_.file = file_;
  scenario_.name = string(root["name"], "/name");
  if (root.contains("description"))
    scenario_.description = string(root["description"], "/description");
  if (root.contains("seed")) scenario_.seed = integer(root["seed"], "/seed", 0, UINT64_MAX);
  scenario_.duration_us = time(root["duration"], "/duration");
  if (scenario_.duration_us <= 0) error("/duration", "must be greater than 0");
  if (root.contains("max_events")) {
    scenario_.max_events = integer(root["max_events"], "/max_events", 1, UINT64_MAX);
  }
  load_cluster(root["cluster"]);
  if (root.contains("raft")) load_raft(root["raft"]);
  if (root.contains("network")) {
    const json& n = root["network"];
    keys(n, "/network", {"latency", "drop", "duplicate"});
    if (n.contains("latency"))
      scenario_.network.latency = latency(n["latency"], "/network/latency");
    if (n.contains("drop")) scenario_.network.drop = probability(n["drop"], "/network/drop");
    if (n.contains("duplicate"))
      scenario_.network.duplicate = probability(n["duplicate"], "/network/duplicate");
  }
  if (root.contains("disk")) {
    keys(root["disk"], "/disk", {"write_latency"});
    if (root["disk"].contains("write_latency")) {
      scenario_.disk_write_latency_us = time(root["disk"]["write_latency"], "/disk/write_latency");
    }
  }
  if (root.contains("workload")) {
    const json& w = root["workload"];
    keys(w, "/workload",
         {"rate", "start", "stop", "size", "keys", "read_ratio", "cas_ratio", "read_mode"},
         {"rate"});
    Workload& wl = scenario_.workload;
    wl.enabled = true;
    const json& rate = w["rate"];
    if (!rate.is_number() || !(rate.get<double>() >= 0) || rate.get<double>() > 1e6) {
      error("/workload/rate",
            "expected a rate in writes per second in [0, 1000000], found " + type_name(rate));
    }
    wl.rate_per_s = rate.get<double>();
    wl.start_us = w.contains("start") ? time(w["start"], "/workload/start") : 0;
    wl.stop_us = w.contains("stop") ? time(w["stop"], "/workload/stop") : scenario_.duration_us;
    if (wl.start_us > scenario_.duration_us) {
      error("/workload/start", "the workload starts at " + format_time(wl.start_us) +
                                   ", after the scenario's duration " +
                                   format_time(scenario_.duration_us));
    }
    if (wl.stop_us < wl.start_us) {
      error("/workload/stop", "the workload stops (" + format_time(wl.stop_us) +
                                  ") before it starts (" + format_time(wl.start_us) + ")");
    }
    if (w.contains("size"))
      wl.size_bytes = static_cast<uint32_t>(integer(w["size"], "/workload/size", 0, 1 << 20));
    if (w.contains("keys")) {
      wl.keys = static_cast<uint32_t>(integer(w["keys"], "/workload/keys", 1, kMaxKey));
    }
    for (const char* k : {"read_ratio", "cas_ratio", "read_mode"}) {
      if (w.contains(k) && wl.keys == 0) {
        error(std::string("/workload/") + k, "needs \"keys\", the number of keys to use");
      }
    }
    if (w.contains("read_ratio"))
      wl.read_ratio = probability(w["read_ratio"], "/workload/read_ratio");
    if (w.contains("cas_ratio")) wl.cas_ratio = probability(w["cas_ratio"], "/workload/cas_ratio");
    if (w.contains("read_mode")) wl.read_mode = read_mode(w["read_mode"], "/workload/read_mode");
    const double expected =
        wl.rate_per_s *
        static_cast<double>(std::min(wl.stop_us, scenario_.duration_us) - wl.start_us) / 1e6;
    total_writes_ += static_cast<uint64_t>(expected);
    total_write_bytes_ += expected * wl.size_bytes;
  }
  if (root.contains("check_stale_reads")) {
    scenario_.check_stale_reads = boolean(root["check_stale_reads"], "/check_stale_reads");
  }
  if (root.contains("timeline")) {
    const json& t = root["timeline"];
    if (!t.is_array()) error("/timeline", "expected an array of actions, found " + type_name(t));
    if (t.size() > ScenarioLimits::kMaxActions) {
      error("/timeline", std::to_string(t.size()) + " actions is more than the limit of " +
                             std::to_string(ScenarioLimits::kMaxActions));
    }
    for (size_t i = 0; i < t.size(); ++i) load_action(t[i], i);
    // Actions run in time order, so an alias may be bound by an action later
    // in the file but earlier in time.
    for (size_t i = 0; i < scenario_.actions.size(); ++i) {
      const Action& a = scenario_.actions[i];
      const std::string node_key = a.kind == ActionKind::transfer_leadership ? "/to" : "/node";
      const std::string when = "at this action's time";
      alias_bound(a.node, a.path + node_key, a.at.min_us, i, when);
      alias_bound(a.from, a.path + "/from", a.at.min_us, i, when);
      alias_bound(a.to, a.path + "/to", a.at.min_us, i, when);
    }
  }
  check_budget();
  if (root.contains("expect")) {
    const json& x = root["expect"];
    if (!x.is_array()) error("/expect", "expected an array of checks, found " + type_name(x));
    if (x.size() > ScenarioLimits::kMaxExpectations) {
      error("/expect", std::to_string(x.size()) + " checks is more than the limit of " +
                           std::to_string(ScenarioLimits::kMaxExpectations));
    }
    for (size_t i = 0; i < x.size(); ++i) load_expectation(x[i], i);
  }
  if (root.contains("implementation")) {
    const std::string impl = string(root["implementation"], "/implementation");
    if (impl == "canonical") {
      scenario_.implementation = Implementation::canonical;
    } else if (impl != "raftsim") {
      error("/implementation",
            "unknown implementation " + quote(impl) + "; expected \"raftsim\" or \"canonical\"");
    }
  }
  select_implementation(scenario_, scenario_.implementation);
  return std::move(scenario_);
}

// Builds the document like json::parse, with two differences: a duplicate key
// is refused (json::parse keeps the last value silently), and every parse
// failure keeps its byte offset (a number too large for a double is reported
// as out_of_range, which carries no position).
class DomBuilder {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit DomBuilder(json& root) : root_(root) {}

  bool null() { return put(nullptr); }
  bool boolean(bool v) { return put(v); }
  bool number_integer(number_integer_t v) { return put(v); }
  bool number_unsigned(number_unsigned_t v) { return put(v); }
  bool number_float(number_float_t v, const string_t&) { return put(v); }
  bool string(string_t& v) { return put(std::move(v)); }
  // Part of the SAX interface; JSON text has no binary values.
  bool binary(binary_t& v) { return put(json::binary(std::move(v))); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(string_t& k) {
    Frame& f = stack_.back();
    if (f.value->contains(k)) {
      duplicate_pointer_ = pointer() + "/" + token(k);
      duplicate_key_ = k;
      return false;
    }
    f.key = std::move(k);
    return true;
  }
  bool parse_error(std::size_t position, const std::string& last_token, const json::exception& e) {
    // A syntax error is at the last byte read; a number too large is a whole
    // token, which ends at `position`.
    const bool whole_token = dynamic_cast<const json::out_of_range*>(&e) != nullptr;
    error_offset_ = whole_token ? position - std::min(position, last_token.size())
                                : position - std::min<size_t>(position, 1);
    error_message_ = e.what();
    return false;
  }

  const std::string& duplicate_pointer() const { return duplicate_pointer_; }
  const std::string& duplicate_key() const { return duplicate_key_; }
  size_t error_offset() const { return error_offset_; }
  const std::string& error_message() const { return error_message_; }

 private:
  struct Frame {
    json* value;
    std::string key;  // objects: the key of the value being read
  };

  json* place(json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Frame& f = stack_.back();
    if (f.value->is_array()) {
      f.value->push_back(std::move(v));
      return &f.value->back();
    }
    json& slot = (*f.value)[f.key];
    slot = std::move(v);
    return &slot;
  }
  bool put(json&& v) {
    place(std::move(v));
    return true;
  }
  bool open(json&& v) {
    stack_.push_back({place(std::move(v)), {}});
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }
  // The pointer of the innermost open container.
  std::string pointer() const {
    std::string out;
    for (size_t i = 0; i + 1 < stack_.size(); ++i) {
      const Frame& f = stack_[i];
      out += "/" + (f.value->is_array() ? std::to_string(f.value->size() - 1) : token(f.key));
    }
    return out;
  }

  json& root_;
  std::vector<Frame> stack_;
  std::string duplicate_pointer_, duplicate_key_;
  size_t error_offset_ = 0;
  std::string error_message_;
};

// "file:line:column" of a byte offset; columns count UTF-8 characters.
std::string place_text(const std::string& file, const std::string& text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

// The parser's description without its own prefix and position, with the
// "last read" excerpt cut short and made printable ASCII (it can hold
// anything the file holds).
std::string syntax_message(std::string what) {
  if (const size_t p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
  if (what.rfind("parse error", 0) == 0) {
    if (const size_t p = what.find(": "); p != std::string::npos) what = what.substr(p + 2);
  }
  const std::string marker = "; last read: '";
  if (const size_t p = what.find(marker); p != std::string::npos) {
    const size_t begin = p + marker.size();
    size_t end = what.rfind("'; expected");
    if (end == std::string::npos || end < begin) end = what.rfind('\'');
    if (end != std::string::npos && end >= begin && end - begin > 40) {
      what = what.substr(0, begin) + "..." + what.substr(end - 40);
    }
  }
  std::string out;
  for (char c : what) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  return out;
}

// The offset of the first bracket nested deeper than the limit, counted
// outside strings, so that such a file is refused before it is parsed; or
// npos. (For text that is valid JSON up to that bracket this is exact.)
size_t too_deep_at(const std::string& text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > ScenarioLimits::kMaxNesting) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string::npos;
}

}  // namespace

Scenario parse_scenario(const std::string& text, const std::string& file) {
  if (text.size() > ScenarioLimits::kMaxFileBytes) {
    throw ScenarioError(file + ": the file is larger than the limit of 16 MiB");
  }
  // UTF-16 (as some Windows editors save) starts with a byte-order mark or
  // has a NUL byte in every ASCII character.
  const bool utf16_bom = text.size() >= 2 && ((text[0] == '\xff' && text[1] == '\xfe') ||
                                              (text[0] == '\xfe' && text[1] == '\xff'));
  if (utf16_bom || (text.size() >= 2 && (text[0] == '\0' || text[1] == '\0'))) {
    throw ScenarioError(file +
                        ": the file looks like UTF-16 text; a scenario file must be UTF-8 "
                        "(convert it, e.g. iconv -f UTF-16 -t UTF-8)");
  }
  // The JSON parser would stop at a NUL and ignore what follows.
  if (const size_t nul = text.find('\0'); nul != std::string::npos) {
    throw ScenarioError(place_text(file, text, nul) +
                        ": a NUL byte; a scenario file is JSON text and holds none");
  }
  if (const size_t at = too_deep_at(text); at != std::string::npos) {
    throw ScenarioError(place_text(file, text, at) + ": JSON nesting is deeper than the limit of " +
                        std::to_string(ScenarioLimits::kMaxNesting) + " levels");
  }
  json root;
  DomBuilder builder(root);
  if (!json::sax_parse(text, &builder)) {
    if (!builder.duplicate_pointer().empty()) {
      throw ScenarioError(file + ": " + builder.duplicate_pointer() + ": duplicate key " +
                          quote(builder.duplicate_key()) +
                          "; each key may appear once in an object");
    }
    throw ScenarioError(place_text(file, text, builder.error_offset()) +
                        ": invalid JSON: " + syntax_message(builder.error_message()));
  }
  return Loader(file).load(root);
}

void select_implementation(Scenario& scenario, Implementation implementation) {
  scenario.implementation = implementation;
  if (implementation != Implementation::canonical) return;
  if (auto why = canonical_refusal(scenario)) throw ScenarioError(scenario.file + ": " + *why);
}

Scenario load_scenario_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw ScenarioError(path + ": cannot read the file: it is a directory");
  }
  // "-" is stdin, as for most tools; it is not closed afterwards.
  const bool from_stdin = path == "-";
  std::unique_ptr<FILE, int (*)(FILE*)> in(from_stdin ? stdin : std::fopen(path.c_str(), "rb"),
                                           from_stdin ? +[](FILE*) { return 0; } : &std::fclose);
  // A blocked open or read (a FIFO without a writer) ends with EINTR when
  // Ctrl-C or SIGTERM arrives.
  auto reason = [] {
    return errno == EINTR ? std::string("interrupted") : std::string(std::strerror(errno));
  };
  if (!in) throw ScenarioError(path + ": cannot read the file: " + reason());
  // Read in chunks rather than trusting the size: pipes and /dev files have
  // none, and one byte past the limit is enough to refuse.
  std::string text;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, in.get())) > 0) {
    text.append(buf, n);
    if (text.size() > ScenarioLimits::kMaxFileBytes) {
      throw ScenarioError(path + ": the file is larger than the limit of 16 MiB");
    }
  }
  if (std::ferror(in.get())) throw ScenarioError(path + ": cannot read the file: " + reason());
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

bool Scenario::kv() const {
  if (workload.enabled && workload.keys != 0) return true;
  for (const Action& a : actions) {
    if (a.kind == ActionKind::read || a.key || a.op != raft::WriteOp::put) return true;
  }
  return false;
}

bool Scenario::uses_read_mode(raft::ReadMode mode) const {
  if (workload.enabled && workload.keys != 0 && workload.read_ratio > 0 &&
      workload.read_mode == mode) {
    return true;
  }
  for (const Action& a : actions) {
    if (a.kind == ActionKind::read && a.read_mode == mode) return true;
  }
  return false;
}

const char* action_name(ActionKind kind) {
  return action_names()[static_cast<size_t>(kind)].c_str();
}

}  // namespace sim
