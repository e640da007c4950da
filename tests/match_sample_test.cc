#include "core/match_sample.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/facets.h"

namespace resdex {
namespace {

TEST_CASE("match_sample: the sample keeps about 1 in k documents, evenly along the docids") {
  for (double k : {1.0, 2.0, 3.5, 10.0, 48.8, 1000.0}) {
    CAPTURE(k);
    const uint32_t t = sample_threshold(k);
    const Xapian::docid n = 1000000;
    size_t kept = 0;
    // Every stretch of 20 k consecutive documents holds about 20 of them:
    // no stretch of the corpus (a year, a venue) is left out or crowded.
    const Xapian::docid window = static_cast<Xapian::docid>(20 * k);
    size_t in_window = 0, fewest = SIZE_MAX, most = 0;
    for (Xapian::docid d = 1; d <= n; ++d) {
      const bool in = in_sample(d, t);
      kept += in;
      in_window += in;
      if (d % window == 0) {
        fewest = std::min(fewest, in_window);
        most = std::max(most, in_window);
        in_window = 0;
      }
    }
    CHECK(std::abs(static_cast<double>(kept) - n / k) <= 0.005 * n / k + 1);
    if (k > 1) {
      CHECK(fewest >= 17);
      CHECK(most <= 23);
    }
  }
}

TEST_CASE("match_sample: k of 1 or less keeps every document") {
  for (double k : {0.0, 0.5, 1.0})
    for (Xapian::docid d : {1u, 2u, 77u, 4000000000u}) CHECK(in_sample(d, sample_threshold(k)));
}

TEST_CASE("match_sample: estimates are rounded to two significant digits") {
  CHECK(round_estimate(0) == 0);
  CHECK(round_estimate(-3) == 0);
  CHECK(round_estimate(0.4) == 0);
  CHECK(round_estimate(87.4) == 87);
  CHECK(round_estimate(99.6) == 100);
  CHECK(round_estimate(123) == 120);
  CHECK(round_estimate(18856) == 19000);
  CHECK(round_estimate(48808.3) == 49000);
  CHECK(round_estimate(1049999) == 1000000);
}

}  // namespace
}  // namespace resdex
