// A set of nonzero 64-bit ids in one flat array (open addressing, linear
// probing, backward-shift deletion). It exists for the leader's set of
// unapplied client writes, which gains and loses an id per write: a node-based
// std::unordered_set allocates for each and rehashes as it grows. It is only
// ever queried, never iterated, so its layout cannot leak into a run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

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
  static constexpr uint64_t kEmpty = 0;
  size_t home(uint64_t id) const;
  void grow();

  std::vector<uint64_t> slots_;  // size is zero or a power of two
  size_t size_ = 0;
};

}  // namespace raft
