// What canonical/raft can run: the scenario features the adapter
// (sim/canonical/canonical_node.cc) refuses, and the restriction of generated fuzz
// documents to the rest. Kept apart from the adapter so that the scenario
// loader does not depend on the library (tools/fuzz_loader.sh builds it
// alone). docs/canonical.md has the table.
#include "sim/scenario/canonical_caps.h"

#include <algorithm>
#include <cctype>

namespace sim {

namespace {

constexpr TimeUs kUsPerMs = 1000;

// Microseconds of a generated time ("12s", "150ms", "2500us").
TimeUs parse_generated_time(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const TimeUs value = std::stoll(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  if (unit == "s") return value * 1'000'000;
  if (unit == "ms") return value * kUsPerMs;
  return value;
}

}  // namespace

void restrict_to_canonical(nlohmann::ordered_json& doc) {
  doc["implementation"] = "canonical";
  nlohmann::ordered_json& r = doc["raft"];
  const TimeUs min_us = parse_generated_time(r["election_timeout"][0].get<std::string>());
  const TimeUs t_ms = std::max<TimeUs>(2, min_us / kUsPerMs);
  r["election_timeout"] = {std::to_string(t_ms) + "ms", std::to_string(2 * t_ms) + "ms"};
  const TimeUs hb_ms = std::max<TimeUs>(1, std::min<TimeUs>(t_ms / 3, t_ms - 1));
  r["heartbeat_interval"] = std::to_string(hb_ms) + "ms";
  r["check_quorum"] = true;
  r["auto_promote"] = false;
  nlohmann::ordered_json kept = nlohmann::ordered_json::array();
  for (nlohmann::ordered_json& a : doc["timeline"]) {
    const std::string action = a["action"].get<std::string>();
    if (action == "campaign" || action == "snapshot" || action == "read") continue;
    for (const char* kv : {"key", "op", "expected"}) a.erase(kv);
    if (action == "add_learner") a["promote"] = false;
    kept.push_back(a);
  }
  doc["timeline"] = kept;
  if (doc.contains("workload")) {
    for (const char* kv : {"keys", "read_ratio", "cas_ratio", "read_mode"})
      doc["workload"].erase(kv);
  }
  doc.erase("check_stale_reads");
}

std::optional<std::string> canonical_refusal(const Scenario& s) {
  const ::raft::Options& o = s.raft;
  auto ms_exact = [](int64_t us) { return us % kUsPerMs == 0; };
  if (!ms_exact(o.election_timeout_min_us) || !ms_exact(o.election_timeout_max_us) ||
      !ms_exact(o.heartbeat_interval_us)) {
    return std::string(
        "/raft: canonical/raft keeps time in whole milliseconds; election_timeout and "
        "heartbeat_interval must be multiples of 1ms");
  }
  if (o.election_timeout_max_us != 2 * o.election_timeout_min_us) {
    return std::string(
        "/raft/election_timeout: canonical/raft draws its election timeout in [T, 2T]; the range "
        "must be [T, 2T] (e.g. [\"150ms\", \"300ms\"])");
  }
  if (o.heartbeat_interval_us >= o.election_timeout_min_us) {
    return std::string(
        "/raft/heartbeat_interval: canonical/raft needs a heartbeat shorter than the election "
        "timeout");
  }
  if (!o.check_quorum) {
    return std::string(
        "/raft/check_quorum: canonical/raft always steps down without a quorum; false has no "
        "equivalent");
  }
  if (!s.bugs.empty()) {
    return std::string("/raft/bugs: planted bugs exist only in raftsim's own node");
  }
  if (s.workload.keys != 0) {
    return std::string(
        "/workload/keys: the key-value store, its reads and cas are raftsim's; canonical/raft's "
        "state machine here applies plain writes only");
  }
  bool learners = !s.learners.empty();
  for (size_t i = 0; i < s.actions.size(); ++i) {
    const Action& a = s.actions[i];
    const std::string where = "/timeline/" + std::to_string(i) + "/action";
    switch (a.kind) {
      case ActionKind::campaign:
        return where + ": canonical/raft has no way to start an election on demand (campaign)";
      case ActionKind::snapshot:
        return where + ": canonical/raft takes snapshots only at its threshold (snapshot)";
      case ActionKind::read:
        return where +
               ": reads (read_index, lease, stale) are raftsim's; canonical/raft 0.15 has "
               "no read API";
      case ActionKind::add_learner:
        learners = true;
        if (!a.promote || *a.promote) {
          return where +
                 ": canonical/raft does not promote learners by itself; use \"promote\": false "
                 "and an explicit promote action";
        }
        break;
      case ActionKind::write:
        if (a.key || a.op != ::raft::WriteOp::put) {
          return where.substr(0, where.size() - 7) +
                 ": keys and cas are raftsim's key-value store; canonical/raft's state machine "
                 "here applies plain writes only";
        }
        break;
      default: break;
    }
  }
  if (learners && o.auto_promote) {
    return std::string(
        "/raft/auto_promote: canonical/raft has no lag-based promotion or demotion; set "
        "\"auto_promote\": false");
  }
  return std::nullopt;
}

}  // namespace sim
