#include "msb/histogram.h"

#include <algorithm>
#include <cmath>

namespace msb {

void Histogram::merge(const Histogram& other) {
  for (int i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::reset() { *this = Histogram(); }

std::uint64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the wanted value, 1-based: the smallest value with at least q of all below.
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::uint64_t mid = lowest_of(i) + (width_of(i) - 1) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> Histogram::buckets() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (int i = 0; i < kBucketCount; ++i) {
    if (counts_[i]) out.emplace_back(lowest_of(i), counts_[i]);
  }
  return out;
}

void Histogram::add_bucket(std::uint64_t low, std::uint64_t count) {
  if (count == 0) return;
  const int i = index_of(std::min(low, (std::uint64_t{1} << kMaxBits) - 1));
  counts_[i] += count;
  count_ += count;
  // The bucket's midpoint stands in for the values' sum; min/max widen to the bucket.
  sum_ += (lowest_of(i) + (width_of(i) - 1) / 2) * count;
  min_ = std::min(min_, lowest_of(i));
  max_ = std::max(max_, lowest_of(i) + width_of(i) - 1);
}

}  // namespace msb
