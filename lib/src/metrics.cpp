#include "gist/metrics.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iterator>

namespace gist {

namespace {

// --- slot layout ------------------------------------------------------------------------------

constexpr std::array<const char*, 5> kEndpoints{"user", "trackedusers", "health", "deals", "metrics"};
constexpr std::array<int, 16> kStatuses{200, 201, 202, 204, 304, 400, 403, 404, 405, 409, 413, 429, 500, 502, 503, 504};
constexpr std::size_t kStatusSlots = kStatuses.size() + 1;  // + "other"

constexpr std::array<const char*, 7> kGithubOutcomes{"200", "304", "404", "403_429", "5xx", "timeout", "error"};
constexpr std::array<const char*, 2> kScanKinds{"first", "rescan"};
constexpr std::array<const char*, 3> kScanResults{"ok", "not_modified", "failed"};
// Upper bounds (seconds) of the scan-duration buckets; +Inf follows.
constexpr std::array<double, 9> kScanBuckets{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
constexpr std::array<const char*, 9> kPipedriveOps{"search_persons", "create_person", "list_persons",
                                                   "create_deal",    "list_deals",    "search_deals",
                                                   "create_note",    "list_notes",    "other"};
constexpr std::array<const char*, 4> kPipedriveResults{"ok", "retry", "ambiguous", "permanent"};
constexpr std::array<const char*, 4> kDealEvents{"done", "retried", "dead_lettered", "operator_retried"};

constexpr std::size_t kHttp = 0;
constexpr std::size_t kGithub = kHttp + kEndpoints.size() * kStatusSlots;
constexpr std::size_t kScans = kGithub + kGithubOutcomes.size();
constexpr std::size_t kScanHist = kScans + kScanKinds.size() * kScanResults.size();
constexpr std::size_t kScanHistSlots = kScanBuckets.size() + 1 + 2;  // buckets, +Inf, sum (µs), count
constexpr std::size_t kPipedrive = kScanHist + kScanHistSlots;
constexpr std::size_t kDeals = kPipedrive + kPipedriveOps.size() * kPipedriveResults.size();
constexpr std::size_t kRedisErrors = kDeals + kDealEvents.size();  // unavailable, timeout
constexpr std::size_t kRedisReconnects = kRedisErrors + 2;
constexpr std::size_t kSlots = kRedisReconnects + 1;

class NoMetrics final : public Metrics {
public:
    void add(std::size_t, std::uint64_t) override {}
    std::vector<std::uint64_t> snapshot() const override { return std::vector<std::uint64_t>(kSlots, 0); }
};

NoMetrics no_metrics;
Metrics* sink = &no_metrics;

std::size_t status_index(int status) {
    auto it = std::find(kStatuses.begin(), kStatuses.end(), status);
    return static_cast<std::size_t>(std::distance(kStatuses.begin(), it));  // == size(): other
}

// --- rendering ---------------------------------------------------------------------------------

class Writer {
public:
    void family(const char* name, const char* type, const char* help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }

    void sample(const std::string& name, const std::string& labels, std::uint64_t value) {
        line(name, labels, std::to_string(value));
    }

    void sample_signed(const std::string& name, const std::string& labels, std::int64_t value) {
        line(name, labels, std::to_string(value));
    }

    void sample_real(const std::string& name, const std::string& labels, double value) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%.6f", value);
        line(name, labels, buf);
    }

    std::string take() { return std::move(out_); }

private:
    void line(const std::string& name, const std::string& labels, const std::string& value) {
        out_ += name;
        if (!labels.empty()) {
            out_ += '{';
            out_ += labels;
            out_ += '}';
        }
        out_ += ' ';
        out_ += value;
        out_ += '\n';
    }

    std::string out_;
};

std::string label(const char* name, const std::string& value) { return std::string(name) + "=\"" + value + "\""; }

std::string bound_text(double b) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", b);
    return buf;
}

}  // namespace

Metrics& metrics() { return *sink; }

void set_metrics(Metrics* s) { sink = s ? s : &no_metrics; }

LocalMetrics::LocalMetrics() : slots_(kSlots, 0) {}

void LocalMetrics::add(std::size_t slot, std::uint64_t n) {
    if (slot < slots_.size()) {
        slots_[slot] += n;
    }
}

std::vector<std::uint64_t> LocalMetrics::snapshot() const { return slots_; }

std::size_t metric_slot_count() { return kSlots; }

std::uint32_t metric_layout_version() { return 0x67690000u + static_cast<std::uint32_t>(kSlots); }

void count_http(Endpoint endpoint, int status) {
    const auto e = static_cast<std::size_t>(endpoint);
    if (e < kEndpoints.size()) {
        metrics().add(kHttp + e * kStatusSlots + status_index(status), 1);
    }
}

void count_github(GithubCall call) { metrics().add(kGithub + static_cast<std::size_t>(call), 1); }

void count_scan(ScanKind kind, ScanResult result, std::chrono::steady_clock::duration took) {
    auto& m = metrics();
    m.add(kScans + static_cast<std::size_t>(kind) * kScanResults.size() + static_cast<std::size_t>(result), 1);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
    const double seconds = static_cast<double>(us) / 1e6;
    std::size_t bucket = 0;
    while (bucket < kScanBuckets.size() && seconds > kScanBuckets[bucket]) {
        ++bucket;
    }
    m.add(kScanHist + bucket, 1);
    m.add(kScanHist + kScanBuckets.size() + 1, static_cast<std::uint64_t>(us > 0 ? us : 0));
    m.add(kScanHist + kScanBuckets.size() + 2, 1);
}

void count_pipedrive(PipedriveOp op, PipedriveResult result) {
    metrics().add(kPipedrive + static_cast<std::size_t>(op) * kPipedriveResults.size() +
                      static_cast<std::size_t>(result),
                  1);
}

void count_deal(DealEvent event, std::uint64_t n) {
    if (n > 0) {
        metrics().add(kDeals + static_cast<std::size_t>(event), n);
    }
}

void count_redis(RedisEvent event) {
    metrics().add(event == RedisEvent::reconnect ? kRedisReconnects
                                                 : kRedisErrors + (event == RedisEvent::error_timeout ? 1 : 0),
                  1);
}

PipedriveOp pipedrive_op(const std::string& method, const std::string& url) {
    auto path = url;
    if (auto scheme = path.find("://"); scheme != std::string::npos) {
        auto slash = path.find('/', scheme + 3);
        path = slash == std::string::npos ? std::string() : path.substr(slash);
    }
    if (auto q = path.find('?'); q != std::string::npos) {
        path.resize(q);
    }
    const auto ends = [&](const std::string& tail) {
        return path.size() >= tail.size() && path.compare(path.size() - tail.size(), tail.size(), tail) == 0;
    };
    const bool post = method == "POST";
    if (ends("/persons/search")) {
        return PipedriveOp::search_persons;
    }
    if (ends("/deals/search")) {
        return PipedriveOp::search_deals;
    }
    if (ends("/persons")) {
        return post ? PipedriveOp::create_person : PipedriveOp::list_persons;
    }
    if (ends("/deals")) {
        return post ? PipedriveOp::create_deal : PipedriveOp::list_deals;
    }
    if (ends("/notes")) {
        return post ? PipedriveOp::create_note : PipedriveOp::list_notes;
    }
    return PipedriveOp::other;
}

GithubCall github_call(long status, bool timed_out, bool transport_error) {
    if (timed_out) {
        return GithubCall::timeout;
    }
    if (transport_error) {
        return GithubCall::error;
    }
    switch (status) {
    case 200:
        return GithubCall::ok;
    case 304:
        return GithubCall::not_modified;
    case 404:
        return GithubCall::not_found;
    case 403:
    case 429:
        return GithubCall::rate_limited;
    default:
        return status >= 500 && status <= 599 ? GithubCall::server_error : GithubCall::error;
    }
}

std::string render_metrics(const std::vector<std::uint64_t>& in, const MetricGauges& g) {
    std::vector<std::uint64_t> s(in);
    s.resize(kSlots, 0);
    Writer w;

    w.family("gist_http_requests_total", "counter", "HTTP requests answered by the module, by endpoint and status.");
    for (std::size_t e = 0; e < kEndpoints.size(); ++e) {
        for (std::size_t i = 0; i < kStatusSlots; ++i) {
            const auto value = s[kHttp + e * kStatusSlots + i];
            const auto status = i < kStatuses.size() ? std::to_string(kStatuses[i]) : std::string("other");
            w.sample("gist_http_requests_total", label("endpoint", kEndpoints[e]) + "," + label("status", status), value);
        }
    }

    w.family("gist_github_requests_total", "counter",
             "GitHub API requests by outcome (HTTP status class, timeout, or another error).");
    for (std::size_t i = 0; i < kGithubOutcomes.size(); ++i) {
        w.sample("gist_github_requests_total", label("outcome", kGithubOutcomes[i]), s[kGithub + i]);
    }

    w.family("gist_scans_total", "counter",
             "Scans of a user's gists: first (nothing stored yet) or rescan, by result.");
    for (std::size_t k = 0; k < kScanKinds.size(); ++k) {
        for (std::size_t r = 0; r < kScanResults.size(); ++r) {
            w.sample("gist_scans_total", label("kind", kScanKinds[k]) + "," + label("result", kScanResults[r]),
                     s[kScans + k * kScanResults.size() + r]);
        }
    }

    w.family("gist_scan_duration_seconds", "histogram", "How long scans took, GitHub and Redis included.");
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kScanBuckets.size(); ++b) {
        cumulative += s[kScanHist + b];
        w.sample("gist_scan_duration_seconds_bucket",
                 label("le", b < kScanBuckets.size() ? bound_text(kScanBuckets[b]) : std::string("+Inf")), cumulative);
    }
    w.sample_real("gist_scan_duration_seconds_sum", "",
                  static_cast<double>(s[kScanHist + kScanBuckets.size() + 1]) / 1e6);
    w.sample("gist_scan_duration_seconds_count", "", s[kScanHist + kScanBuckets.size() + 2]);

    w.family("gist_pipedrive_requests_total", "counter", "Pipedrive API requests by operation and outcome.");
    for (std::size_t o = 0; o < kPipedriveOps.size(); ++o) {
        for (std::size_t r = 0; r < kPipedriveResults.size(); ++r) {
            w.sample("gist_pipedrive_requests_total",
                     label("operation", kPipedriveOps[o]) + "," + label("outcome", kPipedriveResults[r]),
                     s[kPipedrive + o * kPipedriveResults.size() + r]);
        }
    }

    w.family("gist_deal_jobs_total", "counter",
             "Deal jobs: done (the deal exists), retried after a transient failure, dead-lettered, "
             "moved back by an operator.");
    for (std::size_t i = 0; i < kDealEvents.size(); ++i) {
        w.sample("gist_deal_jobs_total", label("event", kDealEvents[i]), s[kDeals + i]);
    }

    w.family("gist_redis_errors_total", "counter", "Redis commands that failed: unavailable or timed out.");
    w.sample("gist_redis_errors_total", label("kind", "unavailable"), s[kRedisErrors]);
    w.sample("gist_redis_errors_total", label("kind", "timeout"), s[kRedisErrors + 1]);
    w.family("gist_redis_reconnects_total", "counter", "Redis connections made again after one was lost.");
    w.sample("gist_redis_reconnects_total", "", s[kRedisReconnects]);

    w.family("gist_redis_up", "gauge", "1 when this scrape could read Redis.");
    w.sample("gist_redis_up", "", g.redis_up ? 1 : 0);
    if (g.github_remaining) {
        w.family("gist_github_rate_remaining", "gauge", "GitHub requests left in the window, as last seen by the fleet.");
        w.sample_signed("gist_github_rate_remaining", "", *g.github_remaining);
    }
    if (g.github_limit) {
        w.family("gist_github_rate_limit", "gauge", "GitHub requests allowed per window.");
        w.sample_signed("gist_github_rate_limit", "", *g.github_limit);
    }
    if (g.github_reset_epoch) {
        w.family("gist_github_rate_reset_timestamp_seconds", "gauge", "When GitHub's window resets (Unix time).");
        w.sample_signed("gist_github_rate_reset_timestamp_seconds", "", *g.github_reset_epoch);
    }
    if (g.deals_queued || g.deals_retrying || g.deals_dead) {
        w.family("gist_deal_queue_jobs", "gauge",
                 "Deal jobs now: queued (waiting or in flight), retrying (waiting for a backoff), dead.");
        w.sample_signed("gist_deal_queue_jobs", label("queue", "queued"), g.deals_queued.value_or(0));
        w.sample_signed("gist_deal_queue_jobs", label("queue", "retrying"), g.deals_retrying.value_or(0));
        w.sample_signed("gist_deal_queue_jobs", label("queue", "dead"), g.deals_dead.value_or(0));
    }
    if (g.rescans_overdue) {
        w.family("gist_rescans_overdue", "gauge", "Tracked users whose rescan is more than a minute late.");
        w.sample_signed("gist_rescans_overdue", "", *g.rescans_overdue);
    }
    return w.take();
}

}  // namespace gist
