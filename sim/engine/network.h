// The virtual network's state: which directed links are cut, and the
// latency/drop/duplicate settings of every link (a default plus per-pair
// overrides). Scheduling of deliveries lives in the Simulator.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "sim/base/prng.h"
#include "sim/scenario/scenario.h"

namespace sim {

class Network {
 public:
  Network(const std::vector<NodeId>& nodes, const LinkSettings& defaults);

  // Most runs cut no link: then the n x n matrix (125 KB at 1,001 nodes,
  // a miss per message) is not read at all.
  bool is_cut(NodeId from, NodeId to) const {
    return cut_count_ != 0 && cut_[slot(from) * n_ + slot(to)];
  }
  void cut(NodeId from, NodeId to, bool both);
  // Replaces every earlier cut: links between different groups are cut both
  // ways; nodes in no group are cut off from all.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  void isolate(NodeId node);
  void heal();
  void set(const NetworkPatch& patch, const std::pair<NodeId, NodeId>* between);

  // Inline for the common case of no per-link settings: every message reads
  // both.
  const LinkSettings& settings(NodeId from, NodeId to) const {
    return overrides_.empty() ? defaults_ : override_settings(from, to);
  }
  static TimeUs draw_latency(const LatencyModel& model, Prng& rng);
  // Pre-computed chance thresholds for a link's settings.
  struct Chances {
    uint64_t drop;
    uint64_t duplicate;
  };
  Chances chances(NodeId from, NodeId to) const {
    return overrides_.empty() ? default_chances_ : chances_of(override_settings(from, to));
  }
  bool any_cut() const { return cut_count_ > 0; }

 private:
  size_t slot(NodeId id) const { return slot_of_[id]; }
  static std::pair<NodeId, NodeId> key(NodeId a, NodeId b) {
    return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
  }
  void set_cut(NodeId from, NodeId to, bool value);
  const LinkSettings& override_settings(NodeId from, NodeId to) const;
  static Chances chances_of(const LinkSettings& s);

  std::vector<size_t> slot_of_;  // node id -> dense slot
  std::vector<NodeId> nodes_;
  size_t n_ = 0;
  std::vector<bool> cut_;  // n_ x n_ matrix, [from][to]
  size_t cut_count_ = 0;
  LinkSettings defaults_;
  Chances default_chances_;  // of defaults_
  std::map<std::pair<NodeId, NodeId>, LinkSettings> overrides_;
};

}  // namespace sim
