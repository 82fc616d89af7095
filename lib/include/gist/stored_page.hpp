// One page of a user's gist list as last fetched from GitHub, kept in Redis for ETag reuse.
#pragma once

#include "gist/gist.hpp"

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gist {

struct StoredPage {
    std::string url;    // the exact URL fetched (the ETag belongs to it)
    std::string etag;   // empty when GitHub sent none
    std::string next;   // rel="next" of that response; empty on the last page
    std::vector<Gist> gists;
};

// The compact form kept in Redis: {"v":2,"p":[{"u","e","n","g":[[id, html_url or "" when it is
// https://gist.github.com/<id>, description, [files], created_at, updated_at(, 1 if truncated)]]}]}.
nlohmann::json pages_to_json(const std::vector<StoredPage>& pages);
std::string pages_to_text(const std::vector<StoredPage>& pages);
// Reads that form, and the object form written before it. Throws std::runtime_error when the
// text is neither.
std::vector<StoredPage> pages_from_json(const nlohmann::json& j);

}  // namespace gist
