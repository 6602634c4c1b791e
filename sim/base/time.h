// Virtual time: integer microseconds, one parser and one formatter for every
// place that reads or prints a time (scenario files, the command line,
// traces and messages), so a time reads back as exactly what was written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sim {

using TimeUs = int64_t;

// The longest time anything accepts: 48 virtual hours.
inline constexpr TimeUs kMaxTimeUs = 48LL * 3600 * 1'000'000;

// Seconds with as many decimals as needed (the trace's format): "2s", "2.35s",
// "0.00025s".
std::string format_time(TimeUs t);

// A time string: digits, an optional fraction and a unit ("250us", "150ms",
// "1.5s"), parsed exactly (no floating point, no locale) and rounded half up
// to the nearest microsecond. nullopt with *error set to a sentence fragment
// that names the text if it is not a time in [0, kMaxTimeUs].
std::optional<TimeUs> parse_time(const std::string& s, std::string* error);

}  // namespace sim
