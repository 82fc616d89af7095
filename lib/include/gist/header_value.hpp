// Reading HTTP header values (RFC 9110 field values), shared by the GitHub and Pipedrive clients.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gist {

// Without the optional whitespace (spaces and tabs) around a field value.
std::string_view trim_header_value(std::string_view value);

// A non-negative decimal count ("60", " 4999 "); a sign, text or more than 18 digits is nullopt.
std::optional<std::int64_t> parse_header_count(std::string_view value);

}  // namespace gist
