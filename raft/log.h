// A node's log: entries after the last snapshot (Figure 2's log[], with the
// prefix up to snapshot_index compacted away, paper §7).
#pragma once

#include <optional>
#include <vector>

#include "raft/offset_vector.h"
#include "raft/types.h"

namespace raft {

class RaftLog {
 public:
  Index snapshot_index() const { return snapshot_index_; }
  Term snapshot_term() const { return snapshot_term_; }
  Index first_index() const { return snapshot_index_ + 1; }
  Index last_index() const { return snapshot_index_ + entries_.size(); }
  Term last_term() const { return last_term_; }
  size_t size() const { return entries_.size(); }

  // Term of the entry at index, for snapshot_index() <= index <= last_index().
  std::optional<Term> term_at(Index index) const;
  // The entry at index, for first_index() <= index <= last_index().
  const Entry& at(Index index) const { return entries_[index - first_index()]; }

  void append(const Entry& entry) {
    entries_.push_back(entry);
    last_term_ = entry.term;
  }
  // Room for `more` appends to come (a batch of client writes).
  void reserve_for(size_t more) { entries_.reserve_for(more); }
  // Appends [first, last) (entries of a message, say) in one copy.
  void append(const Entry* first, const Entry* last) {
    if (first == last) return;
    last_term_ = (last - 1)->term;
    entries_.append(first, last);
  }
  // Copies the entries from..to onto the end of `out`: a durable write's.
  void copy_to(OffsetVector<Entry>& out, Index from, Index to) const {
    if (from > to) return;
    const Entry* begin = &at(from);
    out.append(begin, begin + (to - from + 1));
  }
  void append(OffsetVector<Entry>&& entries) {
    if (entries.empty()) return;
    last_term_ = entries.back().term;
    entries_.append(std::move(entries));
  }
  // Overwrites one entry in place (only the no_truncate_on_conflict planted bug does this).
  void replace(Index index, const Entry& entry) {
    ++generation_;
    entries_[index - first_index()] = entry;
    if (index == last_index()) last_term_ = entry.term;
  }
  // Keeps entries up to and including index.
  void truncate_after(Index index);
  // Drops entries up to and including index, which a snapshot now covers.
  void compact_to(Index index, Term term);
  // Adopts a snapshot: keeps the log only if it holds the snapshot's last
  // entry (paper §7: "If existing log entry has same index and term as
  // snapshot's last included entry, retain log entries following it"),
  // otherwise discards it all. Compaction is a separate step (compact_to).
  void install_snapshot(Index index, Term term);

  // Changes whenever an entry the log held is replaced or dropped from its
  // end (truncation, a snapshot that discards the log); appends and
  // compaction leave it. Equal generations: every entry the log held at the
  // first reading and still holds is unchanged.
  uint64_t generation() const { return generation_; }

  // Last index of an entry with this term, or nullopt (fast backtracking).
  std::optional<Index> last_index_of_term(Term term) const;
  // First index of the run of entries with the term of the entry at index.
  Index first_index_of_term_at(Index index) const;

 private:
  Index snapshot_index_ = 0;
  Term snapshot_term_ = 0;
  OffsetVector<Entry> entries_;
  // The term of the last entry (or of the snapshot when there is none), kept
  // here because nearly every AppendEntries, heartbeats included, checks
  // prevLogIndex = the last index: in a large cluster the entries themselves
  // are rarely still in cache when a node's next message arrives.
  Term last_term_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace raft
