// libFuzzer target over the scenario loader and validator (issue 7). Any input
// must either load or be refused with a ScenarioError; any other exception,
// a crash, a sanitizer report, a leak or a hang is a finding.
// Built and run by tools/fuzz_loader.sh.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/scenario/scenario_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const sim::Scenario scenario = sim::parse_scenario(text, "fuzz.json");
    // A loaded scenario must be usable: every node named is in the cluster.
    for (const sim::Action& a : scenario.actions) {
      if (a.node.kind == sim::NodeRef::Kind::id && !scenario.has_node(a.node.id)) __builtin_trap();
    }
  } catch (const sim::ScenarioError& e) {
    // Refused: the message must name the file first.
    if (std::string(e.what()).rfind("fuzz.json", 0) != 0) __builtin_trap();
  }
  return 0;
}
