#include "gist/github_request.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>

namespace gist {
namespace {

std::optional<std::string> header(const HttpRequest& req, std::string_view name) {
    std::optional<std::string> found;
    int count = 0;
    for (const auto& [n, v] : req.headers) {
        if (n == name) {
            found = v;
            ++count;
        }
    }
    EXPECT_LE(count, 1) << "duplicate header " << name;
    return found;
}

TEST(FirstGistsPageUrl, DefaultApi) {
    GithubSettings s;
    EXPECT_EQ(first_gists_page_url(s, "octocat"), "https://api.github.com/users/octocat/gists?per_page=100");
}

TEST(FirstGistsPageUrl, CustomApiAndTrailingSlash) {
    GithubSettings s;
    s.api_url = "http://127.0.0.1:8089";
    EXPECT_EQ(first_gists_page_url(s, "a-b"), "http://127.0.0.1:8089/users/a-b/gists?per_page=100");
    s.api_url = "https://ghe.example.com/api/v3/";
    EXPECT_EQ(first_gists_page_url(s, "x"), "https://ghe.example.com/api/v3/users/x/gists?per_page=100");
}

TEST(GithubGet, RequiredHeadersWithoutTokenOrEtag) {
    GithubSettings s;
    const HttpRequest req = github_get(s, "https://api.github.com/users/x/gists?per_page=100", "");
    EXPECT_EQ(req.method, "GET");
    EXPECT_EQ(req.url, "https://api.github.com/users/x/gists?per_page=100");
    EXPECT_TRUE(req.body.empty());
    EXPECT_EQ(header(req, "User-Agent"), "ngx_gist_module");
    EXPECT_EQ(header(req, "Accept"), "application/vnd.github+json");
    EXPECT_EQ(header(req, "X-GitHub-Api-Version"), "2022-11-28");
    EXPECT_EQ(header(req, "Authorization"), std::nullopt);
    EXPECT_EQ(header(req, "If-None-Match"), std::nullopt);
    EXPECT_EQ(req.headers.size(), 3u);
}

TEST(GithubGet, AuthorizationOnlyWithToken) {
    GithubSettings s;
    s.token = "ghp_secret123";
    const HttpRequest req = github_get(s, "https://api.github.com/x", "");
    EXPECT_EQ(header(req, "Authorization"), "Bearer ghp_secret123");
    EXPECT_EQ(header(req, "If-None-Match"), std::nullopt);
}

TEST(GithubGet, IfNoneMatchOnlyWithEtag) {
    GithubSettings s;
    const std::string etag = "W/\"a18c3bded88eb5dbb5c849a489412bf3\"";
    const HttpRequest req = github_get(s, "https://api.github.com/x", etag);
    EXPECT_EQ(header(req, "If-None-Match"), etag);  // sent verbatim, quotes and W/ included
    EXPECT_EQ(header(req, "Authorization"), std::nullopt);
}

TEST(GithubGet, TokenAndEtagTogether) {
    GithubSettings s;
    s.token = "t";
    const HttpRequest req = github_get(s, "https://api.github.com/x", "\"e\"");
    EXPECT_EQ(header(req, "Authorization"), "Bearer t");
    EXPECT_EQ(header(req, "If-None-Match"), "\"e\"");
    EXPECT_EQ(req.headers.size(), 5u);
}

TEST(GithubGet, EtagWithLineBreakIsNotSent) {
    GithubSettings s;
    const HttpRequest req = github_get(s, "https://api.github.com/x", "\"e\"\r\nX-Evil: 1");
    EXPECT_EQ(header(req, "If-None-Match"), std::nullopt);
}

TEST(GithubGet, UsesConfiguredUserAgentAndTimeout) {
    GithubSettings s;
    s.user_agent = "acme-gist-sync/1.0";
    s.timeout = std::chrono::milliseconds(2500);
    const HttpRequest req = github_get(s, "https://api.github.com/x", "");
    EXPECT_EQ(header(req, "User-Agent"), "acme-gist-sync/1.0");
    EXPECT_EQ(req.timeout, std::chrono::milliseconds(2500));
}

TEST(GithubGet, EmptyUserAgentFallsBack) {
    // GitHub rejects requests without one.
    GithubSettings s;
    s.user_agent.clear();
    EXPECT_EQ(header(github_get(s, "https://api.github.com/x", ""), "User-Agent"), "ngx_gist_module");
}

}  // namespace
}  // namespace gist
