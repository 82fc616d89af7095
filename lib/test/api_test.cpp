// The HTTP API end to end in one process: real Redis, scripted GitHub.
#include "gist/api.hpp"

#include "fake_http_client.hpp"
#include "poll_loop.hpp"
#include "test_redis_server.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>

namespace gist {
namespace {

using nlohmann::json;
using test::FakeHttpClient;
using test::http_response;
using test::PollLoop;
using test::TestRedisServer;

std::string gist_json(const std::string& id, const std::string& created) {
    return R"({"id":")" + id + R"(","html_url":"https://gist.github.com/)" + id +
           R"(","description":"d )" + id + R"(","files":{"f.txt":{}},"created_at":")" + created +
           R"(","updated_at":")" + created + R"("})";
}

class ApiTest : public ::testing::Test {
protected:
    ApiTest() : http(loop) {
        RedisEndpoint endpoint;
        endpoint.host = "127.0.0.1";
        endpoint.port = redis_server.port();
        redis = make_hiredis_client(loop, log, endpoint);
        redis->start();
        loop.run_until([&] { return redis->connected(); }, std::chrono::seconds(3));
        ApiSettings settings;
        settings.github.api_url = "http://gh.test";
        settings.redis_prefix = "t:";
        api = std::make_unique<Api>(loop, http, *redis, log, settings);
        set_gists({});
    }

    void set_gists(std::vector<std::pair<std::string, std::string>> gists, long status = 200) {
        http.respond_with([gists, status](const HttpRequest&) {
            std::string body = "[";
            for (const auto& [id, created] : gists) {
                body += (body.size() > 1 ? "," : "") + gist_json(id, created);
            }
            return http_response(status, status == 200 ? body + "]" : R"({"message":"Not Found"})");
        });
    }

    ApiResponse call(Endpoint endpoint, std::string method, std::string login = {}, std::string query = {},
                     std::string if_none_match = {}) {
        std::optional<ApiResponse> response;
        auto handle = api->handle(ApiRequest{endpoint, std::move(method), std::move(login), -1, std::move(query),
                                             std::move(if_none_match)},
                                  [&](ApiResponse r) { response = std::move(r); });
        EXPECT_TRUE(loop.run_until([&] { return response.has_value(); }, std::chrono::seconds(3)));
        return response ? *response : ApiResponse{};
    }

    static json body(const ApiResponse& r) { return json::parse(r.body); }

    static std::string header(const ApiResponse& r, const std::string& name) {
        for (const auto& [k, v] : r.headers) {
            if (k == name) {
                return v;
            }
        }
        return {};
    }

    void track(const std::vector<std::string>& logins) {
        for (const auto& login : logins) {
            ASSERT_EQ(call(Endpoint::user, "POST", login).status, 201) << login;
        }
    }

    TestRedisServer redis_server;
    PollLoop loop;
    NullLogger log;
    FakeHttpClient http;
    std::unique_ptr<RedisClient> redis;
    std::unique_ptr<Api> api;
};

TEST_F(ApiTest, FirstScanTracksAndReportsAllGistsNewNewestFirst) {
    set_gists({{"g1", "2026-01-01T00:00:00Z"}, {"g2", "2026-02-01T00:00:00Z"}});
    auto r = call(Endpoint::user, "POST", "OctoCat");
    ASSERT_EQ(r.status, 201) << r.body;
    auto b = body(r);
    EXPECT_EQ(b["login"], "octocat");
    ASSERT_EQ(b["new_gists"].size(), 2u);
    EXPECT_EQ(b["new_gists"][0]["id"], "g2");
    EXPECT_TRUE(b["old_gists"].is_array());
    EXPECT_TRUE(b["old_gists"].empty());

    set_gists({{"g1", "2026-01-01T00:00:00Z"}, {"g2", "2026-02-01T00:00:00Z"}, {"g3", "2026-03-01T00:00:00Z"}});
    r = call(Endpoint::user, "POST", "octocat");
    ASSERT_EQ(r.status, 200);
    b = body(r);
    ASSERT_EQ(b["new_gists"].size(), 1u);
    EXPECT_EQ(b["new_gists"][0]["id"], "g3");
    EXPECT_EQ(b["old_gists"].size(), 2u);
    EXPECT_EQ(b["tracked_since"], body(call(Endpoint::user, "GET", "octocat"))["tracked_since"]);
}

TEST_F(ApiTest, ConcurrentScansReportEachGistNewExactlyOnce) {
    set_gists({{"a", "2026-01-01T00:00:00Z"}, {"b", "2026-01-02T00:00:00Z"}, {"c", "2026-01-03T00:00:00Z"}});
    std::vector<ApiResponse> responses;
    std::vector<std::unique_ptr<ApiCall>> calls;
    for (int i = 0; i < 10; ++i) {
        calls.push_back(api->handle(ApiRequest{Endpoint::user, "POST", "racer", -1, {}, {}},
                                    [&](ApiResponse r) { responses.push_back(std::move(r)); }));
    }
    ASSERT_TRUE(loop.run_until([&] { return responses.size() == 10; }, std::chrono::seconds(5)));
    std::multiset<std::string> fresh;
    int created = 0;
    for (const auto& r : responses) {
        created += r.status == 201;
        const auto b = body(r);
        for (const auto& g : b["new_gists"]) {
            fresh.insert(g["id"].get<std::string>());
        }
    }
    EXPECT_EQ(created, 1);
    EXPECT_EQ(fresh, (std::multiset<std::string>{"a", "b", "c"}));
}

TEST_F(ApiTest, UnknownUserStoresNothing) {
    set_gists({}, 404);
    auto r = call(Endpoint::user, "POST", "ghost");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(body(r)["error"], "github_user_not_found");
    EXPECT_EQ(redis_server.cli("KEYS '*'"), "\n");
}

TEST_F(ApiTest, InvalidLoginNeverCallsGithub) {
    for (const char* login : {"-x", "a--b", "a_b", "", "0123456789012345678901234567890123456789"}) {
        auto r = call(Endpoint::user, "POST", login);
        EXPECT_EQ(r.status, 400) << login;
        EXPECT_EQ(body(r)["error"], "invalid_login");
    }
    EXPECT_TRUE(http.requests.empty());
}

TEST_F(ApiTest, ShowUntrackAndRetrackKeepSeenGistsOld) {
    set_gists({{"s1", "2026-01-01T00:00:00Z"}});
    ASSERT_EQ(call(Endpoint::user, "POST", "sam").status, 201);
    const auto requests_before = http.requests.size();

    auto shown = call(Endpoint::user, "GET", "sam");
    ASSERT_EQ(shown.status, 200);
    EXPECT_EQ(body(shown)["gists"][0]["id"], "s1");
    EXPECT_TRUE(body(shown)["gists"][0]["first_seen_at"].is_string());
    EXPECT_EQ(http.requests.size(), requests_before);  // GET never calls GitHub

    EXPECT_EQ(call(Endpoint::user, "DELETE", "sam").status, 204);
    EXPECT_EQ(call(Endpoint::user, "DELETE", "sam").status, 404);
    EXPECT_EQ(call(Endpoint::user, "GET", "sam").status, 404);

    auto again = call(Endpoint::user, "POST", "sam");
    ASSERT_EQ(again.status, 201);
    EXPECT_TRUE(body(again)["new_gists"].empty());
    EXPECT_EQ(body(again)["old_gists"][0]["id"], "s1");
}

TEST_F(ApiTest, TrackedUsersSortedByLogin) {
    set_gists({{"x", "2026-01-01T00:00:00Z"}});
    call(Endpoint::user, "POST", "zed");
    call(Endpoint::user, "POST", "amy");
    auto r = call(Endpoint::tracked_users, "GET");
    ASSERT_EQ(r.status, 200);
    auto b = body(r);
    EXPECT_EQ(b["count"], 2);
    EXPECT_EQ(b["users"][0]["login"], "amy");
    EXPECT_EQ(b["users"][1]["login"], "zed");
    EXPECT_EQ(b["users"][0]["gist_count"], 1);
}

TEST_F(ApiTest, MethodsOutsideTheApiGet405WithAllow) {
    auto r = call(Endpoint::tracked_users, "POST");
    EXPECT_EQ(r.status, 405);
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].first, "Allow");
    EXPECT_EQ(call(Endpoint::user, "PUT", "x").status, 405);
}

TEST_F(ApiTest, RedisDownGives503AndHealthSaysDown) {
    EXPECT_EQ(call(Endpoint::health, "GET").status, 200);
    redis_server.stop();
    loop.run_for(std::chrono::milliseconds(100));
    auto health = call(Endpoint::health, "GET");
    EXPECT_EQ(health.status, 503);
    EXPECT_EQ(body(health)["redis"], "down");
    auto scan = call(Endpoint::user, "POST", "anyone");
    EXPECT_EQ(scan.status, 503);
    EXPECT_EQ(body(scan)["error"], "redis_unavailable");
}

TEST_F(ApiTest, CancelledCallNeverAnswers) {
    bool answered = false;
    {
        auto handle = api->handle(ApiRequest{Endpoint::user, "POST", "octocat", -1, {}, {}}, [&](ApiResponse) { answered = true; });
    }
    loop.run_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(answered);
}

}  // namespace
}  // namespace gist

namespace gist {
namespace {

TEST_F(ApiTest, TrackedUsersComeInPagesInLoginOrder) {
    track({"dave", "alice", "carol", "bob", "eve"});
    auto r = call(Endpoint::tracked_users, "GET", {}, "limit=2");
    ASSERT_EQ(r.status, 200) << r.body;
    auto b = body(r);
    EXPECT_EQ(b["count"], 5);
    ASSERT_EQ(b["users"].size(), 2u);
    EXPECT_EQ(b["users"][0]["login"], "alice");
    EXPECT_EQ(b["users"][1]["login"], "bob");
    ASSERT_TRUE(b["next_cursor"].is_string());

    std::vector<std::string> seen;
    std::string cursor = b["next_cursor"];
    for (int page = 0; page < 5 && !cursor.empty(); ++page) {
        b = body(call(Endpoint::tracked_users, "GET", {}, "limit=2&cursor=" + cursor));
        for (const auto& u : b["users"]) {
            seen.push_back(u["login"]);
        }
        cursor = b["next_cursor"].is_string() ? b["next_cursor"].get<std::string>() : "";
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"carol", "dave", "eve"}));
    EXPECT_TRUE(b["next_cursor"].is_null()) << "null on the last page";

    b = body(call(Endpoint::tracked_users, "GET"));
    EXPECT_EQ(b["users"].size(), 5u) << "without parameters: the first page of the default size";
    EXPECT_TRUE(b["next_cursor"].is_null());
}

TEST_F(ApiTest, BadLimitsAndCursorsAre400) {
    for (const char* q : {"limit=0", "limit=-1", "limit=abc", "limit=", "limit=99999999999"}) {
        auto r = call(Endpoint::tracked_users, "GET", {}, q);
        EXPECT_EQ(r.status, 400) << q;
        EXPECT_EQ(body(r)["error"], "invalid_limit") << q;
    }
    for (const char* q : {"cursor=!!", "cursor=b2N0b2NhdA==", "cursor=LWJhZA"}) {
        auto r = call(Endpoint::tracked_users, "GET", {}, q);
        EXPECT_EQ(r.status, 400) << q;
        EXPECT_EQ(body(r)["error"], "invalid_cursor") << q;
    }
    EXPECT_EQ(call(Endpoint::tracked_users, "GET", {}, "limit=5000").status, 200) << "above the maximum: capped";
}

TEST_F(ApiTest, ReadsCarryAStrongEtagAndIfNoneMatchGets304) {
    set_gists({{"g1", "2026-01-01T00:00:00Z"}});
    track({"octocat"});
    for (auto endpoint : {Endpoint::user, Endpoint::tracked_users}) {
        const std::string login = endpoint == Endpoint::user ? "octocat" : "";
        auto r = call(endpoint, "GET", login);
        ASSERT_EQ(r.status, 200);
        const auto etag = header(r, "ETag");
        ASSERT_EQ(etag.size(), 18u) << etag;
        EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
        auto again = call(endpoint, "GET", login, {}, etag);
        EXPECT_EQ(again.status, 304);
        EXPECT_TRUE(again.body.empty());
        EXPECT_EQ(header(again, "ETag"), etag);
        EXPECT_EQ(call(endpoint, "GET", login, {}, "\"other\"").status, 200);
    }
}

TEST_F(ApiTest, CachedAnswersUntilAChange) {
    set_gists({{"g1", "2026-01-01T00:00:00Z"}});
    track({"octocat"});
    ApiRequest list{Endpoint::tracked_users, "GET", {}, -1, {}, {}};
    EXPECT_FALSE(api->cached_answer(list)) << "nothing rendered yet";
    auto first = call(Endpoint::tracked_users, "GET");
    auto hit = api->cached_answer(list);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->body, first.body);
    list.if_none_match = header(first, "ETag");
    ASSERT_TRUE(api->cached_answer(list));
    EXPECT_EQ(api->cached_answer(list)->status, 304);

    // This worker tracks someone: the list is rendered again, with a new ETag.
    track({"hubot"});
    list.if_none_match.clear();
    EXPECT_FALSE(api->cached_answer(list));
    auto second = call(Endpoint::tracked_users, "GET");
    EXPECT_EQ(body(second)["count"], 2);
    EXPECT_NE(header(second, "ETag"), header(first, "ETag"));

    // So does an untrack.
    ApiRequest user{Endpoint::user, "GET", "hubot", -1, {}, {}};
    call(Endpoint::user, "GET", "hubot");
    ASSERT_TRUE(api->cached_answer(user));
    EXPECT_EQ(call(Endpoint::user, "DELETE", "hubot").status, 204);
    EXPECT_FALSE(api->cached_answer(user));
    EXPECT_EQ(call(Endpoint::user, "GET", "hubot").status, 404);
}

TEST_F(ApiTest, CacheTtlZeroReadsRedisEveryTime) {
    ApiSettings settings;
    settings.github.api_url = "http://gh.test";
    settings.redis_prefix = "t:";
    settings.cache_ttl = std::chrono::milliseconds(0);
    api = std::make_unique<Api>(loop, http, *redis, log, settings);
    track({"octocat"});
    call(Endpoint::tracked_users, "GET");
    EXPECT_FALSE(api->cached_answer(ApiRequest{Endpoint::tracked_users, "GET", {}, -1, {}, {}}));
    EXPECT_EQ(header(call(Endpoint::tracked_users, "GET"), "ETag").size(), 18u) << "ETags all the same";
}

}  // namespace
}  // namespace gist
