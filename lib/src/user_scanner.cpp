#include "gist/user_scanner.hpp"

#include "gist/deal_note.hpp"
#include "gist/deal_title.hpp"
#include "gist/metrics.hpp"
#include "gist/rfc3339.hpp"

#include <random>
#include <utility>

namespace gist {

namespace {

// Users tracked together must not come due together: the first rescan lands anywhere in the
// interval (uniformly), each later one an interval after the last: the fleet's load stays flat.
std::int64_t jittered(std::int64_t interval_ms) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<std::int64_t> spread(1, interval_ms);
    return spread(rng);
}

}  // namespace

UserScanner::UserScanner(EventLoop& loop, HttpClient& http, RedisClient& redis, GistStore& store, Logger& log,
                         const ScanSettings& settings, std::string prefix)
    : loop_(loop), http_(http), redis_(redis), store_(store), log_(log), settings_(settings),
      prefix_(std::move(prefix)) {}

UserScanner::~UserScanner() { *alive_ = false; }

void UserScanner::start(std::string login, bool as_rescan, Callback on_done, std::int64_t next_scan_ms) {
    login_ = std::move(login);
    as_rescan_ = as_rescan;
    next_scan_ms_ = next_scan_ms;
    on_done_ = std::move(on_done);
    started_ = std::chrono::steady_clock::now();
    auto alive = alive_;
    store_.load_user(login_, [this, alive](StoreResult<std::optional<UserRecord>> loaded) {
        if (*alive) {
            on_loaded(std::move(loaded));
        }
    });
}

void UserScanner::on_loaded(StoreResult<std::optional<UserRecord>> loaded) {
    if (auto* error = std::get_if<StoreError>(&loaded)) {
        report_.status = ScanReport::Status::store_failed;
        report_.store_error = error->message;
        finish(std::move(report_));
        return;
    }
    std::vector<StoredPage> previous;
    auto& record = std::get<std::optional<UserRecord>>(loaded);
    report_.first = !record;
    if (record) {
        previous = std::move(record->pages);
    } else if (as_rescan_) {
        report_.status = ScanReport::Status::untracked;
        finish(std::move(report_));
        return;
    }
    for (const auto& page : previous) {
        for (const auto& g : page.gists) {
            known_.insert(g.id);
        }
    }
    lister_ = std::make_unique<GithubGistLister>(http_, settings_.github, loop_);
    lister_->start(login_, std::move(previous), [this](GistListing listing) { on_listed(std::move(listing)); });
}

void UserScanner::on_listed(GistListing listing) {
    record_rate(listing.verdict);
    report_.github_requests = listing.requests;
    if (listing.verdict.outcome != GithubOutcome::ok) {
        report_.status = ScanReport::Status::github_failed;
        report_.verdict = std::move(listing.verdict);
        finish(std::move(report_));
        return;
    }
    for (const auto& why : listing.dropped) {
        log_.log(LogLevel::warn, "gist: GitHub listed an invalid gist for " + login_ + ", skipped: " + why);
    }
    report_.verdict = listing.verdict;
    report_.not_modified = listing.requests > 0 && listing.not_modified == listing.requests;
    report_.gists = listing.all_gists();

    ScanCommit commit;
    commit.login = login_;
    const auto now = loop_.now();
    commit.scanned_at = format_rfc3339(now);
    commit.pages = std::move(listing.pages);
    commit.deals = settings_.deals;
    commit.max_deals = settings_.max_deals_per_scan;
    commit.last_scan = report_.not_modified ? "not_modified" : "ok";
    commit.only_if_tracked = as_rescan_;
    if (settings_.rescan_interval.count() > 0) {
        const auto interval = settings_.rescan_interval.count();
        commit.next_scan_ms = next_scan_ms_ > 0 ? next_scan_ms_ : epoch_ms(now) + interval;
        commit.first_scan_ms = epoch_ms(now) + jittered(interval);
    }
    commit.gist_ids.reserve(report_.gists.size());
    for (const auto& g : report_.gists) {
        commit.gist_ids.push_back(g.id);
        // Only gists missing from the stored listing can be new (the stored ones were marked seen
        // by the commit that stored them), so only they carry a deal's text.
        if (commit.deals != DealsMode::off && !known_.count(g.id)) {
            commit.candidates.push_back(DealCandidate{g.id, deal_title(g, login_), deal_note_html(g, login_)});
        }
    }
    report_.scanned_at = commit.scanned_at;
    auto alive = alive_;
    store_.commit_scan(commit, [this, alive](StoreResult<CommitOutcome> committed) {
        if (!*alive) {
            return;
        }
        if (auto* error = std::get_if<StoreError>(&committed)) {
            report_.status = ScanReport::Status::store_failed;
            report_.store_error = error->message;
        } else {
            report_.outcome = std::move(std::get<CommitOutcome>(committed));
            if (report_.outcome.untracked) {
                report_.status = ScanReport::Status::untracked;
            }
        }
        finish(std::move(report_));
    });
}

// GitHub's budget is the fleet's (one token): every worker writes what it last saw, and a rate
// limit pauses everybody's rescans.
void UserScanner::record_rate(const GithubVerdict& verdict) {
    const auto& rate = verdict.rate;
    if (rate.remaining && rate.reset_epoch) {
        std::vector<std::string> argv{"HSET", rate_key(prefix_), "remaining", std::to_string(*rate.remaining),
                                      "reset", std::to_string(*rate.reset_epoch), "updated",
                                      std::to_string(epoch_ms(loop_.now()))};
        if (rate.limit) {
            argv.insert(argv.end(), {"limit", std::to_string(*rate.limit)});
        }
        redis_.command(std::move(argv), [](RedisResult) {});
    }
    if (verdict.outcome == GithubOutcome::rate_limited) {
        const auto wait_ms = verdict.retry_after_seconds * 1000;
        redis_.command({"SET", pause_key(prefix_), std::to_string(epoch_ms(loop_.now()) + wait_ms), "PX",
                        std::to_string(wait_ms + 1000)},
                       [](RedisResult) {});
    }
}

void UserScanner::finish(ScanReport report) {
    if (report.status != ScanReport::Status::untracked) {
        count_scan(report.first ? ScanKind::first : ScanKind::rescan,
                   report.status != ScanReport::Status::ok ? ScanResult::failed
                   : report.not_modified                  ? ScanResult::not_modified
                                                          : ScanResult::ok,
                   std::chrono::steady_clock::now() - started_);
    }
    // The callback may destroy this scanner: touch no member after calling it.
    auto done = std::move(on_done_);
    if (done) {
        done(std::move(report));
    }
}

}  // namespace gist
