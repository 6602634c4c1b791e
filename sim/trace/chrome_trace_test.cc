// The Chrome trace converter, on traces from real runs of shipped scenarios
// and on small hand-written traces for the cases runs rarely produce.
#include "sim/trace/chrome_trace.h"

#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sim/engine/simulation.h"
#include "sim/scenario/scenario_loader.h"

namespace sim {
namespace {

using Json = nlohmann::json;

// The JSON Lines trace of one run of a shipped scenario.
std::string run_trace(const std::string& name, Trace::Level level) {
  const Scenario scenario = load_scenario_file(std::string(RAFTSIM_SCENARIOS) + "/" + name);
  std::ostringstream jsonl;
  RunOptions options;
  options.trace = &jsonl;
  options.trace_level = level;
  REQUIRE(run_scenario(scenario, options).pass);
  return jsonl.str();
}

std::vector<Json> lines_of(const std::string& jsonl) {
  std::vector<Json> out;
  std::istringstream in(jsonl);
  std::string line;
  while (std::getline(in, line)) out.push_back(Json::parse(line));
  return out;
}

Json convert(const std::string& jsonl) {
  std::istringstream in(jsonl);
  std::ostringstream out;
  convert_to_chrome_trace(in, out);
  return Json::parse(out.str());  // throws if the output is not valid JSON
}

size_t count_type(const std::vector<Json>& lines, const std::string& type) {
  size_t n = 0;
  for (const Json& l : lines) n += l.value("type", "") == type;
  return n;
}

// B/E slices of one track, checked to nest: every E closes the innermost open
// B of the same name, at a time not before it. Returns the B events.
std::vector<Json> slices_of(const Json& events, uint64_t tid) {
  std::vector<Json> begun, stack;
  for (const Json& e : events) {
    if (e.value("tid", uint64_t{0}) != tid) continue;
    const std::string ph = e.value("ph", "");
    if (ph == "B") {
      stack.push_back(e);
      begun.push_back(e);
    } else if (ph == "E") {
      REQUIRE_FALSE(stack.empty());
      CHECK(stack.back()["name"] == e["name"]);
      CHECK(stack.back()["ts"].get<int64_t>() <= e["ts"].get<int64_t>());
      stack.pop_back();
    }
  }
  CHECK(stack.empty());  // every slice is closed at the end of the run
  return begun;
}

TEST_CASE("chrome trace of a run with crashes: one track per node, a leader slice per election") {
  const std::string jsonl = run_trace("election_timeout_150_300.json", Trace::Level::events);
  const std::vector<Json> lines = lines_of(jsonl);
  const Json chrome = convert(jsonl);
  const Json& events = chrome.at("traceEvents");
  REQUIRE(events.is_array());

  std::set<uint64_t> tracks;
  for (const Json& e : events) {
    if (e["ph"] == "M" && e["name"] == "thread_name") {
      CHECK(tracks.insert(e["tid"].get<uint64_t>()).second);
      CHECK(e["args"]["name"] == "node " + std::to_string(e["tid"].get<uint64_t>()));
    }
  }
  const std::vector<uint64_t> nodes = lines.front()["nodes"].get<std::vector<uint64_t>>();
  CHECK(tracks == std::set<uint64_t>(nodes.begin(), nodes.end()));

  // Leader slices, in time order, against the `elected` lines.
  std::vector<std::pair<int64_t, uint64_t>> elected, leader_slices;  // (t, term)
  for (const Json& l : lines) {
    if (l.value("type", "") == "elected") elected.emplace_back(l["t"], l["term"]);
  }
  size_t crashed_slices = 0;
  for (uint64_t n : nodes) {
    for (const Json& b : slices_of(events, n)) {
      if (b["name"] == "leader") leader_slices.emplace_back(b["ts"], b["args"]["term"]);
      crashed_slices += b["name"] == "crashed";
    }
  }
  std::sort(leader_slices.begin(), leader_slices.end());
  CHECK(elected.size() >= 10);  // the first election and nine failovers
  CHECK(leader_slices == elected);
  CHECK(crashed_slices == count_type(lines, "crash"));

  std::map<std::string, size_t> instants;
  for (const Json& e : events) {
    if (e["ph"] == "i") ++instants[e["name"].get<std::string>()];
  }
  for (const char* type : {"election_started", "vote_granted", "elected", "crash", "restart"}) {
    CHECK_MESSAGE(instants[type] == count_type(lines, type), type);
  }
  // At events level there are no messages, so no flows.
  for (const Json& e : events) CHECK(e["ph"] != "s");
  CHECK(chrome["otherData"]["digest"] == lines.back()["digest"]);
}

TEST_CASE("chrome trace at messages level: a flow arrow per delivery, step-down reasons") {
  const std::string jsonl = run_trace("leader_loses_quorum.json", Trace::Level::messages);
  const std::vector<Json> lines = lines_of(jsonl);
  const Json events = convert(jsonl).at("traceEvents");

  // Every flow start has exactly one finish with its id, on the receiver's
  // track and not before the start.
  std::map<uint64_t, Json> starts, finishes;
  for (const Json& e : events) {
    if (e["ph"] == "s") CHECK(starts.emplace(e["id"].get<uint64_t>(), e).second);
    if (e["ph"] == "f") {
      CHECK(finishes.emplace(e["id"].get<uint64_t>(), e).second);
      CHECK(e["bp"] == "e");
    }
  }
  REQUIRE(starts.size() == finishes.size());
  CHECK(starts.size() == count_type(lines, "deliver"));
  for (const auto& [id, s] : starts) {
    REQUIRE(finishes.count(id) == 1);
    const Json& f = finishes.at(id);
    CHECK(s["name"] == f["name"]);
    CHECK(s["ts"].get<int64_t>() <= f["ts"].get<int64_t>());
  }
  size_t sends = 0, drops = 0;
  for (const Json& e : events) {
    const std::string name = e.value("name", "");
    sends += e["ph"] == "X" && name.rfind("send ", 0) == 0;
    drops += e["ph"] == "i" && name.rfind("drop ", 0) == 0;
  }
  CHECK(sends == count_type(lines, "send"));
  CHECK(drops == count_type(lines, "drop"));
  CHECK(drops > 0);  // the isolated leader's messages

  // The isolated leader steps down for lost quorum; the reason is in args.
  size_t step_downs = 0;
  for (const Json& e : events) {
    if (e["ph"] == "i" && e["name"] == "step_down") {
      ++step_downs;
      CHECK(e["args"]["reason"] == "lost_quorum");
    }
  }
  CHECK(step_downs == count_type(lines, "step_down"));
  CHECK(step_downs == 1);
}

TEST_CASE("chrome trace: a pause nests inside the role slice, also across a role change") {
  const std::string jsonl =
      R"({"type":"header","format":"raftsim-trace","version":1,"nodes":[1,2],"voters":[1,2]}
{"t":10,"type":"role","node":1,"from":"follower","to":"candidate","term":1,"reason":"election_timeout"}
{"t":20,"type":"pause","node":1}
{"t":30,"type":"role","node":1,"from":"candidate","to":"follower","term":2,"reason":"higher_term"}
{"t":40,"type":"resume","node":1}
{"t":50,"type":"pause","node":2}
{"t":60,"type":"crash","node":2}
{"t":70,"type":"end","events":6,"digest":"0","result":"pass"}
)";
  const Json events = convert(jsonl).at("traceEvents");
  std::vector<std::string> names;
  for (const Json& b : slices_of(events, 1)) names.push_back(b["name"]);
  CHECK(names == std::vector<std::string>{"follower", "candidate", "paused", "follower", "paused"});
  names.clear();
  for (const Json& b : slices_of(events, 2)) names.push_back(b["name"]);
  // A crash ends the pause: a crashed node is not paused.
  CHECK(names == std::vector<std::string>{"follower", "paused", "crashed"});
}

TEST_CASE("chrome trace: input that is not a complete raftsim trace is an error naming the line") {
  auto error_of = [](const std::string& jsonl) -> std::string {
    try {
      convert(jsonl);
    } catch (const ChromeTraceError& e) {
      return e.what();
    }
    return "";
  };
  const std::string header =
      R"({"type":"header","format":"raftsim-trace","version":1,"nodes":[1]})";
  CHECK(error_of("") == "empty trace");
  CHECK(error_of("{\"type\":\"role\"}\n").find("line 1") == 0);
  CHECK(error_of(header + "\nnot json\n").find("line 2") == 0);
  CHECK(error_of(header + "\n{\"t\":5,\"type\":\"crash\",\"node\":9}\n").find("line 2: node 9") ==
        0);
  CHECK(error_of(header + "\n{\"t\":5,\"type\":\"crash\",\"node\":1}\n").find("no end line") !=
        std::string::npos);
}

}  // namespace
}  // namespace sim
