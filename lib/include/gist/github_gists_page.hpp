// Parsing one page of GET /users/{login}/gists.
#pragma once

#include "gist/gist.hpp"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gist {

struct PageParseError {
    std::string message;  // short, human, no body echo beyond 80 chars
};

struct GistsPage {
    std::vector<Gist> gists;
    // One line per gist left out because GitHub sent an invalid id or html_url (printable ASCII,
    // short: safe to log as is).
    std::vector<std::string> dropped;
};

// The body must be a JSON array of gist objects. Each needs string "id"; html_url,
// created_at and updated_at default to "" when missing or not strings; description may be null or
// missing (→ nullopt); files is an object whose keys are the names (missing → []); a top-level
// "truncated": true is kept. Elements that are not objects or lack a string id make the whole page
// an error (GitHub never sends them, so the body is not what we think it is).
// A gist whose id is not is_gist_id() or whose html_url is not is_gist_html_url() is dropped, and
// said in `dropped`: one odd entry must not cost the user's whole listing, nor be stored or shown.
std::variant<GistsPage, PageParseError> parse_gists_page(std::string_view body);

}  // namespace gist
