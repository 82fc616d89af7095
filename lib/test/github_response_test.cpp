#include "gist/github_response.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace gist {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point kNow{seconds(1'800'000'000)};

HttpResponse status(long code, std::string body = {}) {
    HttpResponse r;
    r.status = code;
    r.request_sent = true;
    r.body = std::move(body);
    return r;
}

HttpResponse transport(TransportError e, std::string message = {}) {
    HttpResponse r;
    r.error = e;
    r.error_message = std::move(message);
    return r;
}

TEST(ParseRateLimit, ReadsAllHeaders) {
    HttpResponse r = status(200);
    r.headers = {{"x-ratelimit-limit", "60"},     {"x-ratelimit-remaining", "57"},
                 {"x-ratelimit-used", "3"},       {"x-ratelimit-reset", "1800000300"},
                 {"x-ratelimit-resource", "core"}};
    const GithubRateLimit rl = parse_rate_limit(r);
    EXPECT_EQ(rl.limit, 60);
    EXPECT_EQ(rl.remaining, 57);
    EXPECT_EQ(rl.used, 3);
    EXPECT_EQ(rl.reset_epoch, 1800000300);
    EXPECT_EQ(rl.resource, "core");
}

TEST(ParseRateLimit, AbsentOrGarbageIsNullopt) {
    HttpResponse r = status(200);
    EXPECT_EQ(parse_rate_limit(r).remaining, std::nullopt);
    EXPECT_EQ(parse_rate_limit(r).resource, std::nullopt);
    r.headers = {{"x-ratelimit-limit", "lots"}, {"x-ratelimit-remaining", "-1"},
                 {"x-ratelimit-used", ""},      {"x-ratelimit-reset", "99999999999999999999999"}};
    const GithubRateLimit rl = parse_rate_limit(r);
    EXPECT_EQ(rl.limit, std::nullopt);
    EXPECT_EQ(rl.remaining, std::nullopt);
    EXPECT_EQ(rl.used, std::nullopt);
    EXPECT_EQ(rl.reset_epoch, std::nullopt);
}

TEST(ParseRateLimit, ToleratesSurroundingSpaces) {
    HttpResponse r = status(200);
    r.headers = {{"x-ratelimit-remaining", " 0 "}};
    EXPECT_EQ(parse_rate_limit(r).remaining, 0);
}

TEST(ClassifyGithubResponse, Ok200) {
    HttpResponse r = status(200, "[]");
    r.headers = {{"x-ratelimit-remaining", "59"}};
    const GithubVerdict v = classify_github_response(r, kNow);
    EXPECT_EQ(v.outcome, GithubOutcome::ok);
    EXPECT_EQ(v.rate.remaining, 59);  // rate info is kept for logs even on success
}

TEST(ClassifyGithubResponse, OkEvenWithRemainingZero) {
    // The request that used the last unit still succeeded.
    HttpResponse r = status(200, "[]");
    r.headers = {{"x-ratelimit-remaining", "0"}};
    EXPECT_EQ(classify_github_response(r, kNow).outcome, GithubOutcome::ok);
}

TEST(ClassifyGithubResponse, NotModified304) {
    EXPECT_EQ(classify_github_response(status(304), kNow).outcome, GithubOutcome::not_modified);
}

TEST(ClassifyGithubResponse, NotFound404) {
    const GithubVerdict v = classify_github_response(
        status(404, R"({"message":"Not Found","documentation_url":"https://docs.github.com"})"), kNow);
    EXPECT_EQ(v.outcome, GithubOutcome::not_found);
    EXPECT_EQ(v.detail, "HTTP 404: Not Found");
}

TEST(ClassifyGithubResponse, ServerErrorsAreUnavailable) {
    for (long code : {500L, 502L, 503L, 504L}) {
        const GithubVerdict v = classify_github_response(status(code, "<html>oops</html>"), kNow);
        EXPECT_EQ(v.outcome, GithubOutcome::unavailable) << code;
        EXPECT_EQ(v.detail, "HTTP " + std::to_string(code));
    }
}

TEST(ClassifyGithubResponse, UnexpectedStatusesAreUnavailable) {
    for (long code : {0L, 100L, 201L, 204L, 301L, 302L}) {
        EXPECT_EQ(classify_github_response(status(code), kNow).outcome, GithubOutcome::unavailable)
            << code;
    }
}

TEST(ClassifyGithubResponse, OtherClientErrorsAreRejected) {
    for (long code : {400L, 401L, 410L, 422L}) {
        EXPECT_EQ(classify_github_response(status(code), kNow).outcome, GithubOutcome::rejected)
            << code;
    }
}

TEST(ClassifyGithubResponse, Primary403WithResetInFuture) {
    HttpResponse r = status(403, R"({"message":"API rate limit exceeded for 1.2.3.4."})");
    r.headers = {{"x-ratelimit-limit", "60"}, {"x-ratelimit-remaining", "0"},
                 {"x-ratelimit-reset", "1800000125"}};
    const GithubVerdict v = classify_github_response(r, kNow);
    EXPECT_EQ(v.outcome, GithubOutcome::rate_limited);
    EXPECT_EQ(v.retry_after_seconds, 125);
    EXPECT_EQ(v.rate.remaining, 0);
    EXPECT_NE(v.detail.find("API rate limit exceeded"), std::string::npos) << v.detail;
}

TEST(ClassifyGithubResponse, Primary403WithResetInPastWaitsAtLeastOneSecond) {
    HttpResponse r = status(403);
    r.headers = {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1799999000"}};
    const GithubVerdict v = classify_github_response(r, kNow);
    EXPECT_EQ(v.outcome, GithubOutcome::rate_limited);
    EXPECT_EQ(v.retry_after_seconds, 1);
}

TEST(ClassifyGithubResponse, RemainingZeroWithoutResetWaitsAMinute) {
    HttpResponse r = status(403);
    r.headers = {{"x-ratelimit-remaining", "0"}};
    const GithubVerdict v = classify_github_response(r, kNow);
    EXPECT_EQ(v.outcome, GithubOutcome::rate_limited);
    EXPECT_EQ(v.retry_after_seconds, 60);
}

TEST(ClassifyGithubResponse, Status429WithRetryAfter) {
    HttpResponse r = status(429);
    r.headers = {{"retry-after", "30"}, {"x-ratelimit-remaining", "0"},
                 {"x-ratelimit-reset", "1800000500"}};
    const GithubVerdict v = classify_github_response(r, kNow);
    EXPECT_EQ(v.outcome, GithubOutcome::rate_limited);
    EXPECT_EQ(v.retry_after_seconds, 30);  // retry-after wins over reset
}

TEST(ClassifyGithubResponse, Status403WithRetryAfterOnly) {
    HttpResponse r = status(403);
    r.headers = {{"retry-after", "7"}, {"x-ratelimit-remaining", "4000"}};
    const GithubVerdict v = classify_github_response(r, kNow);
    EXPECT_EQ(v.outcome, GithubOutcome::rate_limited);
    EXPECT_EQ(v.retry_after_seconds, 7);
}

TEST(ClassifyGithubResponse, HugeWaitsAreClampedToAnHour) {
    HttpResponse r = status(429);
    r.headers = {{"retry-after", "999999999999999999"}};
    EXPECT_EQ(classify_github_response(r, kNow).retry_after_seconds, 3600);
    HttpResponse reset = status(403);
    reset.headers = {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1800999999"}};
    EXPECT_EQ(classify_github_response(reset, kNow).retry_after_seconds, 3600);
}

TEST(ClassifyGithubResponse, AResetPastTheYear2100IsNoReset) {
    HttpResponse r = status(403);
    r.headers = {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "999999999999999999"}};
    const GithubVerdict v = classify_github_response(r, kNow);
    EXPECT_FALSE(v.rate.reset_epoch);
    EXPECT_EQ(v.retry_after_seconds, 60);  // as without a reset
}

TEST(ClassifyGithubResponse, RetryAfterZeroStillWaits) {
    HttpResponse r = status(429);
    r.headers = {{"retry-after", "0"}};
    EXPECT_EQ(classify_github_response(r, kNow).retry_after_seconds, 1);
}

TEST(ClassifyGithubResponse, Status429WithoutHeadersIsStillRateLimited) {
    const GithubVerdict v = classify_github_response(status(429), kNow);
    EXPECT_EQ(v.outcome, GithubOutcome::rate_limited);
    EXPECT_EQ(v.retry_after_seconds, 60);
}

TEST(ClassifyGithubResponse, Secondary403MessageWithoutHeadersWaitsSixtySeconds) {
    HttpResponse r = status(403, R"({"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest"})");
    r.headers = {{"x-ratelimit-remaining", "4990"}};
    const GithubVerdict v = classify_github_response(r, kNow);
    EXPECT_EQ(v.outcome, GithubOutcome::rate_limited);
    EXPECT_EQ(v.retry_after_seconds, 60);
}

TEST(ClassifyGithubResponse, RateLimitMessageMatchIsCaseInsensitive) {
    EXPECT_EQ(classify_github_response(status(403, R"({"message":"Rate Limit hit"})"), kNow).outcome,
              GithubOutcome::rate_limited);
}

TEST(ClassifyGithubResponse, Forbidden403WithoutRateLimitSignsIsRejected) {
    HttpResponse r = status(403, R"({"message":"Resource not accessible by integration"})");
    r.headers = {{"x-ratelimit-remaining", "12"}, {"x-ratelimit-reset", "1800000100"}};
    const GithubVerdict v = classify_github_response(r, kNow);
    EXPECT_EQ(v.outcome, GithubOutcome::rejected);
    EXPECT_EQ(v.retry_after_seconds, 0);
    EXPECT_EQ(classify_github_response(status(403), kNow).outcome, GithubOutcome::rejected);
    // "rate limit" outside a JSON message (e.g. an HTML page) is not a sign.
    EXPECT_EQ(classify_github_response(status(403, "<p>rate limit</p>"), kNow).outcome,
              GithubOutcome::rejected);
}

TEST(ClassifyGithubResponse, GarbageRetryAfterIsIgnored) {
    HttpResponse r = status(403);
    r.headers = {{"retry-after", "soon"}};
    EXPECT_EQ(classify_github_response(r, kNow).outcome, GithubOutcome::rejected);
}

TEST(ClassifyGithubResponse, TransportTimeout) {
    const GithubVerdict v =
        classify_github_response(transport(TransportError::timeout, "Operation timed out"), kNow);
    EXPECT_EQ(v.outcome, GithubOutcome::timeout);
    EXPECT_NE(v.detail.find("timeout"), std::string::npos);
    EXPECT_NE(v.detail.find("Operation timed out"), std::string::npos);
}

TEST(ClassifyGithubResponse, TransportFailuresAreUnavailable) {
    for (TransportError e : {TransportError::connect, TransportError::too_large, TransportError::other}) {
        HttpResponse r = transport(e);
        r.status = 200;  // a status from a half-read response must not make it "ok"
        EXPECT_EQ(classify_github_response(r, kNow).outcome, GithubOutcome::unavailable);
    }
    EXPECT_NE(classify_github_response(transport(TransportError::connect, "Could not resolve host"), kNow)
                  .detail.find("Could not resolve host"),
              std::string::npos);
}

TEST(ClassifyGithubResponse, LongMessagesAreCutInDetail) {
    const std::string body = R"({"message":")" + std::string(5000, 'm') + R"("})";
    const GithubVerdict v = classify_github_response(status(422, body), kNow);
    EXPECT_EQ(v.outcome, GithubOutcome::rejected);
    EXPECT_LT(v.detail.size(), 300u);
}

}  // namespace
}  // namespace gist
