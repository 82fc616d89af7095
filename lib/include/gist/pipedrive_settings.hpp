// What the module needs to know to talk to one Pipedrive company account.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace gist {

struct PipedriveSettings {
    // Company base, e.g. "https://example.pipedrive.com" (no trailing slash; one is tolerated).
    // Requests go to {api_url}/api/v2/... and {api_url}/api/v1/notes. Empty: deals are off.
    std::string api_url;
    std::string token;  // sent only as the x-api-token header; never logged
    std::chrono::milliseconds timeout{10000};

    // Optional deal fields an admin may set; each is left out of the request when unset, so
    // Pipedrive applies its own default (first pipeline/stage, the token owner, …).
    std::optional<std::int64_t> pipeline_id;
    std::optional<std::int64_t> stage_id;
    std::optional<std::int64_t> owner_id;   // also the owner of persons the module creates
    std::optional<double> value;
    std::optional<std::string> currency;    // ISO 4217, e.g. "EUR"
    std::optional<int> visible_to;          // 1, 3, 5 or 7; also used for created persons

    bool enabled() const { return !api_url.empty(); }
};

// Configuration-time check; returns an empty string when the settings are usable, else the
// first problem (never containing the token). Rules: api_url is http:// or https:// with a host
// and no query/fragment; token non-empty without control characters or spaces; ids > 0;
// value finite and >= 0; currency three ASCII letters; visible_to one of 1, 3, 5, 7; timeout > 0.
std::string check_pipedrive_settings(const PipedriveSettings& settings);

}  // namespace gist
