// Plain value types for one outbound HTTP exchange.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gist {

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;  // sent as given
    std::string body;                                          // sent when non-empty (or method != GET)
    std::chrono::milliseconds timeout{10000};                  // whole exchange
    std::chrono::milliseconds connect_timeout{5000};
};

enum class TransportError {
    none,         // an HTTP response arrived (any status)
    timeout,      // no complete response within the timeout
    connect,      // could not resolve or connect
    too_large,    // response body over the client's limit
    other,        // anything else curl reports
};

struct HttpResponse {
    TransportError error = TransportError::none;
    std::string error_message;  // curl's text when error != none; never contains secrets
    bool request_sent = false;  // true once the request was fully written (ambiguity for retries)
    long status = 0;
    // Header names in lower case. A repeated header keeps its last value.
    std::map<std::string, std::string> headers;
    std::string body;

    const std::string* header(std::string_view lower_name) const {
        auto it = headers.find(std::string(lower_name));
        return it == headers.end() ? nullptr : &it->second;
    }
};

}  // namespace gist
