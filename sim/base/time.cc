#include "sim/base/time.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace sim {

namespace {

// The text as a JSON string (quotes and escapes), cut at a UTF-8 character
// boundary after 60 bytes, so a message stays one short line (as the
// scenario loader quotes).
std::string quoted(const std::string& s) {
  constexpr size_t kEchoBytes = 60;
  std::string shown = s;
  if (s.size() > kEchoBytes) {
    size_t n = kEchoBytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    shown = s.substr(0, n) + "...";
  }
  return nlohmann::json(shown).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Why a unit is not one of us, ms, s; `s` is the whole text for the message.
std::string unit_error(const std::string& s, const std::string& unit, const char* form) {
  if (unit.empty()) {
    return quoted(s) + " has no unit; write \"" + s + "ms\", or the number " + s +
           " for milliseconds";
  }
  if (unit[0] == ' ') {
    return quoted(s) + " is not a time: no space may come between the number and the unit";
  }
  if (unit == "\u00b5s" || unit == "\u03bcs") {
    return quoted(s) + " uses the unit \"" + unit + "\"; write \"us\" for microseconds";
  }
  if (!std::all_of(unit.begin(), unit.end(),
                   [](char c) { return std::isalpha(static_cast<unsigned char>(c)); })) {
    return quoted(s) + " is not a time" + form;
  }
  std::string lower = unit;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool known = lower == "us" || lower == "ms" || lower == "s";
  return quoted(s) + " has an unknown time unit " + quoted(unit) +
         (known ? " (did you mean \"" + lower + "\"?)" : "") + "; use us, ms or s";
}

}  // namespace

std::string format_time(TimeUs t) {
  std::string out = std::to_string(t / 1'000'000);
  if (const int64_t frac = t % 1'000'000; frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 6 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out + "s";
}

std::optional<TimeUs> parse_time(const std::string& s, std::string* error) {
  static const char* kForm =
      "; write a number of milliseconds or a string such as \"250us\", \"150ms\" or \"1.5s\"";
  auto fail = [&](std::string message) -> std::optional<TimeUs> {
    *error = std::move(message);
    return std::nullopt;
  };
  size_t i = 0;
  const bool negative = i < s.size() && s[i] == '-';
  if (negative) ++i;
  const size_t int_begin = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  const size_t int_end = i;
  size_t frac_begin = i, frac_end = i;
  if (i < s.size() && s[i] == '.') {
    frac_begin = frac_end = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    frac_end = i;
    if (frac_end == frac_begin) return fail(quoted(s) + " is not a time" + kForm);
  }
  if (int_end == int_begin) return fail(quoted(s) + " is not a time" + kForm);
  const std::string unit = s.substr(i);
  int digits;  // decimal digits of the unit in microseconds
  if (unit == "us") {
    digits = 0;
  } else if (unit == "ms") {
    digits = 3;
  } else if (unit == "s") {
    digits = 6;
  } else {
    return fail(unit_error(s, unit, kForm));
  }
  // Integer part, saturating well above the limit.
  const uint64_t cap = static_cast<uint64_t>(kMaxTimeUs) + 1;
  uint64_t scale = 1;
  for (int d = 0; d < digits; ++d) scale *= 10;
  uint64_t us = 0;
  for (size_t k = int_begin; k < int_end && us <= cap; ++k)
    us = us * 10 + static_cast<uint64_t>(s[k] - '0');
  us = us > cap ? cap : us * scale;
  // Fraction: the first `digits` digits, rounded half up by the next one.
  uint64_t frac = 0;
  for (int d = 0; d < digits; ++d) {
    const size_t k = frac_begin + static_cast<size_t>(d);
    frac = frac * 10 + (k < frac_end ? static_cast<uint64_t>(s[k] - '0') : 0);
  }
  const size_t round_at = frac_begin + static_cast<size_t>(digits);
  if (round_at < frac_end && s[round_at] >= '5') ++frac;
  us += frac;
  if (negative && us != 0) return fail("a time may not be negative (found " + quoted(s) + ")");
  if (us > static_cast<uint64_t>(kMaxTimeUs))
    return fail(quoted(s) + " exceeds the limit of 48 hours");
  return static_cast<TimeUs>(us);
}

}  // namespace sim
