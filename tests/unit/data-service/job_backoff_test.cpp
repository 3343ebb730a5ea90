// RetryDelay: exponential, capped, with jitter in a known range.

#include "data-service/job_backoff.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace switchyard::data {
namespace {

using std::chrono::milliseconds;

TEST(JobBackoffTest, DoublesPerAttemptFromTheBase) {
  const milliseconds base(100);
  const milliseconds max(60000);
  EXPECT_EQ(RetryDelay(1, base, max, 0.0), milliseconds(100));
  EXPECT_EQ(RetryDelay(2, base, max, 0.0), milliseconds(200));
  EXPECT_EQ(RetryDelay(3, base, max, 0.0), milliseconds(400));
  EXPECT_EQ(RetryDelay(8, base, max, 0.0), milliseconds(12800));
}

TEST(JobBackoffTest, JitterAddsUpToAQuarterAndNeverGoesBelowTheNominalDelay) {
  const milliseconds base(1000);
  const milliseconds max(60000);
  for (int attempt = 1; attempt <= 5; ++attempt) {
    const milliseconds nominal = base * (1 << (attempt - 1));
    for (const double jitter : {0.0, 0.1, 0.5, 0.99, 1.0}) {
      const milliseconds delay = RetryDelay(attempt, base, max, jitter);
      EXPECT_GE(delay, nominal) << attempt << " " << jitter;
      EXPECT_LE(delay, nominal + nominal / 4) << attempt << " " << jitter;
    }
    EXPECT_EQ(RetryDelay(attempt, base, max, 1.0), nominal + nominal / 4);
    EXPECT_LT(RetryDelay(attempt, base, max, 0.2), RetryDelay(attempt, base, max, 0.8));
  }
}

TEST(JobBackoffTest, NeverExceedsTheCapAndStillSpreadsThere) {
  const milliseconds base(1000);
  const milliseconds max(10000);
  for (int attempt = 1; attempt <= 40; ++attempt) {
    for (const double jitter : {0.0, 0.5, 1.0}) {
      EXPECT_LE(RetryDelay(attempt, base, max, jitter), max) << attempt;
    }
  }
  // At the cap the delay spreads over [0.8 max, max].
  EXPECT_EQ(RetryDelay(20, base, max, 0.0), milliseconds(8000));
  EXPECT_EQ(RetryDelay(20, base, max, 1.0), max);
  // Nominal 8000 (attempt 4) is not capped but its jitter is: [8000, 10000].
  EXPECT_EQ(RetryDelay(4, base, max, 0.0), milliseconds(8000));
  EXPECT_EQ(RetryDelay(4, base, max, 1.0), max);
}

TEST(JobBackoffTest, GrowsMonotonicallyForAFixedJitter) {
  const milliseconds base(50);
  const milliseconds max(5000);
  for (const double jitter : {0.0, 0.5, 1.0}) {
    milliseconds previous(0);
    for (int attempt = 1; attempt <= 20; ++attempt) {
      const milliseconds delay = RetryDelay(attempt, base, max, jitter);
      EXPECT_GE(delay, previous) << attempt << " " << jitter;
      previous = delay;
    }
  }
}

TEST(JobBackoffTest, OutOfRangeInputsAreClamped) {
  EXPECT_EQ(RetryDelay(1, milliseconds(100), milliseconds(1000), -3.0), milliseconds(100));
  EXPECT_EQ(RetryDelay(1, milliseconds(100), milliseconds(1000), 7.0), milliseconds(125));
  EXPECT_EQ(RetryDelay(1, milliseconds(100), milliseconds(1000), std::nan("")), milliseconds(100));
  EXPECT_GE(RetryDelay(0, milliseconds(0), milliseconds(0), 0.5), milliseconds(1));
  // A cap below the base caps the base too.
  EXPECT_LE(RetryDelay(1, milliseconds(500), milliseconds(200), 1.0), milliseconds(200));
}

}  // namespace
}  // namespace switchyard::data
