#include "gist/rfc3339.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace gist {
namespace {

using namespace std::chrono;

system_clock::time_point at(std::int64_t epoch_seconds) {
    return system_clock::time_point(seconds(epoch_seconds));
}

TEST(FormatRfc3339, KnownInstants) {
    EXPECT_EQ(format_rfc3339(at(0)), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(at(1'800'000'000)), "2027-01-15T08:00:00Z");
    EXPECT_EQ(format_rfc3339(at(951'782'400)), "2000-02-29T00:00:00Z");  // leap day
    EXPECT_EQ(format_rfc3339(at(-1)), "1969-12-31T23:59:59Z");
}

TEST(FormatRfc3339, DropsSubSecondsByFlooring) {
    EXPECT_EQ(format_rfc3339(at(10) + milliseconds(999)), "1970-01-01T00:00:10Z");
    EXPECT_EQ(format_rfc3339(at(0) - milliseconds(1)), "1969-12-31T23:59:59Z");
}

TEST(ParseRfc3339, Zulu) {
    EXPECT_EQ(parse_rfc3339("2026-11-23T20:20:44Z"), at(1'795'465'244));
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), at(0));
    EXPECT_EQ(parse_rfc3339("2026-11-23t20:20:44z"), at(1'795'465'244));
}

TEST(ParseRfc3339, Offsets) {
    EXPECT_EQ(parse_rfc3339("2026-11-23T20:20:44+00:00"), at(1'795'465'244));
    EXPECT_EQ(parse_rfc3339("2026-11-23T22:20:44+02:00"), at(1'795'465'244));
    EXPECT_EQ(parse_rfc3339("2026-11-23T15:05:44-05:15"), at(1'795'465'244));
    EXPECT_EQ(parse_rfc3339("2026-11-23T20:20:44-00:00"), at(1'795'465'244));
}

TEST(ParseRfc3339, FractionalSeconds) {
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01.5Z"), at(1) + milliseconds(500));
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01.123456Z"), at(1) + microseconds(123456));
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01.000000000999Z"), at(1));  // beyond ns ignored
    EXPECT_EQ(parse_rfc3339("1970-01-01T02:00:01.25+02:00"), at(1) + milliseconds(250));
}

TEST(ParseRfc3339, LeapYearRules) {
    EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z"));
    EXPECT_TRUE(parse_rfc3339("2000-02-29T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2023-02-29T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2100-02-29T00:00:00Z"));
}

TEST(ParseRfc3339, LeapSecondBecomesNextMinute) {
    EXPECT_EQ(parse_rfc3339("2016-12-31T23:59:60Z"), parse_rfc3339("2017-01-01T00:00:00Z"));
}

TEST(ParseRfc3339, RejectsMalformed) {
    for (const char* text : {
             "", "2026-11-23", "2026-11-23T20:20:44", "2026-11-23 20:20:44Z", "2026-11-23T20:20Z",
             "26-11-23T20:20:44Z", "2026-1-23T20:20:44Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
             "2026-04-31T00:00:00Z", "2026-11-00T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T23:60:00Z",
             "2026-11-23T23:59:61Z", "2026-11-23T20:20:44.Z", "2026-11-23T20:20:44+0200",
             "2026-11-23T20:20:44+24:00", "2026-11-23T20:20:44+02", "2026-11-23T20:20:44Zjunk",
             " 2026-11-23T20:20:44Z", "2026-11-23T20:20:44Z ", "+026-11-23T20:20:44Z",
             "2026-11-23T2a:20:44Z", "9999-12-31T23:59:59Z" /* beyond system_clock's range */}) {
        EXPECT_EQ(parse_rfc3339(text), std::nullopt) << text;
    }
}

TEST(Rfc3339, RoundTripFromText) {
    for (const char* text : {"1970-01-01T00:00:00Z", "2010-04-14T02:15:15Z", "2024-02-29T23:59:59Z",
                             "2038-01-19T03:14:08Z", "2099-12-31T00:00:01Z", "1950-06-15T12:34:56Z"}) {
        const auto t = parse_rfc3339(text);
        ASSERT_TRUE(t) << text;
        EXPECT_EQ(format_rfc3339(*t), text);
    }
}

TEST(Rfc3339, RoundTripFromTime) {
    for (std::int64_t s : {0LL, 1LL, 86'399LL, 1'000'000'000LL, 1'795'465'244LL, 4'102'444'800LL, -86'401LL}) {
        EXPECT_EQ(parse_rfc3339(format_rfc3339(at(s))), at(s)) << s;
    }
}

TEST(Rfc3339, RoundTripOfNowLosesOnlySubSeconds) {
    const auto now = system_clock::now();
    const auto back = parse_rfc3339(format_rfc3339(now));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, floor<seconds>(now));
}

}  // namespace
}  // namespace gist
