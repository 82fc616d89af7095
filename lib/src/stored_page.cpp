#include "gist/stored_page.hpp"

#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

namespace gist {

namespace {

using nlohmann::json;

constexpr std::string_view kGistBase = "https://gist.github.com/";

// [id, html_url ("" when it is the usual https://gist.github.com/<id>), description, [files],
//  created_at, updated_at] plus 1 when truncated: about half the size of the object form.
json compact(const Gist& g) {
    const bool usual = g.html_url.size() == kGistBase.size() + g.id.size() &&
                       g.html_url.compare(0, kGistBase.size(), kGistBase) == 0 &&
                       g.html_url.compare(kGistBase.size(), std::string::npos, g.id) == 0;
    json row = json::array({g.id, usual ? std::string() : g.html_url,
                            g.description ? json(*g.description) : json(nullptr), g.files, g.created_at,
                            g.updated_at});
    if (g.truncated) {
        row.push_back(1);
    }
    return row;
}

std::string text_at(const json& row, std::size_t i) {
    if (!row.at(i).is_string()) {
        throw std::runtime_error("stored pages: field " + std::to_string(i) + " is not a string");
    }
    return row.at(i).get<std::string>();
}

Gist from_compact(const json& row) {
    if (!row.is_array() || row.size() < 6) {
        throw std::runtime_error("stored pages: a gist is not a row of 6");
    }
    Gist g;
    g.id = text_at(row, 0);
    g.html_url = text_at(row, 1);
    if (g.html_url.empty()) {
        g.html_url = std::string(kGistBase) + g.id;
    }
    if (!row[2].is_null()) {
        g.description = text_at(row, 2);
    }
    if (!row[3].is_array()) {
        throw std::runtime_error("stored pages: files is not an array");
    }
    for (const auto& f : row[3]) {
        if (!f.is_string()) {
            throw std::runtime_error("stored pages: a file name is not a string");
        }
        g.files.push_back(f.get<std::string>());
    }
    g.created_at = text_at(row, 4);
    g.updated_at = text_at(row, 5);
    g.truncated = row.size() > 6 && row[6] == 1;
    return g;
}

std::string member(const json& page, const char* name) {
    const auto it = page.find(name);
    return it != page.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

json pages_to_json(const std::vector<StoredPage>& pages) {
    auto out = json::array();
    for (const auto& page : pages) {
        auto gists = json::array();
        for (const auto& g : page.gists) {
            gists.push_back(compact(g));
        }
        json item = {{"u", page.url}, {"g", std::move(gists)}};
        if (!page.etag.empty()) {
            item["e"] = page.etag;
        }
        if (!page.next.empty()) {
            item["n"] = page.next;
        }
        out.push_back(std::move(item));
    }
    return json{{"v", 2}, {"p", std::move(out)}};
}

std::string pages_to_text(const std::vector<StoredPage>& pages) {
    return pages_to_json(pages).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<StoredPage> pages_from_json(const json& j) {
    // Version 2 ({"v":2,"p":[…]}, compact rows) since issue 8; the object form before it.
    const bool v2 = j.is_object() && j.value("v", 0) == 2;
    const json& list = v2 ? j.at("p") : j;
    if (!list.is_array()) {
        throw std::runtime_error("stored pages: not an array");
    }
    std::vector<StoredPage> pages;
    pages.reserve(list.size());
    for (const auto& item : list) {
        if (!item.is_object()) {
            throw std::runtime_error("stored pages: page is not an object");
        }
        StoredPage page;
        page.url = member(item, v2 ? "u" : "url");
        page.etag = member(item, v2 ? "e" : "etag");
        page.next = member(item, v2 ? "n" : "next");
        const auto gists = item.find(v2 ? "g" : "gists");
        if (gists != item.end() && gists->is_array()) {
            for (const auto& g : *gists) {
                page.gists.push_back(v2 ? from_compact(g) : gist_from_json(g));
            }
        }
        pages.push_back(std::move(page));
    }
    return pages;
}

}  // namespace gist
