// DealOutbox against a real Redis: the Lua scripts that lease, save, finish, reschedule and
// dead-letter deal jobs, and the small fleet-wide helpers (person lock, search slots, statuses).
#include "gist/deal_outbox.hpp"

#include "gist/rfc3339.hpp"
#include "poll_loop.hpp"
#include "test_redis_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace gist {
namespace {

using test::PollLoop;
using test::TestRedisServer;

const std::string kPrefix = "t:";

class DealOutboxTest : public ::testing::Test {
protected:
    DealOutboxTest() {
        RedisEndpoint endpoint;
        endpoint.host = "127.0.0.1";
        endpoint.port = server.port();
        redis = make_hiredis_client(loop, log, endpoint);
        redis->start();
        loop.run_until([&] { return redis->connected(); }, std::chrono::seconds(3));
    }

    // One raw command, waited for.
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

    // What gist_store.cpp's commit script writes for a new gist with deals on.
    void commit_job(const std::string& gist_id, const std::string& login) {
        run({"HSET", kPrefix + "deal:" + gist_id, "state", "pending", "login", login, "title",
             "Gist " + gist_id + " by " + login + ": demo", "note", "<p>GitHub gist " + gist_id + "</p>", "attempts",
             "0", "created_at", "2026-01-01T00:00:00Z"});
        run({"XADD", kPrefix + "deals:ready", "*", "gist", gist_id});
    }

    bool ensure_group(DealOutbox& o) {
        std::optional<bool> ok;
        o.ensure_group([&](bool b) { ok = b; });
        return wait(ok);
    }

    DealOutbox::Entries read_new(DealOutbox& o, int count = 10) {
        std::optional<DealOutbox::Entries> entries;
        o.read_new(count, [&](bool ok, bool nogroup, DealOutbox::Entries e) {
            EXPECT_TRUE(ok);
            EXPECT_FALSE(nogroup);
            entries = std::move(e);
        });
        return wait(entries);
    }

    std::pair<TakeResult, DealJob> take(DealOutbox& o, const std::string& entry, const std::string& gist,
                                        std::int64_t now_ms, std::int64_t lease_ms = 60000) {
        std::optional<std::pair<TakeResult, DealJob>> out;
        o.take(entry, gist, now_ms, lease_ms, [&](TakeResult r, DealJob j) { out.emplace(r, std::move(j)); });
        return wait(out);
    }

    // The usual start: group, one committed job for `login`, delivered to `o` and leased by it.
    bool lease_new_job(DealOutbox& o, const std::string& gist, const std::string& login, DealJob& job) {
        if (!ensure_group(o)) {
            return false;
        }
        commit_job(gist, login);
        auto entries = read_new(o);
        if (entries.size() != 1u) {
            return false;
        }
        auto [r, taken] = take(o, entries[0].first, gist, now_ms());
        job = std::move(taken);
        return r == TakeResult::ok;
    }

    bool save(DealOutbox& o, const DealJob& job, std::int64_t now_ms,
              std::vector<std::pair<std::string, std::string>> set, std::vector<std::string> del = {},
              std::optional<std::int64_t> cache = std::nullopt) {
        std::optional<bool> ok;
        o.save(job, now_ms, 60000, std::move(set), std::move(del), cache, [&](bool b) { ok = b; });
        return wait(ok);
    }

    std::string hget(const std::string& key, const std::string& field) { return run({"HGET", key, field}).str; }
    std::int64_t integer(std::vector<std::string> argv) { return run(std::move(argv)).integer; }

    static std::int64_t now_ms() { return epoch_ms(std::chrono::system_clock::now()); }

    TestRedisServer server;
    PollLoop loop;
    NullLogger log;
    std::unique_ptr<RedisClient> redis;
};

TEST_F(DealOutboxTest, CommittedJobIsReadAfterEnsureGroupAndOnlyOnce) {
    DealOutbox a(*redis, kPrefix, "a");
    DealOutbox b(*redis, kPrefix, "b");
    ASSERT_TRUE(ensure_group(a));
    ASSERT_TRUE(ensure_group(b));  // BUSYGROUP is fine
    commit_job("g1", "alice");
    auto entries = read_new(a);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].second, "g1");
    EXPECT_FALSE(entries[0].first.empty());
    // Delivered to a: another consumer reading new entries does not get it again.
    EXPECT_TRUE(read_new(b).empty());
    EXPECT_TRUE(read_new(a).empty());
}

TEST_F(DealOutboxTest, ReadNewWithoutGroupReportsNogroup) {
    DealOutbox a(*redis, kPrefix, "a");
    commit_job("g1", "alice");  // stream exists, group does not
    std::optional<std::pair<bool, bool>> out;
    a.read_new(5, [&](bool ok, bool nogroup, DealOutbox::Entries) { out.emplace(ok, nogroup); });
    auto [ok, nogroup] = wait(out);
    EXPECT_FALSE(ok);
    EXPECT_TRUE(nogroup);
}

TEST_F(DealOutboxTest, TakeLeasesTheJobAndASecondConsumerIsBusyUntilTheLeaseRunsOut) {
    DealOutbox a(*redis, kPrefix, "a");
    DealOutbox b(*redis, kPrefix, "b");
    ASSERT_TRUE(ensure_group(a));
    commit_job("g1", "alice");
    auto entries = read_new(a);
    ASSERT_EQ(entries.size(), 1u);
    const auto now = now_ms();
    auto [r, job] = take(a, entries[0].first, "g1", now, 60000);
    ASSERT_EQ(r, TakeResult::ok);
    EXPECT_EQ(job.login, "alice");
    EXPECT_EQ(job.title, "Gist g1 by alice: demo");
    EXPECT_EQ(job.note, "<p>GitHub gist g1</p>");
    EXPECT_FALSE(job.person_id);
    EXPECT_FALSE(job.deal_id);
    EXPECT_EQ(job.attempts, 0u);
    EXPECT_EQ(hget(kPrefix + "deal:g1", "lease"), "a");
    EXPECT_EQ(hget(kPrefix + "deal:g1", "lease_until"), std::to_string(now + 60000));

    EXPECT_EQ(take(b, entries[0].first, "g1", now + 1000).first, TakeResult::busy);
    EXPECT_EQ(hget(kPrefix + "deal:g1", "lease"), "a");
    // The holder renews its own lease.
    EXPECT_EQ(take(a, entries[0].first, "g1", now + 1000).first, TakeResult::ok);
    // Once the lease has run out, another consumer takes over.
    EXPECT_EQ(take(b, entries[0].first, "g1", now + 61001 + 1000).first, TakeResult::ok);
    EXPECT_EQ(hget(kPrefix + "deal:g1", "lease"), "b");
}

TEST_F(DealOutboxTest, SaveRefusesWhenTheLeaseIsSomeoneElses) {
    DealOutbox a(*redis, kPrefix, "a");
    DealOutbox b(*redis, kPrefix, "b");
    ASSERT_TRUE(ensure_group(a));
    commit_job("g1", "alice");
    auto entries = read_new(a);
    ASSERT_EQ(entries.size(), 1u);
    auto [r, job] = take(a, entries[0].first, "g1", now_ms());
    ASSERT_EQ(r, TakeResult::ok);

    EXPECT_TRUE(save(a, job, now_ms(), {{"deal_id", "5001"}}, {}, 77));
    EXPECT_EQ(hget(kPrefix + "deal:g1", "deal_id"), "5001");
    EXPECT_EQ(hget(kPrefix + "persons", "alice"), "77");

    DealJob same = job;  // b acting on a job it never leased
    EXPECT_FALSE(save(b, same, now_ms(), {{"deal_id", "9999"}, {"state", "done"}}, {"title"}, 88));
    EXPECT_EQ(hget(kPrefix + "deal:g1", "deal_id"), "5001");
    EXPECT_EQ(hget(kPrefix + "deal:g1", "state"), "pending");
    EXPECT_EQ(hget(kPrefix + "deal:g1", "title"), "Gist g1 by alice: demo");
    EXPECT_EQ(hget(kPrefix + "persons", "alice"), "77");

    // finish, reschedule and dead_letter are guarded the same way.
    std::optional<bool> finished, rescheduled, dead;
    b.finish(same, "2026-01-01T00:00:00Z", [&](bool ok) { finished = ok; });
    EXPECT_FALSE(wait(finished));
    b.reschedule(same, now_ms(), "x", true, "", [&](bool ok) { rescheduled = ok; });
    EXPECT_FALSE(wait(rescheduled));
    b.dead_letter(same, "2026-01-01T00:00:00Z", "r", "d", 400, [&](bool ok) { dead = ok; });
    EXPECT_FALSE(wait(dead));
    EXPECT_EQ(hget(kPrefix + "deal:g1", "state"), "pending");
    EXPECT_EQ(integer({"XLEN", kPrefix + "deals:ready"}), 1);
    EXPECT_EQ(integer({"ZCARD", kPrefix + "deals:later"}), 0);
    EXPECT_EQ(integer({"LLEN", kPrefix + "deals:dead"}), 0);
}

TEST_F(DealOutboxTest, FinishMarksDoneAcksAndDeletesTheEntry) {
    DealOutbox a(*redis, kPrefix, "a");
    DealJob job;
    ASSERT_TRUE(lease_new_job(a, "g1", "alice", job));
    std::optional<bool> ok;
    a.finish(job, "2026-01-02T00:00:00Z", [&](bool b) { ok = b; });
    EXPECT_TRUE(wait(ok));
    EXPECT_EQ(hget(kPrefix + "deal:g1", "state"), "done");
    EXPECT_EQ(hget(kPrefix + "deal:g1", "done_at"), "2026-01-02T00:00:00Z");
    EXPECT_TRUE(run({"HGET", kPrefix + "deal:g1", "lease"}).is_nil());
    EXPECT_EQ(integer({"XLEN", kPrefix + "deals:ready"}), 0);
    EXPECT_EQ(run({"XPENDING", kPrefix + "deals:ready", "workers"}).elements.at(0).integer, 0);
    // A finished job is gone for anyone who still holds its entry.
    EXPECT_EQ(take(a, job.entry_id, "g1", now_ms()).first, TakeResult::gone);
}

TEST_F(DealOutboxTest, RescheduleMovesToLaterAndPromoteDueBringsItBackExactlyOnce) {
    DealOutbox a(*redis, kPrefix, "a");
    DealJob job;
    ASSERT_TRUE(lease_new_job(a, "g1", "alice", job));
    ASSERT_TRUE(save(a, job, now_ms(), {{"intent_deal", "2026-01-01T00:00:00Z"}}));

    const std::int64_t due = now_ms() + 5000;
    std::optional<bool> ok;
    a.reschedule(job, due, "Pipedrive HTTP 503", true, "intent_deal", [&](bool b) { ok = b; });
    ASSERT_TRUE(wait(ok));
    EXPECT_EQ(integer({"XLEN", kPrefix + "deals:ready"}), 0);
    EXPECT_EQ(run({"ZSCORE", kPrefix + "deals:later", "g1"}).str, std::to_string(due));
    EXPECT_EQ(hget(kPrefix + "deal:g1", "attempts"), "1");
    EXPECT_EQ(hget(kPrefix + "deal:g1", "error"), "Pipedrive HTTP 503");
    EXPECT_TRUE(run({"HGET", kPrefix + "deal:g1", "intent_deal"}).is_nil());
    EXPECT_TRUE(run({"HGET", kPrefix + "deal:g1", "lease"}).is_nil());

    // Not due yet: nothing moves.
    std::optional<bool> p0;
    a.promote_due(due - 1, [&](bool b) { p0 = b; });
    EXPECT_TRUE(wait(p0));
    EXPECT_EQ(integer({"XLEN", kPrefix + "deals:ready"}), 0);
    EXPECT_EQ(integer({"ZCARD", kPrefix + "deals:later"}), 1);

    // Due: promoted once, however often promote runs (two workers racing).
    std::optional<bool> p1, p2;
    a.promote_due(due, [&](bool b) { p1 = b; });
    a.promote_due(due + 10, [&](bool b) { p2 = b; });
    EXPECT_TRUE(wait(p1));
    EXPECT_TRUE(wait(p2));
    EXPECT_EQ(integer({"XLEN", kPrefix + "deals:ready"}), 1);
    EXPECT_EQ(integer({"ZCARD", kPrefix + "deals:later"}), 0);
    auto again = read_new(a);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].second, "g1");
    EXPECT_NE(again[0].first, job.entry_id);
    auto [r2, job2] = take(a, again[0].first, "g1", now_ms());
    ASSERT_EQ(r2, TakeResult::ok);
    EXPECT_EQ(job2.attempts, 1u);
}

TEST_F(DealOutboxTest, RescheduleWithoutCountingKeepsAttempts) {
    DealOutbox a(*redis, kPrefix, "a");
    DealJob job;
    ASSERT_TRUE(lease_new_job(a, "g1", "alice", job));
    std::optional<bool> ok;
    a.reschedule(job, now_ms(), "waiting", false, "", [&](bool b) { ok = b; });
    ASSERT_TRUE(wait(ok));
    EXPECT_EQ(hget(kPrefix + "deal:g1", "attempts"), "0");
}

TEST_F(DealOutboxTest, DeadLetterPushesJsonWithReasonAndFailsTheJob) {
    DealOutbox a(*redis, kPrefix, "a");
    DealJob job;
    ASSERT_TRUE(lease_new_job(a, "g1", "alice", job));
    std::optional<bool> ok;
    a.dead_letter(job, "2026-01-03T00:00:00Z", "http_422", "Pipedrive HTTP 422: bad", 422, [&](bool b) { ok = b; });
    ASSERT_TRUE(wait(ok));
    EXPECT_EQ(hget(kPrefix + "deal:g1", "state"), "failed");
    EXPECT_EQ(hget(kPrefix + "deal:g1", "error"), "Pipedrive HTTP 422: bad");
    EXPECT_EQ(integer({"XLEN", kPrefix + "deals:ready"}), 0);
    EXPECT_EQ(integer({"LLEN", kPrefix + "deals:dead"}), 1);
    const auto entry = nlohmann::json::parse(run({"LINDEX", kPrefix + "deals:dead", "0"}).str);
    EXPECT_EQ(entry["gist"], "g1");
    EXPECT_EQ(entry["login"], "alice");
    EXPECT_EQ(entry["reason"], "http_422");
    EXPECT_EQ(entry["detail"], "Pipedrive HTTP 422: bad");
    EXPECT_EQ(entry["status"], 422);
    EXPECT_EQ(entry["attempts"], 1);
    EXPECT_EQ(entry["at"], "2026-01-03T00:00:00Z");
}

TEST_F(DealOutboxTest, PersonIntentIsPerLoginAndSeenByAnotherJobOfTheLogin) {
    DealOutbox a(*redis, kPrefix, "a");
    ASSERT_TRUE(ensure_group(a));
    commit_job("g1", "alice");
    commit_job("g2", "alice");
    commit_job("g3", "bob");
    auto entries = read_new(a);
    ASSERT_EQ(entries.size(), 3u);
    auto [r1, job1] = take(a, entries[0].first, "g1", now_ms());
    ASSERT_EQ(r1, TakeResult::ok);
    ASSERT_TRUE(save(a, job1, now_ms(), {{"intent_person", "2026-01-04T00:00:00Z"}}));
    EXPECT_EQ(hget(kPrefix + "persons:intent", "alice"), "2026-01-04T00:00:00Z");

    auto [r2, job2] = take(a, entries[1].first, "g2", now_ms());
    ASSERT_EQ(r2, TakeResult::ok);
    EXPECT_EQ(job2.intent_person, "2026-01-04T00:00:00Z");  // never set in g2's own hash
    auto [r3, job3] = take(a, entries[2].first, "g3", now_ms());
    ASSERT_EQ(r3, TakeResult::ok);
    EXPECT_EQ(job3.intent_person, "");

    // A definite answer on any job clears it for the login, and the person is cached for all.
    ASSERT_TRUE(save(a, job2, now_ms(), {{"person_id", "42"}}, {"intent_person"}, 42));
    EXPECT_TRUE(run({"HGET", kPrefix + "persons:intent", "alice"}).is_nil());
    auto [r1b, job1b] = take(a, entries[0].first, "g1", now_ms());
    ASSERT_EQ(r1b, TakeResult::ok);
    EXPECT_EQ(job1b.person_id, std::optional<std::int64_t>(42));
    // g1's own hash still holds the intent it wrote (only the per-login entry was cleared); that
    // is harmless since the cached person id means the person step is skipped.
    EXPECT_EQ(job1b.intent_person, "2026-01-04T00:00:00Z");
}

TEST_F(DealOutboxTest, LockPersonIsExclusiveUntilUnlocked) {
    DealOutbox a(*redis, kPrefix, "a");
    DealOutbox b(*redis, kPrefix, "b");
    std::optional<bool> l1, l2, l3;
    a.lock_person("alice", 60000, [&](bool ok) { l1 = ok; });
    EXPECT_TRUE(wait(l1));
    b.lock_person("alice", 60000, [&](bool ok) { l2 = ok; });
    EXPECT_FALSE(wait(l2));
    b.unlock_person("alice");  // not b's: no effect
    a.unlock_person("alice");
    b.lock_person("alice", 60000, [&](bool ok) { l3 = ok; });
    EXPECT_TRUE(wait(l3));
    EXPECT_EQ(run({"GET", kPrefix + "pdlock:person:alice"}).str, "b");
}

TEST_F(DealOutboxTest, ForgetIdleConsumersRemovesGoneWorkersWithNothingPending) {
    DealOutbox me(*redis, kPrefix, "me:1");
    DealOutbox gone(*redis, kPrefix, "gone:2");
    DealOutbox holding(*redis, kPrefix, "holding:3");
    ASSERT_TRUE(ensure_group(me));
    commit_job("g1", "alice");
    ASSERT_EQ(read_new(holding).size(), 1u);  // "holding" has an entry pending
    // "gone" (a worker that exited) and "me" exist with nothing pending.
    for (const char* name : {"gone:2", "me:1"}) {
        run({"XGROUP", "CREATECONSUMER", kPrefix + "deals:ready", "workers", name});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(120));

    std::optional<long long> removed;
    me.forget_idle_consumers(100, [&](bool ok, long long n) {
        EXPECT_TRUE(ok);
        removed = n;
    });
    EXPECT_EQ(wait(removed), 1);
    const auto consumers = run({"XINFO", "CONSUMERS", kPrefix + "deals:ready", "workers"});
    std::vector<std::string> names;
    for (const auto& c : consumers.elements) {
        names.push_back(c.elements.at(1).str);
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"holding:3", "me:1"}));

    // Not idle long enough: kept.
    run({"XGROUP", "CREATECONSUMER", kPrefix + "deals:ready", "workers", "gone:2"});
    removed.reset();
    me.forget_idle_consumers(60000, [&](bool, long long n) { removed = n; });
    EXPECT_EQ(wait(removed), 0);
}

TEST_F(DealOutboxTest, SearchSlotGrantsAtMostNInAnySlidingSpan) {
    DealOutbox a(*redis, kPrefix, "a");
    DealOutbox b(*redis, kPrefix, "b");
    // Just before a 2-second boundary: fixed windows would grant 4 more right after it.
    const std::int64_t start = (now_ms() / 2000) * 2000 + 1900;
    auto slot = [&](DealOutbox& o, std::int64_t at) {
        std::optional<bool> g;
        o.search_slot(at, 4, [&](bool ok) { g = ok; });
        return wait(g);
    };
    int granted = 0;
    for (int i = 0; i < 6; ++i) {
        granted += slot(i % 2 ? a : b, start + i * 10) ? 1 : 0;
    }
    EXPECT_EQ(granted, 4);  // shared by both workers
    EXPECT_FALSE(slot(a, start + 200)) << "a new fixed window must not reset the budget";
    EXPECT_FALSE(slot(a, start + DealOutbox::kSearchSpan.count() - 1));
    EXPECT_TRUE(slot(a, start + DealOutbox::kSearchSpan.count()));  // the first grant has left the span
    EXPECT_GT(integer({"PTTL", kPrefix + "pipedrive:searches"}), 0);
    EXPECT_EQ(integer({"ZCARD", kPrefix + "pipedrive:searches"}), 4);
}

TEST_F(DealOutboxTest, StatusesMapToPendingCreatedFailedAndNone) {
    DealOutbox a(*redis, kPrefix, "a");
    run({"HSET", kPrefix + "deal:p", "state", "pending"});
    run({"HSET", kPrefix + "deal:n", "state", "note", "deal_id", "5001"});
    run({"HSET", kPrefix + "deal:f", "state", "failed", "error", "Pipedrive HTTP 403: limit"});
    std::optional<std::vector<DealStatus>> out;
    a.statuses({"p", "n", "f", "missing"}, [&](bool ok, std::vector<DealStatus> s) {
        EXPECT_TRUE(ok);
        out = std::move(s);
    });
    auto s = wait(out);
    ASSERT_EQ(s.size(), 4u);
    EXPECT_EQ(s[0].kind, DealStatus::Kind::pending);
    EXPECT_EQ(s[1].kind, DealStatus::Kind::created);
    EXPECT_EQ(s[1].deal_id, 5001);
    EXPECT_EQ(s[2].kind, DealStatus::Kind::failed);
    EXPECT_EQ(s[2].error, "Pipedrive HTTP 403: limit");
    EXPECT_EQ(s[3].kind, DealStatus::Kind::none);
}

TEST_F(DealOutboxTest, CountsQueuedRetryingAndDead) {
    DealOutbox a(*redis, kPrefix, "a");
    ASSERT_TRUE(ensure_group(a));
    commit_job("g1", "alice");
    commit_job("g2", "alice");
    commit_job("g3", "bob");
    auto entries = read_new(a);
    ASSERT_EQ(entries.size(), 3u);
    auto [r1, j1] = take(a, entries[0].first, "g1", now_ms());
    auto [r2, j2] = take(a, entries[1].first, "g2", now_ms());
    ASSERT_EQ(r1, TakeResult::ok);
    ASSERT_EQ(r2, TakeResult::ok);
    std::optional<bool> x, y;
    a.reschedule(j1, now_ms() + 60000, "e", true, "", [&](bool b) { x = b; });
    a.dead_letter(j2, "2026-01-01T00:00:00Z", "http_400", "", 400, [&](bool b) { y = b; });
    ASSERT_TRUE(wait(x));
    ASSERT_TRUE(wait(y));
    std::optional<OutboxCounts> c;
    a.counts([&](bool ok, OutboxCounts v) {
        EXPECT_TRUE(ok);
        c = v;
    });
    auto v = wait(c);
    EXPECT_EQ(v.queued, 1);
    EXPECT_EQ(v.retrying, 1);
    EXPECT_EQ(v.dead, 1);
    // Dead letter with an empty detail keeps the reason as the error.
    EXPECT_EQ(hget(kPrefix + "deal:g2", "error"), "http_400");
}

TEST_F(DealOutboxTest, ClaimIdleTakesOverADeadConsumersEntries) {
    DealOutbox a(*redis, kPrefix, "a");
    DealOutbox b(*redis, kPrefix, "b");
    ASSERT_TRUE(ensure_group(a));
    commit_job("g1", "alice");
    ASSERT_EQ(read_new(a).size(), 1u);  // a "dies" holding it
    std::optional<DealOutbox::Entries> early;
    b.claim_idle(10, 60000, [&](bool ok, DealOutbox::Entries e) {
        EXPECT_TRUE(ok);
        early = std::move(e);
    });
    EXPECT_TRUE(wait(early).empty());
    loop.run_for(std::chrono::milliseconds(60));
    std::optional<DealOutbox::Entries> late;
    b.claim_idle(10, 50, [&](bool ok, DealOutbox::Entries e) {
        EXPECT_TRUE(ok);
        late = std::move(e);
    });
    auto got = wait(late);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].second, "g1");
}

}  // namespace
}  // namespace gist
