// One public gist as this product reports it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gist {

struct Gist {
    std::string id;
    std::string html_url;
    std::optional<std::string> description;  // GitHub's is nullable
    std::vector<std::string> files;          // file names, in GitHub's order
    bool truncated = false;                  // GitHub listed only the first 300 files
    std::string created_at;                  // as GitHub sent it (RFC 3339)
    std::string updated_at;
};

// {"id","html_url","description"(string|null),"files":[...],"created_at","updated_at"}
// plus "truncated": true only when set.
nlohmann::json to_json(const Gist& gist);
// Inverse of to_json (used for state stored in Redis). Throws std::runtime_error on bad input.
Gist gist_from_json(const nlohmann::json& j);

// Newest first: by created_at descending, then id descending, so output is deterministic.
void sort_newest_first(std::vector<Gist>& gists);

}  // namespace gist
