// GitHub logins from request paths: the validity rule against a reference written from GitHub's
// rule (1-39 ASCII letters/digits, single inner hyphens), and lower-casing.
#include "fuzz_check.hpp"

#include "gist/login.hpp"

#include <string>
#include <string_view>

namespace {

bool reference_valid(std::string_view s) {
    if (s.empty() || s.size() > 39 || s.front() == '-' || s.back() == '-') return false;
    if (s.find("--") != std::string_view::npos) return false;
    return s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") ==
           std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view login(reinterpret_cast<const char*>(data), size);
    const bool valid = gist::is_valid_login(login);
    FUZZ_CHECK(valid == reference_valid(login));
    const std::string lower = gist::normalize_login(login);
    FUZZ_CHECK(lower.size() == login.size());
    FUZZ_CHECK(gist::normalize_login(lower) == lower);
    FUZZ_CHECK(gist::is_valid_login(lower) == valid);
    for (std::size_t i = 0; i < login.size(); ++i) {
        const char c = login[i];
        FUZZ_CHECK(lower[i] == ((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c));
    }
    return 0;
}
