// A bounded histogram of non-negative integer samples (microseconds), so
// that a long run's latency distribution costs constant memory instead of
// one value per write. Log-linear buckets (as HdrHistogram): values below
// 2^kSubBits are exact; above, each power of two is split into 2^kSubBits
// buckets, so a percentile is within 1/2^kSubBits (0.8%) of the true value.
// The maximum is exact.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace sim {

class Histogram {
 public:
  void add(uint64_t value) {
    ++counts_[bucket(value)];
    ++count_;
    max_ = std::max(max_, value);
  }
  void merge(const Histogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
  }
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  // Nearest-rank percentile (p in [0, 100]), as the middle of its bucket,
  // never above the exact maximum.
  uint64_t percentile(double p) const {
    if (count_ == 0) return 0;
    const double rank_f = std::ceil(p / 100.0 * static_cast<double>(count_));
    const uint64_t rank = rank_f < 1 ? 1 : static_cast<uint64_t>(rank_f);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(max_, middle(i));
    }
    return max_;
  }

 private:
  static constexpr int kSubBits = 7;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static size_t bucket(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    const int top = 63 - __builtin_clzll(v);  // v in [2^top, 2^(top+1))
    const int shift = top - kSubBits;
    return static_cast<size_t>(static_cast<uint64_t>(shift + 1) * kSub + ((v >> shift) - kSub));
  }
  static uint64_t middle(size_t i) {
    if (i < kSub) return i;
    const int shift = static_cast<int>(i / kSub) - 1;
    const uint64_t low = (kSub + i % kSub) << shift;
    return low + ((uint64_t{1} << shift) >> 1);
  }
  std::array<uint64_t, (64 - kSubBits + 1) * kSub> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace sim
