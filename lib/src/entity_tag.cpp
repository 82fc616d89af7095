#include "gist/entity_tag.hpp"

#include <cstdint>

namespace gist {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

std::string_view opaque(std::string_view tag) {
    tag = trim(tag);
    if (tag.substr(0, 2) == "W/") {
        tag.remove_prefix(2);
    }
    return tag;
}

}  // namespace

std::string strong_etag(std::string_view body) {
    std::uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : body) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string tag(18, '"');
    for (int i = 16; i >= 1; --i) {
        tag[static_cast<std::size_t>(i)] = digits[h & 0xf];
        h >>= 4;
    }
    return tag;
}

bool if_none_match_matches(std::string_view field, std::string_view etag) {
    if (trim(field) == "*") {
        return true;
    }
    const std::string_view want = opaque(etag);
    while (!field.empty()) {
        const auto comma = field.find(',');
        if (opaque(field.substr(0, comma)) == want) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        field.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace gist
