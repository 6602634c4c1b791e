#include "raft/id_set.h"

#include <algorithm>

namespace raft {

bool IdSet::contains(uint64_t id) const {
  if (in_window(id)) return (words_[(id - base_) / kBits] >> ((id - base_) % kBits)) & 1;
  return id < base_ && below_.count(id) != 0;
}

bool IdSet::insert(uint64_t id) {
  // The window only moves up, so every id in below_ stays below it.
  if (words_.empty()) base_ = std::max(base_, id - id % kBits);
  if (id < base_) {
    if (!below_.insert(id).second) return false;
    ++size_;
    return true;
  }
  const uint64_t word = (id - base_) / kBits;
  while (words_.size() <= word) words_.push_back(0);
  const uint64_t bit = uint64_t{1} << ((id - base_) % kBits);
  if (words_[word] & bit) return false;
  words_[word] |= bit;
  ++size_;
  return true;
}

bool IdSet::erase(uint64_t id) {
  if (!in_window(id)) {
    if (id >= base_ || below_.erase(id) == 0) return false;
    --size_;
    return true;
  }
  const uint64_t word = (id - base_) / kBits;
  const uint64_t bit = uint64_t{1} << ((id - base_) % kBits);
  if (!(words_[word] & bit)) return false;
  words_[word] &= ~bit;
  --size_;
  // Advance the window past its empty front.
  size_t empty = 0;
  while (empty < words_.size() && words_[empty] == 0) ++empty;
  words_.drop_front(empty);
  base_ += kBits * empty;
  return true;
}

void IdSet::clear() {
  words_.clear();
  base_ = 0;
  below_.clear();
  size_ = 0;
}

}  // namespace raft
