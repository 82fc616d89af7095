// What one Pipedrive response means for the job that sent the request.
#pragma once

#include "gist/http.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gist {

enum class PipedriveOutcome {
    ok,         // 2xx, {"success": true, ...}; for creates also an integer data.id
    retry,      // nothing was done: try again later (429, 503, 408, connect error, timeout
                // before the request was written, searches failing in any transient way)
    ambiguous,  // a create may have happened: search before creating again
    permanent,  // retrying cannot help: dead-letter with `reason`
};

// Creates (POST deals/persons/notes) and searches (GET …/search) fail differently: a search
// that went wrong changed nothing, so its "ambiguous" cases are plain retries.
enum class PipedriveCall { create, search };

struct PipedriveVerdict {
    PipedriveOutcome outcome = PipedriveOutcome::retry;
    long status = 0;                       // HTTP status, 0 when none arrived
    std::optional<std::int64_t> id;        // ok + create: the new entity's data.id
    // retry/ambiguous: how long the server asked us to wait (Retry-After, else for 429 the
    // x-ratelimit-reset seconds); at least 1 s when present. nullopt: use the backoff policy.
    std::optional<std::chrono::seconds> retry_after;
    // Short machine-readable cause: "ok", "timeout", "connect", "http_503", "rate_limited",
    // "bad_response", or for errors Pipedrive's own code (e.g. "feature_capping_deals_limit")
    // when its envelope carries one, else "http_<status>".
    std::string reason;
    // One line for logs and the API's deal "error" field: e.g.
    // "Pipedrive HTTP 403: Couldn't add the deal. Open deals limit reached. (feature_capping_deals_limit)".
    // At most ~300 bytes, valid UTF-8, never any request header.
    std::string detail;
};

// Decision table (see docs/pipedrive-outbox.md):
//   transport connect error                     → retry
//   timeout / other transport error, not sent   → retry
//   timeout / other / too_large, request sent   → ambiguous (create) | retry (search)
//   2xx, success:true (+ data.id for create)    → ok
//   2xx otherwise (garbage, success:false, no id) → ambiguous (create) | retry (search)
//   429                                         → retry, retry_after from Retry-After or x-ratelimit-reset
//   408, 503                                    → retry (the request was not processed)
//   other 5xx                                   → ambiguous (create: a gateway error may follow a
//                                                 completed insert) | retry (search)
//   3xx, 400, 401, 402, 403, 404, 405, 410, 415, 422 and any other 4xx → permanent
PipedriveVerdict classify_pipedrive_response(const HttpResponse& response,
                                             std::chrono::system_clock::time_point now,
                                             PipedriveCall call = PipedriveCall::create);

std::string_view to_string(PipedriveOutcome outcome);

// Retry-After as delta-seconds or an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), relative to
// now; nullopt when absent or unparsable. A date in the past gives 0.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

}  // namespace gist
