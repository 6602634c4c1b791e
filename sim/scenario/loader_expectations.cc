#include "sim/scenario/loader_internal.h"

namespace sim::loader_detail {

// The checks: one object of /expect.

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

}  // namespace sim::loader_detail
