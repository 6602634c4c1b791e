#include "sim/trace/chrome_trace.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

namespace sim {

namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr int kPid = 1;

// One node's track: the state to show and the slices currently open on it.
struct Track {
  std::string role;  // Raft role from `role` events
  uint64_t term = 0;
  bool crashed = false;
  bool paused = false;
  bool open = false;  // a role (or "crashed") slice is open
  std::string open_name;
  uint64_t open_term = 0;
  bool pause_open = false;  // a nested "paused" slice is open
};

struct Send {
  int64_t ts;
  uint64_t from;
};

// The fields of a trace event worth showing in a viewer's details pane.
OJson args_of(const Json& ev) {
  OJson args = OJson::object();
  for (auto it = ev.begin(); it != ev.end(); ++it) {
    if (it.key() != "t" && it.key() != "type" && it.key() != "node") args[it.key()] = it.value();
  }
  return args;
}

class Converter {
 public:
  explicit Converter(std::ostream& out) : out_(out) {}

  void header(const Json& h) {
    if (!h.is_object() || h.value("type", "") != "header" ||
        h.value("format", "") != "raftsim-trace") {
      throw ChromeTraceError("line 1: not a raftsim trace header");
    }
    header_ = h;
    std::vector<uint64_t> voters = ids(h, "voters");
    std::vector<uint64_t> nodes = ids(h, "nodes");
    for (const char* key : {"voters", "learners", "spares"}) {
      for (uint64_t n : ids(h, key)) {
        if (std::find(nodes.begin(), nodes.end(), n) == nodes.end()) nodes.push_back(n);
      }
    }
    out_ << "{\"traceEvents\":[";
    OJson name = "raftsim: " + h.value("scenario", std::string("run")) + " (seed " +
                 std::to_string(h.value("seed", uint64_t{0})) + ")";
    emit({{"name", "process_name"},
          {"ph", "M"},
          {"pid", kPid},
          {"tid", 0},
          {"args", {{"name", name}}}});
    for (uint64_t n : nodes) {
      emit({{"name", "thread_name"},
            {"ph", "M"},
            {"pid", kPid},
            {"tid", n},
            {"args", {{"name", "node " + std::to_string(n)}}}});
      emit({{"name", "thread_sort_index"},
            {"ph", "M"},
            {"pid", kPid},
            {"tid", n},
            {"args", {{"sort_index", n}}}});
      Track& tr = tracks_[n];
      tr.role = std::find(voters.begin(), voters.end(), n) != voters.end() ? "follower" : "learner";
      sync(0, n, "start");
    }
  }

  void event(int64_t t, const Json& ev) {
    const std::string type = ev.at("type").get<std::string>();
    if (type == "send" || type == "deliver" || type == "drop") {
      message(t, type, ev);
      return;
    }
    const uint64_t node = ev.value("node", uint64_t{0});
    if (node == 0) {
      // Run-wide events: network changes, checks, violations, admin.
      OJson e = instant(t, 0, type, args_of(ev));
      e["s"] = type == "violation" ? "g" : "p";
      emit(e);
      return;
    }
    Track& tr = track(node);
    if (type == "role") {
      tr.role = ev.at("to").get<std::string>();
      tr.term = ev.at("term").get<uint64_t>();
      sync(t, node, ev.value("reason", std::string()));
      return;
    }
    if (type == "commit") {
      emit({{"name", "commit index node " + std::to_string(node)},
            {"ph", "C"},
            {"ts", t},
            {"pid", kPid},
            {"tid", node},
            {"args", {{"index", ev.at("index")}}}});
      return;
    }
    if (type == "write") return;  // one per client write: the latency counter says more
    if (type == "write_committed") {
      emit({{"name", "write latency ms"},
            {"ph", "C"},
            {"ts", t},
            {"pid", kPid},
            {"tid", node},
            {"args", {{"ms", ev.at("latency_us").get<double>() / 1000.0}}}});
      return;
    }
    // State changes first, so the instant lands inside the slice it starts.
    if (type == "crash") {
      tr.crashed = true;
      tr.paused = false;
      sync(t, node, "crash");
    } else if (type == "restart") {
      // A node restarts from durable state as a follower (a learner stays
      // one), whether or not a `role` line says so.
      tr.crashed = false;
      if (tr.role != "learner") tr.role = "follower";
      sync(t, node, "restart");
    } else if (type == "pause" || type == "resume") {
      tr.paused = type == "pause";
      sync(t, node, type);
    } else if (type == "demoted") {
      tr.role = "learner";
      sync(t, node, "demoted");
    } else if (type == "promoted" && tr.role == "learner") {
      tr.role = "follower";
      sync(t, node, "promoted");
    } else if ((type == "vote_granted" || type == "election_started") &&
               !ev.value("pre_vote", false)) {
      // A follower's term rises silently when it votes; a leader's term
      // changes only through a `role` line.
      const uint64_t term = ev.value("term", uint64_t{0});
      if (term > tr.term && tr.role != "leader") {
        tr.term = term;
        sync(t, node, type);
      }
    }
    emit(instant(t, node, type, args_of(ev)));
  }

  void finish(int64_t t, const Json& footer) {
    for (auto& [node, tr] : tracks_) {
      if (tr.pause_open) end(t, node, "paused");
      if (tr.open) end(t, node, tr.open_name);
    }
    out_ << "\n],\"displayTimeUnit\":\"ms\",\"otherData\":";
    OJson other;
    other["format"] = "raftsim chrome trace";
    other["scenario"] = header_.value("scenario", std::string());
    other["seed"] = header_.value("seed", uint64_t{0});
    other["result"] = footer.value("result", std::string());
    if (footer.value("reason", "") != "") other["reason"] = footer["reason"];
    other["digest"] = footer.value("digest", std::string());
    other["events"] = footer.value("events", uint64_t{0});
    other["flows"] = next_flow_ - 1;
    out_ << other.dump() << "}\n";
  }

 private:
  static std::vector<uint64_t> ids(const Json& h, const char* key) {
    std::vector<uint64_t> out;
    if (h.contains(key)) {
      for (const Json& v : h.at(key)) out.push_back(v.get<uint64_t>());
    }
    return out;
  }

  Track& track(uint64_t node) {
    auto it = tracks_.find(node);
    if (it == tracks_.end())
      throw ChromeTraceError("node " + std::to_string(node) + " is not in the header");
    return it->second;
  }

  void emit(const OJson& e) {
    out_ << (first_ ? "\n" : ",\n") << e.dump();
    first_ = false;
  }

  static OJson instant(int64_t t, uint64_t node, const std::string& name, OJson args) {
    return {{"name", name}, {"cat", "raft"}, {"ph", "i"},   {"s", "t"},
            {"ts", t},      {"pid", kPid},   {"tid", node}, {"args", std::move(args)}};
  }

  void begin(int64_t t, uint64_t node, const std::string& name, OJson args) {
    emit({{"name", name},
          {"cat", "role"},
          {"ph", "B"},
          {"ts", t},
          {"pid", kPid},
          {"tid", node},
          {"args", std::move(args)}});
  }
  void end(int64_t t, uint64_t node, const std::string& name) {
    emit({{"name", name}, {"cat", "role"}, {"ph", "E"}, {"ts", t}, {"pid", kPid}, {"tid", node}});
  }

  // Brings the open slices of a node's track in line with its state: a new
  // role slice when the shown role or the term changed, and the nested
  // "paused" slice while it is paused.
  void sync(int64_t t, uint64_t node, const std::string& reason) {
    Track& tr = tracks_.at(node);
    const std::string shown = tr.crashed ? "crashed" : tr.role;
    const bool same = tr.open && tr.open_name == shown && tr.open_term == tr.term;
    const bool want_pause = tr.paused && !tr.crashed;
    if (tr.pause_open && (!same || !want_pause)) {
      end(t, node, "paused");
      tr.pause_open = false;
    }
    if (!same) {
      if (tr.open) end(t, node, tr.open_name);
      OJson args = {{"term", tr.term}};
      if (!reason.empty()) args["reason"] = reason;
      begin(t, node, shown, std::move(args));
      tr.open = true;
      tr.open_name = shown;
      tr.open_term = tr.term;
    }
    if (want_pause && !tr.pause_open) {
      begin(t, node, "paused", OJson::object());
      tr.pause_open = true;
    }
  }

  // send / deliver / drop at `messages` level.
  void message(int64_t t, const std::string& type, const Json& ev) {
    const uint64_t id = ev.at("id").get<uint64_t>();
    const uint64_t from = ev.at("from").get<uint64_t>();
    const uint64_t to = ev.at("to").get<uint64_t>();
    const std::string msg = ev.at("msg").get<std::string>();
    OJson args = args_of(ev);
    if (type == "send") {
      track(from);
      sends_[id] = {t, from};
      emit({{"name", "send " + msg},
            {"cat", "msg"},
            {"ph", "X"},
            {"ts", t},
            {"dur", 0},
            {"pid", kPid},
            {"tid", from},
            {"args", std::move(args)}});
      return;
    }
    auto sent = sends_.find(id);
    if (type == "drop") {
      // Dropped by the network when sent (a cut link, loss): on the sender's
      // track; dropped on arrival (crashed receiver, link cut meanwhile): on
      // the receiver's.
      const bool at_send =
          sent != sends_.end() && sent->second.ts == t && ev.value("reason", "") != "crashed";
      const uint64_t where = at_send ? from : to;
      track(where);
      emit(instant(t, where, "drop " + msg, std::move(args)));
      if (at_send) sends_.erase(sent);
      return;
    }
    track(to);
    emit({{"name", "recv " + msg},
          {"cat", "msg"},
          {"ph", "X"},
          {"ts", t},
          {"dur", 0},
          {"pid", kPid},
          {"tid", to},
          {"args", std::move(args)}});
    if (sent == sends_.end()) return;  // sent before the trace began: no arrow
    // One flow per delivery (a duplicated message is delivered twice). The
    // start is written now, out of time order, which the viewers allow: they
    // sort events by timestamp.
    const uint64_t flow = next_flow_++;
    emit({{"name", msg},
          {"cat", "msg"},
          {"ph", "s"},
          {"id", flow},
          {"ts", sent->second.ts},
          {"pid", kPid},
          {"tid", sent->second.from}});
    emit({{"name", msg},
          {"cat", "msg"},
          {"ph", "f"},
          {"bp", "e"},
          {"id", flow},
          {"ts", t},
          {"pid", kPid},
          {"tid", to}});
  }

  std::ostream& out_;
  bool first_ = true;
  Json header_;
  std::map<uint64_t, Track> tracks_;          // ordered: tracks close in node order
  std::unordered_map<uint64_t, Send> sends_;  // lookups only, never iterated
  uint64_t next_flow_ = 1;
};

}  // namespace

void convert_to_chrome_trace(std::istream& jsonl, std::ostream& out) {
  Converter converter(out);
  std::string line;
  uint64_t lineno = 0;
  bool ended = false;
  while (std::getline(jsonl, line)) {
    ++lineno;
    if (ended)
      throw ChromeTraceError("line " + std::to_string(lineno) + ": text after the end line");
    try {
      const Json ev = Json::parse(line);
      if (lineno == 1) {
        converter.header(ev);
        continue;
      }
      if (!ev.is_object()) throw ChromeTraceError("not a JSON object");
      const int64_t t = ev.at("t").get<int64_t>();
      if (ev.value("type", "") == "end") {
        converter.finish(t, ev);
        ended = true;
      } else {
        converter.event(t, ev);
      }
    } catch (const ChromeTraceError& e) {
      if (lineno == 1) throw;
      throw ChromeTraceError("line " + std::to_string(lineno) + ": " + e.what());
    } catch (const Json::exception& e) {
      throw ChromeTraceError("line " + std::to_string(lineno) + ": " + e.what());
    }
  }
  if (lineno == 0) throw ChromeTraceError("empty trace");
  if (!ended)
    throw ChromeTraceError("line " + std::to_string(lineno) + ": the trace has no end line");
}

}  // namespace sim
