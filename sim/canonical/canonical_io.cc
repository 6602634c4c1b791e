// The adapter as the library's raft_io (version 2) and raft_fsm (version 1):
// every request becomes a durable write, a message or a pending completion
// the simulator's disk finishes (docs/canonical.md, "How the library is
// driven"). src/fixture.c of canonical/raft, the library's in-memory raft_io,
// is the reference for how each callback must behave.
#include <new>

#include "sim/canonical/canonical_adapter.h"

namespace sim::canonical {

using namespace craft;  // NOLINT: the C API, prefixed raft_ throughout

using ::raft::Entry;
using ::raft::EntryKind;

// --- Durable writes -------------------------------------------------------

::raft::PersistOp& CanonicalNode::new_op() {
  out_->persists.emplace_back();
  ::raft::PersistOp& op = out_->persists.back();
  op.token = next_token_++;
  op.hard_state = view_.hard_state;
  return op;
}

// The view is the disk as written, durable or not: what the library
// believes it has stored.
void CanonicalNode::write_entries(::raft::PersistOp& op) {
  ::raft::PersistOp copy = op;
  apply_persist(view_, std::move(copy));
}

// --- raft_io --------------------------------------------------------------

void CanonicalNode::io_close(struct raft_io* io, raft_io_close_cb cb) {
  CanonicalNode& n = self(io);
  n.drain();
  if (cb) cb(io);
}

int CanonicalNode::io_load(struct raft_io* io, raft_term* term, raft_id* voted_for,
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
  const ::raft::EntryBatch batch(std::move(log));
  *entries = to_raft_entries(batch);
  *n_entries = batch.size();
  return 0;
}

int CanonicalNode::io_start(struct raft_io* io, unsigned msecs, raft_io_tick_cb tick,
                            raft_io_recv_cb recv) {
  CanonicalNode& n = self(io);
  n.tick_ms_ = msecs;
  n.tick_cb_ = tick;
  n.recv_cb_ = recv;
  return 0;
}

int CanonicalNode::io_bootstrap(struct raft_io* io, const struct raft_configuration* conf) {
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
  e.config = n.configs_.intern(from_raft_configuration(*conf));
  op.entries.push_back(e);
  n.write_entries(op);
  n.finish_op(op);
  n.hard_token_ = op.token;
  return 0;
}

int CanonicalNode::io_set_term(struct raft_io* io, raft_term term) {
  CanonicalNode& n = self(io);
  ::raft::PersistOp& op = n.new_op();
  op.hard_state.current_term = term;
  op.hard_state.voted_for = ::raft::kNoNode;
  n.finish_op(op);
  n.hard_token_ = op.token;
  return 0;
}

int CanonicalNode::io_set_vote(struct raft_io* io, raft_id server_id) {
  CanonicalNode& n = self(io);
  ::raft::PersistOp& op = n.new_op();
  op.hard_state.voted_for = static_cast<NodeId>(server_id);
  n.finish_op(op);
  n.hard_token_ = op.token;
  return 0;
}

int CanonicalNode::io_send(struct raft_io* io, struct raft_io_send* req,
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

int CanonicalNode::io_append(struct raft_io* io, struct raft_io_append* req,
                             const struct raft_entry entries[], unsigned count,
                             raft_io_append_cb cb) {
  CanonicalNode& n = self(io);
  req->cb = cb;
  ::raft::PersistOp& op = n.new_op();
  op.has_entries = true;
  op.first_index = n.view_.log.last_index() + 1;
  for (unsigned i = 0; i < count; ++i) op.entries.push_back(to_entry(entries[i], n.configs_));
  n.write_entries(op);
  n.pending_[op.token] = {Kind::append, req, reinterpret_cast<void*>(cb)};
  return 0;
}

int CanonicalNode::io_truncate(struct raft_io* io, raft_index index) {
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

int CanonicalNode::io_snapshot_put(struct raft_io* io, unsigned trailing,
                                   struct raft_io_snapshot_put* req,
                                   const struct raft_snapshot* snapshot,
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
int CanonicalNode::io_snapshot_get(struct raft_io* io, struct raft_io_snapshot_get* req,
                                   raft_io_snapshot_get_cb cb) {
  CanonicalNode& n = self(io);
  req->cb = cb;
  ::raft::PersistOp& op = n.new_op();
  n.pending_[op.token] = {Kind::snapshot_get, req, reinterpret_cast<void*>(cb)};
  return 0;
}

int CanonicalNode::io_async_work(struct raft_io* io, struct raft_io_async_work* req,
                                 raft_io_async_work_cb cb) {
  CanonicalNode& n = self(io);
  req->cb = cb;
  ::raft::PersistOp& op = n.new_op();
  n.pending_[op.token] = {Kind::async_work, req, reinterpret_cast<void*>(cb)};
  return 0;
}

raft_time CanonicalNode::io_time(struct raft_io* io) {
  return static_cast<raft_time>(self(io).now_us_ / kUsPerMs);
}

int CanonicalNode::io_random(struct raft_io* io, int min, int max) {
  return static_cast<int>(self(io).random_.uniform_int(min, max));
}

void CanonicalNode::complete(const Pending& p, int status) {
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
void CanonicalNode::drain() {
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
void CanonicalNode::flush_sends(int status) {
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
bool CanonicalNode::rollback_would_crash(const struct raft_append_entries& a) const {
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
void CanonicalNode::roll_back_configuration() {
  if (!view_.snapshot) fatal("configuration rollback without a snapshot");
  raft_configuration_close(&raft_.configuration);
  to_raft_configuration(view_.snapshot->config, &raft_.configuration);
  raft_.configuration_uncommitted_index = 0;
}

// The library's logTermOf and logGet (log.c) on its in-memory log.
size_t CanonicalNode::log_entries() const {
  const struct raft_log& l = raft_.log;
  return l.back >= l.front ? l.back - l.front : l.size - l.front + l.back;
}

bool CanonicalNode::log_holds(raft_index index) const {
  return index > raft_.log.offset && index <= raft_.log.offset + log_entries();
}

raft_term CanonicalNode::log_term_of(raft_index index) const {
  const struct raft_log& l = raft_.log;
  if (log_holds(index)) return l.entries[(l.front + (index - l.offset - 1)) % l.size].term;
  return index == l.snapshot.last_index ? l.snapshot.last_term : 0;
}

// --- Snapshots ------------------------------------------------------------

struct raft_buffer CanonicalNode::key_buffer(const ::raft::Snapshot& s) {
  struct raft_buffer buf;
  buf.len = 8;
  buf.base = raft_malloc(8);
  if (!buf.base) throw std::bad_alloc();
  put64(static_cast<uint8_t*>(buf.base), snapshot_key(s));
  return buf;
}

void CanonicalNode::fill_snapshot(const ::raft::Snapshot& s, struct raft_snapshot* out) {
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
std::shared_ptr<const ::raft::Snapshot> CanonicalNode::resolve_snapshot(
    const struct raft_snapshot& s) {
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

int CanonicalNode::fsm_apply(struct raft_fsm* fsm, const struct raft_buffer* buf, void** result) {
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

int CanonicalNode::fsm_snapshot(struct raft_fsm* fsm, struct raft_buffer* bufs[],
                                unsigned* n_bufs) {
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

int CanonicalNode::fsm_restore(struct raft_fsm* fsm, struct raft_buffer* buf) {
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

}  // namespace sim::canonical
