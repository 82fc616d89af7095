// The move of users stored before issue 8 to the hash-tagged keys (KeyMigration).
#include "gist/key_migration.hpp"

#include "gist/gist_store.hpp"
#include "poll_loop.hpp"
#include "test_redis_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

namespace gist {
namespace {

using std::chrono::milliseconds;
using test::PollLoop;
using test::TestRedisServer;

const std::string kPrefix = "t:";

class KeyMigrationTest : public ::testing::Test {
protected:
    KeyMigrationTest() {
        RedisEndpoint endpoint;
        endpoint.host = "127.0.0.1";
        endpoint.port = server.port();
        redis = make_hiredis_client(loop, log, endpoint);
        redis->start();
        loop.run_until([&] { return redis->connected(); }, std::chrono::seconds(3));
    }

    std::string cli(const std::string& args) {
        std::string out = server.cli(args);
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
            out.pop_back();
        }
        return out;
    }

    bool migrate() {
        KeyMigration m(loop, *redis, log, kPrefix);
        m.start();
        return loop.run_until([&] { return m.done(); }, std::chrono::seconds(10));
    }

    TestRedisServer server;
    PollLoop loop;
    NullLogger log;
    std::unique_ptr<RedisClient> redis;
};

TEST_F(KeyMigrationTest, OldUsersMoveToHashTaggedKeysAndReadBack) {
    // 450 users of the old schema: three steps of 200.
    const std::string old_pages =
        R"([{"url":"https://api.github.com/users/u0/gists?per_page=100","etag":"W/\"e\"","next":"",)"
        R"("gists":[{"id":"aa","html_url":"https://gist.github.com/aa","description":null,"files":["f"],)"
        R"("created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}]}])";
    for (int i = 0; i < 450; ++i) {
        const std::string login = "u" + std::to_string(i);
        cli("HSET " + kPrefix + "user:" + login + " login " + login +
            " tracked_since 2026-01-01T00:00:00Z gist_count 1 last_scan ok pages '" + old_pages + "'");
        cli("ZADD " + kPrefix + "users 0 " + login);
    }
    ASSERT_TRUE(migrate());
    EXPECT_EQ(cli("GET " + kPrefix + "schema"), "2");
    EXPECT_EQ(cli("EXISTS " + kPrefix + "user:u7"), "0");
    EXPECT_EQ(cli("HGET " + kPrefix + "user:{u7} gist_count"), "1");
    EXPECT_EQ(cli("HEXISTS " + kPrefix + "user:{u7} pages"), "0");
    EXPECT_EQ(cli("EXISTS " + kPrefix + "schema:cursor"), "0");

    // The store reads a moved user, listing and all (the old listing form is still readable).
    GistStore store(*redis, kPrefix);
    std::optional<StoreResult<std::optional<UserRecord>>> loaded;
    store.load_user("u7", [&](StoreResult<std::optional<UserRecord>> r) { loaded = std::move(r); });
    ASSERT_TRUE(loop.run_until([&] { return loaded.has_value(); }, std::chrono::seconds(3)));
    auto& record = std::get<std::optional<UserRecord>>(*loaded);
    ASSERT_TRUE(record);
    ASSERT_EQ(record->pages.size(), 1u);
    ASSERT_EQ(record->pages[0].gists.size(), 1u);
    EXPECT_EQ(record->pages[0].gists[0].html_url, "https://gist.github.com/aa");
    EXPECT_EQ(record->pages[0].etag, "W/\"e\"");
}

TEST_F(KeyMigrationTest, ANewerCopyWinsAndTheMarkerStopsLaterWalks) {
    cli("HSET " + kPrefix + "user:bob login bob tracked_since old pages x");
    cli("HSET " + kPrefix + "user:{bob} login bob tracked_since new");
    cli("ZADD " + kPrefix + "users 0 bob");
    ASSERT_TRUE(migrate());
    EXPECT_EQ(cli("HGET " + kPrefix + "user:{bob} tracked_since"), "new");
    EXPECT_EQ(cli("EXISTS " + kPrefix + "user:bob"), "0");

    cli("HSET " + kPrefix + "user:carol login carol");  // written by an old worker after the walk
    cli("ZADD " + kPrefix + "users 0 carol");
    ASSERT_TRUE(migrate());
    EXPECT_EQ(cli("EXISTS " + kPrefix + "user:carol"), "1") << "the fleet had migrated: no new walk";
}

}  // namespace
}  // namespace gist
