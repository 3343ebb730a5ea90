#include <chrono>
#include <limits>
#include <ostream>

#include <gtest/gtest.h>

#include "common/redis/redis_client.hpp"

namespace switchyard::redis {
namespace {

using std::chrono::milliseconds;

struct BackoffCase {
  int attempt;
  double jitter;
  milliseconds expected;
};

void PrintTo(const BackoffCase& c, std::ostream* out) {
  *out << "attempt " << c.attempt << " jitter " << c.jitter;
}

class RedisReconnectBackoffTest : public ::testing::TestWithParam<BackoffCase> {};

// initial 50 ms, max 2000 ms: the base doubles per attempt up to the cap, then the jitter scales
// it into [base/2, base].
TEST_P(RedisReconnectBackoffTest, DoublesFromInitialToMaxWithEqualJitter) {
  const BackoffCase& c = GetParam();
  EXPECT_EQ(ReconnectBackoff(c.attempt, milliseconds(50), milliseconds(2000), c.jitter),
            c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RedisReconnectBackoffTest,
    ::testing::Values(BackoffCase{0, 1.0, milliseconds(50)},       //
                      BackoffCase{0, 0.0, milliseconds(25)},       //
                      BackoffCase{0, 0.5, milliseconds(38)},       // 37.5 rounds up
                      BackoffCase{1, 1.0, milliseconds(100)},      //
                      BackoffCase{2, 1.0, milliseconds(200)},      //
                      BackoffCase{5, 1.0, milliseconds(1600)},     //
                      BackoffCase{6, 1.0, milliseconds(2000)},     // 3200 capped
                      BackoffCase{6, 0.0, milliseconds(1000)},     //
                      BackoffCase{1000, 1.0, milliseconds(2000)},  // no overflow
                      BackoffCase{std::numeric_limits<int>::max(), 0.0, milliseconds(1000)},
                      BackoffCase{3, 7.0, milliseconds(400)},   // jitter clamped to 1
                      BackoffCase{3, -1.0, milliseconds(200)},  // jitter clamped to 0
                      BackoffCase{3, std::numeric_limits<double>::quiet_NaN(), milliseconds(200)}));

TEST(RedisReconnectBackoffTest, InitialAboveMaxIsCappedAtMax) {
  EXPECT_EQ(ReconnectBackoff(0, milliseconds(5000), milliseconds(2000), 1.0), milliseconds(2000));
}

TEST(RedisReconnectBackoffTest, NeverReturnsZero) {
  EXPECT_EQ(ReconnectBackoff(0, milliseconds(0), milliseconds(0), 0.0), milliseconds(1));
}

TEST(RedisReconnectBackoffTest, StaysWithinHalfBaseAndBaseForAnyJitter) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    const milliseconds high = ReconnectBackoff(attempt, milliseconds(50), milliseconds(2000), 1.0);
    for (double jitter = 0.0; jitter <= 1.0; jitter += 0.125) {
      const milliseconds delay =
          ReconnectBackoff(attempt, milliseconds(50), milliseconds(2000), jitter);
      EXPECT_LE(delay, high) << "attempt " << attempt << " jitter " << jitter;
      EXPECT_GE(delay * 2, high) << "attempt " << attempt << " jitter " << jitter;
    }
  }
}

}  // namespace
}  // namespace switchyard::redis
