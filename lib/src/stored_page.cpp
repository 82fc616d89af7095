#include "gist/stored_page.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace gist {

nlohmann::json pages_to_json(const std::vector<StoredPage>& pages) {
    auto out = nlohmann::json::array();
    for (const auto& page : pages) {
        auto gists = nlohmann::json::array();
        for (const auto& g : page.gists) {
            gists.push_back(to_json(g));
        }
        out.push_back({{"url", page.url}, {"etag", page.etag}, {"next", page.next}, {"gists", std::move(gists)}});
    }
    return out;
}

std::vector<StoredPage> pages_from_json(const nlohmann::json& j) {
    if (!j.is_array()) {
        throw std::runtime_error("stored pages: not an array");
    }
    std::vector<StoredPage> pages;
    pages.reserve(j.size());
    for (const auto& item : j) {
        if (!item.is_object()) {
            throw std::runtime_error("stored pages: page is not an object");
        }
        StoredPage page;
        page.url = item.value("url", "");
        page.etag = item.value("etag", "");
        page.next = item.value("next", "");
        const auto gists = item.find("gists");
        if (gists != item.end() && gists->is_array()) {
            for (const auto& g : *gists) {
                page.gists.push_back(gist_from_json(g));
            }
        }
        pages.push_back(std::move(page));
    }
    return pages;
}

}  // namespace gist
