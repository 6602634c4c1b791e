#include "sim/scenario/loader_internal.h"

namespace sim::loader_detail {

// The timeline: one action object of /timeline.

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

}  // namespace sim::loader_detail
