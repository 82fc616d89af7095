#include "gist/api_response.hpp"

#include <nlohmann/json.hpp>

namespace gist {

ApiResponse json_response(int status, const nlohmann::json& body) {
    ApiResponse response;
    response.status = status;
    // Replace invalid UTF-8 rather than throw: GitHub text is echoed back to clients.
    response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return response;
}

ApiResponse error_response(int status, std::string_view code, std::string_view message) {
    return json_response(status, {{"error", code}, {"message", message}});
}

}  // namespace gist
