// The scenario features canonical/raft can express (docs/canonical.md).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sim/scenario/scenario.h"

namespace sim {

// Why the library cannot run this scenario (one sentence naming the key),
// or nothing when it can.
std::optional<std::string> canonical_refusal(const Scenario& scenario);

// Rewrites a generated fuzz scenario into one the library can run: the
// implementation key, an election timeout range of [T, 2T], check_quorum on,
// no automatic promotion (add_learner with "promote": false), and no
// campaign or snapshot actions (docs/canonical.md).
void restrict_to_canonical(nlohmann::ordered_json& doc);

}  // namespace sim
