// One public gist as this product reports it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
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

// What GitHub sends is checked before it is stored or echoed: a gist id is 1 to 64 lowercase hex
// digits (GitHub's are 20 or 32), so it is safe in Redis keys, titles, logs and URLs.
bool is_gist_id(std::string_view id);
// "https://gist.github.com/" and a non-empty path of letters, digits, '-', '.', '_', '~' and '/'
// (no query, fragment, user info or escapes), at most 256 bytes: never another site or scheme.
bool is_gist_html_url(std::string_view url);

// {"id","html_url","description"(string|null),"files":[...],"created_at","updated_at"}
// plus "truncated": true only when set.
nlohmann::json to_json(const Gist& gist);
// Inverse of to_json (used for state stored in Redis). Throws std::runtime_error on bad input.
Gist gist_from_json(const nlohmann::json& j);

// Newest first: by created_at descending, then id descending, so output is deterministic.
void sort_newest_first(std::vector<Gist>& gists);

}  // namespace gist
