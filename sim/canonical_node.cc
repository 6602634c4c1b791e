// canonical/raft behind sim::NodeApi. The adapter is the library's raft_io:
// every request the library makes of its I/O becomes a ::raft::Outputs entry
// (a durable write, a message, a timer), and every simulator input becomes a
// raft_io callback (tick, recv, completion of a request). After each input
// the adapter compares the library's struct raft with what it was before and
// reports role changes, elections, commits and configuration changes as
// ::raft::NodeEvents, the way ::raft::Node does. docs/canonical.md explains each
// mapping.
#include "sim/canonical_node.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

// raft.h declares a `struct raft`, which clashes with our namespace raft, and
// has no extern "C" of its own: both are supplied here.
namespace craft {
extern "C" {
#include <raft.h>
}
}  // namespace craft

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <stdexcept>
#include <vector>

namespace sim {
namespace {

using namespace craft;  // NOLINT: the C API, prefixed raft_ throughout

using ::raft::Entry;
using ::raft::EntryKind;
using ::raft::Index;
using ::raft::NodeId;
using ::raft::Term;
using ::raft::TimeUs;

constexpr TimeUs kUsPerMs = 1000;

// The library keeps an address per server; ours is the decimal id.
std::string address_of(NodeId id) {
  return std::to_string(id);
}

// --- Entry payloads --------------------------------------------------------
// A client write travels as 16 bytes: the write id and its nominal size (the
// simulator's state machine needs only those). Configurations use the
// library's own encoding (raft_configuration_encode); barriers carry 8 zero
// bytes, as raft_barrier's do.

constexpr size_t kWriteBytes = 16;
constexpr size_t kBarrierBytes = 8;

size_t pad8(size_t n) {
  return (n + 7) / 8 * 8;
}

void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// The library's configuration from ours: voters are RAFT_VOTER, learners
// RAFT_STANDBY (they replicate the log but do not count).
void to_raft_configuration(const ::raft::Configuration& c, struct raft_configuration* out) {
  raft_configuration_init(out);
  for (NodeId v : c.voters) raft_configuration_add(out, v, address_of(v).c_str(), RAFT_VOTER);
  for (NodeId l : c.learners) raft_configuration_add(out, l, address_of(l).c_str(), RAFT_STANDBY);
}

// Ours from the library's: spares (RAFT_SPARE) are members the library does
// not replicate to; ::raft::Configuration has no such role, so they are left
// out, as a node outside the configuration. Learners are permanent: the
// library never promotes on its own.
::raft::Configuration from_raft_configuration(const struct raft_configuration& c) {
  ::raft::Configuration out;
  for (unsigned i = 0; i < c.n; ++i) {
    const NodeId id = static_cast<NodeId>(c.servers[i].id);
    if (c.servers[i].role == RAFT_VOTER) out.voters.push_back(id);
    if (c.servers[i].role == RAFT_STANDBY) out.learners.push_back(id);
  }
  std::sort(out.voters.begin(), out.voters.end());
  std::sort(out.learners.begin(), out.learners.end());
  out.permanent_learners = out.learners;
  return out;
}

// Decodes raft_configuration_encode's format (configuration.c of 0.15): a
// format byte (1), the number of servers (64-bit little endian), then per
// server its id (64-bit), its address (NUL-terminated) and its role (byte).
// The library does not export its decoder.
bool decode_configuration(const uint8_t* p, size_t len, ::raft::Configuration& out) {
  if (len < 9 || p[0] != 1) return false;
  const uint64_t n = get64(p + 1);
  size_t at = 9;
  struct raft_configuration c;
  raft_configuration_init(&c);
  bool ok = true;
  for (uint64_t i = 0; i < n && ok; ++i) {
    if (at + 8 > len) {
      ok = false;
      break;
    }
    const uint64_t id = get64(p + at);
    at += 8;
    const void* nul = std::memchr(p + at, 0, len - at);
    if (!nul) {
      ok = false;
      break;
    }
    const size_t alen = static_cast<const uint8_t*>(nul) - (p + at);
    const std::string address(reinterpret_cast<const char*>(p + at), alen);
    at += alen + 1;
    if (at + 1 > len) {
      ok = false;
      break;
    }
    const int role = p[at++];
    ok = raft_configuration_add(&c, id, address.c_str(), role) == 0;
  }
  if (ok) out = from_raft_configuration(c);
  raft_configuration_close(&c);
  return ok;
}

// The simulator's entry for a library entry.
Entry to_entry(const struct raft_entry& e) {
  Entry out;
  out.term = e.term;
  const auto* p = static_cast<const uint8_t*>(e.buf.base);
  switch (e.type) {
    case RAFT_COMMAND:
      if (e.buf.len < kWriteBytes) throw std::runtime_error("canonical: short command entry");
      out.kind = EntryKind::write;
      out.write_id = get64(p);
      out.size_bytes = static_cast<uint32_t>(get64(p + 8));
      break;
    case RAFT_CHANGE: {
      ::raft::Configuration c;
      if (!decode_configuration(p, e.buf.len, c)) {
        throw std::runtime_error("canonical: undecodable configuration entry");
      }
      out.kind = EntryKind::config;
      out.config = ::raft::intern_config(c);
      break;
    }
    default: out.kind = EntryKind::noop; break;
  }
  return out;
}

// The payload bytes of a simulator entry, for the library.
std::vector<uint8_t> payload_of(const Entry& e) {
  std::vector<uint8_t> bytes;
  switch (e.kind) {
    case EntryKind::write:
      bytes.resize(kWriteBytes);
      put64(bytes.data(), e.write_id);
      put64(bytes.data() + 8, e.size_bytes);
      break;
    case EntryKind::config: {
      struct raft_configuration c;
      to_raft_configuration(*e.config, &c);
      struct raft_buffer buf;
      if (raft_configuration_encode(&c, &buf) != 0) throw std::bad_alloc();
      const auto* p = static_cast<const uint8_t*>(buf.base);
      bytes.assign(p, p + buf.len);
      raft_free(buf.base);
      raft_configuration_close(&c);
      break;
    }
    case EntryKind::noop: bytes.assign(kBarrierBytes, 0); break;
  }
  return bytes;
}

unsigned short type_of(const Entry& e) {
  switch (e.kind) {
    case EntryKind::write: return RAFT_COMMAND;
    case EntryKind::config: return RAFT_CHANGE;
    case EntryKind::noop: break;
  }
  return RAFT_BARRIER;
}

// Library entries for simulator entries, all payloads in one raft_malloc'd
// batch (the library frees entries by batch: entryBatchesDestroy).
struct raft_entry* to_raft_entries(const std::vector<Entry>& entries) {
  if (entries.empty()) return nullptr;
  std::vector<std::vector<uint8_t>> payloads;
  size_t total = 0;
  for (const Entry& e : entries) {
    payloads.push_back(payload_of(e));
    total += pad8(payloads.back().size());
  }
  auto* out = static_cast<struct raft_entry*>(raft_calloc(entries.size(), sizeof(raft_entry)));
  auto* batch = static_cast<uint8_t*>(raft_calloc(1, total));
  if (!out || !batch) throw std::bad_alloc();
  size_t at = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::memcpy(batch + at, payloads[i].data(), payloads[i].size());
    out[i].term = entries[i].term;
    out[i].type = type_of(entries[i]);
    out[i].buf.base = batch + at;
    out[i].buf.len = payloads[i].size();
    out[i].batch = batch;
    at += pad8(payloads[i].size());
  }
  return out;
}

// A snapshot's data, as the library carries it: 8 bytes naming the snapshot
// by content (index and state), resolved through the ::raft::Snapshot the
// simulator's message or disk holds alongside. The library never looks
// inside it.
uint64_t snapshot_key(const ::raft::Snapshot& s) {
  return ::raft::hash_combine(::raft::hash_combine(s.last_included_index, s.state.state_hash()),
                              s.state.applied_writes());
}

::raft::Role role_of(const craft::raft& r, const ::raft::Configuration& config, NodeId id) {
  switch (r.state) {
    case RAFT_LEADER: return ::raft::Role::leader;
    case RAFT_CANDIDATE:
      return r.candidate_state.in_pre_vote ? ::raft::Role::precandidate : ::raft::Role::candidate;
    default: return config.is_voter(id) ? ::raft::Role::follower : ::raft::Role::learner;
  }
}

class CanonicalNode final : public NodeApi {
 public:
  CanonicalNode(NodeId id, const ::raft::Options& options, ::raft::Random& random,
                const ::raft::DurableState& durable)
      : id_(id), options_(options), random_(random), view_(durable) {
    address_ = address_of(id);
    std::memset(&io_, 0, sizeof io_);
    std::memset(&fsm_, 0, sizeof fsm_);
    std::memset(&raft_, 0, sizeof raft_);
    io_.version = 2;
    io_.impl = this;
    io_.init = [](struct raft_io*, raft_id, const char*) { return 0; };
    io_.close = &CanonicalNode::io_close;
    io_.load = &CanonicalNode::io_load;
    io_.start = &CanonicalNode::io_start;
    io_.bootstrap = &CanonicalNode::io_bootstrap;
    io_.recover = [](struct raft_io*, const struct raft_configuration*) { return RAFT_IOERR; };
    io_.set_term = &CanonicalNode::io_set_term;
    io_.set_vote = &CanonicalNode::io_set_vote;
    io_.send = &CanonicalNode::io_send;
    io_.append = &CanonicalNode::io_append;
    io_.truncate = &CanonicalNode::io_truncate;
    io_.snapshot_put = &CanonicalNode::io_snapshot_put;
    io_.snapshot_get = &CanonicalNode::io_snapshot_get;
    io_.time = &CanonicalNode::io_time;
    io_.random = &CanonicalNode::io_random;
    io_.async_work = &CanonicalNode::io_async_work;
    fsm_.version = 1;
    fsm_.data = this;
    fsm_.apply = &CanonicalNode::fsm_apply;
    fsm_.snapshot = &CanonicalNode::fsm_snapshot;
    fsm_.restore = &CanonicalNode::fsm_restore;
    if (view_.snapshot) sm_ = view_.snapshot->state;
    config_ = view_.snapshot ? view_.snapshot->config : view_.bootstrap_config;
    for (Index i = view_.log.first_index(); i <= view_.log.last_index(); ++i) {
      if (view_.log.at(i).kind == EntryKind::config) config_ = *view_.log.at(i).config;
    }
    role_ = config_.is_voter(id_) ? ::raft::Role::follower : ::raft::Role::learner;
  }

  ~CanonicalNode() override {
    if (!initialized_) return;
    // A crash. The library is closed the way its own fixture closes a
    // server: every pending request completes first, then raft_close (it
    // cannot take cancelled requests after convertToUnavailable). Nothing
    // it does now is an output: the disk already dropped what was pending.
    ::raft::Outputs discard;
    out_ = &discard;
    closing_ = true;
    drain();
    raft_close(&raft_, nullptr);
  }

  void start(TimeUs now, ::raft::Outputs& out) override {
    Enter enter(*this, now, out);
    if (raft_init(&raft_, &io_, &fsm_, id_, address_.c_str()) != 0) fatal("raft_init");
    initialized_ = true;
    // The library's timers: it ticks every heartbeat and compares time()
    // with its deadlines; it randomizes the election timeout in [T, 2T]
    // (canonical_refusal requires the scenario's range to be that).
    raft_set_election_timeout(&raft_, ms(options_.election_timeout_min_us));
    raft_set_heartbeat_timeout(&raft_, ms(options_.heartbeat_interval_us));
    raft_set_pre_vote(&raft_, options_.pre_vote);
    // A leader whose InstallSnapshot (or its answer) is lost ignores the
    // follower until this timeout and then sends it again; the library's
    // default, 30 s, is longer than whole fuzz scenarios. raftsim's node
    // resends a chunk after a heartbeat without an answer; the library
    // resends the whole snapshot, so it waits the longest election timeout.
    raft_set_install_snapshot_timeout(&raft_, ms(options_.election_timeout_max_us));
    raft_set_snapshot_threshold(&raft_, static_cast<unsigned>(options_.snapshot_threshold));
    raft_set_snapshot_trailing(
        &raft_, static_cast<unsigned>(std::max<uint64_t>(1, options_.snapshot_threshold / 4)));
    const bool fresh = view_.hard_state.current_term == 0 && view_.log.last_index() == 0 &&
                       !view_.snapshot && !view_.bootstrap_config.voters.empty();
    if (fresh) {
      // A new member of the initial cluster: the library writes the
      // configuration as entry 1 of term 1 (raft_bootstrap). A spare
      // (no bootstrap configuration) waits to be added.
      struct raft_configuration c;
      to_raft_configuration(view_.bootstrap_config, &c);
      const int rv = raft_bootstrap(&raft_, &c);
      raft_configuration_close(&c);
      if (rv != 0) fatal("raft_bootstrap");
    }
    snapshot_observation();
    if (raft_start(&raft_) != 0) fatal("raft_start");
    // The first tick comes at a random phase of the heartbeat: servers do
    // not boot in lock step, and with aligned ticks every follower's
    // election timer would expire at the same instant.
    const TimeUs tick_us = static_cast<TimeUs>(tick_ms_) * kUsPerMs;
    next_tick_us_ = now + random_.uniform_int(1, tick_us);
    out.timers.push_back({::raft::TimerKind::heartbeat, false, next_tick_us_});
  }

  void receive(const ::raft::Message& msg, TimeUs now, ::raft::Outputs& out) override {
    Enter enter(*this, now, out);
    if (!msg.foreign) return;
    struct raft_message m = *static_cast<const struct raft_message*>(msg.foreign.get());
    m.server_id = msg.from;
    peer_addresses_.emplace(msg.from, address_of(msg.from));
    m.server_address = peer_addresses_[msg.from].c_str();
    input_timeout_now_ = m.type == RAFT_IO_TIMEOUT_NOW;
    if (m.type == RAFT_IO_APPEND_ENTRIES) {
      m.append_entries.entries = to_raft_entries(msg.entries);
      m.append_entries.n_entries = static_cast<unsigned>(msg.entries.size());
      if (rollback_would_crash(m.append_entries)) roll_back_configuration();
    } else if (m.type == RAFT_IO_INSTALL_SNAPSHOT) {
      to_raft_configuration(msg.snapshot->config, &m.install_snapshot.conf);
      m.install_snapshot.data = key_buffer(*msg.snapshot);
      snapshot_from_ = msg.from;
      snapshots_[snapshot_key(*msg.snapshot)] = msg.snapshot;
    } else if (m.type == RAFT_IO_REQUEST_VOTE_RESULT && m.request_vote_result.vote_granted &&
               raft_.state == RAFT_CANDIDATE) {
      votes_.insert(msg.from);
    }
    recv_cb_(&io_, &m);
  }

  void timer_fired(::raft::TimerKind kind, TimeUs now, ::raft::Outputs& out) override {
    Enter enter(*this, now, out);
    if (kind != ::raft::TimerKind::heartbeat) return;
    tick_cb_(&io_);
    const TimeUs tick_us = static_cast<TimeUs>(tick_ms_) * kUsPerMs;
    next_tick_us_ += tick_us;
    if (next_tick_us_ <= now) next_tick_us_ = now + tick_us;
    out.timers.push_back({::raft::TimerKind::heartbeat, false, next_tick_us_});
  }

  void persisted(uint64_t token, TimeUs now, ::raft::Outputs& out) override {
    Enter enter(*this, now, out);
    durable_token_ = token;
    // Messages that waited for a term or vote write (set_term/set_vote are
    // synchronous in the library's API: nothing it sends after one may leave
    // before it is durable).
    while (!held_.empty() && held_.front().first <= durable_token_) {
      out.messages.push_back(std::move(held_.front().second));
      held_.pop_front();
    }
    auto it = pending_.find(token);
    if (it == pending_.end()) return;
    Pending p = it->second;
    pending_.erase(it);
    complete(p, 0);
  }

  void client_writes(const std::vector<::raft::ClientWrite>& writes, TimeUs now,
                     ::raft::Outputs& out) override {
    Enter enter(*this, now, out);
    if (raft_.state != RAFT_LEADER) {
      const NodeId leader = current_leader();
      for (const ::raft::ClientWrite& w : writes)
        out.replies.push_back({w.write_id, false, 0, leader});
      return;
    }
    // One raft_apply for the batch: one append and one round of
    // AppendEntries (thesis §10.2.1), as ::raft::Node does.
    auto* bufs = static_cast<struct raft_buffer*>(raft_calloc(writes.size(), sizeof(raft_buffer)));
    auto* req = static_cast<struct raft_apply*>(raft_calloc(1, sizeof(struct raft_apply)));
    if (!bufs || !req) throw std::bad_alloc();
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < writes.size(); ++i) {
      auto* p = static_cast<uint8_t*>(raft_malloc(kWriteBytes));
      if (!p) throw std::bad_alloc();
      put64(p, writes[i].write_id);
      put64(p + 8, writes[i].size_bytes);
      bufs[i].base = p;
      bufs[i].len = kWriteBytes;
      ids.push_back(writes[i].write_id);
    }
    req->data = this;
    const int rv = raft_apply(&raft_, req, bufs, static_cast<unsigned>(writes.size()),
                              &CanonicalNode::apply_done);
    if (rv != 0) {
      for (size_t i = 0; i < writes.size(); ++i) raft_free(bufs[i].base);
      raft_free(bufs);
      raft_free(req);
      for (uint64_t w : ids) out.replies.push_back({w, false, 0, kNoLeader});
      return;
    }
    raft_free(bufs);
    for (uint64_t w : ids) awaiting_.insert(w);
    requests_[req] = std::move(ids);
  }

  // The library has no "campaign now"; canonical_refusal refuses the action.
  // Unreachable in a run: canonical_refusal refuses reads for this
  // implementation (0.15 has no read API). Answering each read with a
  // redirect keeps a client from waiting on it forever.
  void client_reads(const std::vector<::raft::ClientRead>& reads, TimeUs,
                    ::raft::Outputs& out) override {
    for (const ::raft::ClientRead& r : reads)
      out.read_replies.push_back({r.read_id, false, 0, 0, current_leader()});
  }
  void campaign(TimeUs, ::raft::Outputs&) override {}

  bool transfer_leadership(NodeId to, TimeUs now, ::raft::Outputs& out) override {
    Enter enter(*this, now, out);
    if (raft_.state != RAFT_LEADER || raft_.transfer != nullptr) return false;
    auto* req = static_cast<struct raft_transfer*>(raft_calloc(1, sizeof(struct raft_transfer)));
    if (!req) throw std::bad_alloc();
    transfer_ = true;
    if (raft_transfer(&raft_, req, to, [](struct raft_transfer* r) { raft_free(r); }) != 0) {
      raft_free(req);
      transfer_ = false;
      return false;
    }
    return true;
  }

  bool change_config(::raft::ConfigChange change, NodeId node, std::optional<bool> promote,
                     TimeUs now, ::raft::Outputs& out) override {
    (void)promote;  // add_learner with promotion is refused at load time
    Enter enter(*this, now, out);
    if (raft_.state != RAFT_LEADER) return false;
    // The library takes one change at a time (RAFT_CANTCHANGE otherwise):
    // queue them and propose the next when the last completes, as ::raft::Node
    // queues its own.
    switch (change) {
      case ::raft::ConfigChange::add_learner:
        // raft_add adds a spare; a second change makes it a stand-by, the
        // library's learner.
        changes_.push_back({Change::add, node});
        changes_.push_back({Change::standby, node});
        break;
      case ::raft::ConfigChange::promote: changes_.push_back({Change::voter, node}); break;
      case ::raft::ConfigChange::demote: changes_.push_back({Change::standby, node}); break;
      case ::raft::ConfigChange::remove: changes_.push_back({Change::remove, node}); break;
    }
    return true;
  }

  // No manual snapshot in the library's API; canonical_refusal refuses it.
  void take_snapshot(TimeUs, ::raft::Outputs&) override {}

  ::raft::Role role() const override { return role_; }
  Term current_term() const override { return raft_.current_term; }
  Index commit_index() const override { return raft_.commit_index; }
  NodeId leader_id() const override { return current_leader(); }
  // The library switches configuration on append (replication.c), as the
  // thesis §4.1 does.
  bool config_on_append() const override { return true; }
  const ::raft::Configuration& config() const override { return config_; }
  uint64_t applied_writes() const override { return sm_.applied_writes(); }
  uint64_t state_hash() const override { return sm_.state_hash(); }
  bool holds_write(uint64_t write_id) const override { return sm_.contains(write_id); }

 private:
  static constexpr NodeId kNoLeader = ::raft::kNoNode;
  enum class Kind : uint8_t { append, snapshot_put, snapshot_get, async_work };
  struct Pending {
    Kind kind;
    void* req;
    void* cb;
  };
  struct Change {
    enum Kind : uint8_t { add, standby, voter, remove } kind;
    NodeId node;
  };

  // Every input: the outputs go to `out`, time() reads `now`; on the way out
  // the library's state is compared with what it was.
  struct Enter {
    Enter(CanonicalNode& n, TimeUs now, ::raft::Outputs& out) : node(n) {
      node.now_us_ = now;
      node.out_ = &out;
      node.snapshot_observation();
      // Queued membership changes are proposed at the start of an input,
      // never in the one that committed the previous change: the checker
      // must see that commit before the next configuration entry.
      if (node.initialized_ && node.role_ == ::raft::Role::leader) node.propose_next_change();
    }
    ~Enter() noexcept(false) {
      node.after_input();
      node.input_timeout_now_ = false;
      node.out_ = nullptr;
    }
    CanonicalNode& node;
  };

  static CanonicalNode& self(struct raft_io* io) { return *static_cast<CanonicalNode*>(io->impl); }
  static CanonicalNode& self(struct raft_fsm* fsm) {
    return *static_cast<CanonicalNode*>(fsm->data);
  }
  [[noreturn]] void fatal(const char* what) {
    throw std::runtime_error(std::string("canonical/raft: ") + what + " failed on node " +
                             std::to_string(id_) + ": " + raft_errmsg(&raft_));
  }
  static unsigned ms(int64_t us) { return static_cast<unsigned>(us / kUsPerMs); }

  // --- Durable writes -------------------------------------------------------

  ::raft::PersistOp& new_op() {
    out_->persists.emplace_back();
    ::raft::PersistOp& op = out_->persists.back();
    op.token = next_token_++;
    op.hard_state = view_.hard_state;
    return op;
  }
  void finish_op(::raft::PersistOp& op) { view_.hard_state = op.hard_state; }
  // The view is the disk as written, durable or not: what the library
  // believes it has stored.
  void write_entries(::raft::PersistOp& op) {
    ::raft::PersistOp copy = op;
    apply_persist(view_, std::move(copy));
  }

  // --- raft_io --------------------------------------------------------------

  static void io_close(struct raft_io* io, raft_io_close_cb cb) {
    CanonicalNode& n = self(io);
    n.drain();
    if (cb) cb(io);
  }

  static int io_load(struct raft_io* io, raft_term* term, raft_id* voted_for,
                     struct raft_snapshot** snapshot, raft_index* start_index,
                     struct raft_entry* entries[], size_t* n_entries) {
    CanonicalNode& n = self(io);
    const ::raft::DurableState& d = n.view_;
    *term = d.hard_state.current_term;
    *voted_for = d.hard_state.voted_for;
    *snapshot = nullptr;
    if (d.snapshot) {
      auto* s = static_cast<struct raft_snapshot*>(raft_calloc(1, sizeof(struct raft_snapshot)));
      if (!s) return RAFT_NOMEM;
      n.fill_snapshot(*d.snapshot, s);
      *snapshot = s;
    }
    std::vector<Entry> log;
    for (Index i = d.log.first_index(); i <= d.log.last_index(); ++i) log.push_back(d.log.at(i));
    *start_index = d.log.first_index();
    *entries = to_raft_entries(log);
    *n_entries = log.size();
    return 0;
  }

  static int io_start(struct raft_io* io, unsigned msecs, raft_io_tick_cb tick,
                      raft_io_recv_cb recv) {
    CanonicalNode& n = self(io);
    n.tick_ms_ = msecs;
    n.tick_cb_ = tick;
    n.recv_cb_ = recv;
    return 0;
  }

  static int io_bootstrap(struct raft_io* io, const struct raft_configuration* conf) {
    CanonicalNode& n = self(io);
    if (n.view_.hard_state.current_term != 0) return RAFT_CANTBOOTSTRAP;
    // Entry 1 of term 1 holds the configuration, term 1 and no vote: one
    // durable write, synchronous in the API like set_term.
    ::raft::PersistOp& op = n.new_op();
    op.hard_state.current_term = 1;
    op.hard_state.voted_for = ::raft::kNoNode;
    op.has_entries = true;
    op.first_index = 1;
    Entry e;
    e.term = 1;
    e.kind = EntryKind::config;
    e.config = ::raft::intern_config(from_raft_configuration(*conf));
    op.entries.push_back(e);
    n.write_entries(op);
    n.finish_op(op);
    n.hard_token_ = op.token;
    return 0;
  }

  static int io_set_term(struct raft_io* io, raft_term term) {
    CanonicalNode& n = self(io);
    ::raft::PersistOp& op = n.new_op();
    op.hard_state.current_term = term;
    op.hard_state.voted_for = ::raft::kNoNode;
    n.finish_op(op);
    n.hard_token_ = op.token;
    return 0;
  }

  static int io_set_vote(struct raft_io* io, raft_id server_id) {
    CanonicalNode& n = self(io);
    ::raft::PersistOp& op = n.new_op();
    op.hard_state.voted_for = static_cast<NodeId>(server_id);
    n.finish_op(op);
    n.hard_token_ = op.token;
    return 0;
  }

  static int io_send(struct raft_io* io, struct raft_io_send* req,
                     const struct raft_message* message, raft_io_send_cb cb) {
    CanonicalNode& n = self(io);
    req->cb = cb;
    n.sends_.push_back(req);
    if (n.closing_) return 0;
    ::raft::Message msg = n.translate(*message);
    if (n.hard_token_ > n.durable_token_) {
      n.held_.emplace_back(n.hard_token_, std::move(msg));
    } else {
      n.out_->messages.push_back(std::move(msg));
    }
    return 0;
  }

  static int io_append(struct raft_io* io, struct raft_io_append* req,
                       const struct raft_entry entries[], unsigned count, raft_io_append_cb cb) {
    CanonicalNode& n = self(io);
    req->cb = cb;
    ::raft::PersistOp& op = n.new_op();
    op.has_entries = true;
    op.first_index = n.view_.log.last_index() + 1;
    for (unsigned i = 0; i < count; ++i) op.entries.push_back(to_entry(entries[i]));
    n.write_entries(op);
    n.pending_[op.token] = {Kind::append, req, reinterpret_cast<void*>(cb)};
    return 0;
  }

  static int io_truncate(struct raft_io* io, raft_index index) {
    CanonicalNode& n = self(io);
    // Synchronous in the API, ordered before later appends on our disk; a
    // crash before it is durable keeps the old suffix, as a crash just
    // before the call would.
    ::raft::PersistOp& op = n.new_op();
    op.has_entries = true;
    op.first_index = index;
    n.write_entries(op);
    return 0;
  }

  static int io_snapshot_put(struct raft_io* io, unsigned trailing,
                             struct raft_io_snapshot_put* req, const struct raft_snapshot* snapshot,
                             raft_io_snapshot_put_cb cb) {
    CanonicalNode& n = self(io);
    req->cb = cb;
    auto s = n.resolve_snapshot(*snapshot);
    if (!s) return RAFT_CORRUPT;
    if (trailing != 0) n.emit_applied(*n.out_);  // before the compaction drops the entries
    ::raft::PersistOp& op = n.new_op();
    op.snapshot = s;
    if (trailing == 0) {
      // An installed snapshot replaces the whole log. The library takes its
      // configuration only when the write completes (installSnapshotCb), but
      // uses none meanwhile: it ignores AppendEntries and does not campaign
      // while the install is busy (replicationInstallSnapshotBusy). Its
      // configuration is the snapshot's from now on, as its disk says.
      op.has_entries = true;
      op.first_index = s->last_included_index + 1;
      n.config_ = s->config;
      n.installing_ = true;
    } else if (s->last_included_index > trailing) {
      const Index compact = s->last_included_index - trailing;
      if (compact > n.view_.log.snapshot_index() && compact <= n.view_.log.last_index()) {
        op.compact_index = compact;
        op.compact_term = *n.view_.log.term_at(compact);
      }
    }
    n.write_entries(op);
    n.pending_[op.token] = {Kind::snapshot_put, req, reinterpret_cast<void*>(cb)};
    if (trailing != 0) {
      ::raft::NodeEvent ev{::raft::EventType::snapshot_taken};
      ev.term = s->last_included_term;
      ev.index = s->last_included_index;
      ev.bytes = s->bytes;
      n.out_->events.push_back(ev);
    } else {
      ::raft::NodeEvent ev{::raft::EventType::snapshot_installed};
      ev.peer = n.snapshot_from_;
      ev.term = s->last_included_term;
      ev.index = s->last_included_index;
      ev.bytes = s->bytes;
      n.out_->events.push_back(ev);
    }
    return 0;
  }

  // Reading the snapshot takes a disk access: it completes as a durable
  // write with nothing to write does.
  static int io_snapshot_get(struct raft_io* io, struct raft_io_snapshot_get* req,
                             raft_io_snapshot_get_cb cb) {
    CanonicalNode& n = self(io);
    req->cb = cb;
    ::raft::PersistOp& op = n.new_op();
    n.pending_[op.token] = {Kind::snapshot_get, req, reinterpret_cast<void*>(cb)};
    return 0;
  }

  static int io_async_work(struct raft_io* io, struct raft_io_async_work* req,
                           raft_io_async_work_cb cb) {
    CanonicalNode& n = self(io);
    req->cb = cb;
    ::raft::PersistOp& op = n.new_op();
    n.pending_[op.token] = {Kind::async_work, req, reinterpret_cast<void*>(cb)};
    return 0;
  }

  static raft_time io_time(struct raft_io* io) {
    return static_cast<raft_time>(self(io).now_us_ / kUsPerMs);
  }

  static int io_random(struct raft_io* io, int min, int max) {
    return static_cast<int>(self(io).random_.uniform_int(min, max));
  }

  void complete(const Pending& p, int status) {
    switch (p.kind) {
      case Kind::append: {
        auto* req = static_cast<struct raft_io_append*>(p.req);
        reinterpret_cast<raft_io_append_cb>(p.cb)(req, status);
        break;
      }
      case Kind::snapshot_put: {
        auto* req = static_cast<struct raft_io_snapshot_put*>(p.req);
        installing_ = false;
        config_key_ = kConfigUnknown;  // restored from the snapshot: decode it again
        reinterpret_cast<raft_io_snapshot_put_cb>(p.cb)(req, status);
        break;
      }
      case Kind::snapshot_get: {
        auto* req = static_cast<struct raft_io_snapshot_get*>(p.req);
        struct raft_snapshot* s = nullptr;
        if (status == 0 && view_.snapshot) {
          s = static_cast<struct raft_snapshot*>(raft_calloc(1, sizeof(struct raft_snapshot)));
          if (!s) throw std::bad_alloc();
          fill_snapshot(*view_.snapshot, s);
        }
        reinterpret_cast<raft_io_snapshot_get_cb>(p.cb)(req, s, s ? status : RAFT_NOTFOUND);
        break;
      }
      case Kind::async_work: {
        auto* req = static_cast<struct raft_io_async_work*>(p.req);
        const int rv = status == 0 ? req->work(req) : status;
        reinterpret_cast<raft_io_async_work_cb>(p.cb)(req, rv);
        break;
      }
    }
  }

  // Completes every pending request, oldest first (what raft_fixture_close
  // does before closing its servers).
  void drain() {
    while (!pending_.empty() || !sends_.empty()) {
      if (!pending_.empty()) {
        const Pending p = pending_.begin()->second;
        pending_.erase(pending_.begin());
        complete(p, 0);
      }
      flush_sends(0);
    }
  }

  // A send completes once the network has the message: at the end of the
  // input that sent it (the library's send callbacks only free memory).
  void flush_sends(int status) {
    std::vector<struct raft_io_send*> sends;
    sends.swap(sends_);
    for (struct raft_io_send* req : sends) {
      if (req->cb) req->cb(req, status);
    }
  }

  // --- A library bug worked around -----------------------------------------
  // 0.15's membershipRollback (membership.c) reloads the last committed
  // configuration from the log entry at configuration_index, with no check
  // that the log still holds it: once a snapshot compacted that entry away,
  // a follower that truncates an uncommitted configuration entry reads
  // through a null entry and the process dies. Later releases take the
  // configuration from the last snapshot instead; the adapter does the
  // same, just before the library would (docs/canonical.md).

  // Whether this AppendEntries makes the library roll back its uncommitted
  // configuration while the committed one's entry is compacted: the checks
  // of recvAppendEntries, checkLogMatchingProperty and
  // deleteConflictingEntries (replication.c), in their order.
  bool rollback_would_crash(const struct raft_append_entries& a) const {
    if (raft_.state == RAFT_LEADER || a.term < raft_.current_term) return false;
    if (raft_.configuration_uncommitted_index == 0 || log_holds(raft_.configuration_index)) {
      return false;
    }
    // replicationInstallSnapshotBusy: the library ignores the message.
    if (raft_.last_stored == 0 && raft_.snapshot.put.data != nullptr) return false;
    if (a.prev_log_index > 0 && log_term_of(a.prev_log_index) != a.prev_log_term) return false;
    for (unsigned j = 0; j < a.n_entries; ++j) {
      const raft_index index = a.prev_log_index + 1 + j;
      const raft_term local = log_term_of(index);
      if (local == 0) return false;
      if (local != a.entries[j].term) {
        return index > raft_.commit_index && raft_.configuration_uncommitted_index >= index;
      }
    }
    return false;
  }

  // What a fixed membershipRollback does: the configuration of the last
  // snapshot, which is the committed one once its entry is compacted.
  void roll_back_configuration() {
    if (!view_.snapshot) fatal("configuration rollback without a snapshot");
    raft_configuration_close(&raft_.configuration);
    to_raft_configuration(view_.snapshot->config, &raft_.configuration);
    raft_.configuration_uncommitted_index = 0;
  }

  // The library's logTermOf and logGet (log.c) on its in-memory log.
  size_t log_entries() const {
    const struct raft_log& l = raft_.log;
    return l.back >= l.front ? l.back - l.front : l.size - l.front + l.back;
  }
  bool log_holds(raft_index index) const {
    return index > raft_.log.offset && index <= raft_.log.offset + log_entries();
  }
  raft_term log_term_of(raft_index index) const {
    const struct raft_log& l = raft_.log;
    if (log_holds(index)) return l.entries[(l.front + (index - l.offset - 1)) % l.size].term;
    return index == l.snapshot.last_index ? l.snapshot.last_term : 0;
  }

  // --- Snapshots ------------------------------------------------------------

  struct raft_buffer key_buffer(const ::raft::Snapshot& s) {
    struct raft_buffer buf;
    buf.len = 8;
    buf.base = raft_malloc(8);
    if (!buf.base) throw std::bad_alloc();
    put64(static_cast<uint8_t*>(buf.base), snapshot_key(s));
    return buf;
  }

  void fill_snapshot(const ::raft::Snapshot& s, struct raft_snapshot* out) {
    out->index = s.last_included_index;
    out->term = s.last_included_term;
    to_raft_configuration(s.config, &out->configuration);
    out->configuration_index = s.config_index;
    out->bufs = static_cast<struct raft_buffer*>(raft_calloc(1, sizeof(struct raft_buffer)));
    if (!out->bufs) throw std::bad_alloc();
    out->bufs[0] = key_buffer(s);
    out->n_bufs = 1;
    snapshots_[snapshot_key(s)] = std::make_shared<::raft::Snapshot>(s);
  }

  // The ::raft::Snapshot a library snapshot names through its data key.
  std::shared_ptr<const ::raft::Snapshot> resolve_snapshot(const struct raft_snapshot& s) {
    if (s.n_bufs < 1 || s.bufs[0].len < 8) return nullptr;
    const uint64_t key = get64(static_cast<const uint8_t*>(s.bufs[0].base));
    auto it = snapshots_.find(key);
    if (it == snapshots_.end()) return nullptr;
    auto out = std::make_shared<::raft::Snapshot>(*it->second);
    out->last_included_term = s.term;
    out->config = from_raft_configuration(s.configuration);
    out->config_index = s.configuration_index;
    return out;
  }

  // --- raft_fsm -------------------------------------------------------------

  static int fsm_apply(struct raft_fsm* fsm, const struct raft_buffer* buf, void** result) {
    CanonicalNode& n = self(fsm);
    *result = nullptr;
    if (buf->len < kWriteBytes) return RAFT_MALFORMED;
    const auto* p = static_cast<const uint8_t*>(buf->base);
    const uint64_t write_id = get64(p);
    const auto size = static_cast<uint32_t>(get64(p + 8));
    // Which index this is the library does not say (it may raise
    // last_applied once per batch): emit_applied pairs the applies, in
    // order, with the log's write entries.
    const bool fresh = n.sm_.apply_write(write_id, size);
    n.fsm_applied_.push_back({write_id, !fresh, n.sm_.state_hash()});
    return 0;
  }

  static int fsm_snapshot(struct raft_fsm* fsm, struct raft_buffer* bufs[], unsigned* n_bufs) {
    CanonicalNode& n = self(fsm);
    // takeSnapshot snapshots at last_applied.
    ::raft::Snapshot s;
    s.last_included_index = n.raft_.last_applied;
    s.state = n.sm_;
    s.config = n.config_;
    s.bytes = n.sm_.size_bytes() + 64;
    *bufs = static_cast<struct raft_buffer*>(raft_calloc(1, sizeof(struct raft_buffer)));
    if (!*bufs) return RAFT_NOMEM;
    (*bufs)[0] = n.key_buffer(s);
    *n_bufs = 1;
    n.snapshots_[snapshot_key(s)] = std::make_shared<::raft::Snapshot>(std::move(s));
    return 0;
  }

  static int fsm_restore(struct raft_fsm* fsm, struct raft_buffer* buf) {
    CanonicalNode& n = self(fsm);
    if (buf->len < 8) return RAFT_MALFORMED;
    const uint64_t key = get64(static_cast<const uint8_t*>(buf->base));
    auto it = n.snapshots_.find(key);
    if (it == n.snapshots_.end()) return RAFT_CORRUPT;
    n.sm_ = it->second->state;
    n.restored_ = true;
    raft_free(buf->base);  // the FSM owns the restored buffer
    return 0;
  }

  // --- Messages -------------------------------------------------------------

  // The simulator's message for a library message: type, term and grant
  // are the library's (the checkers read them); the library's own message
  // rides along for delivery.
  ::raft::Message translate(const struct raft_message& m) {
    ::raft::Message out;
    out.from = id_;
    out.to = static_cast<NodeId>(m.server_id);
    struct raft_message copy = m;
    copy.server_address = nullptr;
    switch (m.type) {
      case RAFT_IO_APPEND_ENTRIES: {
        const auto& a = m.append_entries;
        out.type = ::raft::MsgType::append;
        out.term = a.term;
        out.index = a.prev_log_index;
        out.log_term = a.prev_log_term;
        out.commit = a.leader_commit;
        for (unsigned i = 0; i < a.n_entries; ++i) out.entries.push_back(to_entry(a.entries[i]));
        copy.append_entries.entries = nullptr;
        copy.append_entries.n_entries = 0;
        break;
      }
      case RAFT_IO_APPEND_ENTRIES_RESULT: {
        const auto& a = m.append_entries_result;
        out.type = ::raft::MsgType::append_resp;
        out.term = a.term;
        out.success = a.rejected == 0;
        out.index = a.rejected == 0 ? a.last_log_index : a.rejected;
        out.hint_index = a.last_log_index;
        break;
      }
      case RAFT_IO_REQUEST_VOTE: {
        const auto& v = m.request_vote;
        out.type = v.pre_vote ? ::raft::MsgType::pre_vote : ::raft::MsgType::vote;
        out.term = v.term;
        out.index = v.last_log_index;
        out.log_term = v.last_log_term;
        out.transfer = v.disrupt_leader;
        break;
      }
      case RAFT_IO_REQUEST_VOTE_RESULT: {
        const auto& v = m.request_vote_result;
        const bool pre = v.pre_vote == raft_tribool_true;
        out.type = pre ? ::raft::MsgType::pre_vote_resp : ::raft::MsgType::vote_resp;
        out.term = v.term;
        out.success = v.vote_granted;
        if (v.vote_granted) {
          ::raft::NodeEvent ev{::raft::EventType::vote_granted};
          ev.peer = out.to;
          ev.term = v.term;
          ev.pre_vote = pre;
          out_->events.push_back(ev);
        }
        break;
      }
      case RAFT_IO_INSTALL_SNAPSHOT: {
        const auto& s = m.install_snapshot;
        out.type = ::raft::MsgType::snapshot;
        out.term = s.term;
        out.index = s.last_index;
        out.log_term = s.last_term;
        struct raft_snapshot probe;
        std::memset(&probe, 0, sizeof probe);
        probe.index = s.last_index;
        probe.term = s.last_term;
        probe.configuration = s.conf;
        probe.configuration_index = s.conf_index;
        struct raft_buffer data = s.data;
        probe.bufs = &data;
        probe.n_bufs = 1;
        auto snap = resolve_snapshot(probe);
        if (!snap) throw std::runtime_error("canonical: InstallSnapshot of an unknown snapshot");
        out.snapshot = snap;
        out.chunk_bytes = snap->bytes;
        out.done = true;
        copy.install_snapshot.conf.servers = nullptr;
        copy.install_snapshot.conf.n = 0;
        copy.install_snapshot.data.base = nullptr;
        copy.install_snapshot.data.len = 0;
        ::raft::NodeEvent ev{::raft::EventType::snapshot_sent};
        ev.peer = out.to;
        ev.index = snap->last_included_index;
        ev.bytes = snap->bytes;
        out_->events.push_back(ev);
        break;
      }
      case RAFT_IO_TIMEOUT_NOW:
        out.type = ::raft::MsgType::timeout_now;
        out.term = m.timeout_now.term;
        break;
      default: throw std::runtime_error("canonical: unknown message type");
    }
    out.foreign = std::make_shared<const struct raft_message>(copy);
    return out;
  }

  // --- Observation ----------------------------------------------------------

  struct Observed {
    ::raft::Role role = ::raft::Role::follower;
    Term term = 0;
    Index commit = 0;
    Index applied = 0;
    Index config_index = 0;
    bool pre_vote_round = false;
  };

  void snapshot_observation() {
    before_.role = role_;
    before_.term = raft_.current_term;
    before_.commit = raft_.commit_index;
    before_.applied = raft_.last_applied;
    before_.config_index = raft_.configuration_index;
    hash_before_ = sm_.state_hash();
    fsm_applied_.clear();
    restored_ = false;
  }

  // Outputs ::raft::Node would have produced for the change the input made.
  void after_input() {
    if (!initialized_ || closing_) return;
    flush_sends(0);
    if (raft_.state == RAFT_UNAVAILABLE) return;
    ::raft::Outputs& out = *out_;
    // The configuration in force is the latest in the log, committed or
    // not: the library uses a configuration as soon as it is appended
    // (thesis §4.1), so its quorums, votes and commits follow that one.
    // Decoded only when it changed: the library replaces its configuration
    // only when one of these indexes moves (append, commit, rollback,
    // snapshot, restart).
    const std::pair<Index, Index> config_key{raft_.configuration_index,
                                             raft_.configuration_uncommitted_index};
    if (!installing_ && raft_.configuration.n > 0 && config_key != config_key_) {
      config_ = from_raft_configuration(raft_.configuration);
      config_key_ = config_key;
    }
    const ::raft::Role now_role = role_of(raft_, config_, id_);
    const Term term = raft_.current_term;
    const bool pre_vote_round = raft_.state == RAFT_CANDIDATE && raft_.candidate_state.in_pre_vote;
    if (now_role != before_.role) {
      const char* reason = role_reason(before_.role, now_role, term > before_.term);
      ::raft::NodeEvent ev{::raft::EventType::role};
      ev.from = before_.role;
      ev.to = now_role;
      ev.term = before_.role == ::raft::Role::leader ? before_.term : term;
      ev.reason = reason;
      out.events.push_back(ev);
      if (before_.role == ::raft::Role::leader) {
        ::raft::NodeEvent down{::raft::EventType::step_down};
        down.term = before_.term;
        down.reason = reason;
        out.events.push_back(down);
        changes_.clear();
        transfer_ = false;
      }
    }
    // A new election: entering candidacy, or a candidate starting another
    // round (its term rose) or leaving pre-vote for the real vote.
    const bool candidate_now =
        now_role == ::raft::Role::candidate || now_role == ::raft::Role::precandidate;
    if (candidate_now && (now_role != before_.role || term != before_.term ||
                          pre_vote_round != before_.pre_vote_round)) {
      ::raft::NodeEvent ev{::raft::EventType::election_started};
      ev.pre_vote = pre_vote_round;
      ev.term = pre_vote_round ? term + 1 : term;
      out.events.push_back(ev);
      votes_.clear();
    }
    if (now_role == ::raft::Role::leader && before_.role != ::raft::Role::leader) {
      ::raft::NodeEvent ev{::raft::EventType::elected};
      ev.term = term;
      ev.votes = static_cast<uint32_t>(votes_.size() + 1);
      out.events.push_back(ev);
      votes_.clear();
    }
    if (raft_.commit_index > before_.commit && raft_.commit_index >= view_.log.first_index() - 1) {
      ::raft::NodeEvent ev{::raft::EventType::commit};
      ev.index = raft_.commit_index;
      ev.term = view_.log.term_at(ev.index).value_or(0);
      ev.config = ::raft::intern_config(config_);
      out.events.push_back(ev);
    }
    emit_applied(out);
    if (now_role == ::raft::Role::leader && raft_.configuration_index > before_.config_index &&
        before_.role == ::raft::Role::leader) {
      ::raft::NodeEvent ev{::raft::EventType::config_committed};
      ev.index = raft_.configuration_index;
      ev.term = term;
      ev.config = ::raft::intern_config(config_);
      for (NodeId v : config_.voters) {
        if (!last_committed_config_.is_voter(v)) ev.lags.emplace_back(v, 0);
      }
      for (NodeId l : config_.learners) {
        if (last_committed_config_.is_voter(l)) ev.lags.emplace_back(l, 0);
      }
      for (NodeId v : last_committed_config_.voters) {
        if (!config_.contains(v)) ev.lags.emplace_back(v, 0);
      }
      for (NodeId l : last_committed_config_.learners) {
        if (!config_.contains(l)) ev.lags.emplace_back(l, 0);
      }
      out.events.push_back(ev);
    }
    if (raft_.configuration_index != before_.config_index) last_committed_config_ = config_;
    role_ = now_role;
    before_.pre_vote_round = pre_vote_round;
    if (role_ != ::raft::Role::leader) {
      // Writes a leader accepted and lost with its leadership: the client
      // is told to retry (a redirect), as ::raft::Node's clients are.
      for (auto& [req, ids] : requests_) {
        (void)req;
        for (uint64_t w : ids) {
          if (awaiting_.erase(w)) out.replies.push_back({w, false, 0, current_leader()});
        }
      }
    }
  }

  NodeId current_leader() const {
    raft_id leader = 0;
    const char* address = nullptr;
    // raft_leader only reads the struct; 0.15 declares it without const.
    raft_leader(const_cast<struct raft*>(&raft_), &leader, &address);
    return static_cast<NodeId>(leader);
  }

  // The reason for a role change, as far as the library's state shows it.
  const char* role_reason(::raft::Role from, ::raft::Role to, bool term_rose) const {
    using ::raft::Role;
    if (to == Role::leader) return "won_election";
    if (to == Role::candidate && from == Role::precandidate) return "pre_vote_won";
    if (to == Role::candidate || to == Role::precandidate) {
      return input_timeout_now_ ? "timeout_now" : "election_timeout";
    }
    if (term_rose) return "higher_term";
    if (from == Role::leader) {
      if (!config_.is_voter(id_)) return "removed";
      if (transfer_) return "transfer";
      return "lost_quorum";
    }
    if (from == Role::candidate || from == Role::precandidate) return "leader_found";
    return to == Role::learner ? "demoted" : "promoted";
  }

  // Reports the entries applied since the last report. Called after each
  // input, and before a snapshot compacts the entries away.
  void emit_applied(::raft::Outputs& out) {
    if (restored_) {
      // A snapshot replaced the state: nothing below its index is applied
      // entry by entry.
      fsm_applied_.clear();
      before_.applied = raft_.last_applied;
      hash_before_ = sm_.state_hash();
      return;
    }
    size_t next = 0;
    uint64_t hash = hash_before_;
    for (Index i = before_.applied + 1; i <= raft_.last_applied; ++i) {
      if (i < view_.log.first_index() || i > view_.log.last_index()) continue;
      ::raft::Applied a{i, view_.log.at(i), false, hash};
      if (a.entry.kind == EntryKind::write && next < fsm_applied_.size()) {
        a.duplicate = fsm_applied_[next].duplicate;
        a.state_hash = hash = fsm_applied_[next].state_hash;
        ++next;
        if (awaiting_.erase(a.entry.write_id)) {
          out.replies.push_back({a.entry.write_id, true, i, id_});
        }
      }
      out.applied.push_back(a);
    }
    fsm_applied_.erase(fsm_applied_.begin(), fsm_applied_.begin() + static_cast<long>(next));
    before_.applied = raft_.last_applied;
    hash_before_ = hash;
  }

  void propose_next_change() {
    if (changes_.empty() || raft_.configuration_uncommitted_index != 0 ||
        raft_.leader_state.change != nullptr || raft_.leader_state.promotee_id != 0) {
      return;
    }
    const Change c = changes_.front();
    changes_.pop_front();
    auto* req = static_cast<struct raft_change*>(raft_calloc(1, sizeof(struct raft_change)));
    if (!req) throw std::bad_alloc();
    auto done = [](struct raft_change* r, int) { raft_free(r); };
    int rv = 0;
    switch (c.kind) {
      case Change::add: rv = raft_add(&raft_, req, c.node, address_of(c.node).c_str(), done); break;
      case Change::standby: rv = raft_assign(&raft_, req, c.node, RAFT_STANDBY, done); break;
      case Change::voter: rv = raft_assign(&raft_, req, c.node, RAFT_VOTER, done); break;
      case Change::remove: rv = raft_remove(&raft_, req, c.node, done); break;
    }
    if (rv != 0) raft_free(req);  // e.g. already in that role: nothing to do
  }

  const NodeId id_;
  const ::raft::Options options_;
  ::raft::Random& random_;
  std::string address_;
  std::map<NodeId, std::string> peer_addresses_;
  ::raft::DurableState view_;
  craft::raft raft_;
  struct raft_io io_;
  struct raft_fsm fsm_;
  bool initialized_ = false;
  bool closing_ = false;
  ::raft::Outputs* out_ = nullptr;
  TimeUs now_us_ = 0;

  unsigned tick_ms_ = 0;
  TimeUs next_tick_us_ = 0;
  raft_io_tick_cb tick_cb_ = nullptr;
  raft_io_recv_cb recv_cb_ = nullptr;

  uint64_t next_token_ = 1;
  uint64_t durable_token_ = 0;
  uint64_t hard_token_ = 0;
  std::map<uint64_t, Pending> pending_;
  std::deque<std::pair<uint64_t, ::raft::Message>> held_;
  std::vector<struct raft_io_send*> sends_;

  ::raft::StateMachine sm_;
  struct FsmApplied {
    uint64_t write_id;
    bool duplicate;
    uint64_t state_hash;
  };
  std::vector<FsmApplied> fsm_applied_;
  uint64_t hash_before_ = 0;
  bool restored_ = false;
  std::map<uint64_t, std::shared_ptr<const ::raft::Snapshot>> snapshots_;
  NodeId snapshot_from_ = ::raft::kNoNode;

  std::set<uint64_t> awaiting_;
  std::map<struct raft_apply*, std::vector<uint64_t>> requests_;
  static void apply_done(struct raft_apply* req, int status, void* result) {
    (void)result;
    CanonicalNode& n = *static_cast<CanonicalNode*>(req->data);
    auto it = n.requests_.find(req);
    if (it != n.requests_.end()) {
      if (status != 0 && !n.closing_) {
        for (uint64_t w : it->second) {
          if (n.awaiting_.erase(w)) n.out_->replies.push_back({w, false, 0, n.current_leader()});
        }
      }
      n.requests_.erase(it);
    }
    raft_free(req);
  }

  ::raft::Role role_ = ::raft::Role::follower;
  Observed before_;
  ::raft::Configuration config_;
  static constexpr std::pair<Index, Index> kConfigUnknown{UINT64_MAX, UINT64_MAX};
  std::pair<Index, Index> config_key_ = kConfigUnknown;  // indexes config_ was decoded at
  bool installing_ = false;  // an installed snapshot's write is not complete yet
  ::raft::Configuration last_committed_config_;
  std::set<NodeId> votes_;
  bool input_timeout_now_ = false;
  bool transfer_ = false;
  std::deque<Change> changes_;
};

}  // namespace

std::unique_ptr<NodeApi> make_canonical_node(::raft::NodeId id, const ::raft::Options& options,
                                             ::raft::Random& random,
                                             const ::raft::DurableState& durable) {
  return std::make_unique<CanonicalNode>(id, options, random, durable);
}

}  // namespace sim
