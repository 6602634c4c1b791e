// canonical/raft behind sim::NodeApi. The adapter is the library's raft_io:
// every request the library makes of its I/O becomes a ::raft::Outputs entry
// (a durable write, a message, a timer), and every simulator input becomes a
// raft_io callback (tick, recv, completion of a request). After each input
// the adapter compares the library's struct raft with what it was before and
// reports role changes, elections, commits and configuration changes as
// ::raft::NodeEvents, the way ::raft::Node does. docs/canonical.md explains each
// mapping. The class is defined in three files, by concern:
// sim/canonical/canonical_node.cc (the NodeApi inputs), sim/canonical/canonical_io.cc (raft_io and
// raft_fsm), sim/canonical/canonical_observe.cc (messages and events out).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/node_api.h"
#include "sim/canonical/canonical_convert.h"

namespace sim::canonical {

class CanonicalNode final : public NodeApi {
 public:
  CanonicalNode(::raft::NodeId id, const ::raft::Options& options, ::raft::Random& random,
                const ::raft::DurableState& durable, ::raft::ConfigArena& configs);
  ~CanonicalNode() override;

  void start(::raft::TimeUs now, ::raft::Outputs& out) override;
  void step(const ::raft::Message& msg, ::raft::TimeUs now, ::raft::Outputs& out) override;
  void on_timer(::raft::TimerKind kind, ::raft::TimeUs now, ::raft::Outputs& out) override;
  void on_persisted(uint64_t token, ::raft::TimeUs now, ::raft::Outputs& out) override;
  void client_writes(const std::vector<::raft::ClientWrite>& writes, ::raft::TimeUs now,
                     ::raft::Outputs& out) override;
  void client_reads(const std::vector<::raft::ClientRead>& reads, ::raft::TimeUs,
                    ::raft::Outputs& out) override;
  // The library has no "campaign now"; canonical_refusal refuses the action.
  void campaign(::raft::TimeUs, ::raft::Outputs&) override {}
  bool transfer_leadership(::raft::NodeId to, ::raft::TimeUs now, ::raft::Outputs& out) override;
  bool request_config_change(::raft::ConfigChange change, ::raft::NodeId node,
                             std::optional<bool> promote, ::raft::TimeUs now,
                             ::raft::Outputs& out) override;
  // No manual snapshot in the library's API; canonical_refusal refuses it.
  void take_snapshot(::raft::TimeUs, ::raft::Outputs&) override {}

  ::raft::Role role() const override { return role_; }
  ::raft::Term current_term() const override { return raft_.current_term; }
  ::raft::Index commit_index() const override { return raft_.commit_index; }
  ::raft::NodeId leader_id() const override { return current_leader(); }
  // The library switches configuration on append (replication.c), as the
  // thesis §4.1 does.
  bool config_on_append() const override { return true; }
  // Its pre-vote responses are translated from the library's, whose terms
  // follow its own rules (election.c): not judged.
  bool pre_vote_wins_judged() const override { return false; }
  ::raft::TimeUs check_quorum_bound_us() const override;
  const ::raft::Configuration& config() const override { return config_; }
  uint64_t applied_writes() const override { return sm_.applied_writes(); }
  uint64_t state_hash() const override { return sm_.state_hash(); }
  bool holds_write(uint64_t write_id) const override { return sm_.contains(write_id); }

 private:
  using Index = ::raft::Index;
  using NodeId = ::raft::NodeId;
  using TimeUs = ::raft::TimeUs;

  static constexpr NodeId kNoLeader = ::raft::kNoNode;
  enum class Kind : uint8_t { append, snapshot_put, snapshot_get, async_work };
  struct Pending {
    Kind kind;
    void* req;
    void* cb;
  };
  struct Change {
    ::raft::ConfigChange change;
    NodeId node;
    bool joining;  // the raft_assign(RAFT_STANDBY) that follows an add_learner's raft_add
  };
  struct Observed {
    ::raft::Role role = ::raft::Role::follower;
    ::raft::Term term = 0;
    Index commit = 0;
    Index applied = 0;
    Index config_index = 0;
    bool pre_vote_round = false;
  };
  struct FsmApplied {
    uint64_t write_id;
    bool duplicate;
    uint64_t state_hash;
  };

  // Every input: the outputs go to `out`, time() reads `now`; on the way out
  // the library's state is compared with what it was.
  struct Enter {
    Enter(CanonicalNode& n, TimeUs now, ::raft::Outputs& out);
    ~Enter() noexcept(false);
    CanonicalNode& node;
  };

  static CanonicalNode& self(struct craft::raft_io* io) {
    return *static_cast<CanonicalNode*>(io->impl);
  }
  static CanonicalNode& self(struct craft::raft_fsm* fsm) {
    return *static_cast<CanonicalNode*>(fsm->data);
  }
  [[noreturn]] void fatal(const char* what) {
    throw std::runtime_error(std::string("canonical/raft: ") + what + " failed on node " +
                             std::to_string(id_) + ": " + craft::raft_errmsg(&raft_));
  }
  static unsigned ms(int64_t us) { return static_cast<unsigned>(us / kUsPerMs); }

  // Inputs (canonical_node.cc).
  void propose_next_change();
  bool change_applies(const Change& c) const;
  static void apply_done(struct craft::raft_apply* req, int status, void* result);

  // Durable writes, raft_io and raft_fsm (canonical_io.cc).
  ::raft::PersistOp& new_op();
  void finish_op(::raft::PersistOp& op) { view_.hard_state = op.hard_state; }
  void write_entries(::raft::PersistOp& op);
  static void io_close(struct craft::raft_io* io, craft::raft_io_close_cb cb);
  static int io_load(struct craft::raft_io* io, craft::raft_term* term, craft::raft_id* voted_for,
                     struct craft::raft_snapshot** snapshot, craft::raft_index* start_index,
                     struct craft::raft_entry* entries[], size_t* n_entries);
  static int io_start(struct craft::raft_io* io, unsigned msecs, craft::raft_io_tick_cb tick,
                      craft::raft_io_recv_cb recv);
  static int io_bootstrap(struct craft::raft_io* io, const struct craft::raft_configuration* conf);
  static int io_set_term(struct craft::raft_io* io, craft::raft_term term);
  static int io_set_vote(struct craft::raft_io* io, craft::raft_id server_id);
  static int io_send(struct craft::raft_io* io, struct craft::raft_io_send* req,
                     const struct craft::raft_message* message, craft::raft_io_send_cb cb);
  static int io_append(struct craft::raft_io* io, struct craft::raft_io_append* req,
                       const struct craft::raft_entry entries[], unsigned count,
                       craft::raft_io_append_cb cb);
  static int io_truncate(struct craft::raft_io* io, craft::raft_index index);
  static int io_snapshot_put(struct craft::raft_io* io, unsigned trailing,
                             struct craft::raft_io_snapshot_put* req,
                             const struct craft::raft_snapshot* snapshot,
                             craft::raft_io_snapshot_put_cb cb);
  static int io_snapshot_get(struct craft::raft_io* io, struct craft::raft_io_snapshot_get* req,
                             craft::raft_io_snapshot_get_cb cb);
  static int io_async_work(struct craft::raft_io* io, struct craft::raft_io_async_work* req,
                           craft::raft_io_async_work_cb cb);
  static craft::raft_time io_time(struct craft::raft_io* io);
  static int io_random(struct craft::raft_io* io, int min, int max);
  void complete(const Pending& p, int status);
  void drain();
  void flush_sends(int status);
  bool rollback_would_crash(const struct craft::raft_append_entries& a) const;
  void roll_back_configuration();
  size_t log_entries() const;
  bool log_holds(craft::raft_index index) const;
  craft::raft_term log_term_of(craft::raft_index index) const;
  struct craft::raft_buffer key_buffer(const ::raft::Snapshot& s);
  void fill_snapshot(const ::raft::Snapshot& s, struct craft::raft_snapshot* out);
  std::shared_ptr<const ::raft::Snapshot> resolve_snapshot(const struct craft::raft_snapshot& s);
  static int fsm_apply(struct craft::raft_fsm* fsm, const struct craft::raft_buffer* buf,
                       void** result);
  static int fsm_snapshot(struct craft::raft_fsm* fsm, struct craft::raft_buffer* bufs[],
                          unsigned* n_bufs);
  static int fsm_restore(struct craft::raft_fsm* fsm, struct craft::raft_buffer* buf);

  // Messages and events out (canonical_observe.cc).
  ::raft::Message translate(const struct craft::raft_message& m);
  void translate_append(const struct craft::raft_append_entries& a, ::raft::Message& out,
                        struct craft::raft_message& copy);
  void translate_vote_result(const struct craft::raft_request_vote_result& v, ::raft::Message& out);
  void translate_snapshot(const struct craft::raft_install_snapshot& s, ::raft::Message& out,
                          struct craft::raft_message& copy);
  void snapshot_observation();
  void after_input();
  void refresh_config();
  void report_role_change(::raft::Role now_role, ::raft::Term term, ::raft::Outputs& out);
  void report_config_committed(::raft::Term term, ::raft::Outputs& out);
  NodeId current_leader() const;
  const char* role_reason(::raft::Role from, ::raft::Role to, bool term_rose) const;
  void emit_applied(::raft::Outputs& out);

  const NodeId id_;
  const ::raft::Options options_;
  ::raft::Random& random_;
  std::string address_;
  std::map<NodeId, std::string> peer_addresses_;
  ::raft::DurableState view_;
  craft::raft raft_;
  struct craft::raft_io io_;
  struct craft::raft_fsm fsm_;
  bool initialized_ = false;
  bool closing_ = false;
  ::raft::Outputs* out_ = nullptr;
  TimeUs now_us_ = 0;

  unsigned tick_ms_ = 0;
  TimeUs next_tick_us_ = 0;
  craft::raft_io_tick_cb tick_cb_ = nullptr;
  craft::raft_io_recv_cb recv_cb_ = nullptr;

  uint64_t next_token_ = 1;
  uint64_t durable_token_ = 0;
  uint64_t hard_token_ = 0;
  std::map<uint64_t, Pending> pending_;
  std::deque<std::pair<uint64_t, ::raft::Message>> held_;
  std::vector<struct craft::raft_io_send*> sends_;

  ::raft::StateMachine sm_;
  std::vector<FsmApplied> fsm_applied_;
  uint64_t hash_before_ = 0;
  bool restored_ = false;
  std::map<uint64_t, std::shared_ptr<const ::raft::Snapshot>> snapshots_;
  NodeId snapshot_from_ = ::raft::kNoNode;

  std::set<uint64_t> awaiting_;
  std::map<struct craft::raft_apply*, std::vector<uint64_t>> requests_;

  ::raft::Role role_ = ::raft::Role::follower;
  Observed before_;
  ::raft::Configuration config_;
  ::raft::ConfigArena& configs_;  // the run's: entries and events name configurations in it
  static constexpr std::pair<Index, Index> kConfigUnknown{UINT64_MAX, UINT64_MAX};
  std::pair<Index, Index> config_key_ = kConfigUnknown;  // indexes config_ was decoded at
  bool installing_ = false;  // an installed snapshot's write is not complete yet
  ::raft::Configuration last_committed_config_;
  std::set<NodeId> votes_;
  bool input_timeout_now_ = false;
  bool transfer_ = false;
  std::deque<Change> changes_;
};

}  // namespace sim::canonical
