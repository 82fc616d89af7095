#include "gist/pipedrive_response.hpp"

#include "gist/header_value.hpp"

#include "gist/deal_text.hpp"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

namespace gist {

namespace {

constexpr std::size_t max_message_bytes = 200;
constexpr std::int64_t epoch_threshold = 1000000000;  // larger "reset" values are epoch seconds
constexpr std::chrono::seconds max_server_wait{3600};

std::optional<std::int64_t> parse_count(std::string_view s) { return parse_header_count(s); }

std::int64_t epoch_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::int64_t> parse_imf_fixdate(std::string_view s) {
    if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
        return std::nullopt;
    }
    const auto num = [&](std::size_t pos, std::size_t len) -> std::optional<std::int64_t> {
        return parse_count(s.substr(pos, len));
    };
    static constexpr std::array<std::string_view, 12> months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    unsigned month = 0;
    for (unsigned i = 0; i < months.size(); ++i) {
        if (s.substr(8, 3) == months[i]) {
            month = i + 1;
        }
    }
    const auto day = num(5, 2), year = num(12, 4), hh = num(17, 2), mm = num(20, 2),
               ss = num(23, 2);
    if (month == 0 || !day || !year || !hh || !mm || !ss || *day < 1 || *day > 31 || *hh > 23 ||
        *mm > 59 || *ss > 60) {
        return std::nullopt;
    }
    return days_from_civil(*year, month, static_cast<unsigned>(*day)) * 86400 + *hh * 3600 +
           *mm * 60 + *ss;
}

// A server wait is at least 1 s ("not right now") and at most an hour: larger values are nonsense
// (the worker caps them further at its backoff cap) and must not overflow millisecond arithmetic.
std::optional<std::chrono::seconds> bounded(std::optional<std::chrono::seconds> s) {
    if (s) {
        return std::clamp(*s, std::chrono::seconds(1), max_server_wait);
    }
    return s;
}

std::optional<std::chrono::seconds> server_wait(const HttpResponse& response, bool rate_limited,
                                                std::chrono::system_clock::time_point now) {
    if (const std::string* ra = response.header("retry-after")) {
        if (auto wait = parse_retry_after(*ra, now)) {
            return bounded(wait);
        }
    }
    if (!rate_limited) {
        return std::nullopt;
    }
    // Pipedrive's x-ratelimit-reset counts the seconds left in the window; accept an epoch too.
    if (const std::string* reset = response.header("x-ratelimit-reset")) {
        if (auto value = parse_count(*reset)) {
            std::int64_t wait = *value;
            if (wait > epoch_threshold) {
                wait -= epoch_seconds(now);
            }
            return bounded(std::chrono::seconds(wait < 0 ? 0 : wait));
        }
    }
    return std::nullopt;
}

std::string clean(std::string_view text, std::size_t max_bytes) {
    return truncate_utf8(single_line(sanitize_utf8(text)), max_bytes);
}

bool is_code(std::string_view s) {
    if (s.empty() || s.size() > 64) {
        return false;
    }
    for (char c : s) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.')) {
            return false;
        }
    }
    return true;
}

struct ErrorEnvelope {
    std::string code;     // e.g. feature_capping_deals_limit
    std::string message;  // error, then error_info
};

// {"success": false, "error": "...", "error_info": "...", "code"|"errorCode": "..."}
ErrorEnvelope error_envelope(const nlohmann::json& j) {
    ErrorEnvelope e;
    if (!j.is_object()) {
        return e;
    }
    for (const char* key : {"code", "errorCode", "error_code"}) {
        const auto it = j.find(key);
        if (it != j.end() && it->is_string() && is_code(it->get_ref<const std::string&>())) {
            e.code = it->get<std::string>();
            break;
        }
    }
    const auto text_of = [&](const char* key) -> std::string {
        const auto it = j.find(key);
        return it != j.end() && it->is_string() ? clean(it->get_ref<const std::string&>(),
                                                        max_message_bytes)
                                                : std::string();
    };
    const std::string error = text_of("error");
    const std::string info = text_of("error_info");
    e.message = error;
    if (!info.empty() && info != error) {
        e.message += e.message.empty() ? info : " " + info;
    }
    e.message = truncate_utf8(e.message, max_message_bytes);
    return e;
}

std::string transport_detail(std::string_view what, const HttpResponse& response) {
    std::string d = "Pipedrive ";
    d += what;
    if (!response.error_message.empty()) {
        d += ": " + clean(response.error_message, max_message_bytes);
    }
    return d;
}

}  // namespace

std::string_view to_string(PipedriveOutcome outcome) {
    switch (outcome) {
        case PipedriveOutcome::ok: return "ok";
        case PipedriveOutcome::retry: return "retry";
        case PipedriveOutcome::ambiguous: return "ambiguous";
        case PipedriveOutcome::permanent: return "permanent";
    }
    return "unknown";
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
    value = trim_header_value(value);
    if (auto delta = parse_count(value)) {
        return std::chrono::seconds(*delta);
    }
    if (auto when = parse_imf_fixdate(value)) {
        const std::int64_t wait = *when - epoch_seconds(now);
        return std::chrono::seconds(wait < 0 ? 0 : wait);
    }
    return std::nullopt;
}

PipedriveVerdict classify_pipedrive_response(const HttpResponse& response,
                                             std::chrono::system_clock::time_point now,
                                             PipedriveCall call) {
    PipedriveVerdict v;
    v.status = response.error == TransportError::none ? response.status : 0;
    const bool create = call == PipedriveCall::create;
    const auto maybe_applied = create ? PipedriveOutcome::ambiguous : PipedriveOutcome::retry;

    switch (response.error) {
        case TransportError::none:
            break;
        case TransportError::connect:
            v.outcome = PipedriveOutcome::retry;
            v.reason = "connect";
            v.detail = transport_detail("connect error", response);
            return v;
        case TransportError::timeout:
            v.outcome = response.request_sent ? maybe_applied : PipedriveOutcome::retry;
            v.reason = "timeout";
            v.detail = transport_detail(response.request_sent ? "timeout after the request was sent"
                                                              : "timeout before the request was sent",
                                        response);
            return v;
        case TransportError::too_large:
            // A response arrived, so the request was processed; we just cannot read it.
            v.outcome = maybe_applied;
            v.reason = "bad_response";
            v.detail = transport_detail("response too large", response);
            return v;
        case TransportError::other:
            v.outcome = response.request_sent ? maybe_applied : PipedriveOutcome::retry;
            v.reason = "transport";
            v.detail = transport_detail("transport error", response);
            return v;
    }

    const long status = response.status;
    const auto j = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    const std::string http = "Pipedrive HTTP " + std::to_string(status);

    if (status >= 200 && status < 300) {
        const bool success = j.is_object() && j.contains("success") && j["success"].is_boolean() &&
                             j["success"].get<bool>();
        const nlohmann::json* data = success && j.contains("data") ? &j["data"] : nullptr;
        if (create) {
            if (data != nullptr && data->is_object() && data->contains("id") &&
                (*data)["id"].is_number_integer() && (*data)["id"].get<std::int64_t>() > 0) {
                v.outcome = PipedriveOutcome::ok;
                v.id = (*data)["id"].get<std::int64_t>();
                v.reason = "ok";
                v.detail = http;
                return v;
            }
        } else if (data != nullptr && (data->is_object() || data->is_array() || data->is_null())) {
            // Searches answer an object, list look-ups an array; no hits may say "data": null.
            v.outcome = PipedriveOutcome::ok;
            v.reason = "ok";
            v.detail = http;
            return v;
        }
        // A 2xx we cannot read: a create may well have happened.
        v.outcome = maybe_applied;
        v.reason = "bad_response";
        v.detail = http + ": " +
                   (j.is_discarded() ? "body is not JSON"
                                     : success ? "no integer data.id" : "success is not true");
        return v;
    }

    const ErrorEnvelope envelope = error_envelope(j);
    v.detail = http;
    if (!envelope.message.empty()) {
        v.detail += ": " + envelope.message;
    }
    if (!envelope.code.empty()) {
        v.detail += " (" + envelope.code + ")";
    }
    const auto reason_or = [&](std::string fallback) {
        return envelope.code.empty() ? std::move(fallback) : envelope.code;
    };

    if (status == 429) {
        v.outcome = PipedriveOutcome::retry;
        v.reason = "rate_limited";
        v.retry_after = server_wait(response, true, now);
        return v;
    }
    if (status == 408 || status == 503) {
        v.outcome = PipedriveOutcome::retry;
        v.reason = "http_" + std::to_string(status);
        v.retry_after = server_wait(response, false, now);
        return v;
    }
    if (status >= 500 && status < 600) {
        v.outcome = maybe_applied;
        v.reason = "http_" + std::to_string(status);
        v.retry_after = server_wait(response, false, now);
        return v;
    }
    if (status >= 300 && status < 500) {
        v.outcome = PipedriveOutcome::permanent;
        v.reason = reason_or("http_" + std::to_string(status));
        if (status < 400) {
            v.detail += " (redirect: check gist_pipedrive_api_url)";
        }
        return v;
    }
    // 1xx or a status outside HTTP's range: treat as a broken exchange.
    v.outcome = maybe_applied;
    v.reason = "bad_response";
    return v;
}

}  // namespace gist
