// RFC 8288 Link header parsing, as GitHub uses it for pagination.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gist {

// The URL of the link whose rel (possibly one of several space-separated rels, quoted or not,
// case-insensitive) equals `rel`; nullopt when absent or the header is malformed.
std::optional<std::string> find_link(std::string_view link_header, std::string_view rel);

// True when `url` has the same scheme, host and port as `base` (GitHub must not redirect our
// token elsewhere through a Link header).
bool same_origin(std::string_view url, std::string_view base);

}  // namespace gist
