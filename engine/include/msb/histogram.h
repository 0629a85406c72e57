// A log-linear histogram of non-negative integers (HDR style).
//
// Each power of two is split into 128 equal sub-buckets, so any recorded value is known to
// within 1/128 (< 1%) of itself; values below 128 are exact. Histograms with the same layout
// merge exactly by adding counts, which is how results from several workers combine.
// Recording is a few instructions and never allocates.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace msb {

class Histogram {
 public:
  static constexpr int kSubBits = 7;  // 128 sub-buckets per octave: <= 0.79% relative error
  static constexpr int kSubCount = 1 << kSubBits;
  static constexpr int kMaxBits = 44;  // values up to 2^44 (in ns: ~4.9 hours); larger clamp
  static constexpr int kBucketCount = (kMaxBits - kSubBits + 1) * kSubCount;

  void record(std::uint64_t value) {
    if (value >= (std::uint64_t{1} << kMaxBits)) value = (std::uint64_t{1} << kMaxBits) - 1;
    ++counts_[index_of(value)];
    ++count_;
    sum_ += value;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }

  // Adds every count of `other` into this one (exact).
  void merge(const Histogram& other);
  // What was recorded since `earlier`, a copy of this histogram taken before. Min and max
  // become the bounds of the lowest and highest non-empty buckets.
  Histogram minus(const Histogram& earlier) const;
  void reset();

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  std::uint64_t sum() const { return sum_; }

  // The value at quantile q in [0, 1] (0.5 = median), as the midpoint of its bucket clamped
  // to [min, max]; 0 when empty.
  std::uint64_t quantile(double q) const;

  using Buckets = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
  // Non-empty buckets as (lowest value of the bucket, count), for serialising.
  Buckets buckets() const;
  // Rebuilds a histogram written as buckets() with its exact sum, min and max, so that a
  // histogram read back from a results file merges exactly.
  static Histogram restore(const Buckets& buckets, std::uint64_t sum, std::uint64_t min,
                           std::uint64_t max);

  bool operator==(const Histogram& other) const = default;

  static int index_of(std::uint64_t v) {
    if (v < kSubCount) return static_cast<int>(v);
    const int msb = 63 - __builtin_clzll(v);
    const int shift = msb - kSubBits;
    return (shift + 1) * kSubCount + static_cast<int>((v >> shift) - kSubCount);
  }
  static std::uint64_t lowest_of(int index) {
    if (index < kSubCount) return static_cast<std::uint64_t>(index);
    const int shift = index / kSubCount - 1;
    return static_cast<std::uint64_t>(kSubCount + index % kSubCount) << shift;
  }
  static std::uint64_t width_of(int index) {
    return index < kSubCount ? 1 : std::uint64_t{1} << (index / kSubCount - 1);
  }

 private:
  std::array<std::uint64_t, kBucketCount> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace msb
