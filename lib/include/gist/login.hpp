// GitHub login rules.
#pragma once

#include <string>
#include <string_view>

namespace gist {

// GitHub's rule: 1 to 39 characters, ASCII letters, digits and single hyphens that are neither
// first nor last ("a-b" ok; "-a", "a-", "a--b" not).
bool is_valid_login(std::string_view login);

// Logins are case-insensitive on GitHub; state is keyed by the lower-case form.
std::string normalize_login(std::string_view login);

}  // namespace gist
