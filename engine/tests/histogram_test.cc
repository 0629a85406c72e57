#include "msb/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace msb {
namespace {

TEST(Histogram, BucketLayoutIsContiguous) {
  for (int i = 0; i + 1 < Histogram::kBucketCount; ++i) {
    ASSERT_EQ(Histogram::lowest_of(i) + Histogram::width_of(i), Histogram::lowest_of(i + 1));
    ASSERT_EQ(Histogram::index_of(Histogram::lowest_of(i)), i);
  }
}

TEST(Histogram, QuantilesWithinOnePercentOfExact) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(8.0, 1.5);  // ns-scale latencies with a long tail
  std::vector<std::uint64_t> values;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng)) + 1;
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
    const auto rank =
        std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(q * values.size())));
    const double exact = double(values[rank - 1]);
    const double got = double(h.quantile(q));
    EXPECT_LE(std::fabs(got - exact) / exact, 0.01) << "q=" << q;
  }
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.max(), values.back());
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (std::uint64_t v = 1; v < 100000; v += 7) {
    (v % 3 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.sum(), all.sum());
  EXPECT_EQ(a.buckets(), all.buckets());
  EXPECT_EQ(a.quantile(0.99), all.quantile(0.99));
}

TEST(Histogram, MinusGivesWhatWasRecordedSince) {
  Histogram h, later_only;
  for (std::uint64_t v = 1; v < 5000; v += 3) h.record(v);
  const Histogram before = h;
  for (std::uint64_t v = 10000; v < 20000; v += 7) {
    h.record(v);
    later_only.record(v);
  }
  const Histogram d = h.minus(before);
  EXPECT_EQ(d.count(), later_only.count());
  EXPECT_EQ(d.sum(), later_only.sum());
  EXPECT_EQ(d.buckets(), later_only.buckets());
  EXPECT_EQ(d.quantile(0.5), later_only.quantile(0.5));
  EXPECT_EQ(h.minus(h).count(), 0u);
}

TEST(Histogram, RestoreRoundTripsExactly) {
  Histogram h;
  for (std::uint64_t v : {1, 5, 130, 1000, 123456, 99999999}) h.record(v);
  const Histogram copy = Histogram::restore(h.buckets(), h.sum(), h.min(), h.max());
  EXPECT_EQ(copy.buckets(), h.buckets());
  EXPECT_EQ(copy.count(), h.count());
  EXPECT_EQ(copy.sum(), h.sum());
  EXPECT_EQ(copy.min(), h.min());
  EXPECT_EQ(copy.max(), h.max());
  EXPECT_EQ(copy.quantile(0.5), h.quantile(0.5));
  EXPECT_EQ(Histogram::restore({}, 0, 0, 0).count(), 0u);
}

TEST(Histogram, HugeValuesClampInsteadOfOverflowing) {
  Histogram h;
  h.record(UINT64_MAX);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max(), (std::uint64_t{1} << Histogram::kMaxBits) - 1);
  EXPECT_EQ(Histogram().quantile(0.5), 0u);
}

}  // namespace
}  // namespace msb
