#include "raft/log.h"

namespace raft {

std::optional<Term> RaftLog::term_at(Index index) const {
  if (index == last_index()) return last_term_;
  if (index == snapshot_index_) return snapshot_term_;
  if (index < snapshot_index_ || index > last_index()) return std::nullopt;
  return at(index).term;
}

void RaftLog::truncate_after(Index index) {
  if (index < snapshot_index_) index = snapshot_index_;
  if (index >= last_index()) return;
  ++generation_;
  entries_.truncate(index - snapshot_index_);
  last_term_ = entries_.empty() ? snapshot_term_ : entries_.back().term;
}

void RaftLog::compact_to(Index index, Term term) {
  if (index <= snapshot_index_) return;
  const Index drop = std::min<Index>(index - snapshot_index_, entries_.size());
  entries_.drop_front(drop);
  snapshot_index_ = index;
  snapshot_term_ = term;
  if (entries_.empty()) last_term_ = term;
}

void RaftLog::install_snapshot(Index index, Term term) {
  if (index <= snapshot_index_ || term_at(index) == term) return;
  ++generation_;
  entries_.clear();
  snapshot_index_ = index;
  snapshot_term_ = term;
  last_term_ = term;
}

std::optional<Index> RaftLog::last_index_of_term(Term term) const {
  for (Index i = last_index(); i >= first_index(); --i) {
    const Term t = at(i).term;
    if (t == term) return i;
    if (t < term) break;  // terms only grow along the log
  }
  if (snapshot_term_ == term) return snapshot_index_;
  return std::nullopt;
}

Index RaftLog::first_index_of_term_at(Index index) const {
  const Term term = *term_at(index);
  Index i = index;
  while (i > first_index() && at(i - 1).term == term) --i;
  return i;
}

}  // namespace raft
