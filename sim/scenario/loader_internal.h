// The scenario loader's parts (scenario_loader.cc, loader_actions.cc,
// loader_expectations.cc): the Loader class, which walks a parsed document
// and names the place of every error, and the text helpers its messages use.
// Each action and check kind is one row of a table (Loader::action_row,
// Loader::check_row): its name, its keys and the parser of its own fields.
// Internal to sim/scenario/.
#pragma once

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
#include "sim/scenario/canonical_caps.h"
#include "sim/scenario/scenario_loader.h"

namespace sim::loader_detail {

using json = nlohmann::json;

// Echoed strings and pointer tokens are cut to this many bytes, so that a
// megabyte-long key still gives a one-line message.
constexpr size_t kEchoBytes = 60;

// The first `limit` bytes of s, cut at a UTF-8 character boundary, with "..."
// when something was cut.
inline std::string shorten(const std::string& s, size_t limit = kEchoBytes) {
  if (s.size() <= limit) return s;
  size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n) + "...";
}

// A string from the file, quoted and escaped like JSON so that control
// characters cannot break the one-line message.
inline std::string quote(const std::string& s) {
  return json(shorten(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

// A key as a JSON pointer token (RFC 6901: "~" -> "~0", "/" -> "~1"); control
// characters are shown as \uXXXX so the message stays on one line.
inline std::string token(const std::string& key) {
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

inline bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

inline size_t edit_distance(const std::string& a, const std::string& b) {
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

inline std::string did_you_mean(const std::string& word, const std::vector<std::string>& options) {
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

inline std::string list(const std::vector<std::string>& options) {
  std::string out;
  for (size_t i = 0; i < options.size(); ++i) out += (i ? ", " : "") + options[i];
  return out;
}

inline std::string type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "the string " + quote(v.get<std::string>());
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "the number " + v.dump();
  }
}

inline const std::vector<std::string>& event_names() {
  static const std::vector<std::string> names = {
      "elected",  "step_down",        "election_started", "vote_granted",       "demoted",
      "promoted", "config_committed", "snapshot_sent",    "snapshot_installed", "snapshot_taken",
      "crash",    "restart"};
  return names;
}

inline const std::vector<std::string>& reason_names() {
  static const std::vector<std::string> names = {"higher_term", "granted_vote", "lost_quorum",
                                                 "removed", "transfer"};
  return names;
}

inline const std::vector<std::string>& role_names() {
  static const std::vector<std::string> names = {"leader",       "follower", "candidate",
                                                 "precandidate", "learner",  "crashed"};
  return names;
}

// Whether row i of a kind table (Loader::action_row, Loader::check_row)
// describes kind i, for every kind.
template <class Row, size_t N>
constexpr bool rows_in_kind_order(const Row (&rows)[N]) {
  for (size_t i = 0; i < N; ++i) {
    if (static_cast<size_t>(rows[i].kind) != i) return false;
  }
  return true;
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

  // The document, part by part (scenario_loader.cc).
  void load_header(const json& root);
  void load_cluster(const json& v);
  void load_raft(const json& v);
  void load_election_timeout(const json& et);
  void load_bugs(const json& bugs);
  void load_network(const json& n);
  void load_disk(const json& d);
  void load_workload(const json& w);
  void load_timeline(const json& t);
  void load_expect(const json& x);
  void load_implementation(const json& v);
  void check_budget() const;

  // The keys a kind takes besides the common ones, in the order messages
  // list them (unused slots are null).
  struct Keys {
    const char* names[5];
  };
  static void add_keys(std::vector<std::string>& to, const Keys& keys) {
    for (const char* k : keys.names) {
      if (k) to.push_back(k);
    }
  }

  // Actions (loader_actions.cc). One row per kind: its name in a file, the
  // keys it requires and allows besides "at", "action" and "as", and the
  // parser of the fields only it has ("at", "node" and "as" are read for
  // every kind).
  using ActionParser = void (Loader::*)(const json& v, const std::string& path, Action& a);
  struct ActionKindRow {
    ActionKind kind;
    const char* name;
    Keys required, optional;
    ActionParser parse;
  };
  static const ActionKindRow& action_row(ActionKind kind);
  static const std::vector<std::string>& action_names();
  void load_action(const json& v, size_t index);
  ActionKind action_kind(const std::string& name, const std::string& path);
  TimeSpec action_time(const json& at, const std::string& path);
  void bind_alias(const json& as, const std::string& path, size_t index, Action& a);
  void no_action_fields(const json&, const std::string&, Action&) {}
  void parse_partition(const json& v, const std::string& path, Action& a);
  void parse_cut(const json& v, const std::string& path, Action& a);
  void parse_set_network(const json& v, const std::string& path, Action& a);
  void parse_write(const json& v, const std::string& path, Action& a);
  void parse_read(const json& v, const std::string& path, Action& a);
  void parse_key(const json& v, const std::string& path, Action& a);
  void parse_add_learner(const json& v, const std::string& path, Action& a);
  void parse_transfer(const json& v, const std::string& path, Action& a);
  void parse_clock_drift(const json& v, const std::string& path, Action& a);

  // Checks (loader_expectations.cc). One row per kind: its name, whether it
  // is judged at an instant ("at") or over a window ("within"), the keys it
  // requires and allows besides those and "check", and the parser of its
  // own fields.
  enum class When : uint8_t { at, within };
  // What a check's parser reads and fills.
  struct CheckFields {
    const json& v;
    const std::string& path;
    Expectation& e;
    TimeUs alias_deadline = 0;  // every alias the check names must be bound by then
    std::string alias_when;     // how to say when that is
  };
  using CheckParser = void (Loader::*)(CheckFields& c);
  struct CheckKindRow {
    CheckKind kind;
    const char* name;
    When when;
    Keys required, optional;
    CheckParser parse;
  };
  static const CheckKindRow& check_row(CheckKind kind);
  static const std::vector<std::string>& check_names();
  void load_expectation(const json& v, size_t index);
  CheckKind check_kind(const std::string& name, const std::string& path);
  void check_time(CheckFields& c, When when);
  void check_instant(CheckFields& c);
  void check_window(CheckFields& c);
  NodeRef check_ref(CheckFields& c, const char* key, bool allow_leader);
  std::optional<uint64_t> check_bound(CheckFields& c, const char* key);
  void ordered_bounds(const Expectation& e, const std::string& path);
  void no_check_fields(CheckFields&) {}
  void parse_leader_check(CheckFields& c);
  void parse_leaders_check(CheckFields& c);
  void parse_role_check(CheckFields& c);
  void parse_term_check(CheckFields& c);
  void parse_committed_check(CheckFields& c);
  void parse_applied_check(CheckFields& c);
  void parse_config_check(CheckFields& c);
  void parse_event_check(CheckFields& c);
  void parse_event_count(CheckFields& c);

  std::string file_;
  Scenario scenario_;
  std::vector<NodeId> members_;  // every node of the cluster, sorted
  // alias -> the earliest (latest possible instant, file index) of an action binding it
  std::map<std::string, std::pair<TimeUs, size_t>> bindings_;
  uint64_t total_writes_ = 0;
  double total_write_bytes_ = 0;
  double max_drift_rate_ = 1.0;
};

}  // namespace sim::loader_detail
