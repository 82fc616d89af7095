#include "gist/rfc3339.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>

namespace gist {

namespace {

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

// Reads exactly `n` digits at `pos`; no sign, no spaces (unlike strtol/sscanf).
bool read_digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
    if (pos + n > s.size()) {
        return false;
    }
    int value = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9') {
            return false;
        }
        value = value * 10 + (c - '0');
    }
    pos += n;
    out = value;
    return true;
}

bool expect(std::string_view s, std::size_t& pos, char a, char b = '\0') {
    if (pos < s.size() && (s[pos] == a || (b != '\0' && s[pos] == b))) {
        ++pos;
        return true;
    }
    return false;
}

}  // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
    // floor, not duration_cast: a time just before 1970 must not round up to the next second.
    const auto secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch());
    const std::time_t tt = static_cast<std::time_t>(secs.count());
    std::tm tm{};
    if (gmtime_r(&tt, &tm) == nullptr) {
        return {};
    }
    char buf[80];  // sized for any int fields so -Wformat-truncation can prove it fits
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
    std::size_t pos = 0;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') ||
        !read_digits(text, pos, 2, month) || !expect(text, pos, '-') ||
        !read_digits(text, pos, 2, day) || !expect(text, pos, 'T', 't') ||
        !read_digits(text, pos, 2, hour) || !expect(text, pos, ':') ||
        !read_digits(text, pos, 2, minute) || !expect(text, pos, ':') ||
        !read_digits(text, pos, 2, second)) {
        return std::nullopt;
    }
    // second == 60 is a leap second (RFC 3339 5.6); it becomes the next minute's 00.
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 60) {
        return std::nullopt;
    }

    std::int64_t nanos = 0;
    if (expect(text, pos, '.')) {
        const std::size_t start = pos;
        std::int64_t scale = 100000000;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            nanos += (text[pos] - '0') * scale;  // digits past nanoseconds add 0
            scale /= 10;
            ++pos;
        }
        if (pos == start) {
            return std::nullopt;
        }
    }

    int offset_seconds = 0;
    if (!expect(text, pos, 'Z', 'z')) {
        if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) {
            return std::nullopt;
        }
        const int sign = text[pos] == '-' ? -1 : 1;
        ++pos;
        int off_h = 0, off_m = 0;
        if (!read_digits(text, pos, 2, off_h) || !expect(text, pos, ':') ||
            !read_digits(text, pos, 2, off_m) || off_h > 23 || off_m > 59) {
            return std::nullopt;
        }
        offset_seconds = sign * (off_h * 3600 + off_m * 60);
    }
    if (pos != text.size()) {
        return std::nullopt;
    }

    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    // timegm: UTC, no TZ environment or locale involved.
    const std::time_t local = timegm(&tm);
    const std::int64_t utc = static_cast<std::int64_t>(local) - offset_seconds;

    // system_clock counts nanoseconds in 64 bits (years ~1677..2262); refuse what it cannot hold.
    using Duration = std::chrono::system_clock::duration;
    using std::chrono::seconds;
    constexpr std::int64_t max_secs = std::chrono::duration_cast<seconds>(Duration::max()).count() - 1;
    constexpr std::int64_t min_secs = std::chrono::duration_cast<seconds>(Duration::min()).count() + 1;
    if (utc > max_secs || utc < min_secs) {
        return std::nullopt;
    }
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<Duration>(seconds(utc) + std::chrono::nanoseconds(nanos)));
}

}  // namespace gist
