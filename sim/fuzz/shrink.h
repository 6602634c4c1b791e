// `raftsim shrink`: from a failing scenario, search for a smaller one that
// fails the same way (the same invariant, or the same kind of check).
#pragma once

#include <atomic>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario/scenario.h"

namespace sim {

struct ShrinkResult {
  bool input_fails = false;
  std::string kind;                  // failure_kind() of the input and of the result
  nlohmann::ordered_json scenario;   // the smallest failing document found
  std::vector<std::string> removed;  // what was taken away, in order
  size_t runs = 0;                   // simulations run
  bool budget_exhausted = false;     // stopped at max_runs, not at a fixpoint
  bool interrupted = false;          // stopped by `stop`: the smallest found so far
};

// Throws ScenarioError when `doc` is not a valid scenario. `file` names it
// in messages. When `stop` becomes true (Ctrl-C), the search ends with what
// it has found so far.
ShrinkResult shrink_scenario(const nlohmann::ordered_json& doc, const std::string& file,
                             size_t max_runs, const std::atomic<bool>* stop = nullptr);

struct ShrinkCommand {
  std::string file;
  std::string out;  // default: file with ".min.json"
  size_t max_runs = 2000;
  std::optional<Implementation> implementation;  // --impl: written into the document
};

// Exit code (cli.md): 0 a smaller failing scenario was written, 1 the input
// does not fail, 2 bad input or the result could not be written; 130/143
// when interrupted (what was found by then is still written).
int shrink_command(const ShrinkCommand& cmd);

}  // namespace sim
