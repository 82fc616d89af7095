// RFC 3339 timestamps (GitHub's created_at/updated_at, stored times): parse, format, parse again,
// and the ordering of gists by them.
#include "fuzz_check.hpp"

#include "gist/gist.hpp"
#include "gist/rfc3339.hpp"

#include <chrono>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (const auto t = gist::parse_rfc3339(text)) {
        FUZZ_CHECK(text.size() >= 20);
        const std::string formatted = gist::format_rfc3339(*t);
        const auto back = gist::parse_rfc3339(formatted);
        FUZZ_CHECK(back.has_value());
        FUZZ_CHECK(*back == std::chrono::floor<std::chrono::seconds>(*t));
        FUZZ_CHECK(gist::format_rfc3339(*back) == formatted);
        (void)gist::epoch_ms(*t);
    }
    // Lines of the input as created_at values of gists: the sort is a strict weak order.
    std::vector<gist::Gist> gists;
    std::size_t start = 0;
    while (start <= text.size() && gists.size() < 64) {
        const std::size_t nl = std::min(text.find('\n', start), text.size());
        gist::Gist g;
        g.id = std::to_string(gists.size() % 7);
        g.created_at = std::string(text.substr(start, nl - start));
        gists.push_back(std::move(g));
        start = nl + 1;
    }
    gist::sort_newest_first(gists);
    auto again = gists;
    gist::sort_newest_first(again);
    for (std::size_t i = 0; i < gists.size(); ++i) {
        FUZZ_CHECK(again[i].id == gists[i].id && again[i].created_at == gists[i].created_at);
    }
    for (std::size_t i = 1; i < gists.size(); ++i) {
        const auto a = gist::parse_rfc3339(gists[i - 1].created_at);
        const auto b = gist::parse_rfc3339(gists[i].created_at);
        FUZZ_CHECK(a || !b);           // parsable times first
        if (a && b) FUZZ_CHECK(*a >= *b);  // newest first
    }
    return 0;
}
