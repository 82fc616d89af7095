// DealOutbox's operator side against a real Redis: listing jobs by status with cursors, and the
// dead-letter retry (one, all, twice).
#include "gist/deal_outbox.hpp"

#include "gist/rfc3339.hpp"
#include "poll_loop.hpp"
#include "test_redis_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace gist {
namespace {

using test::PollLoop;
using test::TestRedisServer;

const std::string kPrefix = "t:";

class DealOutboxAdminTest : public ::testing::Test {
protected:
    DealOutboxAdminTest() {
        RedisEndpoint endpoint;
        endpoint.host = "127.0.0.1";
        endpoint.port = server.port();
        redis = make_hiredis_client(loop, log, endpoint);
        redis->start();
        loop.run_until([&] { return redis->connected(); }, std::chrono::seconds(3));
        outbox.emplace(*redis, kPrefix, "a");
    }

    RedisValue run(std::vector<std::string> argv) {
        std::optional<RedisResult> result;
        redis->command(std::move(argv), [&](RedisResult r) { result = std::move(r); });
        EXPECT_TRUE(loop.run_until([&] { return result.has_value(); }, std::chrono::seconds(3)));
        EXPECT_TRUE(result && result->ok());
        return result ? result->value : RedisValue{};
    }

    template <typename T>
    T wait(std::optional<T>& slot) {
        EXPECT_TRUE(loop.run_until([&] { return slot.has_value(); }, std::chrono::seconds(3)));
        return slot ? *slot : T{};
    }

    void commit_job(const std::string& gist_id, const std::string& login) {
        run({"HSET", kPrefix + "deal:" + gist_id, "state", "pending", "login", login, "title",
             "Gist " + gist_id + " by " + login, "attempts", "0", "created_at", "2026-01-01T00:00:00Z"});
        run({"XADD", kPrefix + "deals:ready", "*", "gist", gist_id});
    }

    // Commits, delivers, leases and dead-letters one job (as a 422 would).
    void dead_job(const std::string& gist_id, const std::string& login) {
        commit_job(gist_id, login);
        std::optional<DealOutbox::Entries> entries;
        outbox->read_new(10, [&](bool, bool, DealOutbox::Entries e) { entries = std::move(e); });
        auto got = wait(entries);
        ASSERT_EQ(got.size(), 1u);
        std::optional<DealJob> job;
        outbox->take(got[0].first, gist_id, now_ms(), 60000, [&](TakeResult, DealJob j) { job = std::move(j); });
        auto leased = wait(job);
        std::optional<bool> ok;
        outbox->dead_letter(leased, "2026-01-03T00:00:00Z", "http_422", "Pipedrive HTTP 422: bad", 422,
                            [&](bool b) { ok = b; });
        ASSERT_TRUE(wait(ok));
    }

    DealJobPage list(DealJobList which, int limit, const std::string& cursor = "", bool expect_ok = true) {
        std::optional<std::pair<bool, DealJobPage>> out;
        outbox->list_jobs(which, limit, cursor, [&](bool ok, DealJobPage p) { out.emplace(ok, std::move(p)); });
        auto got = wait(out);
        EXPECT_EQ(got.first, expect_ok);
        return got.second;
    }

    std::int64_t retry(const std::string& gist_id) {
        std::optional<std::int64_t> moved;
        outbox->retry_dead(gist_id, "2026-01-04T00:00:00Z", [&](bool ok, std::int64_t n) {
            EXPECT_TRUE(ok);
            moved = n;
        });
        return wait(moved);
    }

    std::string hget(const std::string& key, const std::string& field) { return run({"HGET", key, field}).str; }
    std::int64_t integer(std::vector<std::string> argv) { return run(std::move(argv)).integer; }
    static std::int64_t now_ms() { return epoch_ms(std::chrono::system_clock::now()); }

    TestRedisServer server;
    PollLoop loop;
    NullLogger log;
    std::unique_ptr<RedisClient> redis;
    std::optional<DealOutbox> outbox;
};

TEST_F(DealOutboxAdminTest, EmptyListsAreEmptyArraysWithoutCursor) {
    for (auto which : {DealJobList::dead, DealJobList::retrying, DealJobList::queued}) {
        auto page = list(which, 10);
        EXPECT_EQ(page.total, 0);
        EXPECT_TRUE(page.jobs.empty());
        EXPECT_EQ(page.next_cursor, "");
    }
}

TEST_F(DealOutboxAdminTest, DeadLettersListNewestFirstWithReasonAndPageByCursor) {
    ASSERT_TRUE(outbox.has_value());
    std::optional<bool> group;
    outbox->ensure_group([&](bool b) { group = b; });
    ASSERT_TRUE(wait(group));
    dead_job("g1", "alice");
    dead_job("g2", "bob");
    dead_job("g3", "carol");

    auto first = list(DealJobList::dead, 2);
    EXPECT_EQ(first.total, 3);
    ASSERT_EQ(first.jobs.size(), 2u);
    EXPECT_EQ(first.jobs[0].gist_id, "g3");
    EXPECT_EQ(first.jobs[0].login, "carol");
    EXPECT_EQ(first.jobs[0].reason, "http_422");
    EXPECT_EQ(first.jobs[0].detail, "Pipedrive HTTP 422: bad");
    EXPECT_EQ(first.jobs[0].http_status, 422);
    EXPECT_EQ(first.jobs[0].state, "failed");
    EXPECT_EQ(first.jobs[0].title, "Gist g3 by carol");
    EXPECT_EQ(first.jobs[0].attempts, 1);
    EXPECT_EQ(first.jobs[0].failed_at, "2026-01-03T00:00:00Z");
    EXPECT_EQ(first.jobs[1].gist_id, "g2");
    ASSERT_FALSE(first.next_cursor.empty());

    auto second = list(DealJobList::dead, 2, first.next_cursor);
    ASSERT_EQ(second.jobs.size(), 1u);
    EXPECT_EQ(second.jobs[0].gist_id, "g1");
    EXPECT_EQ(second.next_cursor, "");

    list(DealJobList::dead, 2, "nonsense", false);
}

TEST_F(DealOutboxAdminTest, QueuedPagesByStreamIdAndRetryingShowsTheDueTime) {
    commit_job("q1", "alice");
    commit_job("q2", "alice");
    commit_job("q3", "bob");
    auto first = list(DealJobList::queued, 2);
    EXPECT_EQ(first.total, 3);
    ASSERT_EQ(first.jobs.size(), 2u);
    EXPECT_EQ(first.jobs[0].gist_id, "q1");
    EXPECT_EQ(first.jobs[1].gist_id, "q2");
    EXPECT_EQ(first.jobs[0].state, "pending");
    ASSERT_FALSE(first.next_cursor.empty());
    auto second = list(DealJobList::queued, 2, first.next_cursor);
    ASSERT_EQ(second.jobs.size(), 1u);
    EXPECT_EQ(second.jobs[0].gist_id, "q3");
    EXPECT_EQ(second.jobs[0].login, "bob");
    EXPECT_EQ(second.next_cursor, "");
    list(DealJobList::queued, 2, "x'); evil", false);

    run({"HSET", kPrefix + "deal:r1", "state", "deal", "login", "dave", "attempts", "2", "error", "HTTP 503"});
    run({"ZADD", kPrefix + "deals:later", "1767225600000", "r1"});
    auto later = list(DealJobList::retrying, 10);
    ASSERT_EQ(later.jobs.size(), 1u);
    EXPECT_EQ(later.jobs[0].gist_id, "r1");
    EXPECT_EQ(later.jobs[0].due_ms, 1767225600000);
    EXPECT_EQ(later.jobs[0].attempts, 2);
    EXPECT_EQ(later.jobs[0].error, "HTTP 503");
}

TEST_F(DealOutboxAdminTest, RetryOneMovesItBackOnceAndKeepsIntentsAndIds) {
    std::optional<bool> group;
    outbox->ensure_group([&](bool b) { group = b; });
    ASSERT_TRUE(wait(group));
    dead_job("g1", "alice");
    dead_job("g2", "bob");
    run({"HSET", kPrefix + "deal:g1", "person_id", "101", "intent_deal", "2026-01-02T00:00:00Z"});

    EXPECT_EQ(retry("nope"), 0);
    EXPECT_EQ(retry("g1"), 1);
    EXPECT_EQ(retry("g1"), 0) << "a second retry finds no dead letter: never two entries for one job";
    EXPECT_EQ(hget(kPrefix + "deal:g1", "state"), "pending");
    EXPECT_EQ(hget(kPrefix + "deal:g1", "attempts"), "0");
    EXPECT_EQ(run({"HEXISTS", kPrefix + "deal:g1", "error"}).integer, 0);
    EXPECT_EQ(hget(kPrefix + "deal:g1", "person_id"), "101");
    EXPECT_EQ(hget(kPrefix + "deal:g1", "intent_deal"), "2026-01-02T00:00:00Z");
    EXPECT_EQ(integer({"XLEN", kPrefix + "deals:ready"}), 1);
    EXPECT_EQ(integer({"LLEN", kPrefix + "deals:dead"}), 1);
    EXPECT_EQ(hget(kPrefix + "deal:g2", "state"), "failed");
}

TEST_F(DealOutboxAdminTest, RetryAllMovesEveryDeadLetterAndSkipsJobsNoLongerFailed) {
    std::optional<bool> group;
    outbox->ensure_group([&](bool b) { group = b; });
    ASSERT_TRUE(wait(group));
    dead_job("g1", "alice");
    dead_job("g2", "bob");
    dead_job("g3", "carol");
    run({"HSET", kPrefix + "deal:g3", "state", "done"});  // finished meanwhile (e.g. redis-cli)

    EXPECT_EQ(retry(""), 2);
    EXPECT_EQ(integer({"LLEN", kPrefix + "deals:dead"}), 0);
    EXPECT_EQ(integer({"XLEN", kPrefix + "deals:ready"}), 2);
    EXPECT_EQ(hget(kPrefix + "deal:g3", "state"), "done");
    EXPECT_EQ(retry(""), 0);
}

}  // namespace
}  // namespace gist
