// Background rescans (Rescanner + UserScanner) in one process: real Redis, scripted GitHub with
// ETags. Due times are written by GistStore::commit_scan (as POST /user does) or set with ZADD.
#include "gist/rescanner.hpp"

#include "gist/github_request.hpp"
#include "gist/rfc3339.hpp"
#include "fake_http_client.hpp"
#include "poll_loop.hpp"
#include "test_redis_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gist {
namespace {

using test::FakeHttpClient;
using test::http_response;
using test::PollLoop;
using test::TestRedisServer;
using std::chrono::milliseconds;

const std::string kPrefix = "t:";
const std::string kGithub = "http://gh.test";

std::string gist_json(const std::string& id) {
    return R"({"id":")" + id + R"(","html_url":"https://gist.github.com/)" + id + R"(","description":"d )" + id +
           R"(","files":{"f.txt":{}},"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"})";
}

std::int64_t now_ms() { return epoch_ms(std::chrono::system_clock::now()); }

std::string login_of(const HttpRequest& r) {
    const std::string head = kGithub + "/users/";
    const auto start = head.size();
    return r.url.substr(start, r.url.find('/', start) - start);
}

class RescannerTest : public ::testing::Test {
protected:
    RescannerTest() : http(loop), http2(loop) {
        redis = connect();
        redis2 = connect();
        store = std::make_unique<GistStore>(*redis, kPrefix);
        settings.scan.github.api_url = kGithub;
        settings.scan.rescan_interval = milliseconds(10000);
        settings.prefix = kPrefix;
        settings.claim_lease = milliseconds(60000);
        // GitHub: a 304 for the ETag we stored, else the user's one gist; per-login overrides.
        auto responder = [this](const HttpRequest& r) {
            const std::string login = login_of(r);
            requests.push_back({login, now_ms()});
            if (auto it = special.find(login); it != special.end()) {
                return it->second(r);
            }
            const std::map<std::string, std::string> rate = {{"x-ratelimit-remaining", "4000"},
                                                             {"x-ratelimit-limit", "5000"},
                                                             {"x-ratelimit-reset", std::to_string(now_ms() / 1000 + 3600)},
                                                             {"etag", etag(login)}};
            const std::string* inm = test::request_header(r, "If-None-Match");
            if (inm && *inm == etag(login)) {
                return http_response(304, "", rate);
            }
            return http_response(200, "[" + gist_json("g-" + login) + "]", rate);
        };
        http.respond_with(responder);
        http2.respond_with(responder);
    }

    std::unique_ptr<RedisClient> connect() {
        RedisEndpoint endpoint;
        endpoint.host = "127.0.0.1";
        endpoint.port = server.port();
        auto client = make_hiredis_client(loop, log, endpoint);
        client->start();
        loop.run_until([&] { return client->connected(); }, std::chrono::seconds(3));
        return client;
    }

    static std::string etag(const std::string& login) { return "\"etag-" + login + "\""; }

    // Tracks `login` as a first POST /user would, with its listing stored under an ETag, due at `due_ms`.
    void track(const std::string& login, std::int64_t due_ms) {
        ScanCommit c;
        c.login = login;
        c.scanned_at = "2026-01-01T00:00:00Z";
        StoredPage page;
        page.url = first_gists_page_url(settings.scan.github, login);
        page.etag = etag(login);
        Gist g;
        g.id = "g-" + login;
        g.html_url = "https://gist.github.com/" + g.id;
        g.files = {"f.txt"};
        g.created_at = g.updated_at = "2026-01-01T00:00:00Z";
        page.gists = {g};
        c.pages = {page};
        c.gist_ids = {g.id};
        c.next_scan_ms = due_ms;
        c.first_scan_ms = due_ms;
        std::optional<bool> ok;
        store->commit_scan(c, [&](StoreResult<CommitOutcome> r) { ok = std::holds_alternative<CommitOutcome>(r); });
        ASSERT_TRUE(loop.run_until([&] { return ok.has_value(); }, std::chrono::seconds(3)));
        ASSERT_TRUE(*ok);
        ASSERT_EQ(cli("ZSCORE " + kPrefix + "rescan " + login), std::to_string(due_ms));
    }

    std::optional<UserRecord> load(const std::string& login) {
        std::optional<std::optional<UserRecord>> out;
        store->load_user(login, [&](StoreResult<std::optional<UserRecord>> r) {
            out = std::holds_alternative<StoreError>(r) ? std::nullopt : std::get<std::optional<UserRecord>>(r);
        });
        EXPECT_TRUE(loop.run_until([&] { return out.has_value(); }, std::chrono::seconds(3)));
        return out ? *out : std::nullopt;
    }

    std::string cli(const std::string& args) {
        std::string out = server.cli(args);
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
            out.pop_back();
        }
        return out;
    }

    std::int64_t score(const std::string& login) {
        const std::string s = cli("ZSCORE " + kPrefix + "rescan " + login);
        return s.empty() ? -1 : static_cast<std::int64_t>(std::stod(s));
    }

    // Runs the loop until `done` holds (checked every 20 ms) or `limit` passes.
    bool run_until(const std::function<bool()>& done, milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            loop.run_for(milliseconds(20));
            if (done()) {
                return true;
            }
        }
        return false;
    }

    std::size_t requests_for(const std::string& login) const {
        std::size_t n = 0;
        for (const auto& r : requests) {
            n += r.first == login ? 1 : 0;
        }
        return n;
    }

    void start() {
        rescanner = std::make_unique<Rescanner>(loop, http, *redis, log, settings);
        rescanner->start();
    }

    TestRedisServer server;
    PollLoop loop;
    NullLogger log;
    FakeHttpClient http, http2;
    std::unique_ptr<RedisClient> redis, redis2;
    std::unique_ptr<GistStore> store;
    RescanSettings settings;
    std::vector<std::pair<std::string, std::int64_t>> requests;  // login, epoch ms
    std::map<std::string, std::function<HttpResponse(const HttpRequest&)>> special;
    std::unique_ptr<Rescanner> rescanner;
};

TEST_F(RescannerTest, DueUserIsRescannedOnceWithItsEtagAndKeepsItsPhase) {
    settings.scan.rescan_interval = milliseconds(20000);  // lateness allowed: 2 s (ticks ≤ 1.5 s)
    const std::int64_t due = now_ms() - 100;
    track("alice", due);
    track("bob", now_ms() + 60000);  // not due
    start();
    ASSERT_TRUE(run_until([&] { return score("alice") == due + 20000; }, milliseconds(4000)))
        << "next due " << score("alice") << ", expected " << due + 20000;
    loop.run_for(milliseconds(300));

    ASSERT_EQ(http.requests.size(), 1u);
    EXPECT_EQ(login_of(http.requests[0]), "alice");
    const std::string* inm = test::request_header(http.requests[0], "If-None-Match");
    ASSERT_NE(inm, nullptr);
    EXPECT_EQ(*inm, etag("alice"));
    EXPECT_EQ(requests_for("bob"), 0u);

    auto record = load("alice");
    ASSERT_TRUE(record);
    EXPECT_EQ(record->last_scan, "not_modified");
    ASSERT_EQ(record->pages.size(), 1u);
    ASSERT_EQ(record->pages[0].gists.size(), 1u);
    EXPECT_EQ(record->pages[0].gists[0].id, "g-alice");
    EXPECT_EQ(record->pages[0].etag, etag("alice"));
    EXPECT_NE(record->last_scanned_at, "2026-01-01T00:00:00Z");
    EXPECT_EQ(record->next_scan_ms, due + 20000);
    // GitHub's budget as last seen is shared with the fleet.
    EXPECT_EQ(cli("HGET " + kPrefix + "github:rate remaining"), "4000");
    EXPECT_EQ(cli("HGET " + kPrefix + "github:rate limit"), "5000");
}

TEST_F(RescannerTest, LateClaimStartsANewPhaseOneIntervalFromNow) {
    const std::int64_t due = now_ms() - 5000;  // more than a tenth of the 10 s interval late
    track("alice", due);
    const std::int64_t before = now_ms();
    start();
    ASSERT_TRUE(run_until([&] { return requests_for("alice") == 1 && score("alice") < before + 30000; },
                          milliseconds(3000)));
    const std::int64_t after = now_ms();
    EXPECT_GE(score("alice"), before + 10000);
    EXPECT_LE(score("alice"), after + 10000);
}

TEST_F(RescannerTest, UserUntrackedDuringTheScanIsNotBroughtBack) {
    special["alice"] = [this](const HttpRequest&) {
        // DELETE /user/alice lands while GitHub answers (GistStore::untrack's effect).
        cli("DEL " + kPrefix + "user:{alice}");
        cli("ZREM " + kPrefix + "users alice");
        cli("ZREM " + kPrefix + "rescan alice");
        return http_response(200, "[" + gist_json("g-alice") + "," + gist_json("g-new") + "]");
    };
    track("alice", now_ms() - 100);
    start();
    ASSERT_TRUE(run_until([&] { return requests_for("alice") == 1; }, milliseconds(3000)));
    loop.run_for(milliseconds(500));
    EXPECT_EQ(requests_for("alice"), 1u);
    EXPECT_EQ(cli("EXISTS " + kPrefix + "user:{alice}"), "0");
    EXPECT_EQ(cli("ZSCORE " + kPrefix + "users alice"), "");
    EXPECT_EQ(cli("ZSCORE " + kPrefix + "rescan alice"), "");
    EXPECT_EQ(cli("HEXISTS " + kPrefix + "seen g-new"), "0");
    EXPECT_EQ(rescanner->in_flight(), 0u);
}

TEST_F(RescannerTest, GithubNotFoundKeepsTheUserAndWaitsFourIntervals) {
    special["ghost"] = [](const HttpRequest&) { return http_response(404, R"({"message":"Not Found"})"); };
    track("ghost", now_ms() - 100);
    const std::int64_t before = now_ms();
    start();
    ASSERT_TRUE(run_until([&] { return cli("HGET " + kPrefix + "user:{ghost} last_scan") == "github_user_not_found"; },
                          milliseconds(3000)));
    const std::int64_t after = now_ms();
    EXPECT_GE(score("ghost"), before + 40000);
    EXPECT_LE(score("ghost"), after + 40000);
    EXPECT_EQ(cli("HGET " + kPrefix + "user:{ghost} failures"), "1");
    EXPECT_NE(cli("ZSCORE " + kPrefix + "users ghost"), "");  // still tracked
    EXPECT_EQ(requests_for("ghost"), 1u);
}

TEST_F(RescannerTest, OtherFailuresBackOffAndCountFailures) {
    special["alice"] = [](const HttpRequest&) { return http_response(502, "bad gateway"); };
    track("alice", now_ms() - 100);
    const std::int64_t before = now_ms();
    start();
    ASSERT_TRUE(run_until([&] { return cli("HGET " + kPrefix + "user:{alice} failures") == "1"; }, milliseconds(3000)));
    const std::int64_t after = now_ms();
    EXPECT_EQ(cli("HGET " + kPrefix + "user:{alice} last_scan"), "github_unavailable");
    // now + min(interval, 30 s) × [0.5, 1]: with a 10 s interval, 5 to 10 s from now.
    EXPECT_GE(score("alice"), before + 5000);
    EXPECT_LE(score("alice"), after + 10000);
}

TEST_F(RescannerTest, RateLimitPausesEveryClaimUntilRetryAfter) {
    settings.concurrency = 1;
    settings.scan.rescan_interval = milliseconds(2000);  // ticks every 50–150 ms
    bool limited = false;
    special["alice"] = [&](const HttpRequest&) {
        if (!limited) {
            limited = true;
            return http_response(429, R"({"message":"secondary rate limit"})", {{"retry-after", "1"}});
        }
        return http_response(200, "[" + gist_json("g-alice") + "]");
    };
    track("alice", now_ms() - 2000);
    track("bob", now_ms() - 1000);
    start();
    ASSERT_TRUE(run_until([&] { return cli("HGET " + kPrefix + "user:{alice} last_scan") == "github_rate_limited"; },
                          milliseconds(3000)));
    const std::string pause_text = cli("GET " + kPrefix + "github:pause_until");
    ASSERT_FALSE(pause_text.empty());
    const std::int64_t pause_until = std::stoll(pause_text);
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_GE(pause_until, requests[0].second + 1000);
    EXPECT_LE(pause_until, now_ms() + 1000);
    // Alice comes due again right after the pause.
    EXPECT_EQ(score("alice"), pause_until);

    ASSERT_TRUE(run_until([&] { return requests_for("bob") == 1 && requests_for("alice") == 2; }, milliseconds(3000)));
    for (std::size_t i = 1; i < requests.size(); ++i) {
        EXPECT_GE(requests[i].second, pause_until) << requests[i].first << " was scanned during the pause";
    }
}

TEST_F(RescannerTest, NoClaimsWhileTheBudgetIsAtTheReserve) {
    settings.scan.rescan_interval = milliseconds(2000);
    settings.rate_reserve = 100;
    cli("HSET " + kPrefix + "github:rate remaining 100 reset " + std::to_string(now_ms() / 1000 + 3600));
    track("alice", now_ms() - 100);
    start();
    loop.run_for(milliseconds(600));
    EXPECT_EQ(requests.size(), 0u);
    cli("HSET " + kPrefix + "github:rate remaining 101");
    EXPECT_TRUE(run_until([&] { return requests_for("alice") == 1; }, milliseconds(2000)));
}

TEST_F(RescannerTest, TwoWorkersNeverScanTheSameUserTwiceInOneInterval) {
    settings.concurrency = 2;
    const std::vector<std::string> logins = {"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"};
    for (std::size_t i = 0; i < logins.size(); ++i) {
        track(logins[i], now_ms() - 100 - static_cast<std::int64_t>(i));
    }
    start();
    Rescanner second(loop, http2, *redis2, log, settings);
    second.start();
    ASSERT_TRUE(run_until([&] { return requests.size() >= logins.size(); }, milliseconds(5000)));
    loop.run_for(milliseconds(700));  // room for a duplicate to show up
    EXPECT_EQ(requests.size(), logins.size());
    std::set<std::string> seen;
    for (const auto& r : http.requests) {
        EXPECT_TRUE(seen.insert(login_of(r)).second) << login_of(r) << " scanned twice";
    }
    for (const auto& r : http2.requests) {
        EXPECT_TRUE(seen.insert(login_of(r)).second) << login_of(r) << " scanned twice";
    }
    EXPECT_EQ(seen.size(), logins.size());
    const std::int64_t now = now_ms();
    for (const auto& login : logins) {
        EXPECT_GT(score(login), now + 5000) << login;  // next due about one interval later
    }
}

}  // namespace
}  // namespace gist

namespace gist {
namespace {

// Users tracked while rescans were off get a due time, in bounded steps, not one script over all.
TEST_F(RescannerTest, AdoptionWalksUsersInBoundedStepsOnceForTheFleet) {
    settings.scan.rescan_interval = milliseconds(600000);
    std::string args = "ZADD " + kPrefix + "users";
    for (int i = 0; i < 1234; ++i) {
        args += " 0 u" + std::to_string(10000 + i);
    }
    cli(args);
    cli("ZADD " + kPrefix + "rescan 1 u10007");  // already scheduled: kept
    const std::int64_t t0 = now_ms();
    start();
    ASSERT_TRUE(run_until([&] { return cli("EXISTS " + kPrefix + "rescan:adopted") == "1"; }, milliseconds(5000)));
    EXPECT_EQ(cli("ZCARD " + kPrefix + "rescan"), "1234");
    EXPECT_EQ(cli("EXISTS " + kPrefix + "rescan:adopt_cursor"), "0");
    EXPECT_EQ(score("u10007"), 1);
    const auto due = score("u11233");
    EXPECT_GE(due, t0);
    EXPECT_LE(due, now_ms() + 600000);

    // A second worker (or a restart) finds the marker and walks nothing.
    cli("DEL " + kPrefix + "rescan");
    rescanner.reset();
    start();
    loop.run_for(milliseconds(300));
    EXPECT_EQ(cli("ZCARD " + kPrefix + "rescan"), "0") << "the fleet had adopted: no new walk";

    // A user tracked with rescans off makes the next start with rescans on walk again.
    ScanCommit c;
    c.login = "late";
    c.scanned_at = "2026-01-01T00:00:00Z";
    std::optional<bool> ok;
    store->commit_scan(c, [&](StoreResult<CommitOutcome> r) { ok = std::holds_alternative<CommitOutcome>(r); });
    ASSERT_TRUE(loop.run_until([&] { return ok.has_value(); }, std::chrono::seconds(3)));
    EXPECT_EQ(cli("EXISTS " + kPrefix + "rescan:adopted"), "0");
    rescanner.reset();
    start();
    ASSERT_TRUE(run_until([&] { return cli("EXISTS " + kPrefix + "rescan:adopted") == "1"; }, milliseconds(5000)));
    EXPECT_GE(score("late"), t0);
}

}  // namespace
}  // namespace gist
