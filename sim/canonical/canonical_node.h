// canonical/raft 0.15 (libraft, Debian libraft-dev) behind sim::NodeApi: the
// library's struct raft driven through a raft_io of our own, so the
// production library runs under the same scenarios, checkers, fuzzer and
// shrinker as raft::Node. docs/canonical.md maps each scenario feature to
// the library's equivalent and lists what is refused.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "raft/node.h"
#include "sim/base/node_api.h"

namespace sim {

// A node running canonical/raft. `random` (the simulator's per-node stream)
// and `configs` (the run's arena) must outlive it; `durable` is read at
// construction.
std::unique_ptr<NodeApi> make_canonical_node(raft::NodeId id, const raft::Options& options,
                                             raft::Random& random,
                                             const raft::DurableState& durable,
                                             raft::ConfigArena& configs);

}  // namespace sim
