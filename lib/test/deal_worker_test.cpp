// DealWorker end to end in one process: real Redis, a scripted Pipedrive that keeps the entities
// it creates (so look-ups after an ambiguous create can find them).
#include "gist/deal_worker.hpp"

#include "fake_http_client.hpp"
#include "poll_loop.hpp"
#include "test_redis_server.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gist {
namespace {

using nlohmann::json;
using test::FakeHttpClient;
using test::http_response;
using test::PollLoop;
using test::TestRedisServer;
using std::chrono::milliseconds;

const std::string kBase = "http://pd.test";
const std::string kPrefix = "t:";

// Enough of Pipedrive for the worker: persons, deals and notes, created and listed.
struct FakePipedrive {
    struct Entity {
        std::int64_t id;
        std::string text;     // person name, deal title, note content
        std::int64_t parent;  // deal: person_id; note: deal_id
    };
    std::vector<Entity> persons, deals, notes;
    std::int64_t next_id = 100;
    // Runs first; an answer it gives replaces the normal one.
    std::function<std::optional<HttpResponse>(const HttpRequest&, FakePipedrive&)> fault;

    static std::string path_of(const HttpRequest& r) {
        std::string p = r.url.substr(kBase.size());
        return p.substr(0, p.find('?'));
    }
    static std::string query_param(const HttpRequest& r, const std::string& name) {
        const auto q = r.url.find('?');
        if (q == std::string::npos) {
            return {};
        }
        const std::string query = "&" + r.url.substr(q + 1);
        const auto at = query.find("&" + name + "=");
        if (at == std::string::npos) {
            return {};
        }
        const auto start = at + name.size() + 2;
        return query.substr(start, query.find('&', start) - start);
    }
    static HttpResponse ok(json data) { return http_response(200, json{{"success", true}, {"data", data}}.dump()); }
    static HttpResponse created(std::int64_t id) {
        return http_response(201, json{{"success", true}, {"data", {{"id", id}}}}.dump());
    }

    HttpResponse operator()(const HttpRequest& r) {
        if (fault) {
            if (auto answer = fault(r, *this)) {
                return *answer;
            }
        }
        return serve(r);
    }

    HttpResponse serve(const HttpRequest& r) {
        const std::string path = path_of(r);
        if (r.method == "POST") {
            const auto body = json::parse(r.body);
            const std::int64_t id = next_id++;
            if (path == "/api/v2/persons") {
                persons.push_back({id, body.at("name").get<std::string>(), 0});
            } else if (path == "/api/v2/deals") {
                deals.push_back({id, body.at("title").get<std::string>(), body.value("person_id", std::int64_t{0})});
            } else if (path == "/api/v1/notes") {
                notes.push_back({id, body.at("content").get<std::string>(), body.at("deal_id").get<std::int64_t>()});
            } else {
                return http_response(404, R"({"success":false,"error":"no route"})");
            }
            return created(id);
        }
        if (path == "/api/v2/persons/search") {
            json items = json::array();
            for (const auto& p : persons) {
                if (p.text == query_param(r, "term")) {
                    items.push_back({{"result_score", 1}, {"item", {{"id", p.id}, {"name", p.text}}}});
                }
            }
            return ok({{"items", items}});
        }
        if (path == "/api/v2/persons") {
            json data = json::array();
            for (const auto& p : persons) {
                data.push_back({{"id", p.id}, {"name", p.text}});
            }
            return ok(data);
        }
        if (path == "/api/v2/deals") {
            json data = json::array();
            for (const auto& d : deals) {
                if (std::to_string(d.parent) == query_param(r, "person_id")) {
                    data.push_back({{"id", d.id}, {"title", d.text}, {"person_id", d.parent}});
                }
            }
            return ok(data);
        }
        if (path == "/api/v1/notes") {
            json data = json::array();
            for (const auto& n : notes) {
                if (std::to_string(n.parent) == query_param(r, "deal_id")) {
                    data.push_back({{"id", n.id}, {"content", n.text}, {"deal_id", n.parent}});
                }
            }
            return ok(data);
        }
        return http_response(404, R"({"success":false,"error":"no route"})");
    }
};

class DealWorkerTest : public ::testing::Test {
protected:
    DealWorkerTest() : http(loop) {
        RedisEndpoint endpoint;
        endpoint.host = "127.0.0.1";
        endpoint.port = server.port();
        redis = make_hiredis_client(loop, log, endpoint);
        redis->start();
        loop.run_until([&] { return redis->connected(); }, std::chrono::seconds(3));
        settings.pipedrive.api_url = kBase;
        settings.pipedrive.token = "secret-token";
        settings.prefix = kPrefix;
        settings.consumer = "host:1";
        settings.retry.base = milliseconds(5);
        settings.retry.cap = milliseconds(20);
        settings.claim_timeout = milliseconds(1000);
        settings.poll_interval = milliseconds(20);
        http.respond_with([this](const HttpRequest& r) {
            times.push_back(std::chrono::steady_clock::now());
            return pd(r);
        });
    }

    void start() {
        worker = std::make_unique<DealWorker>(loop, http, *redis, log, settings);
        worker->start();
    }

    // What gist_store.cpp's commit script writes for a new gist with deals on.
    void commit_job(const std::string& gist_id, const std::string& login) {
        cli("HSET " + kPrefix + "deal:" + gist_id + " state pending login " + login + " title 'Gist " + gist_id +
            " by " + login + ": demo' note '<p>GitHub gist " + gist_id + "</p>' attempts 0 created_at " +
            "2026-01-01T00:00:00Z");
        cli("XADD " + kPrefix + "deals:ready '*' gist " + gist_id);
    }

    std::string cli(const std::string& args) {
        std::string out = server.cli(args);
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
            out.pop_back();
        }
        return out;
    }
    std::string field(const std::string& gist_id, const std::string& name) {
        return cli("HGET " + kPrefix + "deal:" + gist_id + " " + name);
    }

    bool wait_state(const std::string& gist_id, const std::string& state, milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            loop.run_for(milliseconds(20));
            if (field(gist_id, "state") == state) {
                return true;
            }
        }
        return false;
    }

    std::size_t count(const std::string& method, const std::string& path) const {
        std::size_t n = 0;
        for (const auto& r : http.requests) {
            n += r.method == method && FakePipedrive::path_of(r) == path ? 1 : 0;
        }
        return n;
    }

    TestRedisServer server;
    PollLoop loop;
    NullLogger log;
    FakeHttpClient http;
    std::unique_ptr<RedisClient> redis;
    FakePipedrive pd;
    std::vector<std::chrono::steady_clock::time_point> times;
    DealWorkerSettings settings;
    std::unique_ptr<DealWorker> worker;
};

TEST_F(DealWorkerTest, OneJobMakesOnePersonOneDealOneNoteAndIsDone) {
    commit_job("g1", "alice");
    start();
    ASSERT_TRUE(wait_state("g1", "done", milliseconds(3000)));

    EXPECT_EQ(count("GET", "/api/v2/persons/search"), 1u);
    EXPECT_EQ(count("POST", "/api/v2/persons"), 1u);
    EXPECT_EQ(count("POST", "/api/v2/deals"), 1u);
    EXPECT_EQ(count("POST", "/api/v1/notes"), 1u);
    EXPECT_EQ(http.requests.size(), 4u);
    ASSERT_EQ(pd.persons.size(), 1u);
    ASSERT_EQ(pd.deals.size(), 1u);
    ASSERT_EQ(pd.notes.size(), 1u);
    EXPECT_EQ(pd.persons[0].text, "alice");
    EXPECT_EQ(pd.deals[0].text, "Gist g1 by alice: demo");
    EXPECT_EQ(pd.deals[0].parent, pd.persons[0].id);
    EXPECT_EQ(pd.notes[0].text, "<p>GitHub gist g1</p>");
    EXPECT_EQ(pd.notes[0].parent, pd.deals[0].id);

    EXPECT_EQ(field("g1", "person_id"), std::to_string(pd.persons[0].id));
    EXPECT_EQ(field("g1", "deal_id"), std::to_string(pd.deals[0].id));
    EXPECT_EQ(field("g1", "note_id"), std::to_string(pd.notes[0].id));
    EXPECT_EQ(field("g1", "intent_person"), "");
    EXPECT_EQ(field("g1", "intent_deal"), "");
    EXPECT_EQ(field("g1", "intent_note"), "");
    EXPECT_EQ(field("g1", "lease"), "");
    EXPECT_EQ(cli("HGET " + kPrefix + "persons alice"), std::to_string(pd.persons[0].id));
    EXPECT_EQ(cli("XLEN " + kPrefix + "deals:ready"), "0");
    EXPECT_EQ(cli("EXISTS " + kPrefix + "pdlock:person:alice"), "0");
    for (const auto& r : http.requests) {
        const std::string* token = test::request_header(r, "x-api-token");
        ASSERT_NE(token, nullptr) << r.url;
        EXPECT_EQ(*token, "secret-token");
        EXPECT_EQ(r.url.find("secret-token"), std::string::npos);
    }
    loop.run_for(milliseconds(100));
    EXPECT_EQ(http.requests.size(), 4u);  // nothing more once done
    EXPECT_EQ(worker->in_flight(), 0u);
}

TEST_F(DealWorkerTest, TwoJobsOfTheSameLoginShareOnePerson) {
    commit_job("g1", "alice");
    commit_job("g2", "alice");
    start();
    ASSERT_TRUE(wait_state("g1", "done", milliseconds(4000)));
    ASSERT_TRUE(wait_state("g2", "done", milliseconds(4000)));
    EXPECT_EQ(count("GET", "/api/v2/persons/search"), 1u);
    EXPECT_EQ(count("POST", "/api/v2/persons"), 1u);
    ASSERT_EQ(pd.persons.size(), 1u);
    ASSERT_EQ(pd.deals.size(), 2u);
    EXPECT_EQ(pd.deals[0].parent, pd.persons[0].id);
    EXPECT_EQ(pd.deals[1].parent, pd.persons[0].id);
    EXPECT_EQ(pd.notes.size(), 2u);
    // The second job took the person from the per-login cache.
    EXPECT_EQ(cli("HGET " + kPrefix + "persons alice"), std::to_string(pd.persons[0].id));
    // Waiting for the other job's person lock is not a failed attempt.
    EXPECT_EQ(field("g1", "attempts"), "0");
    EXPECT_EQ(field("g2", "attempts"), "0");
}

TEST_F(DealWorkerTest, AmbiguousDealCreateIsLookedUpNotCreatedAgain) {
    std::string intent_when_sent;
    pd.fault = [&](const HttpRequest& r, FakePipedrive& self) -> std::optional<HttpResponse> {
        if (r.method == "POST" && FakePipedrive::path_of(r) == "/api/v2/deals" && self.deals.empty()) {
            intent_when_sent = field("g1", "intent_deal");  // write-ahead: stored before sending
            self.serve(r);                                  // the deal IS created…
            return http_response(500, R"({"success":false,"error":"Internal"})");  // …but we hear 500
        }
        return std::nullopt;
    };
    commit_job("g1", "alice");
    start();
    ASSERT_TRUE(wait_state("g1", "done", milliseconds(6000)));
    EXPECT_FALSE(intent_when_sent.empty());
    EXPECT_EQ(count("POST", "/api/v2/deals"), 1u);
    EXPECT_EQ(count("GET", "/api/v2/deals"), 1u);
    ASSERT_EQ(pd.deals.size(), 1u);
    EXPECT_EQ(field("g1", "deal_id"), std::to_string(pd.deals[0].id));
    EXPECT_EQ(field("g1", "attempts"), "1");
    EXPECT_EQ(pd.notes.size(), 1u);
    // The look-up asked for that person's deals, from a little before the ambiguous attempt.
    for (const auto& r : http.requests) {
        if (r.method == "GET" && FakePipedrive::path_of(r) == "/api/v2/deals") {
            EXPECT_EQ(FakePipedrive::query_param(r, "person_id"), std::to_string(pd.persons.at(0).id));
            EXPECT_FALSE(FakePipedrive::query_param(r, "updated_since").empty());
        }
    }
    // After an ambiguous answer the retry waits at least 2 s (Pipedrive needs a moment).
    std::size_t post = 0, list = 0;
    for (std::size_t i = 0; i < http.requests.size(); ++i) {
        const auto& r = http.requests[i];
        if (r.method == "POST" && FakePipedrive::path_of(r) == "/api/v2/deals") {
            post = i;
        }
        if (r.method == "GET" && FakePipedrive::path_of(r) == "/api/v2/deals") {
            list = i;
        }
    }
    EXPECT_GE(times[list] - times[post], milliseconds(2000));
}

TEST_F(DealWorkerTest, AmbiguousPersonCreateIsLookedUpInTheListNotCreatedAgain) {
    pd.fault = [&](const HttpRequest& r, FakePipedrive& self) -> std::optional<HttpResponse> {
        if (r.method == "POST" && FakePipedrive::path_of(r) == "/api/v2/persons" && self.persons.empty()) {
            self.serve(r);
            return http_response(502, "bad gateway");
        }
        return std::nullopt;
    };
    commit_job("g1", "alice");
    start();
    ASSERT_TRUE(wait_state("g1", "done", milliseconds(6000)));
    EXPECT_EQ(count("POST", "/api/v2/persons"), 1u);
    EXPECT_EQ(count("GET", "/api/v2/persons"), 1u);  // the strongly consistent list, not a search
    ASSERT_EQ(pd.persons.size(), 1u);
    EXPECT_EQ(field("g1", "person_id"), std::to_string(pd.persons[0].id));
    EXPECT_EQ(cli("HEXISTS " + kPrefix + "persons:intent alice"), "0");
}

TEST_F(DealWorkerTest, PermanentErrorDeadLettersWithoutRetry) {
    pd.fault = [](const HttpRequest& r, FakePipedrive&) -> std::optional<HttpResponse> {
        if (r.method == "POST" && FakePipedrive::path_of(r) == "/api/v2/deals") {
            return http_response(422, R"({"success":false,"error":"Validation failed"})");
        }
        return std::nullopt;
    };
    commit_job("g1", "alice");
    start();
    ASSERT_TRUE(wait_state("g1", "failed", milliseconds(3000)));
    loop.run_for(milliseconds(300));
    EXPECT_EQ(count("POST", "/api/v2/deals"), 1u);
    EXPECT_EQ(count("POST", "/api/v1/notes"), 0u);
    EXPECT_EQ(field("g1", "error"), "Pipedrive HTTP 422: Validation failed");
    EXPECT_EQ(cli("ZCARD " + kPrefix + "deals:later"), "0");
    EXPECT_EQ(cli("XLEN " + kPrefix + "deals:ready"), "0");
    ASSERT_EQ(cli("LLEN " + kPrefix + "deals:dead"), "1");
    const auto dead = json::parse(cli("LINDEX " + kPrefix + "deals:dead 0"));
    EXPECT_EQ(dead["gist"], "g1");
    EXPECT_EQ(dead["login"], "alice");
    EXPECT_EQ(dead["reason"], "http_422");
    EXPECT_EQ(dead["status"], 422);
    // The person is kept: another gist of alice's would not create it again.
    EXPECT_EQ(pd.persons.size(), 1u);
}

TEST_F(DealWorkerTest, RetryAfterPausesEveryPipedriveCallOfTheWorker) {
    bool limited = false;
    pd.fault = [&](const HttpRequest&, FakePipedrive&) -> std::optional<HttpResponse> {
        if (!limited) {
            limited = true;
            commit_job("g2", "bob");  // another job arrives while the worker is paused
            return http_response(429, R"({"success":false,"error":"Too many requests"})", {{"retry-after", "1"}});
        }
        return std::nullopt;
    };
    commit_job("g1", "alice");
    start();
    ASSERT_TRUE(wait_state("g1", "done", milliseconds(5000)));
    ASSERT_TRUE(wait_state("g2", "done", milliseconds(3000)));
    ASSERT_GE(times.size(), 2u);
    EXPECT_GE(times[1] - times[0], milliseconds(1000)) << "a Pipedrive call went out during Retry-After";
    EXPECT_EQ(field("g1", "attempts"), "1");
    EXPECT_EQ(field("g2", "attempts"), "0");
    EXPECT_EQ(pd.deals.size(), 2u);
}

TEST_F(DealWorkerTest, AHugeRetryAfterPausesNoLongerThanTheBackoffCap) {
    settings.retry.cap = milliseconds(1500);  // waits are whole seconds: 2 s
    bool limited = false;
    pd.fault = [&](const HttpRequest&, FakePipedrive&) -> std::optional<HttpResponse> {
        if (!limited) {
            limited = true;
            return http_response(429, R"({"success":false,"error":"Too many requests"})",
                                 {{"retry-after", "999999999999999999"}});
        }
        return std::nullopt;
    };
    commit_job("g1", "alice");
    start();
    ASSERT_TRUE(wait_state("g1", "done", milliseconds(8000))) << "paused for years";
    ASSERT_GE(times.size(), 2u);
    EXPECT_GE(times[1] - times[0], milliseconds(1900));
    EXPECT_LT(times[1] - times[0], milliseconds(4000));
}

TEST_F(DealWorkerTest, AWorkerThatExitsReleasesThePersonLockItHolds) {
    http.delay_with([](const HttpRequest& r) {
        return FakePipedrive::path_of(r) == "/api/v2/persons/search" ? milliseconds(60000) : milliseconds(0);
    });
    commit_job("g1", "alice");
    start();
    ASSERT_TRUE(loop.run_until([&] { return count("GET", "/api/v2/persons/search") == 1; }, std::chrono::seconds(3)));
    ASSERT_EQ(cli("EXISTS " + kPrefix + "pdlock:person:alice"), "1");
    // As exit_process does: the worker first, then the Redis client.
    worker.reset();
    redis.reset();
    EXPECT_EQ(cli("EXISTS " + kPrefix + "pdlock:person:alice"), "0") << "the lock is left to expire";
}

TEST_F(DealWorkerTest, MaxAttemptsDeadLettersWithTooManyAttempts) {
    settings.max_attempts = 3;
    pd.fault = [](const HttpRequest& r, FakePipedrive&) -> std::optional<HttpResponse> {
        if (r.method == "POST" && FakePipedrive::path_of(r) == "/api/v2/deals") {
            return http_response(503, R"({"success":false,"error":"Service Unavailable"})");
        }
        return std::nullopt;
    };
    commit_job("g1", "alice");
    start();
    ASSERT_TRUE(wait_state("g1", "failed", milliseconds(4000)));
    loop.run_for(milliseconds(200));
    EXPECT_EQ(count("POST", "/api/v2/deals"), 3u);
    EXPECT_EQ(count("POST", "/api/v2/persons"), 1u);  // the person step is not redone
    ASSERT_EQ(cli("LLEN " + kPrefix + "deals:dead"), "1");
    const auto dead = json::parse(cli("LINDEX " + kPrefix + "deals:dead 0"));
    EXPECT_EQ(dead["reason"], "too_many_attempts");
    EXPECT_EQ(dead["attempts"], 3);
    EXPECT_EQ(cli("ZCARD " + kPrefix + "deals:later"), "0");
    // A 503 on a create proves nothing was made: no look-up was needed between attempts.
    EXPECT_EQ(count("GET", "/api/v2/deals"), 0u);
}

}  // namespace
}  // namespace gist
