#include "gist/api_deals.hpp"

#include "gist/metrics.hpp"
#include "gist/page_cursor.hpp"
#include "gist/rfc3339.hpp"

#include <cctype>
#include <chrono>
#include <exception>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace gist {

namespace {

using nlohmann::json;

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 200;

bool all_digits(const std::string& s) {
    if (s.empty() || s.size() > 18) {
        return false;
    }
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

bool valid_cursor(DealJobList which, const std::string& cursor) {
    if (cursor.empty()) {
        return true;
    }
    if (which != DealJobList::queued) {
        return all_digits(cursor);
    }
    const auto dash = cursor.find('-');
    return dash != std::string::npos && all_digits(cursor.substr(0, dash)) && all_digits(cursor.substr(dash + 1));
}

// GitHub gist ids are hex (older ones decimal); nothing else reaches Redis.
bool valid_gist_id(const std::string& id) {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    for (char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

json string_or_null(const std::string& s) { return s.empty() ? json() : json(s); }

json job_json(const DealJobView& v, DealJobList which) {
    json j{{"gist_id", v.gist_id},
           {"html_url", "https://gist.github.com/" + v.gist_id},
           {"login", v.login},
           {"title", v.title},
           {"state", v.state},
           {"attempts", v.attempts},
           {"deal_id", v.deal_id ? json(*v.deal_id) : json()},
           {"created_at", string_or_null(v.created_at)},
           {"error", string_or_null(v.error)}};
    if (which == DealJobList::dead) {
        j["reason"] = v.reason;
        j["detail"] = string_or_null(v.detail);
        j["http_status"] = v.http_status ? json(v.http_status) : json();
        j["failed_at"] = string_or_null(v.failed_at);
    } else if (which == DealJobList::retrying) {
        j["next_attempt_at"] =
            v.due_ms > 0 ? json(format_rfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(v.due_ms))))
                         : json();
    }
    return j;
}

ApiResponse redis_down() {
    return error_response(503, "redis_unavailable", "the state store (Redis) is unavailable; try again shortly");
}

ApiResponse not_allowed(const char* allow) {
    auto r = error_response(405, "method_not_allowed", std::string("allowed methods: ") + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
}

// The call's state: the callback until it runs or the handle is dropped (which cancels it).
struct DealsCall {
    Api::Callback done;
    std::unique_ptr<Timer> timer;
    ApiResponse pending;

    void finish(ApiResponse response) {
        if (!done) {
            return;
        }
        auto callback = std::move(done);
        done = nullptr;
        callback(std::move(response));
    }
};

class DealsHandle final : public ApiCall {
public:
    explicit DealsHandle(std::shared_ptr<DealsCall> call) : call_(std::move(call)) {}
    ~DealsHandle() override {
        call_->done = nullptr;
        call_->timer.reset();
    }

private:
    std::shared_ptr<DealsCall> call_;
};

// Runs `f(call, args…)` only while the call is alive and wanted; no exception escapes.
template <typename F>
auto guarded(const std::shared_ptr<DealsCall>& call, F f) {
    return [weak = std::weak_ptr<DealsCall>(call), f = std::move(f)](auto&&... args) mutable {
        auto self = weak.lock();
        if (!self || !self->done) {
            return;
        }
        try {
            f(*self, std::forward<decltype(args)>(args)...);
        } catch (const std::exception&) {
            self->finish(error_response(500, "internal_error", "internal error"));
        }
    };
}

}  // namespace

DealsApi::DealsApi(EventLoop& loop, RedisClient& redis, std::string prefix, std::string pipedrive_url)
    : loop_(loop), outbox_(redis, std::move(prefix), "api"), pipedrive_url_(std::move(pipedrive_url)) {}

std::unique_ptr<ApiCall> DealsApi::handle(const ApiRequest& request, Api::Callback on_done) {
    auto call = std::make_shared<DealsCall>();
    call->done = std::move(on_done);

    const auto answer_soon = [&](ApiResponse response) {
        call->pending = std::move(response);
        call->timer = loop_.make_timer(guarded(call, [](DealsCall& c) { c.finish(std::move(c.pending)); }));
        call->timer->arm(std::chrono::milliseconds(0));
    };

    // "", "/" → the list; "/retry" → all dead letters; "/{gist}/retry" → one.
    std::string path = request.path;
    while (!path.empty() && path.front() == '/') {
        path.erase(0, 1);
    }
    while (!path.empty() && path.back() == '/') {
        path.pop_back();
    }
    const bool get = request.method == "GET" || request.method == "HEAD";
    std::optional<std::string> retry_gist;  // set for the retry routes ("" = all)
    if (path == "retry") {
        retry_gist = "";
    } else if (path.size() > 6 && path.compare(path.size() - 6, 6, "/retry") == 0) {
        retry_gist = path.substr(0, path.size() - 6);
        if (!valid_gist_id(*retry_gist)) {
            answer_soon(error_response(404, "not_found", "no such resource: /deals/" + path));
            return std::make_unique<DealsHandle>(call);
        }
    } else if (!path.empty()) {
        answer_soon(error_response(404, "not_found", "no such resource: /deals/" + path));
        return std::make_unique<DealsHandle>(call);
    }

    if (request.content_length > 64 * 1024) {
        answer_soon(error_response(413, "body_too_large", "this API takes no request body"));
    } else if (retry_gist) {
        if (request.method != "POST") {
            answer_soon(not_allowed("POST"));
        } else if (pipedrive_url_.empty()) {
            answer_soon(error_response(409, "deals_off",
                                       "Pipedrive deals are off (no gist_pipedrive_api_url): nothing would run a retry"));
        } else {
            const bool one = !retry_gist->empty();
            outbox_.retry_dead(*retry_gist, format_rfc3339(loop_.now()),
                               guarded(call, [one, gist = *retry_gist](DealsCall& c, bool ok, std::int64_t moved) {
                                   if (!ok) {
                                       c.finish(redis_down());
                                   } else if (one && moved == 0) {
                                       c.finish(error_response(404, "not_dead",
                                                               "gist " + gist + " has no dead-lettered deal job"));
                                   } else {
                                       count_deal(DealEvent::operator_retried, static_cast<std::uint64_t>(moved));
                                       c.finish(json_response(200, {{"retried", moved}}));
                                   }
                               }));
        }
    } else if (!get) {
        answer_soon(not_allowed("GET, HEAD"));
    } else {
        const auto status = query_parameter(request.query, "status").value_or("dead");
        const auto limit_text = query_parameter(request.query, "limit");
        const auto cursor = query_parameter(request.query, "cursor").value_or("");
        DealJobList which = DealJobList::dead;
        int limit = kDefaultLimit;
        if (status == "retrying") {
            which = DealJobList::retrying;
        } else if (status == "queued") {
            which = DealJobList::queued;
        } else if (status != "dead") {
            answer_soon(error_response(400, "invalid_status", "status is one of dead, retrying, queued"));
            return std::make_unique<DealsHandle>(call);
        }
        if (limit_text) {
            if (!all_digits(*limit_text) || std::stoll(*limit_text) < 1 || std::stoll(*limit_text) > kMaxLimit) {
                answer_soon(error_response(400, "invalid_limit",
                                           "limit is a number from 1 to " + std::to_string(kMaxLimit)));
                return std::make_unique<DealsHandle>(call);
            }
            limit = static_cast<int>(std::stoll(*limit_text));
        }
        if (!valid_cursor(which, cursor)) {
            answer_soon(error_response(400, "invalid_cursor", "cursor is not one that next_cursor gave"));
            return std::make_unique<DealsHandle>(call);
        }
        outbox_.list_jobs(which, limit, cursor,
                          guarded(call, [which, status, url = pipedrive_url_](DealsCall& c, bool ok, DealJobPage page) {
                              if (!ok) {
                                  c.finish(redis_down());
                                  return;
                              }
                              auto jobs = json::array();
                              for (const auto& v : page.jobs) {
                                  jobs.push_back(job_json(v, which));
                              }
                              c.finish(json_response(200, {{"status", status},
                                                           {"count", page.total},
                                                           {"deals", std::move(jobs)},
                                                           {"next_cursor", string_or_null(page.next_cursor)},
                                                           {"pipedrive_url", string_or_null(url)}}));
                          }));
    }
    return std::make_unique<DealsHandle>(call);
}

}  // namespace gist
