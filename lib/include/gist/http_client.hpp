// Non-blocking HTTP client: libcurl's multi-socket API driven by an EventLoop.
#pragma once

#include "gist/event_loop.hpp"
#include "gist/http.hpp"
#include "gist/logger.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace gist {

struct HttpClientOptions {
    std::string ca_file;                    // empty: curl's default trust store
    std::size_t max_response_bytes = 8u << 20;
    long max_total_connections = 64;        // CURLMOPT_MAX_TOTAL_CONNECTIONS
};

// An in-flight request. Destroying the handle cancels the request; its callback then never runs.
class HttpCall {
public:
    virtual ~HttpCall() = default;
};

class HttpClient {
public:
    using Callback = std::function<void(HttpResponse)>;

    virtual ~HttpClient() = default;
    // The callback runs later, from the event loop, never from inside start().
    virtual std::unique_ptr<HttpCall> start(HttpRequest request, Callback on_done) = 0;
};

// The libcurl implementation. One per worker. The caller must have called
// curl_global_init(CURL_GLOBAL_DEFAULT) once before (NGINX: init_process; tests: the fixture),
// because it is not thread-safe and must not run per client. Callbacks run from the loop, never
// from inside start() or a curl callback, so they may start new requests and destroy any HttpCall.
// Destroying the client cancels everything still in flight; those callbacks never run.
// HttpResponse::request_sent is true when a response arrived, or when curl handed the whole
// request (headers and all body bytes) to the socket before failing (timeout, reset, no answer);
// it is false for connect/TLS failures and for requests cut off before their last byte.
// Response headers are those of the final response (interim 1xx headers are dropped); on any
// error the body is empty. Redirects are not followed; only http and https URLs are fetched.
std::unique_ptr<HttpClient> make_curl_http_client(EventLoop& loop, Logger& log,
                                                  HttpClientOptions options = {});

}  // namespace gist
