#include "gist/link_header.hpp"

#include <cstddef>
#include <utility>

namespace gist {

namespace {

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

bool is_ows(char c) { return c == ' ' || c == '\t'; }

// RFC 9110 tchar.
bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
        case '-': case '.': case '^': case '_': case '`': case '|': case '~':
            return true;
        default:
            return false;
    }
}

// Characters that can never appear inside <URI-Reference>.
bool is_forbidden_in_uri(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f || c == '<' || c == '"';
}

// A small cursor over the header; every parse step either advances or reports malformed input.
class LinkParser {
public:
    explicit LinkParser(std::string_view text) : s_(text) {}

    // Returns the first link whose rel list contains `wanted`; sets malformed_ on bad syntax.
    std::optional<std::string> find(std::string_view wanted) {
        std::optional<std::string> found;
        for (;;) {
            // RFC 9110 lists allow empty elements: "a, , b".
            while (i_ < s_.size() && (is_ows(s_[i_]) || s_[i_] == ',')) {
                ++i_;
            }
            if (i_ == s_.size()) {
                return found;
            }
            std::string_view url;
            std::string rel;
            bool has_rel = false;
            if (!parse_link_value(url, rel, has_rel)) {
                return std::nullopt;
            }
            if (!found && has_rel && rel_list_contains(rel, wanted)) {
                found = std::string(url);
            }
            skip_ows();
            if (i_ < s_.size()) {
                if (s_[i_] != ',') {
                    return std::nullopt;
                }
                ++i_;
            }
        }
    }

private:
    void skip_ows() {
        while (i_ < s_.size() && is_ows(s_[i_])) {
            ++i_;
        }
    }

    bool parse_link_value(std::string_view& url, std::string& rel, bool& has_rel) {
        if (s_[i_] != '<') {
            return false;
        }
        const std::size_t close = s_.find('>', i_ + 1);
        if (close == std::string_view::npos) {
            return false;
        }
        url = s_.substr(i_ + 1, close - i_ - 1);
        if (url.empty()) {
            return false;
        }
        for (char c : url) {
            if (is_forbidden_in_uri(c)) {
                return false;
            }
        }
        i_ = close + 1;
        for (;;) {
            skip_ows();
            if (i_ == s_.size() || s_[i_] != ';') {
                return true;
            }
            ++i_;
            skip_ows();
            std::string_view name;
            std::string value;
            if (!parse_param(name, value)) {
                return false;
            }
            // RFC 8288 3.3: occurrences of rel after the first are ignored.
            if (!has_rel && iequals(name, "rel")) {
                rel = std::move(value);
                has_rel = true;
            }
        }
    }

    bool parse_param(std::string_view& name, std::string& value) {
        const std::size_t start = i_;
        while (i_ < s_.size() && is_tchar(s_[i_])) {
            ++i_;
        }
        if (i_ == start) {
            return false;
        }
        name = s_.substr(start, i_ - start);
        skip_ows();
        if (i_ == s_.size() || s_[i_] != '=') {
            return true;  // a parameter without a value is allowed
        }
        ++i_;
        skip_ows();
        if (i_ < s_.size() && s_[i_] == '"') {
            return parse_quoted(value);
        }
        const std::size_t value_start = i_;
        while (i_ < s_.size() && is_tchar(s_[i_])) {
            ++i_;
        }
        if (i_ == value_start) {
            return false;
        }
        value.assign(s_.substr(value_start, i_ - value_start));
        return true;
    }

    bool parse_quoted(std::string& value) {
        ++i_;  // opening quote
        while (i_ < s_.size()) {
            const char c = s_[i_++];
            if (c == '"') {
                return true;
            }
            if (c == '\\') {
                if (i_ == s_.size()) {
                    return false;
                }
                value.push_back(s_[i_++]);
            } else {
                value.push_back(c);
            }
        }
        return false;  // unterminated
    }

    // rel may hold several space-separated relation types: rel="next last".
    static bool rel_list_contains(std::string_view rels, std::string_view wanted) {
        std::size_t i = 0;
        while (i < rels.size()) {
            while (i < rels.size() && (is_ows(rels[i]) || rels[i] == '\n' || rels[i] == '\r')) {
                ++i;
            }
            const std::size_t start = i;
            while (i < rels.size() && !(is_ows(rels[i]) || rels[i] == '\n' || rels[i] == '\r')) {
                ++i;
            }
            if (i > start && iequals(rels.substr(start, i - start), wanted)) {
                return true;
            }
        }
        return false;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

struct Origin {
    std::string scheme;
    std::string host;
    unsigned port = 0;
};

bool is_host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_';
}

bool is_ipv6_char(char c) {
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') ||
           c == ':' || c == '.';
}

std::optional<unsigned> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5) {
        return std::nullopt;
    }
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) {
        return std::nullopt;
    }
    return value;
}

// Only http(s) with a plain host; anything unusual (userinfo, odd characters) is refused so that
// a crafted Link URL cannot look like our origin to us and like another host to curl.
std::optional<Origin> parse_origin(std::string_view url) {
    const std::size_t sep = url.find("://");
    if (sep == std::string_view::npos) {
        return std::nullopt;
    }
    Origin o;
    for (char c : url.substr(0, sep)) {
        o.scheme.push_back(ascii_lower(c));
    }
    if (o.scheme == "https") {
        o.port = 443;
    } else if (o.scheme == "http") {
        o.port = 80;
    } else {
        return std::nullopt;
    }
    std::string_view rest = url.substr(sep + 3);
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    std::string_view host;
    std::string_view port_text;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos || close == 1) {
            return std::nullopt;
        }
        for (char c : authority.substr(1, close - 1)) {
            if (!is_ipv6_char(c)) {
                return std::nullopt;
            }
        }
        host = authority.substr(0, close + 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return std::nullopt;
            }
            has_port = true;
            port_text = after.substr(1);
        }
    } else {
        const std::size_t colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            has_port = true;
            port_text = authority.substr(colon + 1);
        }
        if (host.empty()) {
            return std::nullopt;
        }
        for (char c : host) {
            if (!is_host_char(c)) {
                return std::nullopt;  // also rejects '@' (userinfo) and '\\'
            }
        }
    }
    // "host:" with an empty port means the scheme's default (RFC 3986 3.2.3).
    if (has_port && !port_text.empty()) {
        const auto port = parse_port(port_text);
        if (!port) {
            return std::nullopt;
        }
        o.port = *port;
    }
    for (char c : host) {
        o.host.push_back(ascii_lower(c));
    }
    return o;
}

}  // namespace

std::optional<std::string> find_link(std::string_view link_header, std::string_view rel) {
    if (rel.empty()) {
        return std::nullopt;
    }
    return LinkParser(link_header).find(rel);
}

bool same_origin(std::string_view url, std::string_view base) {
    const auto a = parse_origin(url);
    const auto b = parse_origin(base);
    return a && b && a->scheme == b->scheme && a->host == b->host && a->port == b->port;
}

}  // namespace gist
