// Scenario loader: everything scenarios.md describes is accepted; every kind
// of malformed input is refused with one message naming the file and the
// place (line:column for syntax, the JSON pointer otherwise) and the problem.
#include "sim/scenario/scenario_loader.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace sim {
namespace {

const std::string kFile = "t.json";

// A valid scenario with `extra` (",\"key\": value, ...") added to the top level.
std::string with(const std::string& extra) {
  return R"({"name": "t", "duration": "2s", "cluster": {"voters": 3})" + extra + "}";
}

Scenario load(const std::string& text) {
  return parse_scenario(text, kFile);
}

// The message parse_scenario refuses `text` with; fails the test if it loads.
std::string refusal(const std::string& text) {
  try {
    load(text);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  FAIL("accepted: " << text);
  return "";
}

// Refused, with exactly this message after the file name.
void refused(const std::string& text, const std::string& message) {
  CHECK(refusal(text) == kFile + message);
}

TEST_CASE("every shipped scenario loads") {
  std::vector<std::filesystem::path> files;
  for (const char* dir : {RAFTSIM_SCENARIOS, RAFTSIM_SCENARIOS "/planted"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
  }
  REQUIRE(files.size() >= 10);
  for (const auto& path : files) {
    CAPTURE(path);
    CHECK_NOTHROW(load_scenario_file(path.string()));
  }
}

TEST_CASE("the forms the format allows are accepted") {
  SUBCASE("times: numbers of milliseconds, fractional, and strings with units") {
    const Scenario s = load(with(R"(, "timeline": [
      {"at": 250, "action": "heal"}, {"at": 0.5, "action": "heal"}, {"at": "250us", "action": "heal"},
      {"at": "150ms", "action": "heal"}, {"at": "1.5s", "action": "heal"}, {"at": "0.0015ms", "action": "heal"},
      {"at": {"min": "1s", "max": "1.2s"}, "action": "heal"}, {"at": "2s", "action": "heal"}, {"at": 0, "action": "heal"}])"));
    REQUIRE(s.actions.size() == 9);
    CHECK(s.actions[0].at.min_us == 250'000);
    CHECK(s.actions[1].at.min_us == 500);
    CHECK(s.actions[2].at.min_us == 250);
    CHECK(s.actions[3].at.min_us == 150'000);
    CHECK(s.actions[4].at.min_us == 1'500'000);
    CHECK(s.actions[5].at.min_us == 2);  // 1.5 us, rounded to the nearest
    CHECK(s.actions[6].at.min_us == 1'000'000);
    CHECK(s.actions[6].at.max_us == 1'200'000);
    CHECK(s.actions[7].at.min_us == s.duration_us);  // at the very end is allowed
  }
  SUBCASE("latency: constant, uniform, normal") {
    const Scenario s = load(
        with(R"(, "network": {"latency": {"mean": "10ms", "stddev": 2}, "drop": 0, "duplicate": 1},
      "timeline": [{"at": "1s", "action": "set_network", "latency": "3ms"},
                   {"at": "1s", "action": "set_network", "latency": {"min": 1, "max": "2ms"}, "between": [1, 2]}])"));
    CHECK(s.network.latency.kind == LatencyModel::Kind::normal);
    CHECK(s.network.latency.b_us == 2000);
    CHECK(s.network.duplicate == 1.0);
    CHECK(s.actions[0].patch.latency->kind == LatencyModel::Kind::constant);
    CHECK(s.actions[1].patch.latency->kind == LatencyModel::Kind::uniform);
    CHECK(s.actions[1].between == std::make_pair(NodeId{1}, NodeId{2}));
  }
  SUBCASE("cluster: a count, or lists with learners and spares") {
    CHECK(load(with("")).voters == std::vector<NodeId>{1, 2, 3});
    const Scenario s = parse_scenario(
        R"({"name": "t", "duration": 1000, "cluster": {"voters": [4, 2, 9], "learners": [5], "spares": [6, 7]}})",
        kFile);
    CHECK(s.voters == std::vector<NodeId>{4, 2, 9});
    CHECK(s.all_nodes() == std::vector<NodeId>{2, 4, 5, 6, 7, 9});
  }
  SUBCASE("whole numbers written as floats, a byte-order mark, a seed of 2^64-1") {
    const Scenario s = load("\xEF\xBB\xBF" + with(R"(, "seed": 18446744073709551615,
      "timeline": [{"at": "1s", "action": "write", "count": 2.0}])"));
    CHECK(s.seed == UINT64_MAX);
    CHECK(s.actions[0].count == 2);
  }
  SUBCASE("an alias bound later in the file but earlier in time") {
    const Scenario s = load(with(R"(, "timeline": [
      {"at": "1.5s", "action": "restart", "node": "old"},
      {"at": "1s", "action": "crash", "node": "leader", "as": "old"}],
      "expect": [{"within": ["1s", "2s"], "check": "event", "event": "restart", "node": "old"},
                 {"at": "1s", "check": "role", "node": "old", "is": "crashed"}])"));
    CHECK(s.actions[0].node.kind == NodeRef::Kind::alias);
  }
}

TEST_CASE("JSON syntax errors give line and column") {
  refused("{\"name\": \"x\",\n \"duration\": \"1s\",\n}",
          ":3:1: invalid JSON: syntax error while parsing object key - unexpected '}'; expected "
          "string literal");
  refused("",
          ":1:1: invalid JSON: syntax error while parsing value - unexpected end of input; "
          "expected '[', '{', or a literal");
  // Columns count characters, not bytes.
  CHECK(refusal("{\"név\": x}").rfind(kFile + ":1:9: invalid JSON", 0) == 0);
  // A number too large for a double: the column of its first digit.
  refused(R"({"duration": 1e999})", ":1:14: invalid JSON: number overflow parsing '1e999'");
  // Garbage bytes are shown escaped, and a long excerpt is cut.
  const std::string garbage = refusal("\x01\xff\xfe");
  CHECK(garbage.rfind(kFile + ":1:1: invalid JSON", 0) == 0);
  CHECK(garbage.find('\xff') == std::string::npos);
  const std::string unterminated = refusal("{\"name\": \"" + std::string(100'000, 'a'));
  CHECK(unterminated.rfind(kFile + ":1:100011: invalid JSON: syntax error", 0) == 0);
  CHECK(unterminated.size() < 300);
}

TEST_CASE("structure: top level, duplicate keys, nesting, size") {
  refused("[]", ": /: expected a scenario object, found an array");
  refused("\"text\"", ": /: expected a scenario object, found the string \"text\"");
  refused(with(R"(, "name": "again")"),
          ": /name: duplicate key \"name\"; each key may appear once in an object");
  refused(with(R"(, "timeline": [{"at": 1, "action": "heal"}, {"at": 1, "at": 2}])"),
          ": /timeline/1/at: duplicate key \"at\"; each key may appear once in an object");
  refused(std::string(65, '[') + std::string(65, ']'),
          ":1:65: JSON nesting is deeper than the limit of 64 levels");
  refused(std::string(ScenarioLimits::kMaxFileBytes + 1, ' '),
          ": the file is larger than the limit of 16 MiB");
}

TEST_CASE("keys: unknown with a suggestion, missing, wrong type") {
  refused(with(R"(, "timelime": [])"),
          ": /timelime: unknown key \"timelime\" (did you mean \"timeline\"?); expected one of: "
          "name, description, seed, "
          "duration, max_events, implementation, cluster, raft, network, disk, workload, timeline, "
          "expect, check_stale_reads");
  refused(with(R"(, "raft": {"pre_vote": true, "prevote": true})"),
          ": /raft/prevote: unknown key \"prevote\" (did you mean \"pre_vote\"?); expected one of: "
          "election_timeout, "
          "heartbeat_interval, check_quorum, pre_vote, max_lag_threshold, promotion_threshold, "
          "auto_promote, min_voters, "
          "snapshot_threshold, snapshot_chunk_size, max_inflight, max_entries_per_message, "
          "probe_back, clock_drift_bound, bugs");
  // Keys are escaped as pointer tokens; control characters stay on one line.
  CHECK(refusal(with(R"(, "a/b~\n": 1)"))
            .rfind(kFile + ": /a~1b~0\\u000a: unknown key \"a/b~\\n\"", 0) == 0);
  refused(R"({"name": "x", "cluster": {"voters": 3}})", ": /: missing required key \"duration\"");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "crash"}])"),
          ": /timeline/0: missing required key \"node\"");
  refused(with(R"(, "expect": [{"at": "1s", "check": "role", "node": 1}])"),
          ": /expect/0: missing required key \"is\" for check \"role\"");
  refused(with(R"(, "raft": {"pre_vote": "yes"})"),
          ": /raft/pre_vote: expected true or false, found the string \"yes\"");
  refused(with(R"(, "timeline": {"at": 1})"),
          ": /timeline: expected an array of actions, found an object");
  refused(R"({"name": 7, "duration": "1s", "cluster": {"voters": 3}})",
          ": /name: expected a string, found the number 7");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "partiton", "groups": [[1]]}])"),
          ": /timeline/0/action: unknown action \"partiton\" (did you mean \"partition\"?); known "
          "actions: crash, "
          "restart, pause, resume, partition, isolate, cut, heal, set_network, write, add_learner, "
          "promote, demote, "
          "remove, transfer_leadership, snapshot, campaign, clock_drift, read");
}

TEST_CASE("times: negative, unparseable, after the duration, over the limit") {
  auto at = [](const std::string& time) {
    return with(R"(, "timeline": [{"at": )" + time + R"(, "action": "heal"}])");
  };
  refused(at("-5"), ": /timeline/0/at: a time may not be negative (found -5)");
  refused(at("\"-5ms\""), ": /timeline/0/at: a time may not be negative (found \"-5ms\")");
  const std::string form =
      "; write a number of milliseconds or a string such as \"250us\", \"150ms\" or \"1.5s\"";
  refused(at("\"1e3ms\""), ": /timeline/0/at: \"1e3ms\" is not a time" + form);
  refused(at("\" 5ms\""), ": /timeline/0/at: \" 5ms\" is not a time" + form);
  refused(at("\"nan\""), ": /timeline/0/at: \"nan\" is not a time" + form);
  refused(at("\"inf s\""), ": /timeline/0/at: \"inf s\" is not a time" + form);
  refused(at("\"0x10ms\""), ": /timeline/0/at: \"0x10ms\" is not a time" + form);
  refused(at("\"5 ms\""),
          ": /timeline/0/at: \"5 ms\" is not a time: no space may come between the number and the "
          "unit");
  refused(at("\"5\""),
          ": /timeline/0/at: \"5\" has no unit; write \"5ms\", or the number 5 for milliseconds");
  refused(at("\"5MS\""),
          ": /timeline/0/at: \"5MS\" has an unknown time unit \"MS\" (did you mean \"ms\"?); use "
          "us, ms or s");
  refused(at("\"2h\""), ": /timeline/0/at: \"2h\" has an unknown time unit \"h\"; use us, ms or s");
  refused(at("true"),
          ": /timeline/0/at: expected a time (a number of milliseconds or a string such as "
          "\"150ms\"), found a boolean");
  refused(at("\"3s\""), ": /timeline/0/at: the action at 3s, after the scenario's duration 2s");
  refused(at(R"({"min": "1s", "max": "2.5s"})"),
          ": /timeline/0/at: the action may run as late as 2.5s, after the scenario's duration 2s");
  refused(at(R"({"min": "1.5s", "max": "1s"})"), ": /timeline/0/at: min 1.5s is after max 1s");
  refused(at("\"99999999999999999999999s\""),
          ": /timeline/0/at: \"99999999999999999999999s\" exceeds the limit of 48 hours");
  refused(at("1e300"), ": /timeline/0/at: 1e+300 ms exceeds the limit of 48 hours");
  refused(R"({"name": "x", "duration": 0, "cluster": {"voters": 3}})",
          ": /duration: must be greater than 0");
}

TEST_CASE("numbers: whole, in range") {
  auto write = [](const std::string& count) {
    return with(R"(, "timeline": [{"at": "1s", "action": "write", "count": )" + count + "}]");
  };
  refused(write("2.5"), ": /timeline/0/count: expected a whole number, found 2.5");
  refused(write("0"), ": /timeline/0/count: must be an integer in [1, 1000000], found 0");
  refused(write("-3"), ": /timeline/0/count: must be an integer in [1, 1000000], found -3");
  refused(write("\"3\""), ": /timeline/0/count: expected an integer, found the string \"3\"");
  refused(with(R"(, "seed": 1e30)"),
          ": /seed: must be an integer in [0, 18446744073709551615], found 1e+30");
  refused(with(R"(, "network": {"drop": 1.5})"),
          ": /network/drop: a probability must be in [0, 1], found 1.5");
  refused(with(R"(, "network": {"duplicate": -0.1})"),
          ": /network/duplicate: a probability must be in [0, 1], found -0.1");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "clock_drift", "node": 1, "rate": 0}])"),
          ": /timeline/0/rate: rate must be in [0.01, 100], found 0");
}

TEST_CASE("nodes: not in the cluster, duplicates, two roles, partitions") {
  refused(with(R"(, "timeline": [{"at": "1s", "action": "crash", "node": 7}])"),
          ": /timeline/0/node: node 7 is not in the cluster (nodes: 1-3)");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "crash", "node": true}])"),
          ": /timeline/0/node: expected a node: an id, \"leader\" or an alias bound with \"as\"; "
          "found a boolean");
  refused(R"({"name": "x", "duration": "1s", "cluster": {"voters": [1, 2, 2]}})",
          ": /cluster/voters/2: node 2 is listed twice");
  refused(R"({"name": "x", "duration": "1s", "cluster": {"voters": [1, 2, 3], "learners": [3]}})",
          ": /cluster/learners/0: node 3 is both a voter and a learner; a node has one role");
  refused(
      R"({"name": "x", "duration": "1s", "cluster": {"voters": 2, "learners": [3], "spares": [3]}})",
      ": /cluster/spares/0: node 3 is both a learner and a spare; a node has one role");
  refused(R"({"name": "x", "duration": "1s", "cluster": {"voters": []}})",
          ": /cluster/voters: a cluster needs at least one voter");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "crash", "node": "2"}])"),
          ": /timeline/0/node: a node id is a number: write 2, not \"2\"");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "crash", "node": 2, "as": "2"}])"),
          ": /timeline/0/as: \"2\" cannot be an alias: it reads as a node id");
  refused(R"({"name": "x", "duration": "1s", "cluster": {"voters": 0}})",
          ": /cluster/voters: expected a positive whole number of voters, found 0");
  refused(R"({"name": "x", "duration": "1s", "cluster": {"voters": 2.5}})",
          ": /cluster/voters: expected a positive whole number of voters, found 2.5");
  refused(R"({"name": "x", "duration": "1s", "cluster": {"voters": [0]}})",
          ": /cluster/voters/0: must be an integer in [1, 1000000], found 0");
  refused(
      with(R"(, "timeline": [{"at": "1s", "action": "partition", "groups": [[1, 2], [2, 3]]}])"),
      ": /timeline/0/groups/1/0: node 2 is also in group 0; partition groups may not overlap");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "cut", "from": 2, "to": 2}])"),
          ": /timeline/0/to: a link needs two different nodes; both ends are node 2");
  refused(
      with(
          R"(, "timeline": [{"at": "1s", "action": "set_network", "between": [1, 2, 3], "drop": 0.1}])"),
      ": /timeline/0/between: expected two node ids, found 3");
  refused(
      with(R"(, "timeline": [{"at": "1s", "action": "set_network"}])"),
      ": /timeline/0: set_network changes nothing: give at least one of latency, drop, duplicate");
  refused(
      with(R"(, "expect": [{"at": "1s", "check": "config", "voters": [1, 2], "learners": [2]}])"),
      ": /expect/0/learners/0: node 2 is both a voter and a learner");
}

TEST_CASE("ranges and windows the wrong way round") {
  refused(with(R"(, "network": {"latency": {"min": "5ms", "max": "1ms"}})"),
          ": /network/latency: latency min 0.005s is greater than max 0.001s");
  refused(with(R"(, "raft": {"election_timeout": ["300ms", "150ms"]})"),
          ": /raft/election_timeout: min 0.3s is greater than max 0.15s");
  refused(
      with(R"(, "expect": [{"within": ["1.5s", "1s"], "check": "no_event", "event": "elected"}])"),
      ": /expect/0/within: the window ends (1s) before it starts (1.5s)");
  refused(with(R"(, "expect": [{"at": "1s", "check": "committed", "min": 5, "max": 2}])"),
          ": /expect/0: min 5 is greater than max 2");
  refused(with(R"(, "workload": {"rate": 10, "start": "1s", "stop": "0.5s"})"),
          ": /workload/stop: the workload stops (0.5s) before it starts (1s)");
  refused(with(R"(, "workload": {"rate": 10, "start": "3s", "stop": "4s"})"),
          ": /workload/start: the workload starts at 3s, after the scenario's duration 2s");
}

TEST_CASE("aliases, leader in a window, checks") {
  const std::string crash_old =
      R"(, "timeline": [{"at": "1s", "action": "crash", "node": "leader", "as": "old"}])";
  refused(with(crash_old + R"(, "expect": [{"at": "1.5s", "check": "leader", "not": "olf"}])"),
          ": /expect/0/not: alias \"olf\" is not bound: no timeline action binds it with \"as\" "
          "(did you mean \"old\"?)");
  refused(with(crash_old + R"(, "expect": [{"at": "0.5s", "check": "leader", "not": "old"}])"),
          ": /expect/0/not: alias \"old\" is not bound yet at the check's time 0.5s: the first "
          "action binding it "
          "(/timeline/0) runs at 1s");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "restart", "node": "old"},
                                 {"at": "1s", "action": "crash", "node": "leader", "as": "old"}])"),
          ": /timeline/0/node: alias \"old\" is not bound yet at this action's time 1s: the first "
          "action binding it "
          "(/timeline/1) runs at 1s, later in the file");
  refused(
      with(
          R"(, "timeline": [{"at": {"min": "0.5s", "max": "1.2s"}, "action": "crash", "node": "leader", "as": "x"},
                                 {"at": "1s", "action": "restart", "node": "x"}])"),
      ": /timeline/1/node: alias \"x\" is not bound yet at this action's time 1s: the first action "
      "binding it "
      "(/timeline/0) runs as late as 1.2s");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "heal", "as": "h"}])"),
          ": /timeline/0/as: this action names no node to bind");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "crash", "node": 1, "as": "leader"}])"),
          ": /timeline/0/as: \"leader\" cannot be an alias");
  refused(
      with(
          R"(, "expect": [{"within": ["1s", "2s"], "check": "event", "event": "step_down", "node": "leader"}])"),
      ": /expect/0/node: a window check may not name \"leader\" (the leader can change during the "
      "window); bind "
      "an alias with \"as\" in the timeline and name it");
  refused(with(R"(, "expect": [{"at": "1s", "check": "leader", "is": "leader"}])"),
          ": /expect/0/is: \"leader\" here names the leader itself; write \"is\": \"any\", or bind "
          "an alias with \"as\"");
  refused(with(R"(, "expect": [{"at": "1s", "check": "event", "event": "elected"}])"),
          ": /expect/0/at: \"event\" is a window check: use \"within\": [from, to]");
  refused(with(R"(, "expect": [{"within": ["1s", "2s"], "check": "leaders", "count": 1}])"),
          ": /expect/0/within: \"leaders\" is an instant check: use \"at\"");
  refused(with(R"(, "expect": [{"at": "1s", "within": ["1s", "2s"], "check": "converged"}])"),
          ": /expect/0: a check needs exactly one of \"at\" (instant) or \"within\" (window)");
  refused(with(R"(, "expect": [{"at": "3s", "check": "converged"}])"),
          ": /expect/0/at: the check at 3s is after the scenario's duration 2s");
}

TEST_CASE("names: bugs, reasons, events, roles, checks") {
  refused(with(R"(, "raft": {"bugs": ["vote_ignore_log"]})"),
          ": /raft/bugs/0: unknown bug \"vote_ignore_log\" (did you mean \"vote_ignores_log\"?); "
          "known bugs: "
          "vote_ignores_log, commit_prior_term, forget_vote_on_restart, no_truncate_on_conflict, "
          "ack_before_persist, "
          "no_check_quorum, demote_without_consensus, lease_ignores_drift, "
          "read_index_without_heartbeat, read_before_noop_commit");
  refused(with(R"(, "raft": {"bugs": ["no_check_quorum", "no_check_quorum"]})"),
          ": /raft/bugs/1: bug \"no_check_quorum\" is listed twice");
  refused(
      with(
          R"(, "expect": [{"within": ["1s", "2s"], "check": "event", "event": "step_down", "reason": "lost_qorum"}])"),
      ": /expect/0/reason: unknown reason \"lost_qorum\" (did you mean \"lost_quorum\"?); reasons: "
      "higher_term, "
      "granted_vote, lost_quorum, removed, transfer");
  refused(
      with(
          R"(, "expect": [{"within": ["1s", "2s"], "check": "event", "event": "elected", "reason": "transfer"}])"),
      ": /expect/0/reason: only step_down events have a reason, not elected");
  CHECK(
      refusal(
          with(
              R"(, "expect": [{"within": ["1s", "2s"], "check": "no_event", "event": "stepdown"}])"))
          .rfind(kFile + ": /expect/0/event: unknown event \"stepdown\" (did you mean "
                         "\"step_down\"?); events: ",
                 0) == 0);
  CHECK(
      refusal(with(R"(, "expect": [{"at": "1s", "check": "role", "node": 1, "is": "folower"}])"))
          .rfind(
              kFile +
                  ": /expect/0/is: unknown role \"folower\" (did you mean \"follower\"?); roles: ",
              0) == 0);
  CHECK(refusal(with(R"(, "expect": [{"at": "1s", "check": "leadr", "is": "any"}])"))
            .rfind(kFile + ": /expect/0/check: unknown check \"leadr\" (did you mean \"leader\"?); "
                           "known checks: ",
                   0) == 0);
  // A long unknown word gets no suggestion (and costs no quadratic comparison).
  const std::string long_word(100'000, 'x');
  const std::string message =
      refusal(with(R"(, "timeline": [{"at": 1, "action": ")" + long_word + R"("}])"));
  CHECK(message.find("did you mean") == std::string::npos);
  CHECK(message.size() < 400);
}

TEST_CASE("limits: nodes, writes, actions, run length, snapshot chunks") {
  refused(R"({"name": "x", "duration": "1s", "cluster": {"voters": 5000}})",
          ": /cluster/voters: 5000 voters is more than the limit of 2000 nodes");
  refused(R"({"name": "x", "duration": "1s", "cluster": {"voters": [1], "learners": [2000000]}})",
          ": /cluster/learners/0: must be an integer in [1, 1000000], found 2000000");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "write", "count": 1000001}])"),
          ": /timeline/0/count: must be an integer in [1, 1000000], found 1000001");
  refused(
      R"({"name": "x", "duration": "172800s", "cluster": {"voters": 3}, "workload": {"rate": 1000000}})",
      ": /: the scenario asks for about 172800000000 client writes, more than the limit of "
      "20000000");
  CHECK(refusal(R"({"name": "x", "duration": "3600s", "cluster": {"voters": 1000}})")
            .rfind(kFile + ": /duration: the run would be too long: 1000 nodes for 3600s with a "
                           "timer every 0.05s",
                   0) == 0);
  // Clock drift speeds the timers up, and counts.
  CHECK(load(R"({"name": "x", "duration": "3000s", "cluster": {"voters": 100}})").duration_us ==
        3'000'000'000);
  CHECK(refusal(R"({"name": "x", "duration": "3000s", "cluster": {"voters": 100},
                    "timeline": [{"at": 0, "action": "clock_drift", "node": 1, "rate": 100}]})")
            .find(": /duration: the run would be too long") != std::string::npos);
  refused(
      with(
          R"(, "raft": {"snapshot_chunk_size": 1}, "timeline": [{"at": 1, "action": "write", "count": 1000000, "size": 100}])"),
      ": /raft/snapshot_chunk_size: a snapshot of every byte written would take more than 1e7 "
      "chunks of 1 bytes; "
      "use larger chunks");
  std::string actions;
  for (size_t i = 0; i <= ScenarioLimits::kMaxActions; ++i)
    actions += std::string(i ? "," : "") + "{}";
  refused(with(R"(, "timeline": [)" + actions + "]"),
          ": /timeline: 100001 actions is more than the limit of 100000");
}

TEST_CASE("files: missing, a directory, through the loader's own reader") {
  CHECK_THROWS_WITH_AS(load_scenario_file("/nonexistent/x.json"),
                       "/nonexistent/x.json: cannot read the file: No such file or directory",
                       ScenarioError);
  CHECK_THROWS_WITH_AS(load_scenario_file(RAFTSIM_SCENARIOS),
                       RAFTSIM_SCENARIOS ": cannot read the file: it is a directory",
                       ScenarioError);
}

TEST_CASE("key-value extension: workload keys, reads, cas, read modes, drift bound") {
  const Scenario s = load(with(R"(, "check_stale_reads": true,
    "raft": {"clock_drift_bound": 0.25},
    "workload": {"rate": 10, "keys": 3, "read_ratio": 0.5, "cas_ratio": 0.1, "read_mode": "lease"},
    "timeline": [{"at": "1s", "action": "read", "count": 2, "key": 4, "mode": "stale"},
                 {"at": "1s", "action": "write", "count": 1, "key": 2, "op": "cas", "expected": 7}])"));
  CHECK(s.kv());
  CHECK(s.check_stale_reads);
  CHECK(s.raft.clock_drift_bound_ppm == 250'000);
  CHECK(s.workload.keys == 3);
  CHECK(s.workload.read_mode == raft::ReadMode::lease);
  CHECK(s.uses_read_mode(raft::ReadMode::lease));
  CHECK(s.uses_read_mode(raft::ReadMode::stale));
  CHECK_FALSE(s.uses_read_mode(raft::ReadMode::read_index));
  REQUIRE(s.actions.size() == 2);
  CHECK(s.actions[0].kind == ActionKind::read);
  CHECK(*s.actions[0].key == 4);
  CHECK(s.actions[1].op == raft::WriteOp::cas);
  CHECK(s.actions[1].expected == 7);
  CHECK_FALSE(load(with("")).kv());  // no keys, reads or cas: the classic workload

  refused(with(R"(, "workload": {"rate": 10, "read_ratio": 0.5})"),
          ": /workload/read_ratio: needs \"keys\", the number of keys to use");
  refused(with(R"(, "workload": {"rate": 10, "keys": 2, "read_mode": "lese"})"),
          ": /workload/read_mode: unknown read mode \"lese\" (did you mean \"lease\"?); modes: "
          "read_index, lease, stale");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "write", "count": 1, "expected": 3}])"),
          ": /timeline/0/expected: only a \"cas\" write expects a value");
  refused(with(R"(, "timeline": [{"at": "1s", "action": "write", "count": 1, "op": "swap"}])"),
          ": /timeline/0/op: unknown op \"swap\"; a write is a \"put\" or a \"cas\"");
  refused(with(R"(, "raft": {"clock_drift_bound": 1.5})"),
          ": /raft/clock_drift_bound: expected a fraction in [0, 1) (0.1: clocks run within 10% "
          "of real time), found 1.5");
  CHECK(refusal(with(R"(, "timeline": [{"at": "1s", "action": "read", "count": 1, "size": 3}])"))
            .find("/timeline/0/size: unknown key") != std::string::npos);
}

}  // namespace
}  // namespace sim
