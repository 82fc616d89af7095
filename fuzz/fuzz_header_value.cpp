// Header values: trimming, the digit-only counts (x-ratelimit-*, Retry-After), and GitHub's
// answers as a scan classifies them (status, rate-limit headers, error body).
#include "fuzz_check.hpp"

#include "gist/github_response.hpp"
#include "gist/header_value.hpp"

#include <chrono>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

namespace {

void check_count(std::string_view value) {
    const std::string_view t = gist::trim_header_value(value);
    FUZZ_CHECK(gist::trim_header_value(t) == t);  // idempotent
    FUZZ_CHECK(t.empty() || (t.front() != ' ' && t.front() != '\t' && t.back() != ' ' && t.back() != '\t'));
    const auto n = gist::parse_header_count(value);
    bool digits = !t.empty() && t.size() <= 18;
    std::int64_t expect = 0;
    for (char c : t) {
        if (c < '0' || c > '9') {
            digits = false;
            break;
        }
        expect = digits ? expect * 10 + (c - '0') : 0;
    }
    FUZZ_CHECK(n.has_value() == digits);
    if (n) FUZZ_CHECK(*n == expect && *n >= 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    gist::HttpResponse r;
    r.error = static_cast<gist::TransportError>(in.ConsumeIntegralInRange<int>(0, 4));
    r.status = in.ConsumeIntegralInRange<long>(0, 999);
    const auto now = std::chrono::system_clock::time_point(
        std::chrono::seconds(in.ConsumeIntegralInRange<std::int64_t>(0, 4'102'444'800)));
    for (const char* name : {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used",
                             "x-ratelimit-reset", "x-ratelimit-resource", "retry-after"}) {
        if (in.ConsumeBool()) {
            r.headers[name] = in.ConsumeRandomLengthString(32);
            check_count(r.headers[name]);
        }
    }
    r.body = in.ConsumeRemainingBytesAsString();
    check_count(r.body);

    const gist::GithubRateLimit rate = gist::parse_rate_limit(r);
    if (rate.resource) FUZZ_CHECK(!rate.resource->empty());
    const gist::GithubVerdict v = gist::classify_github_response(r, now);
    FUZZ_CHECK(!v.detail.empty());
    if (v.outcome == gist::GithubOutcome::rate_limited) {
        FUZZ_CHECK(v.retry_after_seconds >= 1);  // "not right now", never "retry in the past"
    }
    if (r.error == gist::TransportError::none && r.status == 200) {
        FUZZ_CHECK(v.outcome == gist::GithubOutcome::ok);
    }
    return 0;
}
