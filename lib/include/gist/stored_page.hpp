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

nlohmann::json pages_to_json(const std::vector<StoredPage>& pages);
// Throws std::runtime_error when the stored text is not what pages_to_json wrote.
std::vector<StoredPage> pages_from_json(const nlohmann::json& j);

}  // namespace gist
