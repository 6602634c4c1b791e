#include "sim/fuzz/fuzz_classify.h"

#include <istream>

#include "sim/fuzz/fuzz.h"

namespace sim {

namespace fuzz_detail {

// The first failing check's line, if any.
const CheckOutcome* first_failed_check(const RunResult& r) {
  for (const CheckOutcome& c : r.checks) {
    if (!c.ok) return &c;
  }
  return nullptr;
}

// "FAIL at 12s leaders count 1: 2 leaders" -> ("leaders count 1", "2 leaders").
std::pair<std::string, std::string> split_check_line(const std::string& text) {
  std::string rest = text.rfind("FAIL ", 0) == 0 ? text.substr(5) : text;
  if (rest.rfind("at ", 0) == 0) {
    rest = rest.substr(rest.find(' ', 3) + 1);
  } else if (rest.rfind("within [", 0) == 0) {
    rest = rest.substr(rest.find("] ") + 2);
  }
  const size_t colon = rest.find(": ");
  if (colon == std::string::npos) return {rest, ""};
  return {rest.substr(0, colon), rest.substr(colon + 2)};
}

}  // namespace fuzz_detail

using fuzz_detail::first_failed_check;
using fuzz_detail::split_check_line;

std::string failure_kind(const RunResult& result) {
  if (result.pass) return "";
  if (result.violation) return result.violation->invariant;
  if (result.event_limit) return "event_limit";
  if (const CheckOutcome* c = first_failed_check(result)) {
    const std::string what = split_check_line(c->text).first;
    return "check:" + what.substr(0, what.find(' '));
  }
  return "error";
}

std::string bad_event_kind(const RunResult& result, std::istream& trace) {
  if (result.pass) return "";
  if (!result.violation) {
    const CheckOutcome* c = first_failed_check(result);
    if (!c) return "";
    const auto [what, seen] = split_check_line(c->text);
    if (what.rfind("leaders", 0) == 0) return seen.substr(0, seen.find(' ')) + "_leaders";
    if (what == "converged") {
      if (seen.find("unacknowledged") != std::string::npos) return "unacknowledged";
      if (seen.find("different state") != std::string::npos) return "diverged";
      return "missing_writes";
    }
    return "";
  }
  // The quorum invariant is a deadline that passed, not something an event
  // did: no event is to blame.
  if (result.violation->invariant == "quorum") return "deadline";
  // The event the violation followed: the last trace line before it (a
  // message line names its message: "send:vote_resp").
  std::string line, last;
  auto field = [](const std::string& l, const std::string& key) {
    const std::string k = "\"" + key + "\":\"";
    const size_t at = l.find(k);
    if (at == std::string::npos) return std::string();
    const size_t from = at + k.size();
    return l.substr(from, l.find('"', from) - from);
  };
  while (std::getline(trace, line)) {
    const std::string type = field(line, "type");
    if (type == "violation") return last;
    if (type == "header") continue;
    last = type == "send" || type == "deliver" || type == "drop" ? type + ":" + field(line, "msg")
                                                                 : type;
  }
  return "";
}

}  // namespace sim
