// One scan of one user, as POST /user and the background rescans both do it: read the stored
// listing, list the gists on GitHub with conditional requests, record GitHub's budget, and
// commit atomically (seen marks, listing, deal jobs, next rescan).
#pragma once

#include "gist/event_loop.hpp"
#include "gist/gist_store.hpp"
#include "gist/github_gist_lister.hpp"
#include "gist/http_client.hpp"
#include "gist/logger.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace gist {

struct ScanSettings {
    GithubSettings github;
    DealsMode deals = DealsMode::off;
    std::chrono::milliseconds rescan_interval{0};  // 0: rescans off
    std::int64_t max_deals_per_scan = 50;          // past it, one summary deal (ScanCommit::max_deals)
};

struct ScanReport {
    enum class Status { ok, github_failed, store_failed, untracked };
    Status status = Status::ok;
    GithubVerdict verdict;          // github_failed: why; ok: the last response's rate headers
    std::string store_error;
    std::string scanned_at;
    std::vector<Gist> gists;        // ok: the whole listing, deduplicated
    CommitOutcome outcome;          // ok: aligned with `gists`
    bool not_modified = false;      // ok: every page was a 304
    int github_requests = 0;        // GitHub requests this scan sent (the access log's $gist_github_requests)
    bool first = false;             // the user had no stored listing (a first scan, not a rescan)
};

// A scan in flight; destroying it cancels it (the callback never runs).
class UserScanner {
public:
    using Callback = std::function<void(ScanReport)>;

    UserScanner(EventLoop& loop, HttpClient& http, RedisClient& redis, GistStore& store, Logger& log,
                const ScanSettings& settings, std::string prefix);
    ~UserScanner();
    UserScanner(const UserScanner&) = delete;
    UserScanner& operator=(const UserScanner&) = delete;

    // as_rescan: do not bring back a user that was untracked while the scan ran. next_scan_ms:
    // the user's next rescan (0: now + interval).
    void start(std::string login, bool as_rescan, Callback on_done, std::int64_t next_scan_ms = 0);

    // The Redis key holding GitHub's budget, and the one pausing rescans after a rate limit.
    static std::string rate_key(const std::string& prefix) { return prefix + "github:rate"; }
    static std::string pause_key(const std::string& prefix) { return prefix + "github:pause_until"; }

private:
    void on_loaded(StoreResult<std::optional<UserRecord>> loaded);
    void on_listed(GistListing listing);
    void record_rate(const GithubVerdict& verdict);
    void finish(ScanReport report);

    EventLoop& loop_;
    HttpClient& http_;
    RedisClient& redis_;
    GistStore& store_;
    Logger& log_;
    const ScanSettings& settings_;
    std::string prefix_;
    std::string login_;
    bool as_rescan_ = false;
    std::int64_t next_scan_ms_ = 0;
    std::unordered_set<std::string> known_;
    std::unique_ptr<GithubGistLister> lister_;
    ScanReport report_;
    Callback on_done_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::chrono::steady_clock::time_point started_;  // for the scan-duration histogram
};

}  // namespace gist
