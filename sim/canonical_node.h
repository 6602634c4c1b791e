// canonical/raft 0.15 (libraft, Debian libraft-dev) behind sim::NodeApi: the
// library's struct raft driven through a raft_io of our own, so the
// production library runs under the same scenarios, checkers, fuzzer and
// shrinker as raft::Node. docs/canonical.md maps each scenario feature to
// the library's equivalent and lists what is refused.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "raft/node.h"
#include "sim/node_api.h"

namespace sim {

struct Scenario;

// Why the library cannot run this scenario (one sentence naming the key),
// or nothing when it can.
std::optional<std::string> canonical_refusal(const Scenario& scenario);

// Rewrites a generated fuzz scenario into one the library can run: the
// implementation key, an election timeout range of [T, 2T], check_quorum on,
// no automatic promotion (add_learner with "promote": false), and no
// campaign or snapshot actions (docs/canonical.md).
void restrict_to_canonical(nlohmann::ordered_json& doc);

// A node running canonical/raft. `random` and `durable` must outlive it
// (they are the simulator's per-node stream and virtual disk).
std::unique_ptr<NodeApi> make_canonical_node(raft::NodeId id, const raft::Options& options,
                                             raft::Random& random,
                                             const raft::DurableState& durable);

}  // namespace sim
