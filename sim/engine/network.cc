#include "sim/engine/network.h"

#include <algorithm>

namespace sim {

Network::Network(const std::vector<NodeId>& nodes, const LinkSettings& defaults)
    : nodes_(nodes),
      n_(nodes.size()),
      cut_(nodes.size() * nodes.size(), false),
      defaults_(defaults),
      default_chances_(chances_of(defaults)) {
  NodeId max_id = 0;
  for (NodeId id : nodes) max_id = std::max(max_id, id);
  slot_of_.assign(max_id + 1, 0);
  for (size_t i = 0; i < nodes.size(); ++i) slot_of_[nodes[i]] = i;
}

void Network::set_cut(NodeId from, NodeId to, bool value) {
  if (from == to) return;
  auto ref = cut_[slot(from) * n_ + slot(to)];
  if (ref == value) return;
  ref = value;
  if (value) {
    ++cut_count_;
  } else {
    --cut_count_;
  }
}

void Network::cut(NodeId from, NodeId to, bool both) {
  set_cut(from, to, true);
  if (both) set_cut(to, from, true);
}

void Network::partition(const std::vector<std::vector<NodeId>>& groups) {
  // A partition describes the whole network: it replaces earlier cuts.
  heal();
  std::vector<int> group_of(n_, -1);
  for (size_t g = 0; g < groups.size(); ++g) {
    for (NodeId id : groups[g]) group_of[slot(id)] = static_cast<int>(g);
  }
  for (NodeId a : nodes_) {
    for (NodeId b : nodes_) {
      const int ga = group_of[slot(a)];
      const int gb = group_of[slot(b)];
      if (a != b && (ga < 0 || gb < 0 || ga != gb)) set_cut(a, b, true);
    }
  }
}

void Network::isolate(NodeId node) {
  for (NodeId other : nodes_) cut(node, other, true);
}

void Network::heal() {
  std::fill(cut_.begin(), cut_.end(), false);
  cut_count_ = 0;
}

void Network::set(const NetworkPatch& patch, const std::pair<NodeId, NodeId>* between) {
  auto apply = [&](LinkSettings& s) {
    if (patch.latency) s.latency = *patch.latency;
    if (patch.drop) s.drop = *patch.drop;
    if (patch.duplicate) s.duplicate = *patch.duplicate;
  };
  if (between) {
    auto it = overrides_.find(key(between->first, between->second));
    if (it == overrides_.end()) {
      it = overrides_.emplace(key(between->first, between->second), defaults_).first;
    }
    apply(it->second);
    return;
  }
  apply(defaults_);
  default_chances_ = chances_of(defaults_);
  for (auto& [link, settings] : overrides_) apply(settings);
}

const LinkSettings& Network::override_settings(NodeId from, NodeId to) const {
  auto it = overrides_.find(key(from, to));
  return it == overrides_.end() ? defaults_ : it->second;
}

Network::Chances Network::chances_of(const LinkSettings& s) {
  return {probability_threshold(s.drop), probability_threshold(s.duplicate)};
}

TimeUs Network::draw_latency(const LatencyModel& model, Prng& rng) {
  switch (model.kind) {
    case LatencyModel::Kind::constant: return model.a_us;
    case LatencyModel::Kind::uniform: return rng.uniform_int(model.a_us, model.b_us);
    case LatencyModel::Kind::normal:
      return std::max<TimeUs>(0, rng.normal_int(model.a_us, model.b_us));
  }
  return model.a_us;
}

}  // namespace sim
