// The HTTP API, independent of NGINX: the glue hands in (endpoint, method, login) and writes out
// the ApiResponse it gets back.
#pragma once

#include "gist/api_response.hpp"
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
#include <string>

namespace gist {

enum class Endpoint { user, tracked_users, health, deals, metrics };

struct ApiRequest {
    Endpoint endpoint = Endpoint::health;
    std::string method;              // "GET", "HEAD", "POST", "DELETE", …
    std::string login;               // the raw path segment for Endpoint::user
    std::int64_t content_length = -1;  // -1: none / unknown
    std::string path;                // Endpoint::deals: the URI after the location's prefix
    std::string args;                // the query string (without '?')
};

struct ApiSettings {
    GithubSettings github;
    std::string redis_prefix = "gist:";
    std::int64_t max_body_bytes = 64 * 1024;
    // Pipedrive deals: off, or a deal per new gist (skip: not for a new user's existing gists).
    DealsMode deals = DealsMode::off;
    // How long POST /user waits for the deals of its new gists before answering "pending".
    std::chrono::milliseconds deal_wait{2000};
    // Background rescans (docs/rescan.md); 0: off. Also decides whether next_scan_at is shown.
    std::chrono::milliseconds rescan_interval{0};
    // Called after a scan queued deal jobs (the local DealWorker starts on them at once).
    std::function<void()> jobs_queued;
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

    static const char* allowed_methods(Endpoint endpoint);

    struct Impl;  // defined in api.cpp; public only so the operations there can name it

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace gist
