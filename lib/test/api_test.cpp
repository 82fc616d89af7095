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

    ApiResponse call(Endpoint endpoint, std::string method, std::string login = {}) {
        std::optional<ApiResponse> response;
        auto handle = api->handle(ApiRequest{endpoint, std::move(method), std::move(login), -1},
                                  [&](ApiResponse r) { response = std::move(r); });
        EXPECT_TRUE(loop.run_until([&] { return response.has_value(); }, std::chrono::seconds(3)));
        return response ? *response : ApiResponse{};
    }

    static json body(const ApiResponse& r) { return json::parse(r.body); }

    TestRedisServer redis_server;
    PollLoop loop;
    NullLogger log;
    FakeHttpClient http;
    std::unique_ptr<RedisClient> redis;
    std::unique_ptr<Api> api;
};

TEST_F(ApiTest, FirstScanTracksAndReportsAllGistsNewNewestFirst) {
    set_gists({{"a1", "2026-01-01T00:00:00Z"}, {"a2", "2026-02-01T00:00:00Z"}});
    auto r = call(Endpoint::user, "POST", "OctoCat");
    ASSERT_EQ(r.status, 201) << r.body;
    auto b = body(r);
    EXPECT_EQ(b["login"], "octocat");
    ASSERT_EQ(b["new_gists"].size(), 2u);
    EXPECT_EQ(b["new_gists"][0]["id"], "a2");
    EXPECT_TRUE(b["old_gists"].is_array());
    EXPECT_TRUE(b["old_gists"].empty());

    set_gists({{"a1", "2026-01-01T00:00:00Z"}, {"a2", "2026-02-01T00:00:00Z"}, {"a3", "2026-03-01T00:00:00Z"}});
    r = call(Endpoint::user, "POST", "octocat");
    ASSERT_EQ(r.status, 200);
    b = body(r);
    ASSERT_EQ(b["new_gists"].size(), 1u);
    EXPECT_EQ(b["new_gists"][0]["id"], "a3");
    EXPECT_EQ(b["old_gists"].size(), 2u);
    EXPECT_EQ(b["tracked_since"], body(call(Endpoint::user, "GET", "octocat"))["tracked_since"]);
}

TEST_F(ApiTest, ConcurrentScansReportEachGistNewExactlyOnce) {
    set_gists({{"a", "2026-01-01T00:00:00Z"}, {"b", "2026-01-02T00:00:00Z"}, {"c", "2026-01-03T00:00:00Z"}});
    std::vector<ApiResponse> responses;
    std::vector<std::unique_ptr<ApiCall>> calls;
    for (int i = 0; i < 10; ++i) {
        calls.push_back(api->handle(ApiRequest{Endpoint::user, "POST", "racer", -1},
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
    set_gists({{"5a1", "2026-01-01T00:00:00Z"}});
    ASSERT_EQ(call(Endpoint::user, "POST", "sam").status, 201);
    const auto requests_before = http.requests.size();

    auto shown = call(Endpoint::user, "GET", "sam");
    ASSERT_EQ(shown.status, 200);
    EXPECT_EQ(body(shown)["gists"][0]["id"], "5a1");
    EXPECT_TRUE(body(shown)["gists"][0]["first_seen_at"].is_string());
    EXPECT_EQ(http.requests.size(), requests_before);  // GET never calls GitHub

    EXPECT_EQ(call(Endpoint::user, "DELETE", "sam").status, 204);
    EXPECT_EQ(call(Endpoint::user, "DELETE", "sam").status, 404);
    EXPECT_EQ(call(Endpoint::user, "GET", "sam").status, 404);

    auto again = call(Endpoint::user, "POST", "sam");
    ASSERT_EQ(again.status, 201);
    EXPECT_TRUE(body(again)["new_gists"].empty());
    EXPECT_EQ(body(again)["old_gists"][0]["id"], "5a1");
}

TEST_F(ApiTest, TrackedUsersSortedByLogin) {
    set_gists({{"e1", "2026-01-01T00:00:00Z"}});
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
        auto handle = api->handle(ApiRequest{Endpoint::user, "POST", "octocat", -1}, [&](ApiResponse) { answered = true; });
    }
    loop.run_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(answered);
}

}  // namespace
}  // namespace gist
