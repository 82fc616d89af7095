#include "gist/pipedrive_settings.hpp"

#include <cmath>
#include <string_view>

namespace gist {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

std::string check_url(std::string_view url) {
    std::string_view rest;
    if (starts_with(url, "https://")) {
        rest = url.substr(8);
    } else if (starts_with(url, "http://")) {
        rest = url.substr(7);
    } else {
        return "gist_pipedrive_api_url must start with https:// or http://";
    }
    while (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
    }
    if (rest.empty() || rest.front() == '/') {
        return "gist_pipedrive_api_url has no host";
    }
    for (char c : rest) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '?' || c == '#' || c == ' ' || u < 0x21 || u == 0x7f) {
            return "gist_pipedrive_api_url must be a plain base URL (no query, fragment or spaces)";
        }
    }
    return {};
}

}  // namespace

std::string check_pipedrive_settings(const PipedriveSettings& s) {
    if (std::string problem = check_url(s.api_url); !problem.empty()) {
        return problem;
    }
    if (s.token.empty()) {
        return "the Pipedrive API token is empty";
    }
    for (char c : s.token) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) {
            return "the Pipedrive API token contains spaces or control characters";
        }
    }
    if (s.timeout.count() <= 0) {
        return "the Pipedrive timeout must be positive";
    }
    for (const auto* id : {&s.pipeline_id, &s.stage_id, &s.owner_id}) {
        if (*id && **id <= 0) {
            return "Pipedrive pipeline, stage and owner ids must be positive integers";
        }
    }
    if (s.value && (!std::isfinite(*s.value) || *s.value < 0)) {
        return "the deal value must be a finite number >= 0";
    }
    if (s.currency) {
        const std::string& c = *s.currency;
        bool ok = c.size() == 3;
        for (char ch : c) {
            ok = ok && ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'));
        }
        if (!ok) {
            return "the deal currency must be a three-letter ISO 4217 code";
        }
    }
    if (s.visible_to && *s.visible_to != 1 && *s.visible_to != 3 && *s.visible_to != 5 &&
        *s.visible_to != 7) {
        return "visible_to must be 1, 3, 5 or 7";
    }
    return {};
}

}  // namespace gist
