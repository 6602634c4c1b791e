// A set of 64-bit ids, for the leader's set of unapplied client writes, which
// gains and loses an id per write. Client write ids are handed out in
// increasing order and mostly leave in that order, so the set is a bitmap
// over a window of ids that advances as its oldest members leave: an insert
// or erase touches the word next to the previous one. (A node-based
// std::unordered_set allocated for each id; an open-addressing table
// scattered them, a cache miss each.) Ids below the window, retries of old
// writes, go to a small ordered set. It is only ever queried, never
// iterated, so its layout cannot leak into a run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>

#include "raft/offset_vector.h"

namespace raft {

class IdSet {
 public:
  // Returns false if the id was already present.
  bool insert(uint64_t id);
  // Returns false if the id was not present.
  bool erase(uint64_t id);
  bool contains(uint64_t id) const;
  size_t size() const { return size_; }
  void clear();

 private:
  static constexpr uint64_t kBits = 64;
  bool in_window(uint64_t id) const { return id >= base_ && id - base_ < kBits * words_.size(); }

  // Bit k of words_[w] stands for id base_ + kBits * w + k; words_ never
  // starts with an empty word.
  OffsetVector<uint64_t> words_;
  uint64_t base_ = 0;         // a multiple of kBits
  std::set<uint64_t> below_;  // members below base_
  size_t size_ = 0;
};

}  // namespace raft
