// canonical/raft behind sim::NodeApi (sim/canonical/canonical_adapter.h): the
// adapter's construction, the NodeApi inputs, and the membership changes it
// queues for the library.
#include "sim/canonical/canonical_node.h"

#include <algorithm>
#include <cstring>

#include "sim/canonical/canonical_adapter.h"

namespace sim::canonical {

using namespace craft;  // NOLINT: the C API, prefixed raft_ throughout

using ::raft::EntryKind;

CanonicalNode::Enter::Enter(CanonicalNode& n, TimeUs now, ::raft::Outputs& out) : node(n) {
  node.now_us_ = now;
  node.out_ = &out;
  node.snapshot_observation();
  // Queued membership changes are proposed at the start of an input,
  // never in the one that committed the previous change: the checker
  // must see that commit before the next configuration entry.
  if (node.initialized_ && node.role_ == ::raft::Role::leader) node.propose_next_change();
}

CanonicalNode::Enter::~Enter() noexcept(false) {
  node.after_input();
  node.input_timeout_now_ = false;
  node.out_ = nullptr;
}

CanonicalNode::CanonicalNode(NodeId id, const ::raft::Options& options, ::raft::Random& random,
                             const ::raft::DurableState& durable, ::raft::ConfigArena& configs)
    : id_(id), options_(options), random_(random), view_(durable), configs_(configs) {
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

CanonicalNode::~CanonicalNode() {
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

void CanonicalNode::start(TimeUs now, ::raft::Outputs& out) {
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

void CanonicalNode::step(const ::raft::Message& msg, TimeUs now, ::raft::Outputs& out) {
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

void CanonicalNode::on_timer(::raft::TimerKind kind, TimeUs now, ::raft::Outputs& out) {
  Enter enter(*this, now, out);
  if (kind != ::raft::TimerKind::heartbeat) return;
  tick_cb_(&io_);
  const TimeUs tick_us = static_cast<TimeUs>(tick_ms_) * kUsPerMs;
  next_tick_us_ += tick_us;
  if (next_tick_us_ <= now) next_tick_us_ = now + tick_us;
  out.timers.push_back({::raft::TimerKind::heartbeat, false, next_tick_us_});
}

void CanonicalNode::on_persisted(uint64_t token, TimeUs now, ::raft::Outputs& out) {
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

void CanonicalNode::client_writes(const std::vector<::raft::ClientWrite>& writes, TimeUs now,
                                  ::raft::Outputs& out) {
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

// The library checks its contact quorum on the first tick at least an
// election timeout T after the previous check (tickLeader, tick.c), counting
// the voters heard from since that check (checkContactQuorum). Ticks are a
// heartbeat h apart, so checks are ceil(T/h) ticks apart, and the first one
// after an election comes at most T + h after it. A leader that last hears
// from a quorum just after a check passes the next one and steps down at the
// one after: at most T + h + ceil(T/h)·h later. (raftsim's node checks every
// heartbeat: one election timeout and a heartbeat.)
::raft::TimeUs CanonicalNode::check_quorum_bound_us() const {
  const TimeUs t = options_.election_timeout_min_us / kUsPerMs;
  const TimeUs h = options_.heartbeat_interval_us / kUsPerMs;
  return (t + h + (t + h - 1) / h * h) * kUsPerMs;
}

// Unreachable in a run: canonical_refusal refuses reads for this
// implementation (0.15 has no read API). Answering each read with a
// redirect keeps a client from waiting on it forever.
void CanonicalNode::client_reads(const std::vector<::raft::ClientRead>& reads, TimeUs,
                                 ::raft::Outputs& out) {
  for (const ::raft::ClientRead& r : reads)
    out.read_replies.push_back({r.read_id, false, 0, 0, current_leader()});
}

bool CanonicalNode::transfer_leadership(NodeId to, TimeUs now, ::raft::Outputs& out) {
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

bool CanonicalNode::request_config_change(::raft::ConfigChange change, NodeId node,
                                          std::optional<bool> promote, TimeUs now,
                                          ::raft::Outputs& out) {
  (void)promote;  // add_learner with promotion is refused at load time
  Enter enter(*this, now, out);
  if (raft_.state != RAFT_LEADER) return false;
  // The library takes one change at a time (RAFT_CANTCHANGE otherwise):
  // queue them and propose the next when the last completes, as ::raft::Node
  // queues its own.
  changes_.push_back({change, node, false});
  return true;
}

// Whether a queued change still means something in the configuration in
// force, by ::raft::Node's rules (maybe_change_membership): adding a member,
// promoting a non-learner, demoting a non-voter or the last voter, removing
// a non-member or the last voter are dropped. The library would take some
// of them (raft_assign of a voter to RAFT_STANDBY demotes it; a removal may
// leave no voter at all), which is not what the action asks.
bool CanonicalNode::change_applies(const Change& c) const {
  const bool last_voter = config_.is_voter(c.node) && config_.voters.size() <= 1;
  if (c.joining) return true;  // the spare the add made: outside config_
  switch (c.change) {
    case ::raft::ConfigChange::add_learner: return !config_.contains(c.node);
    case ::raft::ConfigChange::promote: return config_.is_learner(c.node);
    case ::raft::ConfigChange::demote: return config_.is_voter(c.node) && !last_voter;
    case ::raft::ConfigChange::remove: return config_.contains(c.node) && !last_voter;
  }
  return false;
}

void CanonicalNode::propose_next_change() {
  if (changes_.empty() || raft_.configuration_uncommitted_index != 0 ||
      raft_.leader_state.change != nullptr || raft_.leader_state.promotee_id != 0) {
    return;
  }
  while (!changes_.empty()) {
    const Change c = changes_.front();
    changes_.pop_front();
    if (!change_applies(c)) continue;
    auto* req = static_cast<struct raft_change*>(raft_calloc(1, sizeof(struct raft_change)));
    if (!req) throw std::bad_alloc();
    auto done = [](struct raft_change* r, int) { raft_free(r); };
    int rv = 0;
    switch (c.joining ? ::raft::ConfigChange::demote : c.change) {
      case ::raft::ConfigChange::add_learner:
        // raft_add adds a spare; a second change makes it a stand-by, the
        // library's learner.
        rv = raft_add(&raft_, req, c.node, address_of(c.node).c_str(), done);
        if (rv == 0) changes_.push_front({c.change, c.node, true});
        break;
      case ::raft::ConfigChange::promote:
        rv = raft_assign(&raft_, req, c.node, RAFT_VOTER, done);
        break;
      case ::raft::ConfigChange::demote:
        rv = raft_assign(&raft_, req, c.node, RAFT_STANDBY, done);
        break;
      case ::raft::ConfigChange::remove: rv = raft_remove(&raft_, req, c.node, done); break;
    }
    if (rv == 0) return;
    raft_free(req);  // refused: try the next
  }
}

void CanonicalNode::apply_done(struct raft_apply* req, int status, void* result) {
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

}  // namespace sim::canonical

namespace sim {

std::unique_ptr<NodeApi> make_canonical_node(::raft::NodeId id, const ::raft::Options& options,
                                             ::raft::Random& random,
                                             const ::raft::DurableState& durable,
                                             ::raft::ConfigArena& configs) {
  return std::make_unique<canonical::CanonicalNode>(id, options, random, durable, configs);
}

}  // namespace sim
