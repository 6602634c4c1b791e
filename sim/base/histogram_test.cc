#include "sim/base/histogram.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "sim/base/prng.h"

using sim::Histogram;

TEST_CASE("histogram: small values are exact, the maximum is exact") {
  Histogram h;
  for (uint64_t v : {5u, 1u, 9u, 3u, 7u}) h.add(v);
  CHECK(h.count() == 5);
  CHECK(h.percentile(50) == 5);
  CHECK(h.percentile(100) == 9);
  CHECK(h.max() == 9);
  CHECK(Histogram().percentile(50) == 0);
}

TEST_CASE("histogram: percentiles within 1% of the exact nearest rank") {
  sim::Prng rng(7);
  Histogram h;
  std::vector<uint64_t> values;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t v = static_cast<uint64_t>(rng.uniform_int(0, 5'000'000));
    values.push_back(v);
    h.add(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {1.0, 50.0, 90.0, 99.0}) {
    const uint64_t exact =
        values[static_cast<size_t>(p / 100.0 * static_cast<double>(values.size())) - 1];
    const double got = static_cast<double>(h.percentile(p));
    CHECK(got == doctest::Approx(static_cast<double>(exact)).epsilon(0.01));
  }
  CHECK(h.max() == values.back());
}

TEST_CASE("histogram: merging equals adding everything to one") {
  Histogram a, b, all;
  for (uint64_t v = 0; v < 1000; v += 3) {
    (v % 2 ? a : b).add(v * 1000);
    all.add(v * 1000);
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.max() == all.max());
  CHECK(a.percentile(50) == all.percentile(50));
  CHECK(a.percentile(99) == all.percentile(99));
}
