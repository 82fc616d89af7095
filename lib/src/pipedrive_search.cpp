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

// The smallest positive integer id among `entities` whose string `field` match() accepts.
template <typename Match>
PipedriveSearchResult smallest_match(const nlohmann::json& entities, bool wrapped,
                                     const std::string& field, Match match) {
    PipedriveSearchResult result;
    result.kind = PipedriveSearchResult::Kind::not_found;
    for (const auto& entry : entities) {
        if (wrapped && !(entry.is_object() && entry.contains("item"))) {
            continue;
        }
        const auto& item = wrapped ? entry["item"] : entry;
        if (!item.is_object() || !item.contains("id") || !item["id"].is_number_integer() ||
            !item.contains(field) || !item[field].is_string()) {
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

// Search bodies: {"data": {"items": [{"item": {...}}, ...]}}.
template <typename Match>
PipedriveSearchResult search(std::string_view body, const std::string& field, Match match) {
    const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("data")) {
        return {};  // malformed
    }
    const auto& data = j["data"];
    if (data.is_null()) {
        return {PipedriveSearchResult::Kind::not_found, 0};
    }
    if (!data.is_object() || !data.contains("items") || !data["items"].is_array()) {
        return {};
    }
    return smallest_match(data["items"], true, field, match);
}

// List bodies: {"data": [{...}, ...]}.
template <typename Match>
PipedriveSearchResult list(std::string_view body, const std::string& field, Match match) {
    const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("data")) {
        return {};
    }
    const auto& data = j["data"];
    if (data.is_null()) {
        return {PipedriveSearchResult::Kind::not_found, 0};
    }
    if (!data.is_array()) {
        return {};
    }
    return smallest_match(data, false, field, match);
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

PipedriveSearchResult find_person_in_list(std::string_view body, std::string_view login) {
    return list(body, "name",
                [&](const std::string& name) { return equals_ignoring_ascii_case(name, login); });
}

PipedriveSearchResult find_deal_in_list(std::string_view body, std::string_view gist_id) {
    return list(body, "title", [&](const std::string& title) {
        return is_deal_title_for_gist(title, gist_id);
    });
}

PipedriveSearchResult find_note_in_list(std::string_view body, std::string_view gist_id) {
    return list(body, "content", [&](const std::string& content) {
        return !gist_id.empty() && content.find("GitHub gist") != std::string::npos &&
               content.find(gist_id) != std::string::npos;
    });
}

}  // namespace gist
