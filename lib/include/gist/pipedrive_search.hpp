// Reading Pipedrive search results (GET /api/v2/persons/search, GET /api/v2/deals/search).
#pragma once

#include <cstdint>
#include <string_view>

namespace gist {

struct PipedriveSearchResult {
    enum class Kind {
        found,      // id holds the match
        not_found,  // a well-formed answer without a match (e.g. empty data.items)
        malformed,  // not the documented shape: never treat as "not found" (it would create twice)
    };
    Kind kind = Kind::malformed;
    std::int64_t id = 0;

    bool found() const { return kind == Kind::found; }
};

// Body of a successful persons/search: {"data": {"items": [{"item": {"id", "name", …}}, …]}}.
// Matches items whose name equals `login` ignoring ASCII case (exact_match is case-insensitive
// too) and returns the smallest id, so concurrent workers settle on the same person even if a
// duplicate exists. "data": null counts as no items.
PipedriveSearchResult find_person_in_search(std::string_view body, std::string_view login);

// Body of a successful deals/search: the smallest id among items whose title
// is_deal_title_for_gist(title, gist_id) — the term search is fuzzy, the check is exact.
PipedriveSearchResult find_deal_in_search(std::string_view body, std::string_view gist_id);

// Bodies of the list endpoints (GET /api/v2/persons, GET /api/v2/deals): {"data": [{…}, …]}.
// Same matching rules as above, on data[].name and data[].title. "data": null counts as empty.
PipedriveSearchResult find_person_in_list(std::string_view body, std::string_view login);
PipedriveSearchResult find_deal_in_list(std::string_view body, std::string_view gist_id);

// Body of GET /api/v1/notes?deal_id=N: a note this module wrote for the gist is one whose
// content contains "GitHub gist" and the gist id (see deal_note_html).
PipedriveSearchResult find_note_in_list(std::string_view body, std::string_view gist_id);

}  // namespace gist
