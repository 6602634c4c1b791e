#include "sim/scenario/loader_internal.h"

namespace sim::loader_detail {

// The timeline: one action object of /timeline.

// Every action kind, in ActionKind order. Its runner is the case of the same
// kind in Simulation::run_action (sim/engine/simulation_actions.cc).
const Loader::ActionKindRow& Loader::action_row(ActionKind kind) {
  using A = ActionKind;
  using L = Loader;
  static constexpr ActionKindRow kRows[] = {
      {A::crash, "crash", {"node"}, {}, &L::no_action_fields},
      {A::restart, "restart", {"node"}, {}, &L::no_action_fields},
      {A::pause, "pause", {"node"}, {}, &L::no_action_fields},
      {A::resume, "resume", {"node"}, {}, &L::no_action_fields},
      {A::partition, "partition", {"groups"}, {}, &L::parse_partition},
      {A::isolate, "isolate", {"node"}, {}, &L::no_action_fields},
      {A::cut, "cut", {"from", "to"}, {"both"}, &L::parse_cut},
      {A::heal, "heal", {}, {}, &L::no_action_fields},
      {A::set_network,
       "set_network",
       {},
       {"latency", "drop", "duplicate", "between"},
       &L::parse_set_network},
      {A::write, "write", {"count"}, {"node", "size", "key", "op", "expected"}, &L::parse_write},
      {A::add_learner, "add_learner", {"node"}, {"promote"}, &L::parse_add_learner},
      {A::promote, "promote", {"node"}, {}, &L::no_action_fields},
      {A::demote, "demote", {"node"}, {}, &L::no_action_fields},
      {A::remove, "remove", {"node"}, {}, &L::no_action_fields},
      {A::transfer_leadership, "transfer_leadership", {"to"}, {}, &L::parse_transfer},
      {A::snapshot, "snapshot", {"node"}, {}, &L::no_action_fields},
      {A::campaign, "campaign", {"node"}, {}, &L::no_action_fields},
      {A::clock_drift, "clock_drift", {"node", "rate"}, {}, &L::parse_clock_drift},
      {A::read, "read", {"count"}, {"node", "key", "mode"}, &L::parse_read},
  };
  static_assert(std::size(kRows) == kActionKinds && rows_in_kind_order(kRows),
                "one row per ActionKind, in its order");
  return kRows[static_cast<size_t>(kind)];
}

const std::vector<std::string>& Loader::action_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (size_t i = 0; i < kActionKinds; ++i)
      out.push_back(action_row(static_cast<ActionKind>(i)).name);
    return out;
  }();
  return names;
}

void Loader::load_action(const json& v, size_t index) {
  const std::string path = "/timeline/" + std::to_string(index);
  if (!v.is_object()) error(path, "expected an action object, found " + type_name(v));
  if (!v.contains("action")) error(path, "missing required key \"action\"");
  Action a;
  a.path = path;
  a.name = string(v["action"], path + "/action");
  const ActionKindRow& row = action_row(action_kind(a.name, path + "/action"));
  a.kind = row.kind;
  std::vector<std::string> allowed = {"at", "action", "as"};
  std::vector<std::string> required = {"at"};
  add_keys(allowed, row.required);
  add_keys(required, row.required);
  add_keys(allowed, row.optional);
  keys(v, path, allowed, required);
  a.at = action_time(v["at"], path + "/at");
  if (v.contains("node")) a.node = node_ref(v["node"], path + "/node", true);
  (this->*row.parse)(v, path, a);
  if (v.contains("as")) bind_alias(v["as"], path + "/as", index, a);
  scenario_.actions.push_back(std::move(a));
}

ActionKind Loader::action_kind(const std::string& name, const std::string& path) {
  const auto& names = action_names();
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    error(path, "unknown action " + quote(name) + did_you_mean(name, names) +
                    "; known actions: " + list(names));
  }
  return static_cast<ActionKind>(it - names.begin());
}

// "at": a time, or {"min", "max"}.
TimeSpec Loader::action_time(const json& at, const std::string& path) {
  TimeSpec t;
  if (at.is_object()) {
    keys(at, path, {"min", "max"}, {"min", "max"});
    t.min_us = time(at["min"], path + "/min");
    t.max_us = time(at["max"], path + "/max");
    if (t.max_us < t.min_us) {
      error(path, "min " + format_time(t.min_us) + " is after max " + format_time(t.max_us));
    }
  } else {
    t.min_us = t.max_us = time(at, path);
  }
  if (t.max_us > scenario_.duration_us) {
    error(path,
          std::string(t.min_us == t.max_us ? "the action at " : "the action may run as late as ") +
              format_time(t.max_us) + ", after the scenario's duration " +
              format_time(scenario_.duration_us));
  }
  return t;
}

// "as": the alias this action binds to its node, from its latest possible
// instant on.
void Loader::bind_alias(const json& as, const std::string& path, size_t index, Action& a) {
  a.as = string(as, path);
  for (const char* reserved : {"", "leader", "all", "any", "none"}) {
    if (a.as == reserved) error(path, quote(a.as) + " cannot be an alias");
  }
  if (all_digits(a.as)) error(path, quote(a.as) + " cannot be an alias: it reads as a node id");
  if (!a.node.present()) error(path, "this action names no node to bind");
  auto [binding, fresh] = bindings_.emplace(a.as, std::make_pair(a.at.max_us, index));
  if (!fresh) binding->second = std::min(binding->second, std::make_pair(a.at.max_us, index));
}

void Loader::parse_partition(const json& v, const std::string& path, Action& a) {
  const json& groups = v["groups"];
  if (!groups.is_array())
    error(path + "/groups", "expected an array of arrays of node ids, found " + type_name(groups));
  if (groups.size() > ScenarioLimits::kMaxNodes) {
    error(path + "/groups",
          "more groups than the limit of " + std::to_string(ScenarioLimits::kMaxNodes) + " nodes");
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

void Loader::parse_cut(const json& v, const std::string& path, Action& a) {
  a.from = node_ref(v["from"], path + "/from", true);
  a.to = node_ref(v["to"], path + "/to", true);
  if (a.from.kind == NodeRef::Kind::id && a.to.kind == NodeRef::Kind::id && a.from.id == a.to.id) {
    error(path + "/to",
          "a link needs two different nodes; both ends are node " + std::to_string(a.from.id));
  }
  if (v.contains("both")) a.both = boolean(v["both"], path + "/both");
}

void Loader::parse_set_network(const json& v, const std::string& path, Action& a) {
  if (!v.contains("latency") && !v.contains("drop") && !v.contains("duplicate")) {
    error(path, "set_network changes nothing: give at least one of latency, drop, duplicate");
  }
  if (v.contains("latency")) a.patch.latency = latency(v["latency"], path + "/latency");
  if (v.contains("drop")) a.patch.drop = probability(v["drop"], path + "/drop");
  if (v.contains("duplicate")) a.patch.duplicate = probability(v["duplicate"], path + "/duplicate");
  if (v.contains("between")) {
    std::vector<NodeId> pair = id_list(v["between"], path + "/between", true);
    if (pair.size() != 2)
      error(path + "/between", "expected two node ids, found " + std::to_string(pair.size()));
    a.between = std::make_pair(pair[0], pair[1]);
  }
}

void Loader::parse_write(const json& v, const std::string& path, Action& a) {
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
  parse_key(v, path, a);
}

void Loader::parse_read(const json& v, const std::string& path, Action& a) {
  a.count = integer(v["count"], path + "/count", 1, ScenarioLimits::kMaxWritesPerAction);
  if (v.contains("mode")) a.read_mode = read_mode(v["mode"], path + "/mode");
  parse_key(v, path, a);
}

// The key of a write or a read (key-value extension).
void Loader::parse_key(const json& v, const std::string& path, Action& a) {
  if (v.contains("key"))
    a.key = static_cast<uint32_t>(integer(v["key"], path + "/key", 0, kMaxKey));
}

void Loader::parse_add_learner(const json& v, const std::string& path, Action& a) {
  if (v.contains("promote")) a.promote = boolean(v["promote"], path + "/promote");
}

// transfer_leadership names its node "to".
void Loader::parse_transfer(const json& v, const std::string& path, Action& a) {
  a.node = node_ref(v["to"], path + "/to", true);
}

void Loader::parse_clock_drift(const json& v, const std::string& path, Action& a) {
  const json& rate = v["rate"];
  if (!rate.is_number())
    error(path + "/rate", "expected a number (1.0 is real speed), found " + type_name(rate));
  const double r = rate.get<double>();
  if (!(r >= 0.01 && r <= 100.0))
    error(path + "/rate", "rate must be in [0.01, 100], found " + rate.dump());
  a.rate_ppm = std::llround(r * 1e6);
  max_drift_rate_ = std::max(max_drift_rate_, r);
}

}  // namespace sim::loader_detail
