// GistStore::commit_scan with gist_pipedrive_max_deals_per_scan: past the limit, the new gists of
// one commit share one summary job, recorded in the same script that marks them seen, so a later
// or racing commit never records a second summary (or a job of their own) for any of them.
#include "gist/deal_outbox.hpp"
#include "gist/gist_store.hpp"

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

class DealLimitTest : public ::testing::Test {
protected:
    DealLimitTest() {
        RedisEndpoint endpoint;
        endpoint.host = "127.0.0.1";
        endpoint.port = server.port();
        redis = make_hiredis_client(loop, log, endpoint);
        redis->start();
        loop.run_until([&] { return redis->connected(); }, std::chrono::seconds(3));
        store = std::make_unique<GistStore>(*redis, kPrefix);
    }

    RedisValue run(std::vector<std::string> argv) {
        std::optional<RedisResult> result;
        redis->command(std::move(argv), [&](RedisResult r) { result = std::move(r); });
        EXPECT_TRUE(loop.run_until([&] { return result.has_value(); }, std::chrono::seconds(3)));
        return result ? result->value : RedisValue{};
    }

    // A commit of `ids` (all candidates, with their own title and note) for `login`.
    CommitOutcome commit(const std::string& login, const std::vector<std::string>& ids, std::int64_t max_deals) {
        ScanCommit c;
        c.login = login;
        c.scanned_at = "2026-01-01T00:00:00Z";
        c.deals = DealsMode::deal;
        c.max_deals = max_deals;
        c.gist_ids = ids;
        for (const auto& id : ids) {
            c.candidates.push_back(DealCandidate{id, "Gist " + id + " by " + login + ": own", "<p>" + id + "</p>"});
        }
        std::optional<StoreResult<CommitOutcome>> out;
        store->commit_scan(c, [&](StoreResult<CommitOutcome> r) { out = std::move(r); });
        EXPECT_TRUE(loop.run_until([&] { return out.has_value(); }, std::chrono::seconds(3)));
        if (!out || !std::holds_alternative<CommitOutcome>(*out)) {
            ADD_FAILURE() << "commit failed";
            return {};
        }
        return std::get<CommitOutcome>(*out);
    }

    std::vector<std::string> queued() {
        std::vector<std::string> ids;
        for (const auto& entry : run({"XRANGE", kPrefix + "deals:ready", "-", "+"}).elements) {
            ids.push_back(entry.elements.at(1).elements.at(1).str);
        }
        return ids;
    }

    std::string hget(const std::string& key, const std::string& field) { return run({"HGET", key, field}).str; }

    TestRedisServer server;
    PollLoop loop;
    NullLogger log;
    std::unique_ptr<RedisClient> redis;
    std::unique_ptr<GistStore> store;
};

TEST_F(DealLimitTest, PastTheLimitOneSummaryJobCoversTheRest) {
    const auto outcome = commit("alice", {"a1", "a2", "a3", "a4", "a5"}, 2);
    EXPECT_EQ(outcome.is_new, (std::vector<bool>{true, true, true, true, true}));
    // a1 and a2 get their own; a3 heads the summary of a3, a4, a5.
    EXPECT_EQ(queued(), (std::vector<std::string>{"a1", "a2", "a3"}));
    EXPECT_EQ(hget(kPrefix + "deal:a1", "title"), "Gist a1 by alice: own");
    EXPECT_EQ(hget(kPrefix + "deal:a3", "title"), "Gist a3 by alice: 3 new gists in one scan (summary)");
    EXPECT_EQ(hget(kPrefix + "deal:a3", "summary_of"), "3");
    EXPECT_EQ(hget(kPrefix + "deal:a3", "login"), "alice");
    EXPECT_EQ(hget(kPrefix + "deal:a3", "state"), "pending");
    const std::string note = hget(kPrefix + "deal:a3", "note");
    for (const char* id : {"a3", "a4", "a5"}) {
        EXPECT_NE(note.find(std::string("<a href=\"https://gist.github.com/") + id + "\">" + id + "</a>"),
                  std::string::npos)
            << note;
    }
    EXPECT_EQ(run({"EXISTS", kPrefix + "deal:a4"}).integer, 0);
    EXPECT_EQ(hget(kPrefix + "deals:summary", "a4"), "a3");
    EXPECT_EQ(hget(kPrefix + "deals:summary", "a5"), "a3");

    // The API shows the summary's status for the gists it covers.
    DealOutbox outbox(*redis, kPrefix, "api");
    std::optional<std::vector<DealStatus>> statuses;
    outbox.statuses({"a4", "a5"}, [&](bool, std::vector<DealStatus> s) { statuses = std::move(s); });
    ASSERT_TRUE(loop.run_until([&] { return statuses.has_value(); }, std::chrono::seconds(3)));
    ASSERT_EQ(statuses->size(), 2u);
    EXPECT_EQ((*statuses)[0].kind, DealStatus::Kind::pending);
    EXPECT_EQ((*statuses)[1].kind, DealStatus::Kind::pending);
}

TEST_F(DealLimitTest, ARescanNeverRecordsASecondSummary) {
    commit("alice", {"a1", "a2", "a3", "a4", "a5"}, 2);
    // Same gists again (a racing scan, or the stored listing lost): nothing new, nothing queued.
    const auto again = commit("alice", {"a1", "a2", "a3", "a4", "a5"}, 2);
    EXPECT_EQ(again.is_new, (std::vector<bool>{false, false, false, false, false}));
    EXPECT_EQ(queued(), (std::vector<std::string>{"a1", "a2", "a3"}));
    // Later, two new gists: each gets its own deal, no summary.
    commit("alice", {"a6", "a7", "a1", "a2", "a3", "a4", "a5"}, 2);
    EXPECT_EQ(queued(), (std::vector<std::string>{"a1", "a2", "a3", "a6", "a7"}));
    EXPECT_EQ(hget(kPrefix + "deal:a6", "title"), "Gist a6 by alice: own");
}

TEST_F(DealLimitTest, AtTheLimitNoSummaryAndZeroMeansNoLimit) {
    commit("alice", {"a1", "a2"}, 2);
    EXPECT_EQ(queued(), (std::vector<std::string>{"a1", "a2"}));
    EXPECT_EQ(run({"EXISTS", kPrefix + "deals:summary"}).integer, 0);
    commit("bob", {"b1", "b2", "b3", "b4"}, 0);
    EXPECT_EQ(queued(), (std::vector<std::string>{"a1", "a2", "b1", "b2", "b3", "b4"}));
    EXPECT_EQ(hget(kPrefix + "deal:b4", "title"), "Gist b4 by bob: own");
}

TEST_F(DealLimitTest, OnlyGistsNewToTheDeploymentCount) {
    // b1 was seen before (another user's scan, or an earlier deployment): it does not use a slot.
    run({"HSET", kPrefix + "seen", "b1", "2025-01-01T00:00:00Z"});
    commit("bob", {"b1", "b2", "b3", "b4"}, 2);
    EXPECT_EQ(queued(), (std::vector<std::string>{"b2", "b3", "b4"}));
    // One past the limit: a summary of one would cost the same deal, so it gets its own.
    EXPECT_EQ(hget(kPrefix + "deal:b4", "title"), "Gist b4 by bob: own");
    EXPECT_EQ(run({"EXISTS", kPrefix + "deals:summary"}).integer, 0);
}

TEST_F(DealLimitTest, SummaryNoteListsAtMostOneHundred) {
    std::vector<std::string> ids;
    for (int i = 0; i < 130; ++i) {
        ids.push_back("c" + std::to_string(1000 + i));
    }
    commit("carol", ids, 10);
    EXPECT_EQ(queued().size(), 11u);
    const std::string note = hget(kPrefix + "deal:c1010", "note");
    EXPECT_NE(note.find("c1109"), std::string::npos);
    EXPECT_EQ(note.find("c1110"), std::string::npos);
    EXPECT_NE(note.find("<p>and 20 more.</p>"), std::string::npos) << note;
    EXPECT_EQ(hget(kPrefix + "deals:summary", "c1129"), "c1010");
}

}  // namespace
}  // namespace gist
