#include "sim/fuzz/shrink.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

#include "sim/cli/commands.h"
#include "sim/engine/simulation.h"
#include "sim/fuzz/fuzz.h"
#include "sim/scenario/scenario_loader.h"

namespace sim {

namespace {

using json = nlohmann::ordered_json;

// A scenario time (number of ms, or a string with a unit) in microseconds;
// nullopt if it is not one. The loader has validated the document, so only
// the forms it accepts occur.
std::optional<TimeUs> time_of(const json& v) {
  if (v.is_number()) return static_cast<TimeUs>(std::llround(v.get<double>() * 1000.0));
  if (!v.is_string()) return std::nullopt;
  const std::string s = v.get<std::string>();
  size_t pos = 0;
  double number = 0;
  try {
    number = std::stod(s, &pos);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string unit = s.substr(pos);
  const double ms = unit == "us"   ? number / 1000.0
                    : unit == "ms" ? number
                    : unit == "s"  ? number * 1000.0
                                   : NAN;
  if (std::isnan(ms)) return std::nullopt;
  return static_cast<TimeUs>(std::llround(ms * 1000.0));
}

// The latest instant an action may happen at.
TimeUs action_time(const json& action) {
  const json& at = action["at"];
  if (at.is_object()) return time_of(at["max"]).value_or(0);
  return time_of(at).value_or(0);
}

// The instant an expectation is evaluated at.
TimeUs check_time(const json& check) {
  if (check.contains("within")) return time_of(check["within"][1]).value_or(0);
  return time_of(check["at"]).value_or(0);
}

std::string describe(const json& action) {
  std::string out = action.value("action", std::string("?"));
  for (auto it = action.begin(); it != action.end(); ++it) {
    if (it.key() == "action" || it.key() == "at") continue;
    out += " " + it.key() + " " + it.value().dump();
  }
  return out + " at " + action["at"].dump();
}

// The documents's node references, for removing a node.
bool mentions(const json& item, uint64_t id) {
  for (const char* key : {"node", "from", "to"}) {
    if (item.contains(key) && item[key].is_number_unsigned() && item[key].get<uint64_t>() == id)
      return true;
  }
  if (item.contains("between")) {
    for (const json& n : item["between"]) {
      if (n.is_number_unsigned() && n.get<uint64_t>() == id) return true;
    }
  }
  return false;
}

// Recovery actions undo faults: dropping one adds a fault rather than
// removing one, so for a failed liveness check they stay, unless nothing
// before them needs undoing (see no_op).
bool is_recovery(const json& a) {
  const std::string name = a.value("action", std::string());
  if (name == "heal" || name == "resume" || name == "restart") return true;
  if (name == "clock_drift") return a["rate"].is_number() && a["rate"].get<double>() == 1.0;
  if (name == "set_network") {
    return !a.contains("between") && a.value("drop", 0.0) == 0.0 &&
           a.value("duplicate", 0.0) == 0.0;
  }
  return false;
}

// Whether a recovery action has nothing to undo: no earlier fault of its kind.
bool no_op(const json& timeline, size_t index) {
  const json& a = timeline[index];
  const std::string name = a.value("action", std::string());
  auto earlier = [&](auto pred) {
    for (size_t i = 0; i < index; ++i) {
      if (pred(timeline[i])) return true;
    }
    return false;
  };
  auto same_node = [&](const json& b) { return b.contains("node") && b["node"] == a["node"]; };
  if (name == "restart")
    return !earlier([&](const json& b) { return b["action"] == "crash" && same_node(b); });
  if (name == "resume")
    return !earlier([&](const json& b) { return b["action"] == "pause" && same_node(b); });
  if (name == "clock_drift") {
    return !earlier([&](const json& b) { return b["action"] == "clock_drift" && same_node(b); });
  }
  if (name == "heal") {
    return !earlier([](const json& b) {
      return b["action"] == "partition" || b["action"] == "isolate" || b["action"] == "cut";
    });
  }
  return false;
}

class Shrinker {
 public:
  Shrinker(const std::string& file, size_t max_runs, const std::atomic<bool>* stop)
      : file_(file), max_runs_(max_runs), stop_(stop) {}

  ShrinkResult run(const json& input) {
    ShrinkResult result;
    // Validates the input: ScenarioError escapes to the caller.
    parse_scenario(input.dump(), file_);
    doc_ = input;
    normalize_voters();
    const RunResult first = simulate(doc_).value();
    result.kind = kind_ = failure_kind(first);
    result.input_fails = !first.pass;
    if (first.interrupted) {
      result.interrupted = true;
      return result;
    }
    if (first.pass) {
      result.runs = runs_;
      return result;
    }
    safety_ = first.violation.has_value();
    bool progress = true;
    while (progress && !exhausted()) {
      progress = false;
      progress |= cut_after_violation(first);
      progress |= remove_actions();
      progress |= remove_no_op_recoveries();
      progress |= shrink_writes();
      progress |= shrink_workload();
      progress |= remove_nodes();
      progress |= compress_time();
      progress |= simplify_network();
      progress |= simplify_raft();
      progress |= remove_expectations();
    }
    result.scenario = doc_;
    result.removed = removed_;
    result.runs = runs_;
    result.interrupted = stopped();
    result.budget_exhausted = !result.interrupted && exhausted();
    return result;
  }

 private:
  bool stopped() const { return stop_ && stop_->load(); }
  bool exhausted() const { return runs_ >= max_runs_ || stopped(); }

  std::optional<RunResult> simulate(const json& doc) {
    Scenario scenario;
    try {
      scenario = parse_scenario(doc.dump(), file_);
    } catch (const ScenarioError&) {
      return std::nullopt;  // a candidate the loader refuses is no candidate
    }
    ++runs_;
    RunOptions options;
    options.stop = stop_;
    return run_scenario(scenario, options);
  }

  // Keeps `candidate` if it still fails the same way.
  bool attempt(const json& candidate, const std::string& what) {
    if (exhausted()) return false;
    const auto r = simulate(candidate);
    if (!r || r->pass || failure_kind(*r) != kind_) return false;
    doc_ = candidate;
    last_failure_us_ = r->failure_time_us;
    removed_.push_back(what);
    return true;
  }

  void normalize_voters() {
    json& voters = doc_["cluster"]["voters"];
    if (voters.is_number_unsigned()) {
      json list = json::array();
      for (uint64_t i = 1; i <= voters.get<uint64_t>(); ++i) list.push_back(i);
      voters = list;
    }
  }

  json& timeline(json& doc) {
    if (!doc.contains("timeline")) doc["timeline"] = json::array();
    return doc["timeline"];
  }

  // A safety violation ends the run: nothing after it matters.
  bool cut_after_violation(const RunResult& first) {
    if (!safety_) return false;
    const TimeUs at =
        (last_failure_us_ ? *last_failure_us_ : first.failure_time_us) / 1000 * 1000 + 1000;
    const TimeUs duration = time_of(doc_["duration"]).value_or(0);
    if (at >= duration) return false;
    json c = doc_;
    c["duration"] = time_text(at);
    json kept = json::array();
    for (const json& a : timeline(c)) {
      if (action_time(a) <= at) kept.push_back(a);
    }
    c["timeline"] = kept;
    if (c.contains("expect")) {
      json checks = json::array();
      for (const json& e : c["expect"]) {
        if (check_time(e) <= at) checks.push_back(e);
      }
      c["expect"] = checks;
    }
    if (c.contains("workload")) {
      json& w = c["workload"];
      if (w.contains("start") && time_of(w["start"]).value_or(0) > at) w["start"] = time_text(at);
      if (w.contains("stop") && time_of(w["stop"]).value_or(0) > at) w["stop"] = time_text(at);
    }
    return attempt(c, "duration " + doc_["duration"].dump() + " -> \"" + time_text(at) +
                          "\" (everything after the violation)");
  }

  // For a failed liveness check, the recoveries and everything from the last
  // heal on (the second phase: what the liveness check is about) stay.
  bool removable(const json& action) {
    if (safety_) return true;
    if (is_recovery(action)) return false;
    std::optional<TimeUs> last_heal;
    for (const json& a : timeline(doc_)) {
      if (a["action"] == "heal") last_heal = action_time(a);
    }
    return !last_heal || action_time(action) < *last_heal;
  }

  // Removes timeline actions: halves, quarters, ... down to one at a time.
  bool remove_actions() {
    bool any = false;
    size_t chunk = timeline(doc_).size() / 2;
    if (chunk == 0) chunk = 1;
    for (;; chunk /= 2) {
      for (size_t i = 0; i < timeline(doc_).size() && !exhausted();) {
        const json& t = timeline(doc_);
        json c = doc_;
        json kept = json::array();
        std::vector<std::string> what;
        for (size_t k = 0; k < t.size(); ++k) {
          const bool in_chunk = k >= i && k < i + chunk;
          if (in_chunk && removable(t[k])) {
            what.push_back(describe(t[k]));
          } else {
            kept.push_back(t[k]);
          }
        }
        c["timeline"] = kept;
        std::string text = what.size() == 1 ? "timeline action: " + what[0]
                                            : std::to_string(what.size()) + " timeline actions:";
        if (what.size() > 1) {
          for (const std::string& w : what) text += "\n      " + w;
        }
        if (!what.empty() && attempt(c, text)) {
          any = true;
        } else {
          i += chunk;
        }
      }
      if (chunk <= 1) break;
    }
    return any;
  }

  bool remove_no_op_recoveries() {
    bool any = false;
    for (size_t i = 0; i < timeline(doc_).size() && !exhausted();) {
      if (no_op(timeline(doc_), i)) {
        json c = doc_;
        const std::string what = describe(c["timeline"][i]);
        c["timeline"].erase(i);
        if (attempt(c, "timeline action with nothing to undo: " + what)) {
          any = true;
          continue;
        }
      }
      ++i;
    }
    return any;
  }

  bool shrink_writes() {
    bool any = false;
    for (size_t i = 0; i < timeline(doc_).size() && !exhausted(); ++i) {
      const json& a = timeline(doc_)[i];
      if (a["action"] != "write" || a.contains("as")) continue;
      const uint64_t count = a["count"].get<uint64_t>();
      for (uint64_t smaller : {uint64_t{1}, count / 2}) {
        if (smaller == 0 || smaller >= timeline(doc_)[i]["count"].get<uint64_t>()) continue;
        json c = doc_;
        c["timeline"][i]["count"] = smaller;
        if (attempt(c, "write count " + std::to_string(count) + " -> " + std::to_string(smaller) +
                           " (" + describe(a) + ")")) {
          any = true;
          break;
        }
      }
    }
    return any;
  }

  bool shrink_workload() {
    if (!doc_.contains("workload")) return false;
    json c = doc_;
    c.erase("workload");
    if (attempt(c, "workload " + doc_["workload"].dump())) return true;
    const double rate = doc_["workload"]["rate"].get<double>();
    const uint64_t half = static_cast<uint64_t>(rate / 2);
    if (half < 1) return false;
    c = doc_;
    c["workload"]["rate"] = half;
    return attempt(
        c, "workload rate " + doc_["workload"]["rate"].dump() + " -> " + std::to_string(half));
  }

  // Removes one node and everything that names it.
  bool remove_node(uint64_t id) {
    json c = doc_;
    json& cluster = c["cluster"];
    std::string role;
    for (const char* list : {"voters", "learners", "spares"}) {
      if (!cluster.contains(list)) continue;
      json kept = json::array();
      for (const json& n : cluster[list]) {
        if (n.get<uint64_t>() == id) {
          role = list;
        } else {
          kept.push_back(n);
        }
      }
      cluster[list] = kept;
      if (kept.empty() && std::string(list) != "voters") cluster.erase(list);
    }
    if (cluster["voters"].empty()) return false;
    json kept = json::array();
    for (json a : timeline(c)) {
      if (mentions(a, id)) continue;
      if (a.contains("groups")) {
        json groups = json::array();
        for (const json& g : a["groups"]) {
          json members = json::array();
          for (const json& n : g) {
            if (n.get<uint64_t>() != id) members.push_back(n);
          }
          if (!members.empty()) groups.push_back(members);
        }
        a["groups"] = groups;
      }
      kept.push_back(a);
    }
    c["timeline"] = kept;
    if (c.contains("expect")) {
      json checks = json::array();
      for (const json& e : c["expect"]) {
        if (!mentions(e, id)) checks.push_back(e);
      }
      c["expect"] = checks;
    }
    role.pop_back();  // "voters" -> "voter"
    return attempt(c, role + " node " + std::to_string(id) + " (and the actions naming it)");
  }

  bool remove_nodes() {
    bool any = false;
    for (const char* list : {"spares", "learners", "voters"}) {
      std::vector<uint64_t> ids;
      if (doc_["cluster"].contains(list)) {
        for (const json& n : doc_["cluster"][list]) ids.push_back(n.get<uint64_t>());
      }
      // From the highest id down, so that the survivors keep small ids.
      for (auto it = ids.rbegin(); it != ids.rend() && !exhausted(); ++it) any |= remove_node(*it);
    }
    return any;
  }

  // Cuts a window [from, from + width) out of virtual time: actions in it go,
  // everything after it moves earlier by the width.
  json without_window(TimeUs from, TimeUs width) {
    json c = doc_;
    const TimeUs to = from + width;
    auto shift = [&](json& v) {
      const TimeUs t = time_of(v).value_or(0);
      if (t >= to) {
        v = time_text(t - width);
      } else if (t > from) {
        v = time_text(from);
      }
    };
    json kept = json::array();
    for (json a : timeline(c)) {
      const TimeUs t = action_time(a);
      if (t >= from && t < to && removable(a)) continue;
      if (a["at"].is_object()) {
        shift(a["at"]["min"]);
        shift(a["at"]["max"]);
      } else {
        shift(a["at"]);
      }
      kept.push_back(a);
    }
    c["timeline"] = kept;
    if (c.contains("expect")) {
      for (json& e : c["expect"]) {
        if (e.contains("within")) {
          shift(e["within"][0]);
          shift(e["within"][1]);
        } else {
          shift(e["at"]);
        }
      }
    }
    if (c.contains("workload")) {
      for (const char* key : {"start", "stop"}) {
        if (c["workload"].contains(key)) shift(c["workload"][key]);
      }
    }
    shift(c["duration"]);
    return c;
  }

  // The latest time a window may end. A failed liveness check measures the
  // time from the last recovery to the check: that stretch must stay whole,
  // or the shrunk scenario would merely check too early.
  TimeUs compression_limit() {
    if (safety_) return time_of(doc_["duration"]).value_or(0);
    TimeUs limit = 0;
    for (const json& a : timeline(doc_)) {
      if (is_recovery(a)) limit = std::max(limit, action_time(a));
    }
    return limit;
  }

  bool compress_time() {
    bool any = false;
    for (int parts = 2; parts <= 16 && !exhausted(); parts *= 2) {
      const TimeUs duration = time_of(doc_["duration"]).value_or(0);
      const TimeUs width = duration / parts / 1000 * 1000;
      if (width < 100'000) break;
      for (TimeUs from = 0; from + width <= compression_limit() && !exhausted();) {
        if (attempt(without_window(from, width), "the time from " + time_text(from) + " to " +
                                                     time_text(from + width) +
                                                     " (later events move earlier)")) {
          any = true;
        } else {
          from += width;
        }
      }
    }
    return any;
  }

  bool simplify_network() {
    bool any = false;
    if (doc_.contains("network")) {
      for (const char* key : {"drop", "duplicate"}) {
        if (!doc_["network"].contains(key) || exhausted()) continue;
        json c = doc_;
        c["network"].erase(key);
        any |=
            attempt(c, std::string("network ") + key + " " + doc_["network"][key].dump() + " -> 0");
      }
      if (doc_["network"].contains("latency") && doc_["network"]["latency"].is_object() &&
          !exhausted()) {
        const json& l = doc_["network"]["latency"];
        const json constant = l.contains("min") ? l["min"] : l["mean"];
        json c = doc_;
        c["network"]["latency"] = constant;
        any |= attempt(c, "network latency " + l.dump() + " -> constant " + constant.dump());
      }
    }
    if (doc_.contains("disk") && !exhausted()) {
      json c = doc_;
      c.erase("disk");
      any |= attempt(c, "disk " + doc_["disk"].dump());
    }
    return any;
  }

  bool simplify_raft() {
    if (!doc_.contains("raft")) return false;
    bool any = false;
    std::vector<std::string> keys;
    for (auto it = doc_["raft"].begin(); it != doc_["raft"].end(); ++it) {
      if (it.key() != "bugs") keys.push_back(it.key());
    }
    for (const std::string& key : keys) {
      if (exhausted()) break;
      json c = doc_;
      c["raft"].erase(key);
      any |= attempt(c, "raft " + key + " " + doc_["raft"][key].dump() + " (back to the default)");
    }
    return any;
  }

  // After a safety violation the expectations play no part in the failure.
  bool remove_expectations() {
    if (!safety_ || !doc_.contains("expect") || doc_["expect"].empty()) return false;
    json c = doc_;
    c.erase("expect");
    return attempt(c, std::to_string(doc_["expect"].size()) + " expectations");
  }

  std::string file_;
  size_t max_runs_;
  const std::atomic<bool>* stop_;
  size_t runs_ = 0;
  json doc_;
  std::string kind_;
  bool safety_ = false;
  std::optional<TimeUs> last_failure_us_;
  std::vector<std::string> removed_;
};

std::string default_out(const std::string& file) {
  const std::string ext = ".json";
  if (file.size() > ext.size() && file.compare(file.size() - ext.size(), ext.size(), ext) == 0) {
    return file.substr(0, file.size() - ext.size()) + ".min.json";
  }
  return file + ".min.json";
}

size_t action_count(const json& doc) {
  return doc.contains("timeline") ? doc["timeline"].size() : 0;
}

}  // namespace

ShrinkResult shrink_scenario(const json& doc, const std::string& file, size_t max_runs,
                             const std::atomic<bool>* stop) {
  return Shrinker(file, max_runs, stop).run(doc);
}

int shrink_command(const ShrinkCommand& cmd) {
  std::ifstream in(cmd.file, std::ios::binary);
  if (!in) {
    std::cerr << cmd.file << ": cannot read the file\n";
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  json doc;
  ShrinkResult result;
  try {
    // The loader reports syntax and semantic errors with their place.
    parse_scenario(text.str(), cmd.file);
    doc = json::parse(text.str());
    if (cmd.implementation) {
      doc["implementation"] =
          *cmd.implementation == Implementation::canonical ? "canonical" : "raftsim";
      parse_scenario(doc.dump(), cmd.file);  // refused if the library cannot express it
    }
    result = shrink_scenario(doc, cmd.file, cmd.max_runs, interrupt_flag());
  } catch (const ScenarioError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  if (result.interrupted && result.scenario.is_null()) {
    std::cerr << cmd.file << ": interrupted before the scenario's first run finished\n";
    return interrupt_exit_code();
  }
  if (!result.input_fails) {
    std::cerr << cmd.file << ": the scenario does not fail; there is nothing to shrink\n";
    return 1;
  }
  std::cout << "shrinking " << cmd.file << " (fails with " << result.kind << ")\n";
  for (const std::string& r : result.removed) std::cout << "  removed " << r << "\n";
  if (result.removed.empty()) std::cout << "  nothing could be removed\n";
  json out = result.scenario;
  out["description"] = "Shrunk by raftsim shrink from " + cmd.file + " (fails with " + result.kind +
                       "). " + doc.value("description", std::string());
  const std::string path = cmd.out.empty() ? default_out(cmd.file) : cmd.out;
  const std::string content = out.dump(2) + "\n";
  parse_scenario(content, path);  // what is written is a valid scenario
  std::string error;
  if (!write_file_atomically(path, content, &error)) {
    std::cerr << "raftsim: " << error << "\n";
    return 2;
  }
  std::cout << "wrote " << path << ": " << action_count(doc) << " -> " << action_count(out)
            << " timeline actions, duration " << doc["duration"].dump() << " -> "
            << out["duration"].dump() << ", " << result.runs << " runs"
            << (result.budget_exhausted ? " (run budget exhausted)" : "")
            << (result.interrupted ? " (interrupted: the smallest found so far)" : "") << "\n";
  return result.interrupted ? interrupt_exit_code() : 0;
}

}  // namespace sim
