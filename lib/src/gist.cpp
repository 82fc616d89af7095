#include "gist/gist.hpp"

#include "gist/rfc3339.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

namespace gist {

namespace {

const std::string& required_string(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
        throw std::runtime_error(std::string("gist: \"") + key + "\" must be a string");
    }
    return it->get_ref<const std::string&>();
}

}  // namespace

bool is_gist_id(std::string_view id) {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    for (char c : id) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

bool is_gist_html_url(std::string_view url) {
    constexpr std::string_view origin = "https://gist.github.com/";
    if (url.size() <= origin.size() || url.size() > 256 || url.substr(0, origin.size()) != origin) {
        return false;
    }
    for (char c : url.substr(origin.size())) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
                        c == '.' || c == '_' || c == '~' || c == '/';
        if (!ok) {
            return false;
        }
    }
    return true;
}

nlohmann::json to_json(const Gist& gist) {
    nlohmann::json j = nlohmann::json::object();
    j["id"] = gist.id;
    j["html_url"] = gist.html_url;
    j["description"] = gist.description ? nlohmann::json(*gist.description) : nlohmann::json(nullptr);
    j["files"] = gist.files;
    if (gist.truncated) {
        j["truncated"] = true;
    }
    j["created_at"] = gist.created_at;
    j["updated_at"] = gist.updated_at;
    return j;
}

Gist gist_from_json(const nlohmann::json& j) {
    if (!j.is_object()) {
        throw std::runtime_error("gist: not a JSON object");
    }
    Gist g;
    g.id = required_string(j, "id");
    if (g.id.empty()) {
        throw std::runtime_error("gist: empty \"id\"");
    }
    g.html_url = required_string(j, "html_url");
    g.created_at = required_string(j, "created_at");
    g.updated_at = required_string(j, "updated_at");

    // Missing is tolerated like null: older stored state may predate the field.
    if (const auto it = j.find("description"); it != j.end() && !it->is_null()) {
        if (!it->is_string()) {
            throw std::runtime_error("gist: \"description\" must be a string or null");
        }
        g.description = it->get<std::string>();
    }

    const auto files = j.find("files");
    if (files == j.end() || !files->is_array()) {
        throw std::runtime_error("gist: \"files\" must be an array");
    }
    g.files.reserve(files->size());
    for (const auto& f : *files) {
        if (!f.is_string()) {
            throw std::runtime_error("gist: \"files\" must contain only strings");
        }
        g.files.push_back(f.get<std::string>());
    }

    if (const auto it = j.find("truncated"); it != j.end()) {
        if (!it->is_boolean()) {
            throw std::runtime_error("gist: \"truncated\" must be a boolean");
        }
        g.truncated = it->get<bool>();
    }
    return g;
}

void sort_newest_first(std::vector<Gist>& gists) {
    // Compare instants, not text, so "+01:00" offsets or fractions order correctly; text that does
    // not parse sorts after every parsable time (by text), which keeps the order a strict weak one.
    struct Key {
        bool parsed;
        std::chrono::system_clock::time_point time;
        std::size_t index;
    };
    std::vector<Key> keys;
    keys.reserve(gists.size());
    for (std::size_t i = 0; i < gists.size(); ++i) {
        const auto t = parse_rfc3339(gists[i].created_at);
        keys.push_back({t.has_value(), t.value_or(std::chrono::system_clock::time_point{}), i});
    }
    std::stable_sort(keys.begin(), keys.end(), [&gists](const Key& a, const Key& b) {
        if (a.parsed != b.parsed) {
            return a.parsed;
        }
        if (a.parsed && a.time != b.time) {
            return a.time > b.time;
        }
        const Gist& ga = gists[a.index];
        const Gist& gb = gists[b.index];
        if (!a.parsed && ga.created_at != gb.created_at) {
            return ga.created_at > gb.created_at;
        }
        return ga.id > gb.id;
    });
    std::vector<Gist> sorted;
    sorted.reserve(gists.size());
    for (const Key& k : keys) {
        sorted.push_back(std::move(gists[k.index]));
    }
    gists = std::move(sorted);
}

}  // namespace gist
