// What the files of the simulation share and nothing else needs: the names
// its trace lines carry (hashed at compile time) and small formatting helpers.
// Internal to sim/engine/.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/engine/simulation.h"

namespace sim {

constexpr int64_t kPpm = 1'000'000;

// The names every message's trace lines carry, hashed at compile time.
constexpr TraceName kSendLine("send");
constexpr TraceName kDeliverLine("deliver");
constexpr TraceName kDropLine("drop");
constexpr TraceName kDropCut("cut");
constexpr TraceName kDropLoss("loss");
constexpr TraceName kDropCrashed("crashed");
// Lines written for every client write.
constexpr TraceName kWriteLine("write");
constexpr TraceName kWriteCommittedLine("write_committed");
constexpr TraceName kReadLine("read");
constexpr TraceName kReadDoneLine("read_done");
constexpr TraceName kMessageNames[] = {
    TraceName("append"),    TraceName("append_resp"),   TraceName("vote"),
    TraceName("vote_resp"), TraceName("pre_vote"),      TraceName("pre_vote_resp"),
    TraceName("snapshot"),  TraceName("snapshot_resp"), TraceName("timeout_now")};
static_assert(sizeof kMessageNames / sizeof kMessageNames[0] ==
                  static_cast<size_t>(raft::MsgType::timeout_now) + 1,
              "one name per message type");

inline const TraceName& message_name(raft::MsgType type) {
  return kMessageNames[static_cast<size_t>(type)];
}

inline std::string ids_text(const std::vector<NodeId>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

inline nlohmann::ordered_json latency_json(const LatencyModel& m) {
  switch (m.kind) {
    case LatencyModel::Kind::constant: return {{"constant_us", m.a_us}};
    case LatencyModel::Kind::uniform: return {{"min_us", m.a_us}, {"max_us", m.b_us}};
    case LatencyModel::Kind::normal: return {{"mean_us", m.a_us}, {"stddev_us", m.b_us}};
  }
  return {};
}

}  // namespace sim
