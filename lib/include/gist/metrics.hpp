// Counters and histograms for GET /metrics (Prometheus text format), independent of NGINX.
//
// The core counts by enum ids at the few places where things happen (count_*() below); the
// process's Metrics sink turns an id into a slot of a flat array of 64-bit counters. The NGINX glue
// installs a sink over a shared-memory zone (one scrape covers every worker, a reload keeps the
// numbers); without one, counting does nothing. render_metrics() writes the text from the slots.
#pragma once

#include "gist/api.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gist {

// gist_github_requests_total{outcome}: what each GitHub request got.
enum class GithubCall { ok, not_modified, not_found, rate_limited, server_error, timeout, error };
// gist_scans_total{kind,result}: first = the user had no stored listing, rescan = they had one.
enum class ScanKind { first, rescan };
enum class ScanResult { ok, not_modified, failed };
// gist_pipedrive_requests_total{operation,outcome}
enum class PipedriveOp { search_persons, create_person, list_persons, create_deal, list_deals, search_deals,
                         create_note, list_notes, other };
enum class PipedriveResult { ok, retry, ambiguous, permanent };
// gist_deal_jobs_total{event}: done = the job finished (its deal exists), retried = rescheduled
// after a transient failure, dead_lettered, operator_retried = moved back from the dead letters.
enum class DealEvent { done, retried, dead_lettered, operator_retried };
enum class RedisEvent { error_unavailable, error_timeout, reconnect };

// Where counts go. Slots are indices into [0, metric_slot_count()).
class Metrics {
public:
    virtual ~Metrics() = default;
    virtual void add(std::size_t slot, std::uint64_t n) = 0;
    // The current value of every slot.
    virtual std::vector<std::uint64_t> snapshot() const = 0;
};

// The process's sink (a no-op until set_metrics). The sink must outlive its use; nullptr resets.
Metrics& metrics();
void set_metrics(Metrics* sink);

// A plain in-process sink (tests, and anything that is not NGINX).
class LocalMetrics final : public Metrics {
public:
    LocalMetrics();
    void add(std::size_t slot, std::uint64_t n) override;
    std::vector<std::uint64_t> snapshot() const override;

private:
    std::vector<std::uint64_t> slots_;
};

std::size_t metric_slot_count();
// Changes whenever the slot layout does (a shared zone from another build is not reused).
std::uint32_t metric_layout_version();

void count_http(Endpoint endpoint, int status);
void count_github(GithubCall call);
void count_scan(ScanKind kind, ScanResult result, std::chrono::steady_clock::duration took);
void count_pipedrive(PipedriveOp op, PipedriveResult result);
void count_deal(DealEvent event, std::uint64_t n = 1);
void count_redis(RedisEvent event);

// From a Pipedrive request's method and URL (the operation label).
PipedriveOp pipedrive_op(const std::string& method, const std::string& url);
// From an HTTP status and transport outcome.
GithubCall github_call(long status, bool timed_out, bool transport_error);

// What a scrape reads from Redis at scrape time (fleet-wide); absent when Redis did not answer.
struct MetricGauges {
    bool redis_up = false;
    std::optional<std::int64_t> github_remaining, github_limit, github_reset_epoch;
    std::optional<std::int64_t> deals_queued, deals_retrying, deals_dead;
    std::optional<std::int64_t> rescans_overdue;
};

// The Prometheus text exposition format (version 0.0.4).
std::string render_metrics(const std::vector<std::uint64_t>& slots, const MetricGauges& gauges);

}  // namespace gist
