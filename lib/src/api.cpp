#include "gist/api.hpp"

#include "gist/api_deals.hpp"
#include "gist/api_metrics.hpp"
#include "gist/metrics.hpp"

#include "gist/deal_note.hpp"
#include "gist/deal_outbox.hpp"
#include "gist/deal_title.hpp"
#include "gist/entity_tag.hpp"
#include "gist/gist_store.hpp"
#include "gist/github_gist_lister.hpp"
#include "gist/login.hpp"
#include "gist/page_cursor.hpp"
#include "gist/response_cache.hpp"
#include "gist/rfc3339.hpp"
#include "gist/user_scanner.hpp"

#include <algorithm>
#include <exception>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

namespace gist {

namespace {

using nlohmann::json;

ApiResponse redis_unavailable() {
    return error_response(503, "redis_unavailable", "the state store (Redis) is unavailable; try again shortly");
}

bool is_get(std::string_view method) { return method == "GET" || method == "HEAD"; }

json time_or_null(const std::string& text) { return text.empty() ? json() : json(text); }

json next_scan_json(std::int64_t ms) {
    if (ms <= 0) {
        return nullptr;
    }
    return format_rfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

json deal_json(const DealStatus& status) {
    switch (status.kind) {
    case DealStatus::Kind::created:
        return {{"status", "created"}, {"id", status.deal_id}};
    case DealStatus::Kind::pending:
        return {{"status", "pending"}};
    case DealStatus::Kind::failed:
        return {{"status", "failed"}, {"error", status.error}};
    default:
        return nullptr;
    }
}

// Newest first; each gist with its deal (null when deals are off or the gist has none).
json gists_json(std::vector<Gist> gists, const std::unordered_map<std::string, DealStatus>& deals) {
    sort_newest_first(gists);
    auto out = json::array();
    for (const auto& g : gists) {
        auto item = to_json(g);
        auto it = deals.find(g.id);
        item["deal"] = it == deals.end() ? json(nullptr) : deal_json(it->second);
        out.push_back(std::move(item));
    }
    return out;
}

// A 200 that may be reused and revalidated: a strong ETag, and clients ask before reusing it.
ApiResponse cacheable(ApiResponse response) {
    response.headers.emplace_back("ETag", strong_etag(response.text()));
    response.headers.emplace_back("Cache-Control", "no-cache");
    return response;
}

// The answer to a client that already has `response` (If-None-Match matches): 304, no body.
std::optional<ApiResponse> not_modified(const ApiResponse& response, const std::string& if_none_match) {
    if (if_none_match.empty() || response.status != 200) {
        return std::nullopt;
    }
    for (const auto& [name, value] : response.headers) {
        if (name == "ETag" && if_none_match_matches(if_none_match, value)) {
            ApiResponse unchanged;
            unchanged.status = 304;
            unchanged.headers = response.headers;
            return unchanged;
        }
    }
    return std::nullopt;
}

ApiResponse conditional(ApiResponse response, const std::string& if_none_match) {
    if (auto unchanged = not_modified(response, if_none_match)) {
        return std::move(*unchanged);
    }
    return response;
}

// GET /trackedusers?limit=N&cursor=C, checked.
struct ListQuery {
    std::size_t limit = 0;
    std::string after;  // the login the page starts after; "" for the first page
};

std::variant<ListQuery, ApiResponse> parse_list_query(const std::string& query, std::size_t page_size) {
    ListQuery q;
    q.limit = page_size;
    if (auto limit = query_parameter(query, "limit")) {
        std::size_t n = 0;
        bool ok = !limit->empty() && limit->size() <= 9;
        for (char c : *limit) {
            ok = ok && c >= '0' && c <= '9';
            n = n * 10 + static_cast<std::size_t>(c - '0');
        }
        if (!ok || n == 0) {
            return error_response(400, "invalid_limit",
                                  "limit must be a whole number from 1 to " + std::to_string(page_size));
        }
        q.limit = std::min(n, page_size);
    }
    if (auto cursor = query_parameter(query, "cursor"); cursor && !cursor->empty()) {
        auto after = decode_page_cursor(*cursor);
        if (!after) {
            return error_response(400, "invalid_cursor", "cursor is not one this API gave out (use next_cursor)");
        }
        q.after = std::move(*after);
    }
    return q;
}

std::string list_cache_key(const ListQuery& q) { return "users:" + std::to_string(q.limit) + ":" + q.after; }
std::string user_cache_key(const std::string& login) { return "user:" + login; }

ApiResponse github_failure(const GithubVerdict& verdict, const std::string& login) {
    switch (verdict.outcome) {
    case GithubOutcome::not_found:
        return error_response(404, "github_user_not_found", "GitHub has no user '" + login + "'");
    case GithubOutcome::rate_limited: {
        auto response = error_response(503, "github_rate_limited",
                                       "GitHub's rate limit is exhausted; retry after " +
                                           std::to_string(verdict.retry_after_seconds) + " seconds");
        response.headers.emplace_back("Retry-After", std::to_string(verdict.retry_after_seconds));
        return response;
    }
    case GithubOutcome::timeout:
        return error_response(504, "github_timeout", "GitHub did not answer in time");
    case GithubOutcome::rejected:
        return error_response(502, "github_rejected", "GitHub rejected the request (" + verdict.detail + ")");
    default:
        return error_response(502, "github_unavailable", "GitHub is unavailable (" + verdict.detail + ")");
    }
}

}  // namespace

namespace {
class Operation;
}  // namespace

struct Api::Impl {
    EventLoop& loop;
    HttpClient& http;
    RedisClient& redis;
    Logger& log;
    ApiSettings settings;
    GistStore store;
    DealOutbox outbox;
    ScanSettings scan;
    LocalChangeSignal local_changes;
    ChangeSignal& changes;
    ResponseCache cache;
    DealsApi deals_api;
    MetricsApi metrics_api;

    // Reads of the same answer share one Redis read (defined after the operations).
    struct SharedRead;
    std::unordered_map<std::string, std::shared_ptr<SharedRead>> reads;
    void join_read(const std::string& key, std::shared_ptr<Operation> waiter, std::string if_none_match,
                   std::function<std::shared_ptr<Operation>(Api::Callback)> make_read);
    void complete_read(const std::string& key, std::uint64_t generation, ApiResponse response);

    Impl(EventLoop& l, HttpClient& h, RedisClient& r, Logger& lg, ApiSettings s)
        : loop(l),
          http(h),
          redis(r),
          log(lg),
          settings(std::move(s)),
          store(redis, settings.redis_prefix),
          outbox(redis, settings.redis_prefix, "api"),
          changes(settings.changes ? *settings.changes : local_changes),
          cache(settings.cache_ttl, changes),
          deals_api(loop, redis, settings.redis_prefix, settings.pipedrive_url),
          metrics_api(loop, redis, settings.redis_prefix) {
        scan.github = settings.github;
        scan.deals = settings.deals;
        scan.max_deals_per_scan = settings.max_deals_per_scan;
        scan.rescan_interval = settings.rescan_interval;
    }

    bool deals_on() const { return settings.deals != DealsMode::off; }
};

namespace {

// One request in progress. Callbacks hold weak references: once the handle is gone (client
// closed the connection, worker exiting) nothing of this runs any more.
class Operation : public std::enable_shared_from_this<Operation> {
public:
    Operation(Api::Impl& api, Api::Callback done) : api_(api), done_(std::move(done)) {}
    virtual ~Operation() = default;

    void cancel() { done_ = nullptr; }

    // The answer of a read shared with others (Api::Impl::complete_read): always from the loop.
    void deliver(ApiResponse response) { finish(std::move(response)); }
    ApiLogInfo log;  // handed to the access log with the answer

    // Answers later from the event loop (the API never answers from inside handle()).
    void answer_soon(ApiResponse response) {
        pending_ = std::move(response);
        timer_ = api_.loop.make_timer([weak = weak_from_this()] {
            if (auto self = weak.lock()) {
                self->finish(std::move(self->pending_));
            }
        });
        timer_->arm(std::chrono::milliseconds(0));
    }

    virtual void run() = 0;

protected:
    void finish(ApiResponse response) {
        if (!done_) {
            return;
        }
        // The callback may drop the last handle to this operation: keep it alive until we return.
        auto self = shared_from_this();
        auto done = std::move(done_);
        done_ = nullptr;
        response.log = std::move(log);
        done(std::move(response));
    }

    // Wraps a continuation so it runs only while the operation is alive and not cancelled, and
    // so no exception escapes into the event loop.
    template <typename F>
    auto guarded(F f) {
        return [weak = weak_from_this(), f = std::move(f)](auto&&... args) mutable {
            auto self = weak.lock();
            if (!self || !self->done_) {
                return;
            }
            try {
                f(*self, std::forward<decltype(args)>(args)...);
            } catch (const std::exception& e) {
                self->api_.log.log(LogLevel::error, std::string("gist: request failed: ") + e.what());
                self->finish(error_response(500, "internal_error", "internal error"));
            }
        };
    }

    Api::Impl& api_;

private:
    Api::Callback done_;
    ApiResponse pending_;
    std::unique_ptr<Timer> timer_;
};

class Immediate final : public Operation {
public:
    Immediate(Api::Impl& api, Api::Callback done, ApiResponse response)
        : Operation(api, std::move(done)), response_(std::move(response)) {}
    void run() override { answer_soon(std::move(response_)); }

private:
    ApiResponse response_;
};

// KEYS: rescan, github:rate. ARGV: overdue cutoff (ms).
constexpr const char* kHealthScript = R"lua(
local rate = redis.call('HMGET', KEYS[2], 'remaining', 'limit', 'reset')
return {redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1]), rate[1], rate[2], rate[3]}
)lua";

class Health final : public Operation {
public:
    using Operation::Operation;
    void run() override {
        api_.store.ping(guarded([](Operation& op, bool up) {
            auto& self = static_cast<Health&>(op);
            self.body_ = {{"status", up ? "ok" : "degraded"},
                          {"redis", up ? "up" : "down"},
                          {"pipedrive", self.api_.deals_on() ? "on" : "off"}};
            if (!up) {
                self.finish(json_response(503, self.body_));
                return;
            }
            self.add_rescan();
        }));
    }

private:
    // Rescan backlog (users overdue by more than a minute) and GitHub's budget as last seen.
    void add_rescan() {
        const auto& prefix = api_.settings.redis_prefix;
        const auto cutoff = std::chrono::duration_cast<std::chrono::milliseconds>(
                                api_.loop.now().time_since_epoch() - std::chrono::minutes(1))
                                .count();
        api_.redis.command({"EVAL", kHealthScript, "2", prefix + "rescan", UserScanner::rate_key(prefix),
                            std::to_string(cutoff)},
                           guarded([](Operation& op, RedisResult r) {
                               auto& self = static_cast<Health&>(op);
                               const auto& v = r.value.elements;
                               if (r.ok() && v.size() == 4) {
                                   const auto interval = self.api_.settings.rescan_interval;
                                   self.body_["rescan"] = {
                                       {"interval_s", interval.count() > 0 ? json(interval.count() / 1000) : json()},
                                       {"overdue", v[0].integer}};
                                   json github{{"remaining", nullptr}, {"limit", nullptr}, {"reset", nullptr}};
                                   if (!v[1].is_nil()) {
                                       github["remaining"] = std::stoll(v[1].str);
                                   }
                                   if (!v[2].is_nil()) {
                                       github["limit"] = std::stoll(v[2].str);
                                   }
                                   if (!v[3].is_nil()) {
                                       github["reset"] = format_rfc3339(
                                           std::chrono::system_clock::time_point(std::chrono::seconds(std::stoll(v[3].str))));
                                   }
                                   self.body_["github"] = std::move(github);
                               }
                               self.add_deals();
                           }));
    }

    void add_deals() {
        if (!api_.deals_on()) {
            finish(json_response(200, body_));
            return;
        }
        api_.outbox.counts(guarded([](Operation& op, bool ok, OutboxCounts counts) {
            auto& self = static_cast<Health&>(op);
            if (ok) {
                self.body_["deals"] = {{"queued", counts.queued}, {"retrying", counts.retrying}, {"dead", counts.dead}};
            }
            self.finish(json_response(200, self.body_));
        }));
    }

    json body_;
};

// One page of the tracked users (docs/read-path.md), rendered once and kept in the cache.
class TrackedUsers final : public Operation {
public:
    TrackedUsers(Api::Impl& api, Api::Callback done, ListQuery query)
        : Operation(api, std::move(done)), query_(std::move(query)) {}

    void run() override {
        api_.store.list_users(query_.after, query_.limit, guarded([](Operation& op, StoreResult<UserPage> result) {
            auto& self = static_cast<TrackedUsers&>(op);
            if (std::holds_alternative<StoreError>(result)) {
                self.finish(redis_unavailable());
                return;
            }
            auto& page = std::get<UserPage>(result);
            auto users = json::array();
            for (const auto& u : page.users) {
                users.push_back({{"login", u.login},
                                 {"tracked_since", u.tracked_since},
                                 {"last_scanned_at", time_or_null(u.last_scanned_at)},
                                 {"next_scan_at", next_scan_json(u.next_scan_ms)},
                                 {"last_scan", time_or_null(u.last_scan)},
                                 {"gist_count", u.gist_count}});
            }
            self.finish(cacheable(json_response(
                200, {{"count", page.count},
                      {"users", std::move(users)},
                      {"next_cursor", page.more ? json(encode_page_cursor(page.last_login)) : json()}})));
        }));
    }

private:
    ListQuery query_;
};

// Reads the deal status of every gist (when deals are on) and hands them to `then`.
template <typename Self, typename Then>
void with_deals(Self& self, Api::Impl& api, std::vector<std::string> ids, Then then) {
    if (!api.deals_on()) {
        then(self, std::unordered_map<std::string, DealStatus>{});
        return;
    }
    api.outbox.statuses(ids, self.guarded([ids, then](Operation& op, bool ok, std::vector<DealStatus> statuses) {
        auto& me = static_cast<Self&>(op);
        if (!ok) {
            me.finish(redis_unavailable());
            return;
        }
        std::unordered_map<std::string, DealStatus> deals;
        for (std::size_t i = 0; i < ids.size() && i < statuses.size(); ++i) {
            deals.emplace(ids[i], std::move(statuses[i]));
        }
        then(me, std::move(deals));
    }));
}

class ShowUser final : public Operation {
public:
    ShowUser(Api::Impl& api, Api::Callback done, std::string login)
        : Operation(api, std::move(done)), login_(std::move(login)) {}
    void run() override {
        api_.store.view_user(login_, guarded([](Operation& op, StoreResult<std::optional<UserView>> result) {
            auto& self = static_cast<ShowUser&>(op);
            if (std::holds_alternative<StoreError>(result)) {
                self.finish(redis_unavailable());
                return;
            }
            auto& view = std::get<std::optional<UserView>>(result);
            if (!view) {
                self.finish(error_response(404, "not_tracked", "'" + self.login_ + "' is not tracked"));
                return;
            }
            self.view_ = std::move(*view);
            GistListing listing;
            listing.pages = self.view_.record.pages;
            self.gists_ = listing.all_gists();
            std::vector<std::string> ids;
            for (const auto& g : self.gists_) {
                ids.push_back(g.id);
            }
            with_deals(self, self.api_, std::move(ids),
                       [](ShowUser& me, std::unordered_map<std::string, DealStatus> deals) { me.answer(deals); });
        }));
    }

    using Operation::guarded;
    using Operation::finish;

private:
    void answer(const std::unordered_map<std::string, DealStatus>& deals) {
        std::unordered_map<std::string, std::string> first_seen;
        for (std::size_t i = 0; i < gists_.size() && i < view_.first_seen.size(); ++i) {
            first_seen[gists_[i].id] = view_.first_seen[i];
        }
        auto items = gists_json(gists_, deals);
        for (auto& item : items) {
            const auto& seen = first_seen[item["id"].get<std::string>()];
            item["first_seen_at"] = seen.empty() ? json() : json(seen);
        }
        const auto& r = view_.record;
        finish(cacheable(json_response(200, {{"login", r.login},
                                             {"tracked_since", r.tracked_since},
                                             {"last_scanned_at", time_or_null(r.last_scanned_at)},
                                             {"next_scan_at", next_scan_json(r.next_scan_ms)},
                                             {"last_scan", time_or_null(r.last_scan)},
                                             {"gist_count", r.gist_count},
                                             {"gists", std::move(items)}})));
    }

    std::string login_;
    UserView view_;
    std::vector<Gist> gists_;
};

class Untrack final : public Operation {
public:
    Untrack(Api::Impl& api, Api::Callback done, std::string login)
        : Operation(api, std::move(done)), login_(std::move(login)) {}
    void run() override {
        api_.store.untrack(login_, guarded([](Operation& op, StoreResult<bool> result) {
            auto& self = static_cast<Untrack&>(op);
            if (std::holds_alternative<StoreError>(result)) {
                self.finish(redis_unavailable());
                return;
            }
            if (!std::get<bool>(result)) {
                self.finish(error_response(404, "not_tracked", "'" + self.login_ + "' is not tracked"));
                return;
            }
            self.api_.changes.bump();
            ApiResponse gone;
            gone.status = 204;
            self.finish(std::move(gone));
        }));
    }

private:
    std::string login_;
};

// POST /user/{login}: scan now (UserScanner), wait a little for the deals of new gists, report.
class ScanUser final : public Operation {
public:
    ScanUser(Api::Impl& api, Api::Callback done, std::string login)
        : Operation(api, std::move(done)), login_(std::move(login)) {}

    void run() override {
        scanner_ = std::make_unique<UserScanner>(api_.loop, api_.http, api_.redis, api_.store, api_.log,
                                                 api_.scan, api_.settings.redis_prefix);
        scanner_->start(login_, false, guarded([](Operation& op, ScanReport report) {
            static_cast<ScanUser&>(op).on_scanned(std::move(report));
        }));
    }

    using Operation::guarded;
    using Operation::finish;

private:
    void on_scanned(ScanReport report) {
        log.github_requests = report.github_requests;
        log.scan = report.first ? "first" : "rescan";
        if (report.status == ScanReport::Status::store_failed) {
            api_.log.log(LogLevel::info, "gist: scan of " + login_ + ": " + report.store_error);
            finish(redis_unavailable());
            return;
        }
        if (report.status == ScanReport::Status::github_failed) {
            if (report.verdict.outcome != GithubOutcome::not_found) {
                api_.log.log(LogLevel::warn, "gist: GitHub scan of " + login_ + " failed: " + report.verdict.detail);
            }
            finish(github_failure(report.verdict, login_));
            return;
        }
        api_.changes.bump();  // the scan was committed: this instance's reads render again
        gists_ = std::move(report.gists);
        scanned_at_ = report.scanned_at;
        on_committed(std::move(report.outcome));
    }

    void on_committed(CommitOutcome committed) {
        outcome_ = std::move(committed);
        bool any_new = false;
        for (bool fresh : outcome_.is_new) {
            any_new = any_new || fresh;
        }
        if (any_new && api_.deals_on() && api_.settings.jobs_queued) {
            api_.settings.jobs_queued();
        }
        deadline_ = std::chrono::steady_clock::now() + api_.settings.deal_wait;
        read_deals(any_new && api_.deals_on());
    }

    // Reads the deal statuses; while a new gist's deal is pending and the wait is not over, reads
    // again a little later.
    void read_deals(bool wait_for_new) {
        std::vector<std::string> ids;
        for (const auto& g : gists_) {
            ids.push_back(g.id);
        }
        with_deals(*this, api_, std::move(ids),
                   [wait_for_new](ScanUser& me, std::unordered_map<std::string, DealStatus> deals) {
                       if (wait_for_new && me.new_deals_pending(deals) &&
                           std::chrono::steady_clock::now() < me.deadline_) {
                           me.poll_ = me.api_.loop.make_timer(
                               me.guarded([](Operation& op) { static_cast<ScanUser&>(op).read_deals(true); }));
                           me.poll_->arm(std::chrono::milliseconds(100));
                           return;
                       }
                       me.answer(deals);
                   });
    }

    bool new_deals_pending(const std::unordered_map<std::string, DealStatus>& deals) const {
        for (std::size_t i = 0; i < gists_.size(); ++i) {
            if (!outcome_.is_new[i]) {
                continue;
            }
            auto it = deals.find(gists_[i].id);
            if (it != deals.end() && it->second.kind == DealStatus::Kind::pending) {
                return true;
            }
        }
        return false;
    }

    void answer(const std::unordered_map<std::string, DealStatus>& deals) {
        std::vector<Gist> fresh, old;
        for (std::size_t i = 0; i < gists_.size(); ++i) {
            (outcome_.is_new[i] ? fresh : old).push_back(std::move(gists_[i]));
        }
        finish(json_response(outcome_.newly_tracked ? 201 : 200,
                             {{"login", login_},
                              {"tracked_since", outcome_.tracked_since},
                              {"scanned_at", scanned_at_},
                              {"new_gists", gists_json(std::move(fresh), deals)},
                              {"old_gists", gists_json(std::move(old), deals)}}));
    }

    std::string login_;
    std::string scanned_at_;
    std::vector<Gist> gists_;
    CommitOutcome outcome_;
    std::unique_ptr<UserScanner> scanner_;
    std::unique_ptr<Timer> poll_;
    std::chrono::steady_clock::time_point deadline_;
};

// A request waiting for a read that others share (Api::Impl::join_read).
class Waiter final : public Operation {
public:
    using Operation::Operation;
    void run() override {}
};

}  // namespace

// One Redis read and render of an answer that any number of requests wait for: a burst of misses
// (after a change, or at the start) costs one read, not one per request, and a client that goes
// away does not cancel it for the others.
struct Api::Impl::SharedRead {
    std::shared_ptr<Operation> read;
    std::vector<std::pair<std::weak_ptr<Operation>, std::string>> waiters;  // with their If-None-Match
};

void Api::Impl::join_read(const std::string& key, std::shared_ptr<Operation> waiter, std::string if_none_match,
                          std::function<std::shared_ptr<Operation>(Api::Callback)> make_read) {
    auto& shared = reads[key];
    if (!shared) {
        shared = std::make_shared<SharedRead>();
    }
    if (waiter) {
        shared->waiters.emplace_back(waiter, std::move(if_none_match));
    }
    if (shared->read) {
        return;
    }
    const auto generation = cache.generation();
    shared->read = make_read([this, key, generation](ApiResponse response) {
        complete_read(key, generation, std::move(response));
    });
    shared->read->run();
}

void Api::Impl::complete_read(const std::string& key, std::uint64_t generation, ApiResponse response) {
    auto it = reads.find(key);
    if (it == reads.end()) {
        return;
    }
    auto shared = std::move(it->second);  // keeps the read alive until we return
    reads.erase(it);
    // One body for the cache and every waiter.
    response.shared_body = std::make_shared<const std::string>(std::move(response.body));
    response.body.clear();
    if (response.status == 200) {
        cache.store(key, response, generation, std::chrono::steady_clock::now());
    }
    for (auto& [weak, if_none_match] : shared->waiters) {
        if (auto waiter = weak.lock()) {
            waiter->deliver(conditional(response, if_none_match));
        }
    }
}

namespace {

class CallHandle final : public ApiCall {
public:
    explicit CallHandle(std::shared_ptr<Operation> op) : op_(std::move(op)) {}
    ~CallHandle() override { op_->cancel(); }

private:
    std::shared_ptr<Operation> op_;
};

ApiResponse method_not_allowed(Endpoint endpoint) {
    auto response = error_response(405, "method_not_allowed",
                                   std::string("allowed methods: ") + Api::allowed_methods(endpoint));
    response.headers.emplace_back("Allow", Api::allowed_methods(endpoint));
    return response;
}

}  // namespace

Api::Api(EventLoop& loop, HttpClient& http, RedisClient& redis, Logger& log, ApiSettings settings)
    : impl_(std::make_unique<Impl>(loop, http, redis, log, std::move(settings))) {}

Api::~Api() = default;

const char* Api::allowed_methods(Endpoint endpoint) {
    return endpoint == Endpoint::user ? "GET, HEAD, POST, DELETE" : "GET, HEAD";
}

std::unique_ptr<ApiCall> Api::handle(const ApiRequest& request, Callback on_done) {
    auto& api = *impl_;
    // Every answer is counted for GET /metrics (by endpoint and status).
    on_done = [endpoint = request.endpoint, done = std::move(on_done)](ApiResponse response) {
        count_http(endpoint, response.status);
        done(std::move(response));
    };
    if (request.endpoint == Endpoint::deals) {
        return api.deals_api.handle(request, std::move(on_done));
    }
    if (request.endpoint == Endpoint::metrics) {
        return api.metrics_api.handle(request, std::move(on_done));
    }
    std::shared_ptr<Operation> op;
    const auto immediate = [&](ApiResponse response) {
        op = std::make_shared<Immediate>(api, std::move(on_done), std::move(response));
    };

    if (request.content_length > api.settings.max_body_bytes) {
        immediate(error_response(413, "body_too_large", "this API takes no request body"));
    } else if (request.endpoint == Endpoint::health) {
        if (is_get(request.method)) {
            op = std::make_shared<Health>(api, std::move(on_done));
        } else {
            immediate(method_not_allowed(request.endpoint));
        }
    } else if (request.endpoint == Endpoint::tracked_users) {
        if (!is_get(request.method)) {
            immediate(method_not_allowed(request.endpoint));
        } else {
            auto query = parse_list_query(request.query, api.settings.tracked_users_page_size);
            if (auto* bad = std::get_if<ApiResponse>(&query)) {
                immediate(std::move(*bad));
            } else {
                const auto q = std::get<ListQuery>(std::move(query));
                op = std::make_shared<Waiter>(api, std::move(on_done));
                api.join_read(list_cache_key(q), op, request.if_none_match, [&api, q](Api::Callback done) {
                    return std::make_shared<TrackedUsers>(api, std::move(done), q);
                });
                return std::make_unique<CallHandle>(std::move(op));
            }
        }
    } else if (request.method != "POST" && !is_get(request.method) && request.method != "DELETE") {
        immediate(method_not_allowed(request.endpoint));
    } else if (!is_valid_login(request.login)) {
        immediate(error_response(400, "invalid_login",
                                 "a GitHub login is 1 to 39 letters, digits or single inner hyphens"));
    } else {
        auto login = normalize_login(request.login);
        ApiLogInfo log{login, 0, request.method == "POST" || request.method == "DELETE" ? "" : "cached"};
        if (request.method == "POST") {
            op = std::make_shared<ScanUser>(api, std::move(on_done), std::move(login));
        } else if (request.method == "DELETE") {
            op = std::make_shared<Untrack>(api, std::move(on_done), std::move(login));
        } else {
            op = std::make_shared<Waiter>(api, std::move(on_done));
            op->log = std::move(log);
            api.join_read(user_cache_key(login), op, request.if_none_match, [&api, login](Api::Callback done) {
                return std::make_shared<ShowUser>(api, std::move(done), login);
            });
            return std::make_unique<CallHandle>(std::move(op));
        }
        op->log = std::move(log);
    }
    op->run();
    return std::make_unique<CallHandle>(std::move(op));
}

std::optional<ApiResponse> Api::cached_answer(const ApiRequest& request) {
    auto& api = *impl_;
    if (!api.cache.enabled() || !is_get(request.method) || request.content_length > api.settings.max_body_bytes) {
        return std::nullopt;
    }
    std::string key;
    std::function<std::shared_ptr<Operation>(Api::Callback)> make_read;
    if (request.endpoint == Endpoint::user) {
        if (!is_valid_login(request.login)) {
            return std::nullopt;
        }
        auto login = normalize_login(request.login);
        key = user_cache_key(login);
        make_read = [&api, login](Api::Callback done) { return std::make_shared<ShowUser>(api, std::move(done), login); };
    } else if (request.endpoint == Endpoint::tracked_users) {
        auto query = parse_list_query(request.query, api.settings.tracked_users_page_size);
        if (!std::holds_alternative<ListQuery>(query)) {
            return std::nullopt;
        }
        const auto q = std::get<ListQuery>(std::move(query));
        key = list_cache_key(q);
        make_read = [&api, q](Api::Callback done) { return std::make_shared<TrackedUsers>(api, std::move(done), q); };
    } else {
        return std::nullopt;
    }
    const auto now = std::chrono::steady_clock::now();
    const ApiResponse* hit = api.cache.find(key, now);
    if (hit == nullptr) {
        return std::nullopt;
    }
    auto answer = not_modified(*hit, request.if_none_match).value_or(*hit);
    // counted and logged like the answers handle() gives
    count_http(request.endpoint, answer.status);
    if (request.endpoint == Endpoint::user) {
        answer.log = ApiLogInfo{normalize_login(request.login), 0, "cached"};
    }
    // Past half its TTL: one read renders it again in the background, so a busy answer is
    // never missed by every request at once when the TTL runs out.
    if (api.cache.due_for_refresh(key, now) && !api.reads.count(key)) {
        api.join_read(key, nullptr, {}, std::move(make_read));
    }
    return answer;
}

}  // namespace gist
