// Building requests to GitHub's REST API.
#pragma once

#include "gist/http.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace gist {

struct GithubSettings {
    std::string api_url = "https://api.github.com";  // no trailing slash
    std::string token;                                 // empty: unauthenticated
    std::string user_agent = "ngx_gist_module";
    std::chrono::milliseconds timeout{10000};
    int max_pages = 10;
};

// {api_url}/users/{login}/gists?per_page=100 (login already validated; percent-encoding not needed).
std::string first_gists_page_url(const GithubSettings& settings, std::string_view login);

// GET `url` with User-Agent, Accept: application/vnd.github+json, X-GitHub-Api-Version: 2022-11-28,
// Authorization: Bearer <token> when a token is set, and If-None-Match when etag is non-empty.
HttpRequest github_get(const GithubSettings& settings, std::string url, std::string_view etag);

}  // namespace gist
