// A sequence that grows at the back and is trimmed at the front, with
// indexing as cheap as a vector's. Logs and the checker's per-index windows
// are used this way: std::deque does the same with a division per index
// (its block size is rarely a power of two for these element sizes) and
// showed up as such in profiles.
//
// Elements dropped from the front stay in place until they make up half of
// the storage, then the rest moves down once: each element moves at most once
// per trim of its own size, and storage never exceeds twice the live size
// (plus one batch).
//
// It also serves as a FIFO queue (push_back, front, pop_front): unlike a
// std::deque it allocates nothing when constructed, its object is 32 bytes
// instead of 80, and a queue that keeps emptying reuses one buffer instead of
// allocating a block every few elements. A node holds several such queues
// that rarely hold more than a couple of elements.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace raft {

// The part of std::vector that OffsetVector uses, for trivially copyable
// elements, grown with std::realloc. A large buffer then moves by having its
// pages remapped (glibc's realloc of an mmap'd block is mremap), not by
// copying them into fresh ones: a log that doubles its way up to 100,000
// entries touches its memory once instead of about twice, and page faults
// were half of a 100,000-write replication run.
template <typename T>
class PodVector {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  using const_iterator = const T*;
  PodVector() = default;
  PodVector(const PodVector&) = delete;
  PodVector& operator=(const PodVector&) = delete;
  PodVector(PodVector&& other) noexcept { swap(other); }
  PodVector& operator=(PodVector&& other) noexcept {
    PodVector(std::move(other)).swap(*this);
    return *this;
  }
  ~PodVector() { std::free(data_); }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }
  const T& back() const { return data_[size_ - 1]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

  void reserve(size_t n) {
    if (n <= capacity_) return;
    void* grown = std::realloc(data_, n * sizeof(T));
    if (!grown) throw std::bad_alloc();
    data_ = static_cast<T*>(grown);
    capacity_ = n;
  }
  void push_back(const T& item) { emplace_back(item); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == capacity_) reserve(std::max<size_t>(2 * capacity_, kFirstCapacity));
    return *::new (data_ + size_++) T(std::forward<Args>(args)...);
  }
  // Inserts at the end only (pos == end()).
  template <typename It>
  void insert(const T* pos, It first, It last) {
    assert(pos == end());
    (void)pos;
    const auto n = static_cast<size_t>(std::distance(first, last));
    if (size_ + n > capacity_) reserve(std::max(size_ + n, 2 * capacity_));
    std::copy(first, last, data_ + size_);
    size_ += n;
  }
  void erase(const T* first, const T* last) {
    const auto from = static_cast<size_t>(first - data_), to = static_cast<size_t>(last - data_);
    if (to < size_) std::memmove(data_ + from, data_ + to, (size_ - to) * sizeof(T));
    size_ -= to - from;
  }
  // Moves every element n places up, making room for n at the front.
  void shift_up(size_t n) {
    if (size_ + n > capacity_) reserve(std::max(size_ + n, 2 * capacity_));
    std::memmove(data_ + n, data_, size_ * sizeof(T));
    size_ += n;
  }
  void clear() { size_ = 0; }
  void swap(PodVector& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

 private:
  static constexpr size_t kFirstCapacity = 4;
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

template <typename T>
class OffsetVector {
 public:
  OffsetVector() = default;
  // A copy holds only the live elements, with room for a batch more: a
  // restarted node copies its durable log and appends to it at once, which
  // would otherwise copy the whole log a second time to grow it.
  OffsetVector(const OffsetVector& other) { copy_from(other); }
  OffsetVector& operator=(const OffsetVector& other) {
    if (this != &other) {
      clear();
      copy_from(other);
    }
    return *this;
  }
  OffsetVector(OffsetVector&&) noexcept = default;
  OffsetVector& operator=(OffsetVector&&) noexcept = default;

  size_t size() const { return items_.size() - head_; }
  bool empty() const { return items_.size() == head_; }
  T& operator[](size_t i) { return items_[head_ + i]; }
  const T& operator[](size_t i) const { return items_[head_ + i]; }
  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  T& back() { return items_.back(); }
  const T& back() const { return items_.back(); }
  using Storage = std::conditional_t<std::is_trivially_copyable_v<T>, PodVector<T>, std::vector<T>>;
  using const_iterator = typename Storage::const_iterator;
  const_iterator begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  const_iterator end() const { return items_.end(); }

  void push_back(T item) { items_.push_back(std::move(item)); }
  // Makes room for `more` elements at once when a batch of that many is
  // about to be pushed (growth stays geometric): a vector that doubles its
  // way up to 100,000 elements touches twice their memory in fresh pages,
  // and page faults were half of a 100,000-write replication run.
  void reserve_for(size_t more) {
    const size_t needed = items_.size() + more;
    if (needed > items_.capacity()) items_.reserve(std::max(needed, 2 * items_.capacity()));
  }
  void append(const T* first, const T* last) { items_.insert(items_.end(), first, last); }
  // Appends `more`, taking its storage when it holds more elements than
  // this one (which then go in front of them): a disk log that receives a
  // batch larger than itself (a leader's first 100,000 client writes)
  // copies it once, into the write, instead of twice.
  void append(OffsetVector&& more) {
    if constexpr (std::is_same_v<Storage, PodVector<T>>) {
      if (more.size() > size()) {
        more.prepend(begin(), end());
        swap(more);
        return;
      }
    }
    items_.insert(
        items_.end(),
        std::make_move_iterator(more.items_.begin() + static_cast<std::ptrdiff_t>(more.head_)),
        std::make_move_iterator(more.items_.end()));
  }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    return items_.emplace_back(std::forward<Args>(args)...);
  }
  // Removes the first element. Used as a queue, the live elements move to the
  // front as soon as the removed ones outnumber them (a move per removal at
  // most, amortised): a queue of a few elements keeps reusing the same cache
  // lines instead of walking through a buffer that grows to kMinCompaction.
  void pop_front() {
    ++head_;
    if (head_ == items_.size()) {
      clear();
    } else if (2 * head_ >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  // Removes the first n elements (n <= size()).
  void drop_front(size_t n) {
    head_ += n;
    if (head_ == items_.size()) {
      clear();
    } else if (head_ >= kMinCompaction && 2 * head_ >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  // Keeps the first n elements (n <= size()).
  void truncate(size_t n) {
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(head_ + n), items_.end());
  }
  void clear() {
    items_.clear();
    head_ = 0;
  }
  void swap(OffsetVector& other) noexcept {
    items_.swap(other.items_);
    std::swap(head_, other.head_);
  }

 private:
  // Puts [first, last), elements of another vector, in front of the live
  // ones: into the dead head if it has room, else after moving them up.
  void prepend(const T* first, const T* last) {
    const auto n = static_cast<size_t>(last - first);
    if (head_ < n) {
      items_.shift_up(n - head_);
      head_ = n;
    }
    head_ -= n;
    std::copy(first, last, items_.begin() + static_cast<std::ptrdiff_t>(head_));
  }
  void copy_from(const OffsetVector& other) {
    items_.reserve(other.size() + kCopyRoom);
    items_.insert(items_.end(), other.begin(), other.end());
  }

  static constexpr size_t kMinCompaction = 64;
  static constexpr size_t kCopyRoom = 16;
  Storage items_;
  size_t head_ = 0;
};

}  // namespace raft
