#include "raft/id_set.h"

#include "raft/types.h"

namespace raft {

size_t IdSet::home(uint64_t id) const {
  return static_cast<size_t>(mix64(id)) & (slots_.size() - 1);
}

bool IdSet::contains(uint64_t id) const {
  if (slots_.empty()) return false;
  for (size_t i = home(id);; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i] == id) return true;
    if (slots_[i] == kEmpty) return false;
  }
}

bool IdSet::insert(uint64_t id) {
  // Keep the load at most 1/2 so probe runs stay short.
  if (2 * (size_ + 1) > slots_.size()) grow();
  size_t i = home(id);
  for (; slots_[i] != kEmpty; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i] == id) return false;
  }
  slots_[i] = id;
  ++size_;
  return true;
}

bool IdSet::erase(uint64_t id) {
  if (slots_.empty()) return false;
  const size_t mask = slots_.size() - 1;
  size_t i = home(id);
  for (; slots_[i] != id; i = (i + 1) & mask) {
    if (slots_[i] == kEmpty) return false;
  }
  // Backward shift: move later members of the probe run into the hole when
  // their home position allows it, so lookups never need tombstones.
  for (size_t j = (i + 1) & mask; slots_[j] != kEmpty; j = (j + 1) & mask) {
    const size_t h = home(slots_[j]);
    // Movable iff h is not cyclically within (i, j].
    const bool in_between = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (!in_between) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = kEmpty;
  --size_;
  return true;
}

void IdSet::clear() {
  slots_.clear();
  size_ = 0;
}

void IdSet::grow() {
  std::vector<uint64_t> old;
  old.swap(slots_);
  slots_.assign(old.empty() ? 16 : 2 * old.size(), kEmpty);
  size_ = 0;
  for (uint64_t id : old) {
    if (id != kEmpty) insert(id);
  }
}

}  // namespace raft
