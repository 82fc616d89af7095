#include "gist/github_response.hpp"

#include "gist/header_value.hpp"

#include <algorithm>
#include <cstddef>

#include <nlohmann/json.hpp>

namespace gist {

namespace {

constexpr std::int64_t secondary_limit_wait_seconds = 60;  // GitHub: "wait at least one minute"
// GitHub's hourly window bounds every wait it can mean; a larger value is nonsense and must not
// pause the fleet for years or overflow the millisecond arithmetic downstream.
constexpr std::int64_t max_wait_seconds = 3600;
// Reset times past 2100-01-01 are not epoch seconds GitHub could mean.
constexpr std::int64_t max_reset_epoch = 4102444800;
constexpr std::size_t max_detail_message = 200;

// A header's count, or nullopt when it is absent or not a count.
std::optional<std::int64_t> parse_count(const std::string* header) {
    return header ? parse_header_count(*header) : std::nullopt;
}

bool contains_ignoring_case(std::string_view haystack, std::string_view needle) {
    const auto lower = [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    const auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                                [&](char a, char b) { return lower(a) == lower(b); });
    return it != haystack.end();
}

// GitHub's error bodies are {"message": "...", "documentation_url": "..."}.
std::string error_message(const std::string& body) {
    const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
        return {};
    }
    const auto it = j.find("message");
    if (it == j.end() || !it->is_string()) {
        return {};
    }
    std::string message = it->get<std::string>();
    if (message.size() > max_detail_message) {
        message.resize(max_detail_message);
        message += "...";
    }
    return message;
}

}  // namespace

GithubRateLimit parse_rate_limit(const HttpResponse& response) {
    GithubRateLimit rate;
    rate.limit = parse_count(response.header("x-ratelimit-limit"));
    rate.remaining = parse_count(response.header("x-ratelimit-remaining"));
    rate.used = parse_count(response.header("x-ratelimit-used"));
    rate.reset_epoch = parse_count(response.header("x-ratelimit-reset"));
    if (rate.reset_epoch && *rate.reset_epoch > max_reset_epoch) {
        rate.reset_epoch.reset();
    }
    if (const std::string* resource = response.header("x-ratelimit-resource")) {
        const std::string_view r = trim_header_value(*resource);
        if (!r.empty()) {
            rate.resource = std::string(r);
        }
    }
    return rate;
}

GithubVerdict classify_github_response(const HttpResponse& response,
                                       std::chrono::system_clock::time_point now) {
    GithubVerdict v;
    switch (response.error) {
        case TransportError::none:
            break;
        case TransportError::timeout:
            v.outcome = GithubOutcome::timeout;
            v.detail = "timeout";
            break;
        case TransportError::connect:
            v.outcome = GithubOutcome::unavailable;
            v.detail = "connect error";
            break;
        case TransportError::too_large:
            v.outcome = GithubOutcome::unavailable;
            v.detail = "response too large";
            break;
        case TransportError::other:
            v.outcome = GithubOutcome::unavailable;
            v.detail = "transport error";
            break;
    }
    if (response.error != TransportError::none) {
        if (!response.error_message.empty()) {
            v.detail += ": " + response.error_message;
        }
        return v;
    }

    v.rate = parse_rate_limit(response);
    v.detail = "HTTP " + std::to_string(response.status);
    const long status = response.status;
    if (status == 200) {
        v.outcome = GithubOutcome::ok;
        return v;
    }
    if (status == 304) {
        v.outcome = GithubOutcome::not_modified;
        return v;
    }

    const std::string message = error_message(response.body);
    if (!message.empty()) {
        v.detail += ": " + message;
    }

    if (status == 404) {
        v.outcome = GithubOutcome::not_found;
        return v;
    }
    if (status == 403 || status == 429) {
        const auto retry_after = parse_count(response.header("retry-after"));
        const bool exhausted = v.rate.remaining && *v.rate.remaining == 0;
        // 429 means "too many requests" by definition, even without GitHub's headers.
        const bool limited = status == 429 || exhausted || retry_after ||
                             contains_ignoring_case(message, "rate limit");
        if (limited) {
            v.outcome = GithubOutcome::rate_limited;
            if (retry_after) {
                v.retry_after_seconds = *retry_after;
            } else if (exhausted && v.rate.reset_epoch) {
                const auto now_epoch =
                    std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
                v.retry_after_seconds = *v.rate.reset_epoch - static_cast<std::int64_t>(now_epoch);
            } else {
                v.retry_after_seconds = secondary_limit_wait_seconds;
            }
            // A reset already past (clock skew) or "retry-after: 0" still means "not right now".
            v.retry_after_seconds = std::clamp<std::int64_t>(v.retry_after_seconds, 1, max_wait_seconds);
            return v;
        }
        v.outcome = GithubOutcome::rejected;
        return v;
    }
    if (status >= 400 && status < 500) {
        v.outcome = GithubOutcome::rejected;
        return v;
    }
    // 5xx, other 2xx, redirects not followed, 1xx: nothing a scan can use.
    v.outcome = GithubOutcome::unavailable;
    return v;
}

}  // namespace gist
