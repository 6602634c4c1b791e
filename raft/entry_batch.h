// The entries an AppendEntries carries: an immutable run of log entries that
// the messages of one broadcast share. A leader sends the same new entries to
// every follower that is caught up; with a thousand followers, one copy of
// them instead of a thousand allocations and copies, and the followers read
// one buffer that stays in cache. Copying a batch copies a reference.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "raft/types.h"

namespace raft {

class EntryBatch {
 public:
  EntryBatch() = default;
  // A batch of its own: a message built by hand (tests) or translated from
  // another implementation's.
  EntryBatch(std::vector<Entry> entries)  // NOLINT(google-explicit-constructor): reads as a vector
      : size_(entries.size()) {
    if (entries.empty()) return;
    auto buffer = std::make_shared<const std::vector<Entry>>(std::move(entries));
    first_ = std::shared_ptr<const Entry>(buffer, buffer->data());
  }
  // A copy of the entries [first, last) in a buffer of its own.
  EntryBatch(const Entry* first, const Entry* last) : EntryBatch(std::vector<Entry>(first, last)) {}

  // The entries [begin, begin + count) of this batch, sharing its buffer.
  EntryBatch slice(size_t begin, size_t count) const {
    EntryBatch out;
    if (count == 0) return out;
    out.first_ = std::shared_ptr<const Entry>(first_, first_.get() + begin);
    out.size_ = count;
    return out;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Entry* data() const { return first_.get(); }
  const Entry* begin() const { return first_.get(); }
  const Entry* end() const { return first_.get() + size_; }
  const Entry& operator[](size_t i) const { return first_.get()[i]; }
  const Entry& front() const { return *first_; }
  const Entry& back() const { return first_.get()[size_ - 1]; }

 private:
  // Points at the first entry, owning the whole buffer (shared_ptr's
  // aliasing constructor): a slice keeps its buffer alive.
  std::shared_ptr<const Entry> first_;
  size_t size_ = 0;
};

}  // namespace raft
