#include "sim/scenario/loader_internal.h"

namespace sim::loader_detail {

// The checks: one object of /expect.

// Every check kind, in CheckKind order. Its evaluator is the case of the
// same kind in Simulation::evaluate (sim/engine/simulation_checks.cc).
const Loader::CheckKindRow& Loader::check_row(CheckKind kind) {
  using C = CheckKind;
  using L = Loader;
  static constexpr CheckKindRow kRows[] = {
      {C::leader, "leader", When::at, {}, {"is", "not"}, &L::parse_leader_check},
      {C::leaders, "leaders", When::at, {"count"}, {}, &L::parse_leaders_check},
      {C::role, "role", When::at, {"node", "is"}, {}, &L::parse_role_check},
      {C::term, "term", When::at, {}, {"node", "min", "max"}, &L::parse_term_check},
      {C::committed, "committed", When::at, {"min"}, {"max"}, &L::parse_committed_check},
      {C::applied, "applied", When::at, {"node", "min"}, {}, &L::parse_applied_check},
      {C::config, "config", When::at, {"voters"}, {"learners"}, &L::parse_config_check},
      {C::event,
       "event",
       When::within,
       {"event"},
       {"node", "reason", "count"},
       &L::parse_event_check},
      {C::no_event, "no_event", When::within, {"event"}, {"node", "reason"}, &L::parse_event_check},
      {C::converged, "converged", When::at, {}, {}, &L::no_check_fields},
  };
  static_assert(std::size(kRows) == kCheckKinds && rows_in_kind_order(kRows),
                "one row per CheckKind, in its order");
  return kRows[static_cast<size_t>(kind)];
}

const std::vector<std::string>& Loader::check_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (size_t i = 0; i < kCheckKinds; ++i)
      out.push_back(check_row(static_cast<CheckKind>(i)).name);
    return out;
  }();
  return names;
}

void Loader::load_expectation(const json& v, size_t index) {
  const std::string path = "/expect/" + std::to_string(index);
  if (!v.is_object()) error(path, "expected a check object, found " + type_name(v));
  if (!v.contains("check")) error(path, "missing required key \"check\"");
  Expectation e;
  e.path = path;
  e.name = string(v["check"], path + "/check");
  const CheckKindRow& row = check_row(check_kind(e.name, path + "/check"));
  e.kind = row.kind;
  std::vector<std::string> allowed = {"at", "within", "check"};
  add_keys(allowed, row.required);
  add_keys(allowed, row.optional);
  keys(v, path, allowed);
  CheckFields c{v, path, e, 0, ""};
  check_time(c, row.when);
  for (const char* key : row.required.names) {
    if (key && !v.contains(key)) {
      error(path, "missing required key \"" + std::string(key) + "\" for check \"" + e.name + "\"");
    }
  }
  (this->*row.parse)(c);
  scenario_.expectations.push_back(std::move(e));
}

CheckKind Loader::check_kind(const std::string& name, const std::string& path) {
  const auto& names = check_names();
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    error(path, "unknown check " + quote(name) + did_you_mean(name, names) +
                    "; known checks: " + list(names));
  }
  return static_cast<CheckKind>(it - names.begin());
}

// "at" (instant checks) or "within" (window checks).
void Loader::check_time(CheckFields& c, When when) {
  const bool has_at = c.v.contains("at");
  const bool has_within = c.v.contains("within");
  if (has_at == has_within)
    error(c.path, "a check needs exactly one of \"at\" (instant) or \"within\" (window)");
  if (when == When::within && has_at) {
    error(c.path + "/at", "\"" + c.e.name + "\" is a window check: use \"within\": [from, to]");
  }
  if (when == When::at && has_within)
    error(c.path + "/within", "\"" + c.e.name + "\" is an instant check: use \"at\"");
  if (has_at) {
    check_instant(c);
  } else {
    check_window(c);
  }
}

void Loader::check_instant(CheckFields& c) {
  Expectation& e = c.e;
  e.at_us = time(c.v["at"], c.path + "/at");
  if (e.at_us > scenario_.duration_us) {
    error(c.path + "/at", "the check at " + format_time(e.at_us) +
                              " is after the scenario's duration " +
                              format_time(scenario_.duration_us));
  }
  c.alias_deadline = e.at_us;
  c.alias_when = "at the check's time";
}

void Loader::check_window(CheckFields& c) {
  Expectation& e = c.e;
  const std::string& path = c.path;
  const json& w = c.v["within"];
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
  c.alias_deadline = std::min(e.to_us, scenario_.duration_us);
  c.alias_when = "at the window's end";
}

// A node the check names, whose alias (if it is one) must be bound by the
// time the check is decided.
NodeRef Loader::check_ref(CheckFields& c, const char* key, bool allow_leader) {
  const NodeRef r = node_ref(c.v[key], c.path + "/" + key, allow_leader);
  alias_bound(r, c.path + "/" + key, c.alias_deadline, SIZE_MAX, c.alias_when);
  return r;
}

std::optional<uint64_t> Loader::check_bound(CheckFields& c, const char* key) {
  if (!c.v.contains(key)) return std::nullopt;
  return integer(c.v[key], c.path + "/" + key, 0, UINT64_MAX / 2);
}

void Loader::ordered_bounds(const Expectation& e, const std::string& path) {
  if (e.min && e.max && *e.min > *e.max)
    error(path, "min " + std::to_string(*e.min) + " is greater than max " + std::to_string(*e.max));
}

void Loader::parse_leader_check(CheckFields& c) {
  const json& v = c.v;
  if (v.contains("is") == v.contains("not"))
    error(c.path, "\"leader\" needs exactly one of \"is\" or \"not\"");
  const char* key = v.contains("is") ? "is" : "not";
  if (v[key] == "leader") {
    error(c.path + "/" + key,
          "\"leader\" here names the leader itself; write \"is\": \"any\", or bind an alias "
          "with \"as\"");
  }
  if (v.contains("is") && v["is"] == "any") {
    c.e.is_node.kind = NodeRef::Kind::any;
  } else if (v.contains("is") && v["is"] == "none") {
    c.e.is_node.kind = NodeRef::Kind::none;
  } else if (v.contains("is")) {
    c.e.is_node = check_ref(c, "is", true);
  } else {
    c.e.not_node = check_ref(c, "not", true);
  }
}

void Loader::parse_leaders_check(CheckFields& c) {
  c.e.count = integer(c.v["count"], c.path + "/count", 0, ScenarioLimits::kMaxNodes);
}

void Loader::parse_role_check(CheckFields& c) {
  Expectation& e = c.e;
  e.node = check_ref(c, "node", true);
  e.role = string(c.v["is"], c.path + "/is");
  const auto& roles = role_names();
  if (std::find(roles.begin(), roles.end(), e.role) == roles.end()) {
    error(c.path + "/is", "unknown role " + quote(e.role) + did_you_mean(e.role, roles) +
                              "; roles: " + list(roles));
  }
}

void Loader::parse_term_check(CheckFields& c) {
  if (c.v.contains("node")) c.e.node = check_ref(c, "node", true);
  c.e.min = check_bound(c, "min");
  c.e.max = check_bound(c, "max");
  ordered_bounds(c.e, c.path);
}

void Loader::parse_committed_check(CheckFields& c) {
  c.e.min = check_bound(c, "min");  // required
  c.e.max = check_bound(c, "max");
  ordered_bounds(c.e, c.path);
}

void Loader::parse_applied_check(CheckFields& c) {
  if (c.v["node"] == "all") {
    c.e.node.kind = NodeRef::Kind::all;
  } else {
    c.e.node = check_ref(c, "node", true);
  }
  c.e.min = check_bound(c, "min");
}

void Loader::parse_config_check(CheckFields& c) {
  Expectation& e = c.e;
  e.voters = id_list(c.v["voters"], c.path + "/voters", true);
  if (c.v.contains("learners")) e.learners = id_list(c.v["learners"], c.path + "/learners", true);
  for (size_t i = 0; i < e.learners.size(); ++i) {
    if (std::find(e.voters.begin(), e.voters.end(), e.learners[i]) != e.voters.end()) {
      error(c.path + "/learners/" + std::to_string(i),
            "node " + std::to_string(e.learners[i]) + " is both a voter and a learner");
    }
  }
  std::sort(e.voters.begin(), e.voters.end());
  std::sort(e.learners.begin(), e.learners.end());
}

// event and no_event.
void Loader::parse_event_check(CheckFields& c) {
  Expectation& e = c.e;
  const std::string& path = c.path;
  e.event = string(c.v["event"], path + "/event");
  const auto& events = event_names();
  if (std::find(events.begin(), events.end(), e.event) == events.end()) {
    error(path + "/event", "unknown event " + quote(e.event) + did_you_mean(e.event, events) +
                               "; events: " + list(events));
  }
  if (c.v.contains("node")) e.node = check_ref(c, "node", false);
  if (c.v.contains("reason")) {
    e.reason = string(c.v["reason"], path + "/reason");
    const auto& reasons = reason_names();
    if (std::find(reasons.begin(), reasons.end(), e.reason) == reasons.end()) {
      error(path + "/reason", "unknown reason " + quote(e.reason) +
                                  did_you_mean(e.reason, reasons) + "; reasons: " + list(reasons));
    }
    if (e.event != "step_down")
      error(path + "/reason", "only step_down events have a reason, not " + e.event);
  }
  if (c.v.contains("count")) parse_event_count(c);
}

// An event check's "count": {"min": n, "max": m}.
void Loader::parse_event_count(CheckFields& c) {
  const json& count = c.v["count"];
  const std::string path = c.path + "/count";
  if (!count.is_object())
    error(path, "expected {\"min\": n, \"max\": m}, found " + type_name(count));
  keys(count, path, {"min", "max"});
  if (count.contains("min")) c.e.min = integer(count["min"], path + "/min", 0, UINT64_MAX / 2);
  if (count.contains("max")) c.e.max = integer(count["max"], path + "/max", 0, UINT64_MAX / 2);
  ordered_bounds(c.e, path);
}

}  // namespace sim::loader_detail
