// A scenario file, loaded and validated (format: shared/spec/scenarios.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raft/node.h"
#include "raft/options.h"
#include "raft/types.h"
#include "sim/base/time.h"

namespace sim {

using raft::NodeId;

struct LatencyModel {
  enum class Kind : uint8_t { constant, uniform, normal };
  Kind kind = Kind::uniform;
  int64_t a_us = 1000;  // constant value, uniform min, or normal mean
  int64_t b_us = 5000;  // uniform max, or normal stddev
};

struct LinkSettings {
  LatencyModel latency;
  double drop = 0.0;
  double duplicate = 0.0;
};

// The fields a set_network action changes.
struct NetworkPatch {
  std::optional<LatencyModel> latency;
  std::optional<double> drop;
  std::optional<double> duplicate;
};

// A time in an action's "at": fixed, or uniform in [min_us, max_us].
struct TimeSpec {
  TimeUs min_us = 0;
  TimeUs max_us = 0;
};

// A node named in an action or a check.
struct NodeRef {
  enum class Kind : uint8_t { none, id, leader, alias, all, any };
  Kind kind = Kind::none;
  NodeId id = 0;
  std::string alias;
  bool present() const { return kind != Kind::none; }
};

enum class ActionKind : uint8_t {
  crash,
  restart,
  pause,
  resume,
  partition,
  isolate,
  cut,
  heal,
  set_network,
  write,
  add_learner,
  promote,
  demote,
  remove,
  transfer_leadership,
  snapshot,
  campaign,
  clock_drift,
  read
};
// How many kinds there are: the loader's table has one row for each
// (loader_actions.cc), the engine's switch one case (simulation_actions.cc).
inline constexpr size_t kActionKinds = static_cast<size_t>(ActionKind::read) + 1;

struct Action {
  TimeSpec at;
  ActionKind kind = ActionKind::heal;
  std::string name;
  NodeRef node;  // node / to (transfer_leadership)
  NodeRef from, to;
  bool both = true;
  std::vector<std::vector<NodeId>> groups;
  NetworkPatch patch;
  std::optional<std::pair<NodeId, NodeId>> between;
  uint64_t count = 0;
  uint32_t size_bytes = 64;
  // write / read (extension): the key (unset: key 0, or a random key of the
  // workload's), a write's op and a cas's expected value, a read's mode.
  std::optional<uint32_t> key;
  raft::WriteOp op = raft::WriteOp::put;
  uint64_t expected = 0;
  raft::ReadMode read_mode = raft::ReadMode::read_index;
  std::optional<bool> promote;
  int64_t rate_ppm = 1'000'000;  // clock_drift rate in parts per million
  std::string as;                // alias this action binds
  std::string path;              // JSON pointer, for messages
};

enum class CheckKind : uint8_t {
  leader,
  leaders,
  role,
  term,
  committed,
  applied,
  config,
  event,
  no_event,
  converged
};
// As for actions: one row in loader_expectations.cc, one case in
// simulation_checks.cc.
inline constexpr size_t kCheckKinds = static_cast<size_t>(CheckKind::converged) + 1;

struct Expectation {
  bool window = false;
  TimeUs at_us = 0;    // instant checks
  TimeUs from_us = 0;  // window checks
  TimeUs to_us = 0;
  CheckKind kind = CheckKind::leader;
  std::string name;
  // leader: is (node/any/none) or not; role: node + role; term/applied: node.
  NodeRef node;
  NodeRef is_node;
  NodeRef not_node;
  std::string role;
  std::optional<uint64_t> min, max;  // term, committed, applied, event count
  uint64_t count = 0;                // leaders
  std::vector<NodeId> voters, learners;
  std::string event, reason;
  std::string path;
};

struct Workload {
  bool enabled = false;
  double rate_per_s = 0;  // operations: writes and reads
  TimeUs start_us = 0;
  TimeUs stop_us = 0;
  uint32_t size_bytes = 64;
  // Key-value extension: keys 0..keys-1 (0: every write puts key 0), the
  // share of reads and of cas among the writes, and how reads are served.
  uint32_t keys = 0;
  double read_ratio = 0;
  double cas_ratio = 0;
  raft::ReadMode read_mode = raft::ReadMode::read_index;
};

// Which Raft implementation the nodes run (extension "implementation").
enum class Implementation : uint8_t { raftsim, canonical };

struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  uint64_t seed = 1;
  TimeUs duration_us = 0;
  // Extension "max_events": the run fails once it has handled this many
  // events (0: no bound). A runaway (retries or messages multiplying under a
  // bug) then ends as a failure that replays, instead of exhausting memory.
  uint64_t max_events = 0;
  Implementation implementation = Implementation::raftsim;
  std::vector<NodeId> voters, learners, spares;
  raft::Options raft;
  std::vector<std::string> bugs;
  LinkSettings network;
  TimeUs disk_write_latency_us = 0;
  Workload workload;
  // Extension "check_stale_reads": stale reads count in the linearizability
  // check (by default they are recorded but left out: they are expected to
  // be stale).
  bool check_stale_reads = false;

  // Whether clients keep a key-value history and the run ends with a
  // linearizability check: some key, read or cas is asked for.
  bool kv() const;
  bool uses_read_mode(raft::ReadMode mode) const;
  std::vector<Action> actions;
  std::vector<Expectation> expectations;

  std::vector<NodeId> all_nodes() const;
  bool has_node(NodeId id) const;
};

}  // namespace sim
