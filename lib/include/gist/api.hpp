// The HTTP API, independent of NGINX: the glue hands in (endpoint, method, login) and writes out
// the ApiResponse it gets back.
#pragma once

#include "gist/api_response.hpp"
#include "gist/change_signal.hpp"
#include "gist/event_loop.hpp"
#include "gist/gist_store.hpp"
#include "gist/github_request.hpp"
#include "gist/http_client.hpp"
#include "gist/logger.hpp"
#include "gist/redis_client.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace gist {

enum class Endpoint { user, tracked_users, health, deals, metrics };

struct ApiRequest {
    Endpoint endpoint = Endpoint::health;
    std::string method;              // "GET", "HEAD", "POST", "DELETE", …
    std::string login;               // the raw path segment for Endpoint::user
    std::int64_t content_length = -1;  // -1: none / unknown
    std::string query;               // the URL's query string, without '?'
    std::string if_none_match;       // the If-None-Match field value, empty when absent
    std::string path;                // Endpoint::deals: the URI after the location's prefix
};

struct ApiSettings {
    GithubSettings github;
    std::string redis_prefix = "gist:";
    std::int64_t max_body_bytes = 64 * 1024;
    // Pipedrive deals: off, or a deal per new gist (skip: not for a new user's existing gists).
    DealsMode deals = DealsMode::off;
    // More new gists than this in one scan share one summary deal; 0: no limit.
    std::int64_t max_deals_per_scan = 50;
    // How long POST /user waits for the deals of its new gists before answering "pending".
    std::chrono::milliseconds deal_wait{2000};
    // Background rescans (docs/rescan.md); 0: off. Also decides whether next_scan_at is shown.
    std::chrono::milliseconds rescan_interval{0};
    // Called after a scan queued deal jobs (the local DealWorker starts on them at once).
    std::function<void()> jobs_queued;
    // GET /trackedusers: default and largest page.
    std::size_t tracked_users_page_size = 1000;
    // Rendered answers of GET /trackedusers and GET /user are reused this long; 0: never.
    std::chrono::milliseconds cache_ttl{1000};
    // Moves when tracked users change (the instance's workers share it); null: this process only.
    ChangeSignal* changes = nullptr;
    // The company's Pipedrive, for the console's deal links (GET /deals); empty when deals are off.
    std::string pipedrive_url;
};

// A request in progress. Destroying it cancels the request: its callback never runs.
class ApiCall {
public:
    virtual ~ApiCall() = default;
};

class Api {
public:
    using Callback = std::function<void(ApiResponse)>;

    Api(EventLoop& loop, HttpClient& http, RedisClient& redis, Logger& log, ApiSettings settings);
    ~Api();
    Api(const Api&) = delete;
    Api& operator=(const Api&) = delete;

    // The callback always runs later from the event loop (never inside handle()).
    std::unique_ptr<ApiCall> handle(const ApiRequest& request, Callback on_done);

    // The answer to a read, when one rendered a moment ago may be reused (docs/read-path.md):
    // with If-None-Match matching, a 304. nullopt: call handle().
    std::optional<ApiResponse> cached_answer(const ApiRequest& request);

    static const char* allowed_methods(Endpoint endpoint);

    struct Impl;  // defined in api.cpp; public only so the operations there can name it

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace gist
