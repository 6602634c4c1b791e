#include "sim/base/time.h"

#include <doctest/doctest.h>

#include <string>

using sim::format_time;
using sim::parse_time;

namespace {

// The parser's error for text, or "" if it parses.
std::string parse_error(const std::string& text) {
  std::string error;
  return parse_time(text, &error) ? "" : error;
}

}  // namespace

TEST_CASE("time: format_time prints seconds with only the decimals needed") {
  CHECK(format_time(0) == "0s");
  CHECK(format_time(2'000'000) == "2s");
  CHECK(format_time(2'350'000) == "2.35s");
  CHECK(format_time(250) == "0.00025s");
}

TEST_CASE("time: parse_time reads every unit exactly and rounds half up") {
  std::string error;
  CHECK(parse_time("250us", &error) == 250);
  CHECK(parse_time("150ms", &error) == 150'000);
  CHECK(parse_time("1.5s", &error) == 1'500'000);
  CHECK(parse_time("0.0000005s", &error) == 1);
  CHECK(parse_time("0.0000004s", &error) == 0);
  CHECK(parse_time("-0s", &error) == 0);
  CHECK(parse_time("48h", &error) == std::nullopt);
}

TEST_CASE("time: format_time's output reads back as the same microseconds") {
  std::string error;
  for (sim::TimeUs t : {sim::TimeUs{0}, sim::TimeUs{1}, sim::TimeUs{999'999}, sim::kMaxTimeUs})
    CHECK(parse_time(format_time(t), &error) == t);
}

TEST_CASE("time: parse_time says why a text is not a time") {
  CHECK(parse_error("5") == "\"5\" has no unit; write \"5ms\", or the number 5 for milliseconds");
  CHECK(parse_error("5 ms").find("no space may come") != std::string::npos);
  CHECK(parse_error("5MS").find("(did you mean \"ms\"?)") != std::string::npos);
  CHECK(parse_error("5\u00b5s").find("write \"us\" for microseconds") != std::string::npos);
  CHECK(parse_error(".5s").find("is not a time") != std::string::npos);
  CHECK(parse_error("-1ms") == "a time may not be negative (found \"-1ms\")");
  CHECK(parse_error("172800.000001s") == "\"172800.000001s\" exceeds the limit of 48 hours");
}
