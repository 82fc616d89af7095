#include "gist/login.hpp"

namespace gist {

namespace {

// Deliberately ASCII-only: <cctype> would depend on the C locale.
bool is_ascii_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

bool is_valid_login(std::string_view login) {
    constexpr std::size_t max_length = 39;
    if (login.empty() || login.size() > max_length) {
        return false;
    }
    if (login.front() == '-' || login.back() == '-') {
        return false;
    }
    char previous = '\0';
    for (char c : login) {
        if (c == '-') {
            if (previous == '-') {
                return false;
            }
        } else if (!is_ascii_alnum(c)) {
            return false;
        }
        previous = c;
    }
    return true;
}

std::string normalize_login(std::string_view login) {
    std::string out(login);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

}  // namespace gist
