#include "gist/pipedrive_search.hpp"

#include "gist/deal_title.hpp"

#include <nlohmann/json.hpp>

namespace gist {

namespace {

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    const auto lower = [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

// Calls match(item) for each data.items[].item with an integer id and returns the smallest id
// among those it accepts.
template <typename Match>
PipedriveSearchResult search(std::string_view body, const std::string& field, Match match) {
    PipedriveSearchResult result;
    const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("data")) {
        return result;  // malformed
    }
    const auto& data = j["data"];
    if (data.is_null()) {
        result.kind = PipedriveSearchResult::Kind::not_found;
        return result;
    }
    if (!data.is_object() || !data.contains("items") || !data["items"].is_array()) {
        return result;
    }
    result.kind = PipedriveSearchResult::Kind::not_found;
    for (const auto& entry : data["items"]) {
        if (!entry.is_object() || !entry.contains("item") || !entry["item"].is_object()) {
            continue;
        }
        const auto& item = entry["item"];
        if (!item.contains("id") || !item["id"].is_number_integer() || !item.contains(field) ||
            !item[field].is_string()) {
            continue;
        }
        const auto id = item["id"].get<std::int64_t>();
        if (id <= 0 || !match(item[field].get_ref<const std::string&>())) {
            continue;
        }
        if (!result.found() || id < result.id) {
            result.kind = PipedriveSearchResult::Kind::found;
            result.id = id;
        }
    }
    return result;
}

}  // namespace

PipedriveSearchResult find_person_in_search(std::string_view body, std::string_view login) {
    return search(body, "name",
                  [&](const std::string& name) { return equals_ignoring_ascii_case(name, login); });
}

PipedriveSearchResult find_deal_in_search(std::string_view body, std::string_view gist_id) {
    return search(body, "title", [&](const std::string& title) {
        return is_deal_title_for_gist(title, gist_id);
    });
}

}  // namespace gist
