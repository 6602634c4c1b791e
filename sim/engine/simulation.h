// One run of one scenario: virtual time, the event queue, the virtual network
// and disks, node faults, clients, the invariant checkers, the expectations
// and the trace. Single-threaded; everything random comes from the seed.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "raft/offset_vector.h"
#include "sim/base/histogram.h"
#include "sim/base/node_api.h"
#include "sim/base/prng.h"
#include "sim/base/time.h"
#include "sim/check/checker.h"
#include "sim/check/linearizability.h"
#include "sim/check/quorum_deadline.h"
#include "sim/engine/event_queue.h"
#include "sim/engine/network.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_loader.h"  // ScenarioLimits
#include "sim/trace/trace.h"

namespace sim {

struct CheckOutcome {
  bool ok = false;
  std::string text;  // "ok ..." or "FAIL ..." line, as printed
};

struct RunResult {
  bool pass = true;
  std::string failure;  // first failure: violation, failed expectation or run error
  std::optional<Violation> violation;
  TimeUs failure_time_us = 0;
  std::vector<CheckOutcome> checks;
  uint64_t events = 0;
  TimeUs virtual_us = 0;
  std::string digest;
  // Metrics (scenarios.md "Metrics").
  std::vector<double> election_time_ms;
  uint64_t elections = 0;
  Histogram commit_latency_us;  // bounded: a long run has millions of writes
  uint64_t writes_acknowledged = 0;
  TimeUs last_write_applied_us = 0;  // latest instant any node applied a new write
  // Protocol coverage: how often each traced event type happened.
  std::map<std::string, uint64_t> event_counts;
  bool interrupted = false;
  bool event_limit = false;  // stopped by the scenario's max_events
  bool work_limit = false;   // stopped by RunOptions::max_work
  // The linearizability check of some key ran out of its search bound.
  bool linearizability_undecided = false;
};

struct RunOptions {
  std::optional<uint64_t> seed;  // overrides the scenario's
  std::ostream* trace = nullptr;
  Trace::Level trace_level = Trace::Level::events;
  // When set and it becomes true, the run stops early (Ctrl-C); the trace
  // still ends with its footer.
  const std::atomic<bool>* stop = nullptr;
  // The run's work budget: events handled plus messages sent
  // (docs/limits.md). Only tests lower it, to reach the limit quickly.
  uint64_t max_work = ScenarioLimits::kMaxRunWork;
};

class Simulation {
 public:
  Simulation(const Scenario& scenario, const RunOptions& options);
  ~Simulation();
  RunResult run();

  // Stepping, for a driver that decides what to do from what it observes
  // (bench/failover_trials): run() is begin(), step() until it returns false,
  // then finish(). step() handles the next event; it is false once the run
  // is over (its duration reached, the queue empty, or a failure).
  void begin();
  bool step();
  RunResult finish();
  TimeUs now_us() const { return now_us_; }
  // What a driver may observe of a node, and the faults it may inject
  // between steps (as the actions of the same names do).
  struct NodeView {
    bool crashed = false;
    raft::Role role = raft::Role::follower;
    raft::Term current_term = 0;
    NodeId leader_id = raft::kNoNode;  // the leader it knows, kNoNode if none
  };
  NodeView view(NodeId id) const {  // (inline: a driver may ask after every event)
    const SimNode& n = node(id);
    if (n.crashed) return NodeView{true, raft::Role::follower, 0, raft::kNoNode};
    return NodeView{false, n.api->role(), n.api->current_term(), n.api->leader_id()};
  }
  // The node whose event the last step() handled (a delivery, a timer, a
  // disk write, a client request), or kNoNode if it was no one node's (an
  // action, a check, a client's retry): only that node's view can have
  // changed, so a driver need not ask every node after every event.
  NodeId stepped_node() const { return stepped_node_; }
  void crash(NodeId id);
  void restart(NodeId id);
  void pause(NodeId id);
  void resume(NodeId id);
  void isolate(NodeId id);
  void heal();

 private:
  struct Timer {
    bool armed = false;
    TimeUs deadline_local_us = 0;
    TimeUs scheduled_us = -1;  // time of the queued timer event, -1 if none
    uint64_t generation = 0;
  };
  // Hot fields first: nearly every event of a large cluster lands on a node
  // none of whose state is still in cache, and each line of SimNode it reads
  // is a miss. Delivery, timers and disk completions read the first few
  // lines; pause comes last.
  struct SimNode {
    NodeId id = 0;
    bool crashed = false;
    bool paused = false;
    uint64_t incarnation = 0;
    std::unique_ptr<NodeApi> api;
    // Local clock: local = anchor_local + (t - anchor_real) * rate_ppm / 1e6.
    TimeUs anchor_real_us = 0;
    TimeUs anchor_local_us = 0;
    int64_t rate_ppm = 1'000'000;
    TimeUs disk_busy_until_us = 0;
    raft::OffsetVector<raft::PersistOp> disk_queue;  // written, not yet durable
    Timer timers[raft::kTimerKinds];
    Prng rng;
    raft::DurableState disk;
    raft::OffsetVector<Event> parked;  // events that arrived while paused
    TimeUs paused_at_local_us = 0;
  };
  struct Write {  // (largest members first: one per write, 32 bytes)
    TimeUs submitted_us = 0;
    TimeUs retry_at_us = 0;       // when the client gives up on its latest send and retries
    raft::Index floor_index = 0;  // highest acknowledged index when submitted
    uint32_t size_bytes = 64;
    bool outstanding = false;
  };
  // Outstanding client writes by id. Ids are handed out in increasing order
  // and mostly acknowledged in that order, so the table is a window from the
  // oldest unacknowledged id: no allocation per write, as a hash map had.
  class WriteTable {
   public:
    Write& add(uint64_t id);  // the next id, one above every id added before
    void reserve_for(size_t more) { window_.reserve_for(more); }
    Write* find(uint64_t id);  // nullptr once acknowledged
    void erase(uint64_t id);
    size_t size() const { return outstanding_; }
    bool empty() const { return outstanding_ == 0; }

   private:
    raft::OffsetVector<Write> window_;  // ids base_, base_ + 1, ...
    uint64_t base_ = 1;
    size_t outstanding_ = 0;
  };
  struct InFlight {
    raft::Message msg;
    uint64_t id = 0;
  };

  // Event loop.
  void schedule(TimeUs t, Phase phase, EventKind kind, uint32_t node = 0, uint64_t a = 0,
                uint64_t b = 0);
  bool handle(const Event& event);  // false if the event was stale (not counted)
  void schedule_next(const std::vector<std::pair<TimeUs, size_t>>& order, size_t& next, Phase phase,
                     EventKind kind);
  bool dispatch_to_node(SimNode& n, const Event& event);
  void after_event();

  // Nodes.
  SimNode& node(NodeId id) { return nodes_[slot_of_[id]]; }
  const SimNode& node(NodeId id) const { return nodes_[slot_of_[id]]; }
  bool is_node(NodeId id) const { return id < slot_of_.size() && nodes_[slot_of_[id]].id == id; }
  TimeUs local_now(const SimNode& n) const;
  TimeUs real_time_of(const SimNode& n, TimeUs local_us) const;
  void boot(SimNode& n);
  void process(SimNode& n, raft::Outputs& out);
  void set_timer(SimNode& n, raft::TimerKind kind, TimeUs local_us);
  void trace_node_event(SimNode& n, const raft::NodeEvent& ev);
  void trace_role(SimNode& n, const raft::NodeEvent& ev);
  void count_event(const char* type, NodeId who, const char* reason);
  void on_elected(SimNode& n, raft::Term term);
  void trace_config_committed(SimNode& n, const raft::NodeEvent& ev);
  void send_message(SimNode& n, raft::Message& msg);  // moves msg away
  void deliver(SimNode& n, uint64_t slot);

  // Clients.
  void submit_write(std::optional<NodeId> target, uint32_t size_bytes, uint32_t key = 0,
                    raft::WriteOp op = raft::WriteOp::put, uint64_t expected = 0);
  void workload_arrival();
  // Key-value clients (extension): reads, and the history they record.
  void submit_read(std::optional<NodeId> target, uint32_t key, raft::ReadMode mode);
  void send_read_request(uint64_t read_id, NodeId target, TimeUs delay_us);
  void on_read_reply(SimNode& n, const raft::ReadReply& reply);
  size_t begin_operation(uint32_t key, OpKind kind);
  void end_operation(Operation& op);
  void check_history();
  void send_client_request(uint64_t write_id, NodeId target, TimeUs delay_us);
  void close_client_batch();
  void on_reply(SimNode& n, const raft::ClientReply& reply);
  // Where a redirected client sends its request next, and after how long.
  NodeId redirect_target(const SimNode& n, NodeId leader_hint, TimeUs& delay_us);
  std::optional<NodeId> random_live_node(Prng& rng);
  TimeUs client_hop_us();

  // Scenario: the timeline's actions, one runner per kind (simulation_actions.cc).
  void run_action(size_t index, bool retry = false);
  void crash_node(SimNode& n);
  void restart_node(SimNode& n);
  void pause_node(SimNode& n);
  void resume_node(SimNode& n);
  void partition_network(const std::vector<std::vector<NodeId>>& groups);
  void isolate_node(NodeId id);
  void cut_link(const Action& a);
  void heal_network();
  void set_network(const Action& a);
  void submit_writes(const Action& a, std::optional<NodeId> target);
  void submit_reads(const Action& a, std::optional<NodeId> target);
  void admin_action(size_t index, NodeId target, bool retry);
  void snapshot_node(SimNode& n);
  void campaign_node(SimNode& n);
  void drift_clock(SimNode& n, int64_t rate_ppm);
  std::optional<NodeId> resolve(const NodeRef& ref, const std::string& path);
  std::optional<NodeId> current_leader() const;
  // The scenario's checks, one evaluator per kind (simulation_checks.cc).
  struct Verdict {
    std::string what, seen;  // what the check asks for; what it found
    bool ok = false;
  };
  void evaluate(size_t index);
  std::optional<NodeId> lookup(const NodeRef& ref) const;
  Verdict check_leader(const Expectation& e) const;
  Verdict check_leaders(const Expectation& e) const;
  Verdict check_role(const Expectation& e) const;
  Verdict check_term(const Expectation& e) const;
  Verdict check_committed(const Expectation& e) const;
  Verdict check_applied(const Expectation& e) const;
  Verdict check_config(const Expectation& e) const;
  Verdict check_events(const Expectation& e) const;
  Verdict check_converged() const;
  void fail(const std::string& why);
  void action_failed(const std::string& why);
  static QuorumDeadline quorum_deadline_for(const Scenario& scenario);
  void update_quorum_tracking();
  void note_leader_lost();

  const Scenario& scenario_;
  const std::atomic<bool>* stop_flag_;
  uint64_t max_work_;  // RunOptions::max_work
  uint64_t seed_;
  raft::Options raft_options_;
  // The run's configurations: the nodes, the checker and every entry in
  // logs, disks and messages point into it, so it outlives them all.
  raft::ConfigArena configs_;
  Trace trace_;
  EventQueue queue_;
  TimeUs now_us_ = 0;
  std::vector<SimNode> nodes_;
  std::vector<size_t> slot_of_;
  size_t crashed_nodes_ = 0;
  Network network_;
  Prng network_rng_;
  Prng workload_rng_;
  Prng timeline_rng_;
  Checker checker_;
  std::vector<InFlight> in_flight_;
  std::vector<uint64_t> free_slots_;
  uint64_t next_message_id_ = 1;
  WriteTable writes_;
  // Client writes with consecutive ids sent to one node to arrive at one
  // instant travel as one event (and one retry event), so that node takes
  // them as one batch. The batch stays open until anything else is
  // scheduled: the events it replaces would have been consecutive in the
  // queue, so every other event keeps its place relative to them.
  struct ClientBatch {
    NodeId target;
    TimeUs arrival_us;
    uint64_t first_id;
    uint64_t count;
  };
  std::optional<ClientBatch> client_batch_;
  std::vector<raft::ClientWrite> client_writes_;  // scratch: the batch a node receives
  uint64_t next_write_id_ = 1;
  // Key-value clients. Each operation gets the lowest-numbered client with
  // nothing outstanding (one operation per client at a time); one whose
  // outcome stays unknown keeps its client to the end.
  const bool kv_;
  Prng kv_rng_;
  std::vector<Operation> history_;
  std::vector<bool> stale_read_;            // per history entry: a stale read
  std::vector<size_t> write_op_;            // write id - 1 -> history entry (kv_ only)
  std::map<uint32_t, uint64_t> last_seen_;  // per key, the newest value a client saw (cas)
  struct Read {
    size_t op;  // history entry
    uint32_t key;
    raft::ReadMode mode;
    TimeUs retry_at_us;
  };
  std::map<uint64_t, Read> reads_;  // outstanding reads by id
  uint64_t next_read_id_ = 1;
  std::set<uint64_t> free_clients_;
  uint64_t next_client_ = 1;
  raft::Index max_acked_index_ = 0;
  // Timeline actions and checks as (time, index), sorted; queued one at a time.
  std::vector<std::pair<TimeUs, size_t>> action_order_, check_order_;
  size_t next_action_ = 0, next_check_ = 0;
  std::unordered_map<std::string, NodeId> aliases_;
  QuorumDeadline quorum_;
  bool connectivity_dirty_ = true;  // the quorum deadline must judge the leaders anew
  // While the events of one output are traced: the node stepped down from
  // leader in that output and its role event is still to come, so its
  // commits before it are a leader's (a transfer that completes on the
  // answer that commits, say).
  bool leader_until_role_event_ = false;
  std::optional<TimeUs> leaderless_since_us_;
  std::optional<NodeId> last_leader_;
  struct SeenEvent {
    TimeUs t;
    std::string type;
    NodeId node;
    std::string reason;
  };
  std::vector<SeenEvent> seen_events_;                 // for event / no_event window checks
  std::set<std::string, std::less<>> watched_events_;  // the event types those checks name
  void remember(const char* type, NodeId node, const char* reason);
  // Events by type, RunResult::event_counts at finish(): found by
  // string_view, so that counting one builds no string (elections count
  // several events each, and a std::string key per count was 2% of a
  // failover trial).
  std::map<std::string, uint64_t, std::less<>> event_counts_;
  std::string count_key_;  // scratch of count(prefix, name)
  void count(std::string_view type);
  void count(std::string_view prefix, std::string_view name);  // "role:" "leader"
  bool stopped_ = false;
  NodeId stepped_node_ = raft::kNoNode;
  RunResult result_;
  raft::Outputs scratch_;
};

// Runs a scenario and returns its result (the convenience most callers want).
RunResult run_scenario(const Scenario& scenario, const RunOptions& options);

}  // namespace sim
