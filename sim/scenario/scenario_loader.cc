#include "sim/scenario/scenario_loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "sim/base/time.h"
#include "sim/scenario/canonical_caps.h"
#include "sim/scenario/loader_internal.h"

namespace sim {

namespace loader_detail {

void Loader::load_cluster(const json& v) {
  keys(v, "/cluster", {"voters", "learners", "spares"}, {"voters"});
  const json& voters = v["voters"];
  if (voters.is_array()) {
    scenario_.voters = id_list(voters, "/cluster/voters", false);
  } else if (voters.is_number()) {
    const double n = voters.get<double>();
    if (n < 1 || n != std::floor(n)) {
      error("/cluster/voters",
            "expected a positive whole number of voters, found " + voters.dump());
    }
    if (n > static_cast<double>(ScenarioLimits::kMaxNodes)) {
      error("/cluster/voters", voters.dump() + " voters is more than the limit of " +
                                   std::to_string(ScenarioLimits::kMaxNodes) + " nodes");
    }
    for (NodeId i = 1; i <= static_cast<NodeId>(n); ++i) scenario_.voters.push_back(i);
  } else {
    error("/cluster/voters",
          "expected a number of voters or an array of node ids, found " + type_name(voters));
  }
  if (scenario_.voters.empty()) error("/cluster/voters", "a cluster needs at least one voter");
  if (v.contains("learners"))
    scenario_.learners = id_list(v["learners"], "/cluster/learners", false);
  if (v.contains("spares")) scenario_.spares = id_list(v["spares"], "/cluster/spares", false);
  std::map<NodeId, const char*> role;
  auto check = [&](const std::vector<NodeId>& ids, const std::string& path, const char* what) {
    for (size_t i = 0; i < ids.size(); ++i) {
      auto [it, fresh] = role.emplace(ids[i], what);
      if (!fresh) {
        error(path + "/" + std::to_string(i), "node " + std::to_string(ids[i]) + " is both " +
                                                  it->second + " and " + what +
                                                  "; a node has one role");
      }
    }
  };
  check(scenario_.voters, "/cluster/voters", "a voter");
  check(scenario_.learners, "/cluster/learners", "a learner");
  check(scenario_.spares, "/cluster/spares", "a spare");
  if (role.size() > ScenarioLimits::kMaxNodes) {
    error("/cluster", std::to_string(role.size()) + " nodes is more than the limit of " +
                          std::to_string(ScenarioLimits::kMaxNodes));
  }
  for (const auto& entry : role) members_.push_back(entry.first);
}

void Loader::load_raft(const json& v) {
  keys(v, "/raft",
       {"election_timeout", "heartbeat_interval", "check_quorum", "pre_vote", "max_lag_threshold",
        "promotion_threshold", "auto_promote", "min_voters", "snapshot_threshold",
        "snapshot_chunk_size", "max_inflight", "max_entries_per_message", "probe_back",
        "clock_drift_bound", "bugs"});
  raft::Options& o = scenario_.raft;
  if (v.contains("election_timeout")) load_election_timeout(v["election_timeout"]);
  if (v.contains("heartbeat_interval")) {
    o.heartbeat_interval_us = time(v["heartbeat_interval"], "/raft/heartbeat_interval");
    if (o.heartbeat_interval_us <= 0) error("/raft/heartbeat_interval", "must be greater than 0");
  }
  if (v.contains("check_quorum")) o.check_quorum = boolean(v["check_quorum"], "/raft/check_quorum");
  if (v.contains("pre_vote")) o.pre_vote = boolean(v["pre_vote"], "/raft/pre_vote");
  if (v.contains("auto_promote")) o.auto_promote = boolean(v["auto_promote"], "/raft/auto_promote");
  const uint64_t big = 1'000'000'000;
  if (v.contains("max_lag_threshold"))
    o.max_lag_threshold = integer(v["max_lag_threshold"], "/raft/max_lag_threshold", 0, big);
  if (v.contains("promotion_threshold"))
    o.promotion_threshold = integer(v["promotion_threshold"], "/raft/promotion_threshold", 0, big);
  if (v.contains("min_voters"))
    o.min_voters = static_cast<uint32_t>(
        integer(v["min_voters"], "/raft/min_voters", 1, ScenarioLimits::kMaxNodes));
  if (v.contains("snapshot_threshold"))
    o.snapshot_threshold = integer(v["snapshot_threshold"], "/raft/snapshot_threshold", 1, big);
  if (v.contains("snapshot_chunk_size"))
    o.snapshot_chunk_size = integer(v["snapshot_chunk_size"], "/raft/snapshot_chunk_size", 1, big);
  if (v.contains("max_inflight"))
    o.max_inflight =
        static_cast<uint32_t>(integer(v["max_inflight"], "/raft/max_inflight", 1, 1'000'000));
  if (v.contains("max_entries_per_message"))
    o.max_entries_per_message = static_cast<uint32_t>(
        integer(v["max_entries_per_message"], "/raft/max_entries_per_message", 1, 1'000'000));
  if (v.contains("probe_back"))
    o.probe_back =
        static_cast<uint32_t>(integer(v["probe_back"], "/raft/probe_back", 0, 1'000'000));
  if (v.contains("clock_drift_bound")) {
    const json& d = v["clock_drift_bound"];
    if (!d.is_number() || !(d.get<double>() >= 0 && d.get<double>() < 1)) {
      error("/raft/clock_drift_bound",
            "expected a fraction in [0, 1) (0.1: clocks run within 10% of real time), found " +
                (d.is_number() ? d.dump() : type_name(d)));
    }
    o.clock_drift_bound_ppm = static_cast<int64_t>(d.get<double>() * 1e6 + 0.5);
  }
  if (v.contains("bugs")) load_bugs(v["bugs"]);
}

void Loader::load_election_timeout(const json& et) {
  raft::Options& o = scenario_.raft;
  if (!et.is_array() || et.size() != 2) {
    error("/raft/election_timeout", "expected [min, max], two times; found " + type_name(et));
  }
  o.election_timeout_min_us = time(et[0], "/raft/election_timeout/0");
  o.election_timeout_max_us = time(et[1], "/raft/election_timeout/1");
  if (o.election_timeout_min_us <= 0) error("/raft/election_timeout/0", "must be greater than 0");
  if (o.election_timeout_max_us < o.election_timeout_min_us) {
    error("/raft/election_timeout", "min " + format_time(o.election_timeout_min_us) +
                                        " is greater than max " +
                                        format_time(o.election_timeout_max_us));
  }
}

void Loader::load_bugs(const json& bugs) {
  if (!bugs.is_array())
    error("/raft/bugs", "expected an array of bug names, found " + type_name(bugs));
  for (size_t i = 0; i < bugs.size(); ++i) {
    const std::string path = "/raft/bugs/" + std::to_string(i);
    const std::string name = string(bugs[i], path);
    raft::PlantedBugs probe;
    if (!probe.enable(name)) {
      error(path, "unknown bug " + quote(name) + did_you_mean(name, raft::PlantedBugs::names()) +
                      "; known bugs: " + list(raft::PlantedBugs::names()));
    }
    if (std::find(scenario_.bugs.begin(), scenario_.bugs.end(), name) != scenario_.bugs.end()) {
      error(path, "bug \"" + name + "\" is listed twice");
    }
    scenario_.bugs.push_back(name);
  }
}

// Bounds on how long the run can take, from what the file asks for.
void Loader::check_budget() const {
  if (total_writes_ > ScenarioLimits::kMaxWrites) {
    error("/", "the scenario asks for about " + std::to_string(total_writes_) +
                   " client writes, more than the limit of " +
                   std::to_string(ScenarioLimits::kMaxWrites));
  }
  const raft::Options& o = scenario_.raft;
  const double nodes = static_cast<double>(members_.size());
  const double shortest_timer_us =
      static_cast<double>(std::min(o.heartbeat_interval_us, o.election_timeout_min_us)) /
      max_drift_rate_;
  const double work =
      nodes * nodes * static_cast<double>(scenario_.duration_us) / shortest_timer_us;
  if (work > ScenarioLimits::kMaxTimerWork) {
    char figure[32];
    std::snprintf(figure, sizeof figure, "%.2g", work);
    error("/duration",
          "the run would be too long: " + std::to_string(members_.size()) + " nodes for " +
              format_time(scenario_.duration_us) + " with a timer every " +
              format_time(static_cast<TimeUs>(shortest_timer_us)) + " is " + figure +
              " units of work (nodes² × duration / shortest timer), more than the limit of 1e9; "
              "use fewer nodes, a shorter duration or a longer heartbeat_interval");
  }
  const double chunks = total_write_bytes_ / static_cast<double>(o.snapshot_chunk_size);
  if (chunks > ScenarioLimits::kMaxSnapshotChunks) {
    error("/raft/snapshot_chunk_size",
          "a snapshot of every byte written would take more than 1e7 chunks of " +
              std::to_string(o.snapshot_chunk_size) + " bytes; use larger chunks");
  }
}

Scenario Loader::load(const json& root) {
  if (!root.is_object()) error("", "expected a scenario object, found " + type_name(root));
  keys(root, "",
       {"name", "description", "seed", "duration", "max_events", "implementation", "cluster",
        "raft", "network", "disk", "workload", "timeline", "expect", "check_stale_reads"},
       {"name", "duration", "cluster"});
  load_header(root);
  load_cluster(root["cluster"]);
  if (root.contains("raft")) load_raft(root["raft"]);
  if (root.contains("network")) load_network(root["network"]);
  if (root.contains("disk")) load_disk(root["disk"]);
  if (root.contains("workload")) load_workload(root["workload"]);
  if (root.contains("check_stale_reads")) {
    scenario_.check_stale_reads = boolean(root["check_stale_reads"], "/check_stale_reads");
  }
  if (root.contains("timeline")) load_timeline(root["timeline"]);
  check_budget();
  if (root.contains("expect")) load_expect(root["expect"]);
  if (root.contains("implementation")) load_implementation(root["implementation"]);
  select_implementation(scenario_, scenario_.implementation);
  return std::move(scenario_);
}

// name, description, seed, duration, max_events.
void Loader::load_header(const json& root) {
  scenario_.file = file_;
  scenario_.name = string(root["name"], "/name");
  if (root.contains("description"))
    scenario_.description = string(root["description"], "/description");
  if (root.contains("seed")) scenario_.seed = integer(root["seed"], "/seed", 0, UINT64_MAX);
  scenario_.duration_us = time(root["duration"], "/duration");
  if (scenario_.duration_us <= 0) error("/duration", "must be greater than 0");
  if (root.contains("max_events")) {
    scenario_.max_events = integer(root["max_events"], "/max_events", 1, UINT64_MAX);
  }
}

void Loader::load_network(const json& n) {
  keys(n, "/network", {"latency", "drop", "duplicate"});
  if (n.contains("latency")) scenario_.network.latency = latency(n["latency"], "/network/latency");
  if (n.contains("drop")) scenario_.network.drop = probability(n["drop"], "/network/drop");
  if (n.contains("duplicate"))
    scenario_.network.duplicate = probability(n["duplicate"], "/network/duplicate");
}

void Loader::load_disk(const json& d) {
  keys(d, "/disk", {"write_latency"});
  if (d.contains("write_latency")) {
    scenario_.disk_write_latency_us = time(d["write_latency"], "/disk/write_latency");
  }
}

void Loader::load_workload(const json& w) {
  keys(w, "/workload",
       {"rate", "start", "stop", "size", "keys", "read_ratio", "cas_ratio", "read_mode"}, {"rate"});
  Workload& wl = scenario_.workload;
  wl.enabled = true;
  const json& rate = w["rate"];
  if (!rate.is_number() || !(rate.get<double>() >= 0) || rate.get<double>() > 1e6) {
    error("/workload/rate",
          "expected a rate in writes per second in [0, 1000000], found " + type_name(rate));
  }
  wl.rate_per_s = rate.get<double>();
  wl.start_us = w.contains("start") ? time(w["start"], "/workload/start") : 0;
  wl.stop_us = w.contains("stop") ? time(w["stop"], "/workload/stop") : scenario_.duration_us;
  if (wl.start_us > scenario_.duration_us) {
    error("/workload/start", "the workload starts at " + format_time(wl.start_us) +
                                 ", after the scenario's duration " +
                                 format_time(scenario_.duration_us));
  }
  if (wl.stop_us < wl.start_us) {
    error("/workload/stop", "the workload stops (" + format_time(wl.stop_us) +
                                ") before it starts (" + format_time(wl.start_us) + ")");
  }
  if (w.contains("size"))
    wl.size_bytes = static_cast<uint32_t>(integer(w["size"], "/workload/size", 0, 1 << 20));
  if (w.contains("keys")) {
    wl.keys = static_cast<uint32_t>(integer(w["keys"], "/workload/keys", 1, kMaxKey));
  }
  for (const char* k : {"read_ratio", "cas_ratio", "read_mode"}) {
    if (w.contains(k) && wl.keys == 0) {
      error(std::string("/workload/") + k, "needs \"keys\", the number of keys to use");
    }
  }
  if (w.contains("read_ratio"))
    wl.read_ratio = probability(w["read_ratio"], "/workload/read_ratio");
  if (w.contains("cas_ratio")) wl.cas_ratio = probability(w["cas_ratio"], "/workload/cas_ratio");
  if (w.contains("read_mode")) wl.read_mode = read_mode(w["read_mode"], "/workload/read_mode");
  const double expected =
      wl.rate_per_s *
      static_cast<double>(std::min(wl.stop_us, scenario_.duration_us) - wl.start_us) / 1e6;
  total_writes_ += static_cast<uint64_t>(expected);
  total_write_bytes_ += expected * wl.size_bytes;
}

void Loader::load_timeline(const json& t) {
  if (!t.is_array()) error("/timeline", "expected an array of actions, found " + type_name(t));
  if (t.size() > ScenarioLimits::kMaxActions) {
    error("/timeline", std::to_string(t.size()) + " actions is more than the limit of " +
                           std::to_string(ScenarioLimits::kMaxActions));
  }
  for (size_t i = 0; i < t.size(); ++i) load_action(t[i], i);
  // Actions run in time order, so an alias may be bound by an action later
  // in the file but earlier in time.
  for (size_t i = 0; i < scenario_.actions.size(); ++i) {
    const Action& a = scenario_.actions[i];
    const std::string node_key = a.kind == ActionKind::transfer_leadership ? "/to" : "/node";
    const std::string when = "at this action's time";
    alias_bound(a.node, a.path + node_key, a.at.min_us, i, when);
    alias_bound(a.from, a.path + "/from", a.at.min_us, i, when);
    alias_bound(a.to, a.path + "/to", a.at.min_us, i, when);
  }
}

void Loader::load_expect(const json& x) {
  if (!x.is_array()) error("/expect", "expected an array of checks, found " + type_name(x));
  if (x.size() > ScenarioLimits::kMaxExpectations) {
    error("/expect", std::to_string(x.size()) + " checks is more than the limit of " +
                         std::to_string(ScenarioLimits::kMaxExpectations));
  }
  for (size_t i = 0; i < x.size(); ++i) load_expectation(x[i], i);
}

void Loader::load_implementation(const json& v) {
  const std::string impl = string(v, "/implementation");
  if (impl == "canonical") {
    scenario_.implementation = Implementation::canonical;
  } else if (impl != "raftsim") {
    error("/implementation",
          "unknown implementation " + quote(impl) + "; expected \"raftsim\" or \"canonical\"");
  }
}

}  // namespace loader_detail

using namespace loader_detail;  // the loader and its message helpers

namespace {

// Builds the document like json::parse, with two differences: a duplicate key
// is refused (json::parse keeps the last value silently), and every parse
// failure keeps its byte offset (a number too large for a double is reported
// as out_of_range, which carries no position).
class DomBuilder {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit DomBuilder(json& root) : root_(root) {}

  bool null() { return put(nullptr); }
  bool boolean(bool v) { return put(v); }
  bool number_integer(number_integer_t v) { return put(v); }
  bool number_unsigned(number_unsigned_t v) { return put(v); }
  bool number_float(number_float_t v, const string_t&) { return put(v); }
  bool string(string_t& v) { return put(std::move(v)); }
  // Part of the SAX interface; JSON text has no binary values.
  bool binary(binary_t& v) { return put(json::binary(std::move(v))); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(string_t& k) {
    Frame& f = stack_.back();
    if (f.value->contains(k)) {
      duplicate_pointer_ = pointer() + "/" + token(k);
      duplicate_key_ = k;
      return false;
    }
    f.key = std::move(k);
    return true;
  }
  bool parse_error(std::size_t position, const std::string& last_token, const json::exception& e) {
    // A syntax error is at the last byte read; a number too large is a whole
    // token, which ends at `position`.
    const bool whole_token = dynamic_cast<const json::out_of_range*>(&e) != nullptr;
    error_offset_ = whole_token ? position - std::min(position, last_token.size())
                                : position - std::min<size_t>(position, 1);
    error_message_ = e.what();
    return false;
  }

  const std::string& duplicate_pointer() const { return duplicate_pointer_; }
  const std::string& duplicate_key() const { return duplicate_key_; }
  size_t error_offset() const { return error_offset_; }
  const std::string& error_message() const { return error_message_; }

 private:
  struct Frame {
    json* value;
    std::string key;  // objects: the key of the value being read
  };

  json* place(json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Frame& f = stack_.back();
    if (f.value->is_array()) {
      f.value->push_back(std::move(v));
      return &f.value->back();
    }
    json& slot = (*f.value)[f.key];
    slot = std::move(v);
    return &slot;
  }
  bool put(json&& v) {
    place(std::move(v));
    return true;
  }
  bool open(json&& v) {
    stack_.push_back({place(std::move(v)), {}});
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }
  // The pointer of the innermost open container.
  std::string pointer() const {
    std::string out;
    for (size_t i = 0; i + 1 < stack_.size(); ++i) {
      const Frame& f = stack_[i];
      out += "/" + (f.value->is_array() ? std::to_string(f.value->size() - 1) : token(f.key));
    }
    return out;
  }

  json& root_;
  std::vector<Frame> stack_;
  std::string duplicate_pointer_, duplicate_key_;
  size_t error_offset_ = 0;
  std::string error_message_;
};

// "file:line:column" of a byte offset; columns count UTF-8 characters.
std::string place_text(const std::string& file, const std::string& text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

// The parser's description without its own prefix and position, with the
// "last read" excerpt cut short and made printable ASCII (it can hold
// anything the file holds).
std::string syntax_message(std::string what) {
  if (const size_t p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
  if (what.rfind("parse error", 0) == 0) {
    if (const size_t p = what.find(": "); p != std::string::npos) what = what.substr(p + 2);
  }
  const std::string marker = "; last read: '";
  if (const size_t p = what.find(marker); p != std::string::npos) {
    const size_t begin = p + marker.size();
    size_t end = what.rfind("'; expected");
    if (end == std::string::npos || end < begin) end = what.rfind('\'');
    if (end != std::string::npos && end >= begin && end - begin > 40) {
      what = what.substr(0, begin) + "..." + what.substr(end - 40);
    }
  }
  std::string out;
  for (char c : what) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  return out;
}

// The offset of the first bracket nested deeper than the limit, counted
// outside strings, so that such a file is refused before it is parsed; or
// npos. (For text that is valid JSON up to that bracket this is exact.)
size_t too_deep_at(const std::string& text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > ScenarioLimits::kMaxNesting) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string::npos;
}

}  // namespace

Scenario parse_scenario(const std::string& text, const std::string& file) {
  if (text.size() > ScenarioLimits::kMaxFileBytes) {
    throw ScenarioError(file + ": the file is larger than the limit of 16 MiB");
  }
  // UTF-16 (as some Windows editors save) starts with a byte-order mark or
  // has a NUL byte in every ASCII character.
  const bool utf16_bom = text.size() >= 2 && ((text[0] == '\xff' && text[1] == '\xfe') ||
                                              (text[0] == '\xfe' && text[1] == '\xff'));
  if (utf16_bom || (text.size() >= 2 && (text[0] == '\0' || text[1] == '\0'))) {
    throw ScenarioError(file +
                        ": the file looks like UTF-16 text; a scenario file must be UTF-8 "
                        "(convert it, e.g. iconv -f UTF-16 -t UTF-8)");
  }
  // The JSON parser would stop at a NUL and ignore what follows.
  if (const size_t nul = text.find('\0'); nul != std::string::npos) {
    throw ScenarioError(place_text(file, text, nul) +
                        ": a NUL byte; a scenario file is JSON text and holds none");
  }
  if (const size_t at = too_deep_at(text); at != std::string::npos) {
    throw ScenarioError(place_text(file, text, at) + ": JSON nesting is deeper than the limit of " +
                        std::to_string(ScenarioLimits::kMaxNesting) + " levels");
  }
  json root;
  DomBuilder builder(root);
  if (!json::sax_parse(text, &builder)) {
    if (!builder.duplicate_pointer().empty()) {
      throw ScenarioError(file + ": " + builder.duplicate_pointer() + ": duplicate key " +
                          quote(builder.duplicate_key()) +
                          "; each key may appear once in an object");
    }
    throw ScenarioError(place_text(file, text, builder.error_offset()) +
                        ": invalid JSON: " + syntax_message(builder.error_message()));
  }
  return Loader(file).load(root);
}

void select_implementation(Scenario& scenario, Implementation implementation) {
  scenario.implementation = implementation;
  if (implementation != Implementation::canonical) return;
  if (auto why = canonical_refusal(scenario)) throw ScenarioError(scenario.file + ": " + *why);
}

Scenario load_scenario_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw ScenarioError(path + ": cannot read the file: it is a directory");
  }
  // "-" is stdin, as for most tools; it is not closed afterwards.
  const bool from_stdin = path == "-";
  std::unique_ptr<FILE, int (*)(FILE*)> in(from_stdin ? stdin : std::fopen(path.c_str(), "rb"),
                                           from_stdin ? +[](FILE*) { return 0; } : &std::fclose);
  // A blocked open or read (a FIFO without a writer) ends with EINTR when
  // Ctrl-C or SIGTERM arrives.
  auto reason = [] {
    return errno == EINTR ? std::string("interrupted") : std::string(std::strerror(errno));
  };
  if (!in) throw ScenarioError(path + ": cannot read the file: " + reason());
  // Read in chunks rather than trusting the size: pipes and /dev files have
  // none, and one byte past the limit is enough to refuse.
  std::string text;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, in.get())) > 0) {
    text.append(buf, n);
    if (text.size() > ScenarioLimits::kMaxFileBytes) {
      throw ScenarioError(path + ": the file is larger than the limit of 16 MiB");
    }
  }
  if (std::ferror(in.get())) throw ScenarioError(path + ": cannot read the file: " + reason());
  return parse_scenario(text, path);
}

std::vector<NodeId> Scenario::all_nodes() const {
  std::vector<NodeId> all = voters;
  all.insert(all.end(), learners.begin(), learners.end());
  all.insert(all.end(), spares.begin(), spares.end());
  std::sort(all.begin(), all.end());
  return all;
}

bool Scenario::has_node(NodeId id) const {
  return std::find(voters.begin(), voters.end(), id) != voters.end() ||
         std::find(learners.begin(), learners.end(), id) != learners.end() ||
         std::find(spares.begin(), spares.end(), id) != spares.end();
}

bool Scenario::kv() const {
  if (workload.enabled && workload.keys != 0) return true;
  for (const Action& a : actions) {
    if (a.kind == ActionKind::read || a.key || a.op != raft::WriteOp::put) return true;
  }
  return false;
}

bool Scenario::uses_read_mode(raft::ReadMode mode) const {
  if (workload.enabled && workload.keys != 0 && workload.read_ratio > 0 &&
      workload.read_mode == mode) {
    return true;
  }
  for (const Action& a : actions) {
    if (a.kind == ActionKind::read && a.read_mode == mode) return true;
  }
  return false;
}

}  // namespace sim
