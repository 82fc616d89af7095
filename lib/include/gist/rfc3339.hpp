// UTC timestamps as text.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gist {

// "2026-11-23T20:20:44Z" (seconds precision, UTC).
std::string format_rfc3339(std::chrono::system_clock::time_point t);
// Accepts "YYYY-MM-DDTHH:MM:SSZ" and "+00:00"-style offsets and fractional seconds; nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace gist
