// Internal to `raftsim fuzz`: how a failing run is classified and described
// (docs/fuzzing.md, "Output"); failure_kind and bad_event_kind, declared in
// fuzz.h, are defined with these in fuzz_classify.cc.
#pragma once

#include <string>
#include <utility>

#include "sim/engine/simulation.h"

namespace sim::fuzz_detail {

// The first failing check's line, if any.
const CheckOutcome* first_failed_check(const RunResult& r);

// "FAIL at 12s leaders count 1: 2 leaders" -> ("leaders count 1", "2 leaders").
std::pair<std::string, std::string> split_check_line(const std::string& text);

}  // namespace sim::fuzz_detail
