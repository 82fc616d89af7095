// The pages a scan stores in Redis (gist_store: JSON text -> pages_from_json) as they may come
// back from a Redis written by another version, edited by hand or truncated. Whatever the
// text, reading either yields pages or throws a std::exception (the store catches those); what
// was read survives a write and read again unchanged.
#include "fuzz_check.hpp"

#include "gist/stored_page.hpp"

#include <exception>
#include <string_view>

#include <nlohmann/json.hpp>

namespace {

bool same(const std::vector<gist::StoredPage>& a, const std::vector<gist::StoredPage>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].url != b[i].url || a[i].etag != b[i].etag || a[i].next != b[i].next ||
            a[i].gists.size() != b[i].gists.size())
            return false;
        for (std::size_t k = 0; k < a[i].gists.size(); ++k) {
            const auto &x = a[i].gists[k], &y = b[i].gists[k];
            if (x.id != y.id || x.html_url != y.html_url || x.description != y.description ||
                x.files != y.files || x.truncated != y.truncated || x.created_at != y.created_at ||
                x.updated_at != y.updated_at)
                return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<gist::StoredPage> pages;
    try {
        // As gist_store.cpp reads them: nlohmann::json::parse (throws on bad text).
        pages = gist::pages_from_json(nlohmann::json::parse(text));
    } catch (const std::exception&) {
        return 0;
    }
    const std::string again = gist::pages_to_json(pages).dump(-1, ' ', false,
                                                               nlohmann::json::error_handler_t::replace);
    std::vector<gist::StoredPage> back;
    try {
        back = gist::pages_from_json(nlohmann::json::parse(again));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "stored pages written by pages_to_json do not read back: %s\n", e.what());
        std::abort();
    }
    FUZZ_CHECK(same(pages, back));
    return 0;
}
