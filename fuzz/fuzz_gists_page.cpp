// A page of GitHub's GET /users/{login}/gists as the scan reads it: parse, then what the module
// does with each gist (its stored JSON, the API's view, ordering, deal title and note).
#include "fuzz_check.hpp"

#include "gist/deal_note.hpp"
#include "gist/deal_title.hpp"
#include "gist/gist.hpp"
#include "gist/github_gists_page.hpp"

#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    auto result = gist::parse_gists_page(body);
    if (const auto* error = std::get_if<gist::PageParseError>(&result)) {
        FUZZ_CHECK(!error->message.empty());
        FUZZ_CHECK(error->message.size() < 200);  // never echoes the body beyond a short preview
        return 0;
    }
    auto& gists = std::get<std::vector<gist::Gist>>(result);
    for (const gist::Gist& g : gists) {
        FUZZ_CHECK(!g.id.empty());
        // What the store writes to Redis and reads back (strings from JSON are valid UTF-8).
        const nlohmann::json j = gist::to_json(g);
        const std::string text = j.dump();
        const gist::Gist back = gist::gist_from_json(nlohmann::json::parse(text));
        FUZZ_CHECK(back.id == g.id && back.html_url == g.html_url && back.description == g.description &&
                   back.files == g.files && back.truncated == g.truncated &&
                   back.created_at == g.created_at && back.updated_at == g.updated_at);
        const std::string title = gist::deal_title(g, "octocat");
        FUZZ_CHECK(fuzz::valid_utf8(title));
        FUZZ_CHECK(gist::is_deal_title_for_gist(title, g.id));  // the id is kept verbatim
        const std::string prefix = "Gist " + g.id + " by octocat: ";
        if (title.size() > prefix.size()) {
            FUZZ_CHECK(title.compare(0, prefix.size(), prefix) == 0);
            FUZZ_CHECK(fuzz::no_line_breaks_or_controls(std::string_view(title).substr(prefix.size())));
        }
        FUZZ_CHECK(title.size() <= gist::max_deal_title_bytes || title == "Gist " + g.id);
        FUZZ_CHECK(fuzz::valid_utf8(gist::deal_note_html(g, "octocat")));
    }
    const std::size_t n = gists.size();
    gist::sort_newest_first(gists);
    FUZZ_CHECK(gists.size() == n);
    auto again = gists;
    gist::sort_newest_first(again);  // a total order: sorting twice changes nothing
    for (std::size_t i = 0; i < n; ++i) {
        FUZZ_CHECK(again[i].id == gists[i].id && again[i].created_at == gists[i].created_at);
    }
    return 0;
}
