#include "gist/github_gists_page.hpp"

#include <cstddef>
#include <utility>

#include <nlohmann/json.hpp>

namespace gist {

namespace {

// ordered_json keeps "files" keys in GitHub's order; plain json would sort them.
using Json = nlohmann::ordered_json;

// Up to 40 printable ASCII characters of the body, so a log shows "<!DOCTYPE html>…" without
// echoing a whole page or control characters.
std::string body_preview(std::string_view body) {
    constexpr std::size_t max_chars = 40;
    std::string out;
    for (char c : body.substr(0, max_chars)) {
        const auto u = static_cast<unsigned char>(c);
        out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
    }
    if (body.size() > max_chars) {
        out += "...";
    }
    return out;
}

std::string string_or_empty(const Json& obj, const char* key) {
    const auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

PageParseError error(std::string message) { return PageParseError{std::move(message)}; }

}  // namespace

std::variant<GistsPage, PageParseError> parse_gists_page(std::string_view body) {
    Json doc;
    try {
        doc = Json::parse(body.begin(), body.end());
    } catch (const Json::parse_error& e) {
        // e.what() quotes the offending token, which may be long; report only the position.
        return error("body is not JSON (byte " + std::to_string(e.byte) + "): \"" +
                     body_preview(body) + "\"");
    } catch (const Json::exception&) {  // out_of_range 406: a number a double cannot hold (1e999)
        return error("body is not JSON we can read (number out of range): \"" + body_preview(body) + "\"");
    }
    if (!doc.is_array()) {
        return error(std::string("body is a JSON ") + doc.type_name() + ", not an array");
    }

    GistsPage page;
    page.gists.reserve(doc.size());
    for (std::size_t i = 0; i < doc.size(); ++i) {
        const Json& item = doc[i];
        if (!item.is_object()) {
            return error("element " + std::to_string(i) + " is not an object");
        }
        const auto id = item.find("id");
        if (id == item.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
            return error("element " + std::to_string(i) + " has no string \"id\"");
        }

        Gist g;
        g.id = id->get<std::string>();
        g.html_url = string_or_empty(item, "html_url");
        if (!is_gist_id(g.id)) {
            page.dropped.push_back("element " + std::to_string(i) + ": invalid gist id \"" + body_preview(g.id) +
                                   "\"");
            continue;
        }
        if (!is_gist_html_url(g.html_url)) {
            page.dropped.push_back("gist " + g.id + ": html_url \"" + body_preview(g.html_url) +
                                   "\" is not on https://gist.github.com/");
            continue;
        }
        g.created_at = string_or_empty(item, "created_at");
        g.updated_at = string_or_empty(item, "updated_at");
        if (const auto d = item.find("description"); d != item.end() && d->is_string()) {
            g.description = d->get<std::string>();
        }
        if (const auto files = item.find("files"); files != item.end() && files->is_object()) {
            g.files.reserve(files->size());
            for (const auto& entry : files->items()) {
                g.files.push_back(entry.key());
            }
        }
        if (const auto t = item.find("truncated"); t != item.end() && t->is_boolean()) {
            g.truncated = t->get<bool>();
        }
        page.gists.push_back(std::move(g));
    }
    return page;
}

}  // namespace gist
