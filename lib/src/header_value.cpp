#include "gist/header_value.hpp"

namespace gist {

std::string_view trim_header_value(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

std::optional<std::int64_t> parse_header_count(std::string_view s) {
    s = trim_header_value(s);
    if (s.empty() || s.size() > 18) {  // 18 digits cannot overflow int64
        return std::nullopt;
    }
    std::int64_t value = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return value;
}

}  // namespace gist
