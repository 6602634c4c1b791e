// A map kept as a vector of (key, value) pairs sorted by key. The leader's
// per-peer progress is looked up on every response: with a thousand voters a
// std::map walk is ten dependent cache misses, a binary search over one array
// is a few. Iteration is in key order, as std::map's, so replacing one with
// the other changes no behaviour. Entries move when others are inserted:
// pointers into it are only valid until the next insertion, and the maps it
// serves are only ever rebuilt whole.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

namespace raft {

template <typename K, typename V>
class FlatMap {
 public:
  using value_type = std::pair<K, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  void clear() { items_.clear(); }

  iterator find(const K& key) { return items_.begin() + offset(position_of(key)); }
  const_iterator find(const K& key) const { return items_.begin() + offset(position_of(key)); }
  size_t count(const K& key) const { return find(key) != end() ? 1 : 0; }

  // Inserts unless the key is present; like std::map::emplace.
  std::pair<iterator, bool> emplace(const K& key, V value) {
    // Maps are mostly built in key order: check the back first.
    const size_t at =
        items_.empty() || items_.back().first < key ? items_.size() : lower_bound(key);
    if (at < items_.size() && items_[at].first == key) return {items_.begin() + offset(at), false};
    return {items_.insert(items_.begin() + offset(at), value_type(key, std::move(value))), true};
  }

 private:
  static std::ptrdiff_t offset(size_t position) { return static_cast<std::ptrdiff_t>(position); }
  static_assert(std::is_integral<K>::value, "keys are ids");

  // The position of key, or size() if absent.
  size_t position_of(const K& key) const {
    if (items_.empty() || key < items_.front().first) return items_.size();
    // Node ids are usually dense (1..n): try where key would be then, and
    // one before, since a leader's progress maps lack its own id (at 1,001
    // voters a binary search per acknowledgement was 4% of a run).
    const size_t guess = static_cast<size_t>(key - items_.front().first);
    if (guess < items_.size() && items_[guess].first == key) return guess;
    if (guess - 1 < items_.size() && items_[guess - 1].first == key) return guess - 1;
    const size_t at = lower_bound(key);
    return at < items_.size() && items_[at].first == key ? at : items_.size();
  }

  // The position of the first item whose key is not less than key.
  size_t lower_bound(const K& key) const {
    auto it = std::lower_bound(items_.begin(), items_.end(), key,
                               [](const value_type& item, const K& k) { return item.first < k; });
    return static_cast<size_t>(it - items_.begin());
  }

  std::vector<value_type> items_;
};

}  // namespace raft
