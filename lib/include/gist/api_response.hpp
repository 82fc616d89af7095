// What the HTTP API answers: a status, a few headers and a JSON body.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gist {

// What the access log shows of a request ($gist_login, $gist_github_requests, $gist_scan).
struct ApiLogInfo {
    std::string login;        // normalised; empty when the request names none (or an invalid one)
    int github_requests = 0;  // GitHub requests this request sent
    std::string scan;         // first, rescan (POST /user), cached (GET /user: Redis only), or empty
};

struct ApiResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
    std::string body;                                          // JSON, or empty for 204
    // Instead of body: an answer kept in memory and shared, written without a copy.
    std::shared_ptr<const std::string> shared_body;

    const std::string& text() const { return shared_body ? *shared_body : body; }
    std::string content_type;                                  // empty: application/json
    ApiLogInfo log;
};

ApiResponse json_response(int status, const nlohmann::json& body);
// {"error": code, "message": message}
ApiResponse error_response(int status, std::string_view code, std::string_view message);

}  // namespace gist
