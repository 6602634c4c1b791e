#include "raft/durability.h"

#include <algorithm>

namespace raft {

void apply_persist(DurableState& disk, PersistOp op) {
  if (op.snapshot) {
    disk.log.install_snapshot(op.snapshot->last_included_index, op.snapshot->last_included_term);
    disk.snapshot = std::move(op.snapshot);
  }
  if (op.compact_index) disk.log.compact_to(op.compact_index, op.compact_term);
  if (op.has_entries) {
    disk.log.truncate_after(op.first_index - 1);
    disk.log.append(std::move(op.entries));
  }
  disk.hard_state = op.hard_state;
}

PersistOp& Durability::pending() {
  if (!op_open_) {
    op_open_ = true;
    op_.token = next_token_++;
  }
  return op_;
}

void Durability::log_dirty(Index from) {
  PersistOp& op = pending();
  op_dirty_from_ = op_dirty_from_ == 0 ? from : std::min(op_dirty_from_, from);
  last_log_token_ = op.token;
  durable_index_ = std::min(durable_index_, from - 1);
}

void Durability::send(Message&& msg, uint64_t after_token, std::vector<Message>& out) {
  // Figure 2: persistent state is "updated on stable storage before
  // responding to RPCs", so every message also waits for the term and vote.
  if (hard_state_token_ > durable_token_) after_token = std::max(after_token, hard_state_token_);
  if (after_token > durable_token_) {
    held_.emplace_back(after_token, std::move(msg));
  } else {
    out.push_back(std::move(msg));
  }
}

void Durability::flush(const HardState& hard_state, const RaftLog& log,
                       std::vector<PersistOp>& out) {
  if (!op_open_) return;
  PersistOp& op = op_;
  op.hard_state = hard_state;
  if (op_dirty_from_ != 0) {
    op.has_entries = true;
    op.first_index = std::max(op_dirty_from_, log.first_index());
    log.copy_to(op.entries, op.first_index, log.last_index());
    const LogWrite write{op.token, log.last_index(), op_dirty_from_};
    log_tokens_.push_back(write);
    if (op_dirty_from_ <= written_index_) rewrites_.push_back(write);
    written_index_ = log.last_index();
  }
  out.push_back(std::exchange(op, PersistOp{}));
  op_open_ = false;
  op_dirty_from_ = 0;
}

void Durability::persisted(uint64_t token, std::vector<Message>& out) {
  durable_token_ = token;
  while (!log_tokens_.empty() && log_tokens_.front().token <= token) {
    durable_index_ = log_tokens_.front().last_index;
    log_tokens_.pop_front();
  }
  // A later write that rewrites the log from some index means the entries
  // from there on are not yet durable in their new form. Such writes are
  // rare (conflicts), so they are kept apart from the many plain appends.
  while (!rewrites_.empty() && rewrites_.front().token <= token) rewrites_.pop_front();
  for (const LogWrite& pending_write : rewrites_) {
    durable_index_ = std::min(durable_index_, pending_write.dirty_from - 1);
  }
  while (!held_.empty() && held_.front().first <= durable_token_) {
    out.push_back(std::move(held_.front().second));
    held_.pop_front();
  }
}

}  // namespace raft
