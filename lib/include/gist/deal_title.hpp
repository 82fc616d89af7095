// The Pipedrive deal title for a gist: "Gist <id> by <login>: <what>".
#pragma once

#include "gist/gist.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gist {

// Pipedrive documents no maximum for a deal title in its OpenAPI description; its text fields
// hold 255 characters. Counting bytes keeps us under that whatever the script.
inline constexpr std::size_t max_deal_title_bytes = 255;

// "Gist <id> by <login>: <what>", where <what> is the description on one line, else the first
// file name, else "(no description)". Only <what> is ever shortened (UTF-8 safe, ending in "…"),
// so the gist id, which a retry searches for, is always complete. Invalid UTF-8 becomes U+FFFD.
std::string deal_title(std::string_view gist_id, std::string_view login,
                       const std::optional<std::string>& description,
                       const std::vector<std::string>& files,
                       std::size_t max_bytes = max_deal_title_bytes);

std::string deal_title(const Gist& gist, std::string_view login);

// True when `title` is one this module made for `gist_id`: it starts with "Gist <id> by " or
// is exactly "Gist <id>" (a title shortened to its core). Used to recognise search hits.
bool is_deal_title_for_gist(std::string_view title, std::string_view gist_id);

}  // namespace gist
