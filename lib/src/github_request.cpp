#include "gist/github_request.hpp"

#include <utility>

namespace gist {

namespace {

// A value with CR/LF/NUL would let stored data inject headers; such an ETag is simply not sent.
bool is_safe_header_value(std::string_view value) {
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 && c != '\t') {
            return false;
        }
        if (u == 0x7f) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string first_gists_page_url(const GithubSettings& settings, std::string_view login) {
    std::string_view base = settings.api_url;
    while (!base.empty() && base.back() == '/') {  // tolerate a configured trailing slash
        base.remove_suffix(1);
    }
    std::string url;
    url.reserve(base.size() + login.size() + 32);
    url.append(base).append("/users/").append(login).append("/gists?per_page=100");
    return url;
}

HttpRequest github_get(const GithubSettings& settings, std::string url, std::string_view etag) {
    HttpRequest req;
    req.method = "GET";
    req.url = std::move(url);
    req.timeout = settings.timeout;
    // GitHub rejects requests without a User-Agent.
    req.headers.emplace_back("User-Agent",
                             settings.user_agent.empty() ? "ngx_gist_module" : settings.user_agent);
    req.headers.emplace_back("Accept", "application/vnd.github+json");
    req.headers.emplace_back("X-GitHub-Api-Version", "2022-11-28");
    if (!settings.token.empty()) {
        req.headers.emplace_back("Authorization", "Bearer " + settings.token);
    }
    if (!etag.empty() && is_safe_header_value(etag)) {
        req.headers.emplace_back("If-None-Match", std::string(etag));
    }
    return req;
}

}  // namespace gist
