// Strong entity tags for rendered answers, and If-None-Match (RFC 9110 §13.1.2).
#pragma once

#include <string>
#include <string_view>

namespace gist {

// "\"<16 hex digits>\"": FNV-1a 64 of the body, so equal bodies get equal tags on every worker
// and instance.
std::string strong_etag(std::string_view body);

// True when an If-None-Match field value matches etag: "*", or any listed tag equal to it under
// the weak comparison (a W/ prefix is ignored), as RFC 9110 prescribes for If-None-Match.
bool if_none_match_matches(std::string_view field, std::string_view etag);

}  // namespace gist
