// The metrics core: counting by ids into slots, the Prometheus text, the label helpers.
#include "gist/metrics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gist {
namespace {

class MetricsTest : public ::testing::Test {
protected:
    MetricsTest() { set_metrics(&local); }
    ~MetricsTest() override { set_metrics(nullptr); }

    std::string text(const MetricGauges& g = {}) { return render_metrics(local.snapshot(), g); }

    static bool has_line(const std::string& body, const std::string& line) {
        return ("\n" + body).find("\n" + line + "\n") != std::string::npos;
    }

    LocalMetrics local;
};

TEST_F(MetricsTest, WithoutASinkCountingDoesNothing) {
    set_metrics(nullptr);
    count_http(Endpoint::user, 200);
    EXPECT_EQ(local.snapshot(), LocalMetrics().snapshot());
    EXPECT_EQ(metrics().snapshot().size(), metric_slot_count());
}

TEST_F(MetricsTest, CountersAppearWithTheirLabelsAndZerosAreInitialised) {
    count_http(Endpoint::user, 201);
    count_http(Endpoint::user, 201);
    count_http(Endpoint::tracked_users, 200);
    count_http(Endpoint::health, 418);
    count_github(GithubCall::not_modified);
    count_pipedrive(PipedriveOp::create_deal, PipedriveResult::permanent);
    count_deal(DealEvent::dead_lettered);
    count_deal(DealEvent::operator_retried, 3);
    count_redis(RedisEvent::error_timeout);
    count_redis(RedisEvent::reconnect);
    const auto body = text();
    EXPECT_TRUE(has_line(body, "# TYPE gist_http_requests_total counter"));
    EXPECT_TRUE(has_line(body, R"(gist_http_requests_total{endpoint="user",status="201"} 2)"));
    EXPECT_TRUE(has_line(body, R"(gist_http_requests_total{endpoint="trackedusers",status="200"} 1)"));
    EXPECT_TRUE(has_line(body, R"(gist_http_requests_total{endpoint="health",status="other"} 1)"));
    EXPECT_TRUE(has_line(body, R"(gist_http_requests_total{endpoint="deals",status="200"} 0)"));
    EXPECT_TRUE(has_line(body, R"(gist_github_requests_total{outcome="304"} 1)"));
    EXPECT_TRUE(has_line(body, R"(gist_github_requests_total{outcome="200"} 0)"));
    EXPECT_TRUE(has_line(body, R"(gist_pipedrive_requests_total{operation="create_deal",outcome="permanent"} 1)"));
    EXPECT_TRUE(has_line(body, R"(gist_deal_jobs_total{event="dead_lettered"} 1)"));
    EXPECT_TRUE(has_line(body, R"(gist_deal_jobs_total{event="operator_retried"} 3)"));
    EXPECT_TRUE(has_line(body, R"(gist_redis_errors_total{kind="timeout"} 1)"));
    EXPECT_TRUE(has_line(body, "gist_redis_reconnects_total 1"));
    EXPECT_TRUE(has_line(body, "gist_redis_up 0"));
    EXPECT_EQ(body.find("gist_deal_queue_jobs"), std::string::npos) << "no Redis answer: no gauges";
}

TEST_F(MetricsTest, ScanHistogramIsCumulativeWithSumAndCount) {
    count_scan(ScanKind::first, ScanResult::ok, std::chrono::milliseconds(30));
    count_scan(ScanKind::rescan, ScanResult::not_modified, std::chrono::milliseconds(700));
    count_scan(ScanKind::rescan, ScanResult::failed, std::chrono::seconds(90));
    const auto body = text();
    EXPECT_TRUE(has_line(body, R"(gist_scans_total{kind="first",result="ok"} 1)"));
    EXPECT_TRUE(has_line(body, R"(gist_scans_total{kind="rescan",result="not_modified"} 1)"));
    EXPECT_TRUE(has_line(body, R"(gist_scans_total{kind="rescan",result="failed"} 1)"));
    EXPECT_TRUE(has_line(body, "# TYPE gist_scan_duration_seconds histogram"));
    EXPECT_TRUE(has_line(body, R"(gist_scan_duration_seconds_bucket{le="0.05"} 1)"));
    EXPECT_TRUE(has_line(body, R"(gist_scan_duration_seconds_bucket{le="0.5"} 1)"));
    EXPECT_TRUE(has_line(body, R"(gist_scan_duration_seconds_bucket{le="1"} 2)"));
    EXPECT_TRUE(has_line(body, R"(gist_scan_duration_seconds_bucket{le="30"} 2)"));
    EXPECT_TRUE(has_line(body, R"(gist_scan_duration_seconds_bucket{le="+Inf"} 3)"));
    EXPECT_TRUE(has_line(body, "gist_scan_duration_seconds_sum 90.730000"));
    EXPECT_TRUE(has_line(body, "gist_scan_duration_seconds_count 3"));
}

TEST_F(MetricsTest, GaugesFromRedis) {
    MetricGauges g;
    g.redis_up = true;
    g.github_remaining = 4990;
    g.github_limit = 5000;
    g.github_reset_epoch = 1767225600;
    g.deals_queued = 2;
    g.deals_retrying = 1;
    g.deals_dead = 0;
    g.rescans_overdue = 7;
    const auto body = text(g);
    EXPECT_TRUE(has_line(body, "gist_redis_up 1"));
    EXPECT_TRUE(has_line(body, "gist_github_rate_remaining 4990"));
    EXPECT_TRUE(has_line(body, "gist_github_rate_limit 5000"));
    EXPECT_TRUE(has_line(body, "gist_github_rate_reset_timestamp_seconds 1767225600"));
    EXPECT_TRUE(has_line(body, R"(gist_deal_queue_jobs{queue="queued"} 2)"));
    EXPECT_TRUE(has_line(body, R"(gist_deal_queue_jobs{queue="retrying"} 1)"));
    EXPECT_TRUE(has_line(body, R"(gist_deal_queue_jobs{queue="dead"} 0)"));
    EXPECT_TRUE(has_line(body, "gist_rescans_overdue 7"));
}

TEST(MetricsLabels, PipedriveOperationFromMethodAndUrl) {
    EXPECT_EQ(pipedrive_op("GET", "https://x.pipedrive.com/api/v2/persons/search?term=a"), PipedriveOp::search_persons);
    EXPECT_EQ(pipedrive_op("POST", "https://x.pipedrive.com/api/v2/persons"), PipedriveOp::create_person);
    EXPECT_EQ(pipedrive_op("GET", "https://x.pipedrive.com/api/v2/persons?updated_since=x"), PipedriveOp::list_persons);
    EXPECT_EQ(pipedrive_op("POST", "http://127.0.0.1:1/api/v2/deals"), PipedriveOp::create_deal);
    EXPECT_EQ(pipedrive_op("GET", "http://127.0.0.1:1/api/v2/deals?person_id=1"), PipedriveOp::list_deals);
    EXPECT_EQ(pipedrive_op("GET", "http://127.0.0.1:1/api/v2/deals/search?term=x"), PipedriveOp::search_deals);
    EXPECT_EQ(pipedrive_op("POST", "http://127.0.0.1:1/api/v1/notes"), PipedriveOp::create_note);
    EXPECT_EQ(pipedrive_op("GET", "http://127.0.0.1:1/api/v1/notes?deal_id=3"), PipedriveOp::list_notes);
    EXPECT_EQ(pipedrive_op("GET", "http://127.0.0.1:1/api/v1/users"), PipedriveOp::other);
}

TEST(MetricsLabels, GithubOutcomeFromStatus) {
    EXPECT_EQ(github_call(200, false, false), GithubCall::ok);
    EXPECT_EQ(github_call(304, false, false), GithubCall::not_modified);
    EXPECT_EQ(github_call(404, false, false), GithubCall::not_found);
    EXPECT_EQ(github_call(403, false, false), GithubCall::rate_limited);
    EXPECT_EQ(github_call(429, false, false), GithubCall::rate_limited);
    EXPECT_EQ(github_call(502, false, false), GithubCall::server_error);
    EXPECT_EQ(github_call(0, true, true), GithubCall::timeout);
    EXPECT_EQ(github_call(0, false, true), GithubCall::error);
    EXPECT_EQ(github_call(401, false, false), GithubCall::error);
}

}  // namespace
}  // namespace gist
