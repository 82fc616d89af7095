// Where a page of /trackedusers starts: opaque to clients, a position in login order for us, so
// a walk over all pages lists every user that exists throughout exactly once (docs/read-path.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gist {

// base64url (no padding) of the last login of a page.
std::string encode_page_cursor(std::string_view last_login);
// The login a cursor stands for; nullopt when it is not a cursor we made.
std::optional<std::string> decode_page_cursor(std::string_view cursor);

// The value of `name` in a URL query string ("a=1&b=x%20y"), percent-decoded; nullopt when absent.
std::optional<std::string> query_parameter(std::string_view query, std::string_view name);

}  // namespace gist
