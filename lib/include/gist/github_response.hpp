// What a GitHub response means for a scan, from its status and headers.
#pragma once

#include "gist/http.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace gist {

enum class GithubOutcome {
    ok,              // 200
    not_modified,    // 304
    not_found,       // 404
    rate_limited,    // 403/429 with x-ratelimit-remaining: 0, or retry-after present (secondary limit),
                     // or 403/429 whose body message mentions "rate limit"
    timeout,         // transport timeout
    unavailable,     // 5xx, connect errors, other unexpected statuses, too_large
    rejected,        // other 4xx (401 bad token, 422, 403 without rate-limit signs…)
};

struct GithubRateLimit {
    std::optional<std::int64_t> limit, remaining, used;
    std::optional<std::int64_t> reset_epoch;  // x-ratelimit-reset (UTC epoch seconds)
    std::optional<std::string> resource;
};

struct GithubVerdict {
    GithubOutcome outcome = GithubOutcome::unavailable;
    GithubRateLimit rate;
    // For rate_limited: seconds the caller should wait. retry-after if present; else reset - now
    // (at least 1) when remaining is 0; else 60 (GitHub's advice for secondary limits).
    std::int64_t retry_after_seconds = 0;
    std::string detail;  // for logs: e.g. "HTTP 502", "timeout", GitHub's "message" when present
};

GithubRateLimit parse_rate_limit(const HttpResponse& response);
GithubVerdict classify_github_response(const HttpResponse& response,
                                       std::chrono::system_clock::time_point now);

}  // namespace gist
