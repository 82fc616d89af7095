#include "gist/retry_backoff.hpp"

#include <gtest/gtest.h>

namespace gist {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

UnitRandom fixed(double r) {
    return [r] { return r; };
}

const RetryPolicy policy{milliseconds(1000), milliseconds(30000), milliseconds(0),
                         milliseconds(600000)};

TEST(RetryBackoff, WindowDoublesPerAttempt) {
    const double almost_one = 0.999999999;
    EXPECT_EQ(retry_delay(policy, 1, fixed(almost_one)), milliseconds(1000));
    EXPECT_EQ(retry_delay(policy, 2, fixed(almost_one)), milliseconds(2000));
    EXPECT_EQ(retry_delay(policy, 3, fixed(almost_one)), milliseconds(4000));
    EXPECT_EQ(retry_delay(policy, 5, fixed(almost_one)), milliseconds(16000));
}

TEST(RetryBackoff, WindowIsCapped) {
    EXPECT_EQ(retry_delay(policy, 6, fixed(0.999999999)), milliseconds(30000));
    EXPECT_EQ(retry_delay(policy, 1000, fixed(0.999999999)), milliseconds(30000));
    EXPECT_EQ(retry_delay(policy, 4000000000U, fixed(0.5)), milliseconds(15000));
}

TEST(RetryBackoff, FullJitterSpansTheWindow) {
    EXPECT_EQ(retry_delay(policy, 3, fixed(0.0)), milliseconds(0));
    EXPECT_EQ(retry_delay(policy, 3, fixed(0.5)), milliseconds(2000));
    EXPECT_EQ(retry_delay(policy, 0, fixed(0.5)), milliseconds(500));  // 0 counts as 1
}

TEST(RetryBackoff, HugeServerWaitsStopAtTheServerCapWithoutOverflow) {
    // 10^17 s is 10^20 ms: more than int64 milliseconds hold.
    EXPECT_EQ(retry_delay(policy, 1, fixed(0.0), seconds(100'000'000'000'000'000)), milliseconds(600000));
    EXPECT_EQ(retry_delay(policy, 1, fixed(0.0), seconds::max()), milliseconds(600000));
    EXPECT_EQ(retry_delay(policy, 1, fixed(0.0), seconds(599)), milliseconds(599000));
}

TEST(RetryBackoff, BoundsHoldForManyDraws) {
    const UnitRandom random = default_unit_random();
    for (unsigned attempt = 1; attempt < 40; ++attempt) {
        for (int i = 0; i < 50; ++i) {
            const milliseconds d = retry_delay(policy, attempt, random);
            EXPECT_GE(d, milliseconds(0));
            EXPECT_LE(d, std::min(milliseconds(1000LL << std::min(attempt - 1, 20U)),
                                  milliseconds(30000)));
        }
    }
}

TEST(RetryBackoff, OutOfRangeRandomIsClamped) {
    EXPECT_EQ(retry_delay(policy, 2, fixed(-3.0)), milliseconds(0));
    EXPECT_EQ(retry_delay(policy, 2, fixed(7.0)), milliseconds(2000));
    EXPECT_EQ(retry_delay(policy, 2, UnitRandom{}), milliseconds(0));
}

TEST(RetryBackoff, FloorRaisesShortDelays) {
    RetryPolicy p = policy;
    p.floor = milliseconds(1500);
    EXPECT_EQ(retry_delay(p, 1, fixed(0.1)), milliseconds(1500));
    EXPECT_EQ(retry_delay(p, 4, fixed(0.5)), milliseconds(4000));
}

TEST(RetryBackoff, ServerWaitWinsWithSmallJitter) {
    EXPECT_EQ(retry_delay(policy, 1, fixed(0.0), seconds(7)), milliseconds(7000));
    EXPECT_EQ(retry_delay(policy, 9, fixed(0.5), seconds(7)), milliseconds(7500));
    const milliseconds d = retry_delay(policy, 1, fixed(0.999999999), seconds(45));
    EXPECT_GE(d, milliseconds(45000));  // over the backoff cap: the server knows best
    EXPECT_LE(d, milliseconds(46000));
}

TEST(RetryBackoff, ServerWaitIsCapped) {
    EXPECT_EQ(retry_delay(policy, 1, fixed(0.0), seconds(86400)), milliseconds(600000));
}

}  // namespace
}  // namespace gist
