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

Histogram Histogram::minus(const Histogram& earlier) const {
  Histogram d;
  for (int i = 0; i < kBucketCount; ++i) {
    d.counts_[i] = counts_[i] - earlier.counts_[i];
    if (!d.counts_[i]) continue;
    d.count_ += d.counts_[i];
    if (d.min_ == UINT64_MAX) d.min_ = std::max(lowest_of(i), min());
    d.max_ = std::min(lowest_of(i) + width_of(i) - 1, max_);
  }
  d.sum_ = sum_ - earlier.sum_;
  return d;
}

void Histogram::reset() {
  *this = Histogram();
}

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

Histogram Histogram::restore(const Buckets& buckets, std::uint64_t sum, std::uint64_t min,
                             std::uint64_t max) {
  Histogram h;
  for (auto [low, n] : buckets) {
    h.counts_[index_of(std::min(low, (std::uint64_t{1} << kMaxBits) - 1))] += n;
    h.count_ += n;
  }
  h.sum_ = sum;
  if (h.count_) {
    h.min_ = min;
    h.max_ = max;
  }
  return h;
}

}  // namespace msb
