#include "gist/github_gist_lister.hpp"

#include "fake_http_client.hpp"
#include "poll_loop.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace gist {
namespace {

using test::FakeHttpClient;
using test::http_response;
using test::PollLoop;
using test::request_header;

std::string page_json(std::initializer_list<const char*> ids) {
    std::string body = "[";
    for (const char* id : ids) {
        if (body.size() > 1) body += ",";
        body += std::string(R"({"id":")") + id + R"(","html_url":"https://gist.github.com/)" + id +
                R"(","description":null,"files":{"a.txt":{}},"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"})";
    }
    return body + "]";
}

class ListerTest : public ::testing::Test {
protected:
    ListerTest() : http(loop) { settings.api_url = "http://gh.test"; settings.max_pages = 10; }

    GistListing list(std::vector<StoredPage> previous = {}) {
        GithubGistLister lister(http, settings, loop);
        std::optional<GistListing> result;
        lister.start("octocat", std::move(previous), [&](GistListing l) { result = std::move(l); });
        EXPECT_TRUE(loop.run_until([&] { return result.has_value(); }, std::chrono::seconds(2)));
        return result ? std::move(*result) : GistListing{};
    }

    PollLoop loop;
    FakeHttpClient http;
    GithubSettings settings;
};

TEST_F(ListerTest, FollowsNextLinksAcrossThreePages) {
    http.respond_with([](const HttpRequest& r) {
        if (r.url == "http://gh.test/users/octocat/gists?per_page=100") {
            return http_response(200, page_json({"a", "b"}),
                                 {{"link", R"(<http://gh.test/users/octocat/gists?per_page=100&page=2>; rel="next")"},
                                  {"etag", "\"e1\""}});
        }
        if (r.url.find("page=2") != std::string::npos) {
            return http_response(200, page_json({"c"}),
                                 {{"link", R"(<http://gh.test/users/octocat/gists?per_page=100&page=3>; rel="next")"}});
        }
        return http_response(200, page_json({"d"}));
    });
    auto listing = list();
    ASSERT_EQ(listing.verdict.outcome, GithubOutcome::ok);
    ASSERT_EQ(listing.pages.size(), 3u);
    EXPECT_EQ(listing.requests, 3);
    EXPECT_EQ(listing.pages[0].etag, "\"e1\"");
    auto all = listing.all_gists();
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[3].id, "d");
}

TEST_F(ListerTest, StopsAtMaxPages) {
    settings.max_pages = 2;
    http.respond_with([](const HttpRequest& r) {
        return http_response(200, page_json({"0e"}),
                             {{"link", "<" + r.url + "&more=1>; rel=\"next\""}});
    });
    auto listing = list();
    EXPECT_EQ(listing.verdict.outcome, GithubOutcome::ok);
    EXPECT_EQ(listing.requests, 2);
    EXPECT_EQ(http.requests.size(), 2u);
}

TEST_F(ListerTest, DoesNotFollowLinksToAnotherOrigin) {
    http.respond_with([](const HttpRequest&) {
        return http_response(200, page_json({"0e"}), {{"link", R"(<http://evil.test/steal>; rel="next")"}});
    });
    auto listing = list();
    EXPECT_EQ(listing.verdict.outcome, GithubOutcome::ok);
    EXPECT_EQ(http.requests.size(), 1u);
}

TEST_F(ListerTest, SendsStoredEtagAndReusesPageOn304) {
    StoredPage stored;
    stored.url = "http://gh.test/users/octocat/gists?per_page=100";
    stored.etag = "\"v1\"";
    stored.gists.push_back(Gist{"01d1", "https://gist.github.com/01d1", std::nullopt, {"f"}, false, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"});
    http.respond_with([](const HttpRequest& r) {
        const auto* inm = request_header(r, "If-None-Match");
        if (inm && *inm == "\"v1\"") {
            return http_response(304, "");
        }
        return http_response(200, page_json({"0ee"}));
    });
    auto listing = list({stored});
    ASSERT_EQ(listing.verdict.outcome, GithubOutcome::ok);
    EXPECT_EQ(listing.not_modified, 1);
    ASSERT_EQ(listing.all_gists().size(), 1u);
    EXPECT_EQ(listing.all_gists()[0].id, "01d1");
}

TEST_F(ListerTest, DuplicateGistsAcrossPagesAreListedOnce) {
    http.respond_with([](const HttpRequest& r) {
        if (r.url.find("page=2") == std::string::npos) {
            return http_response(200, page_json({"a", "b"}),
                                 {{"link", R"(<http://gh.test/users/octocat/gists?per_page=100&page=2>; rel="next")"}});
        }
        return http_response(200, page_json({"b", "c"}));
    });
    EXPECT_EQ(list().all_gists().size(), 3u);
}

TEST_F(ListerTest, GarbageOnSecondPageFailsTheWholeListing) {
    http.respond_with([](const HttpRequest& r) {
        if (r.url.find("page=2") == std::string::npos) {
            return http_response(200, page_json({"a"}),
                                 {{"link", R"(<http://gh.test/users/octocat/gists?per_page=100&page=2>; rel="next")"}});
        }
        return http_response(200, "<html>oops</html>");
    });
    auto listing = list();
    EXPECT_EQ(listing.verdict.outcome, GithubOutcome::unavailable);
    EXPECT_TRUE(listing.pages.empty());
}

TEST_F(ListerTest, NotFoundIsReported) {
    http.respond_with([](const HttpRequest&) { return http_response(404, R"({"message":"Not Found"})"); });
    EXPECT_EQ(list().verdict.outcome, GithubOutcome::not_found);
}

TEST_F(ListerTest, Unexpected304WithoutStoredPageIsAnError) {
    http.respond_with([](const HttpRequest&) { return http_response(304, ""); });
    EXPECT_EQ(list().verdict.outcome, GithubOutcome::unavailable);
}

TEST_F(ListerTest, DestroyingTheListerCancelsTheCallback) {
    http.respond_with([](const HttpRequest&) { return http_response(200, page_json({"a"})); });
    bool called = false;
    {
        GithubGistLister lister(http, settings, loop);
        lister.start("octocat", {}, [&](GistListing) { called = true; });
    }
    loop.run_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(called);
}

}  // namespace
}  // namespace gist
