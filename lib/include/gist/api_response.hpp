// What the HTTP API answers: a status, a few headers and a JSON body.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gist {

struct ApiResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
    std::string body;                                          // JSON, or empty for 204
    std::string content_type;                                  // empty: application/json
};

ApiResponse json_response(int status, const nlohmann::json& body);
// {"error": code, "message": message}
ApiResponse error_response(int status, std::string_view code, std::string_view message);

}  // namespace gist
