// UTC timestamps as text.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gist {

// Milliseconds since the Unix epoch: how due times and leases are kept in Redis.
inline std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// "2026-11-23T20:20:44Z" (seconds precision, UTC).
std::string format_rfc3339(std::chrono::system_clock::time_point t);
// Accepts "YYYY-MM-DDTHH:MM:SSZ" and "+00:00"-style offsets and fractional seconds; nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace gist
