#include "gist/pipedrive_request.hpp"

#include "gist/deal_text.hpp"

#include <utility>

#include <nlohmann/json.hpp>

namespace gist {

namespace {

std::string_view base_of(const PipedriveSettings& settings) {
    std::string_view base = settings.api_url;
    while (!base.empty() && base.back() == '/') {
        base.remove_suffix(1);
    }
    return base;
}

// A token with CR/LF would inject headers; such a token is not sent (Pipedrive then says 401).
bool is_safe_header_value(std::string_view value) {
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            return false;
        }
    }
    return true;
}

HttpRequest base_request(const PipedriveSettings& settings, std::string method, std::string path) {
    HttpRequest req;
    req.method = std::move(method);
    req.url = std::string(base_of(settings)) + path;
    req.timeout = settings.timeout;
    if (!settings.token.empty() && is_safe_header_value(settings.token)) {
        req.headers.emplace_back("x-api-token", settings.token);
    }
    req.headers.emplace_back("Accept", "application/json");
    return req;
}

HttpRequest json_request(const PipedriveSettings& settings, std::string path,
                         const nlohmann::json& body) {
    HttpRequest req = base_request(settings, "POST", std::move(path));
    req.headers.emplace_back("Content-Type", "application/json");
    // Text was sanitised already; "replace" is a second guard so dump() can never throw.
    req.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return req;
}

}  // namespace

std::string pipedrive_url_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 0x0F]);
        }
    }
    return out;
}

HttpRequest pipedrive_create_deal_request(const PipedriveSettings& settings, std::string_view title,
                                          std::optional<std::int64_t> person_id) {
    nlohmann::json body = nlohmann::json::object();
    body["title"] = sanitize_utf8(title);
    if (person_id) {
        body["person_id"] = *person_id;
    }
    if (settings.owner_id) {
        body["owner_id"] = *settings.owner_id;
    }
    if (settings.pipeline_id) {
        body["pipeline_id"] = *settings.pipeline_id;
    }
    if (settings.stage_id) {
        body["stage_id"] = *settings.stage_id;
    }
    if (settings.value) {
        body["value"] = *settings.value;
    }
    if (settings.currency) {
        body["currency"] = sanitize_utf8(*settings.currency);
    }
    if (settings.visible_to) {
        body["visible_to"] = *settings.visible_to;
    }
    return json_request(settings, "/api/v2/deals", body);
}

HttpRequest pipedrive_search_person_request(const PipedriveSettings& settings,
                                            std::string_view login) {
    return base_request(settings, "GET",
                        "/api/v2/persons/search?term=" + pipedrive_url_encode(login) +
                            "&fields=name&exact_match=true");
}

HttpRequest pipedrive_create_person_request(const PipedriveSettings& settings,
                                            std::string_view login) {
    nlohmann::json body = nlohmann::json::object();
    body["name"] = sanitize_utf8(login);
    if (settings.owner_id) {
        body["owner_id"] = *settings.owner_id;
    }
    if (settings.visible_to) {
        body["visible_to"] = *settings.visible_to;
    }
    return json_request(settings, "/api/v2/persons", body);
}

HttpRequest pipedrive_search_deal_request(const PipedriveSettings& settings,
                                          std::string_view gist_id,
                                          std::optional<std::int64_t> person_id) {
    std::string path = "/api/v2/deals/search?term=" + pipedrive_url_encode(gist_id) +
                       "&fields=title&exact_match=false";
    if (person_id) {
        path += "&person_id=" + std::to_string(*person_id);
    }
    return base_request(settings, "GET", std::move(path));
}

HttpRequest pipedrive_list_deals_request(const PipedriveSettings& settings, std::int64_t person_id,
                                         std::string_view updated_since) {
    return base_request(settings, "GET",
                        "/api/v2/deals?person_id=" + std::to_string(person_id) +
                            "&updated_since=" + pipedrive_url_encode(updated_since) +
                            "&sort_by=add_time&sort_direction=desc&limit=100");
}

HttpRequest pipedrive_list_persons_request(const PipedriveSettings& settings,
                                           std::string_view updated_since) {
    return base_request(settings, "GET",
                        "/api/v2/persons?updated_since=" + pipedrive_url_encode(updated_since) +
                            "&sort_by=add_time&sort_direction=desc&limit=100");
}

HttpRequest pipedrive_list_notes_request(const PipedriveSettings& settings, std::int64_t deal_id) {
    return base_request(settings, "GET",
                        "/api/v1/notes?deal_id=" + std::to_string(deal_id) + "&limit=100");
}

HttpRequest pipedrive_create_note_request(const PipedriveSettings& settings, std::int64_t deal_id,
                                          std::string_view content_html) {
    nlohmann::json body = nlohmann::json::object();
    body["content"] = sanitize_utf8(content_html);
    body["deal_id"] = deal_id;
    return json_request(settings, "/api/v1/notes", body);
}

std::string pipedrive_request_log_line(const HttpRequest& request) {
    std::string url = request.url;
    // Mask api_token=... wherever it appears in the query (it never should).
    for (std::size_t pos = url.find("api_token="); pos != std::string::npos;
         pos = url.find("api_token=", pos)) {
        const std::size_t value = pos + 10;
        std::size_t end = url.find_first_of("&#", value);
        if (end == std::string::npos) {
            end = url.size();
        }
        url.replace(value, end - value, "***");
        pos = value + 3;
    }
    return request.method + " " + url;
}

}  // namespace gist
