#include "gist/api_metrics.hpp"

#include "gist/metrics.hpp"
#include "gist/rfc3339.hpp"
#include "gist/user_scanner.hpp"

#include <chrono>
#include <exception>
#include <utility>

namespace gist {

namespace {

// KEYS: rescan, github:rate, deals:ready, deals:later, deals:dead. ARGV: overdue cutoff (ms).
constexpr const char* kGaugesScript = R"lua(
local rate = redis.call('HMGET', KEYS[2], 'remaining', 'limit', 'reset')
return {redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1]), rate[1], rate[2], rate[3],
        redis.call('XLEN', KEYS[3]), redis.call('ZCARD', KEYS[4]), redis.call('LLEN', KEYS[5])}
)lua";

std::optional<std::int64_t> number(const RedisValue& v) {
    if (v.type == RedisValue::Type::integer) {
        return v.integer;
    }
    if (v.type != RedisValue::Type::string || v.str.empty()) {
        return std::nullopt;
    }
    try {
        return std::stoll(v.str);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

struct MetricsCall {
    Api::Callback done;
    std::unique_ptr<Timer> timer;
};

class MetricsHandle final : public ApiCall {
public:
    explicit MetricsHandle(std::shared_ptr<MetricsCall> call) : call_(std::move(call)) {}
    ~MetricsHandle() override {
        call_->done = nullptr;
        call_->timer.reset();
    }

private:
    std::shared_ptr<MetricsCall> call_;
};

void answer(MetricsCall& call, ApiResponse response) {
    if (!call.done) {
        return;
    }
    auto done = std::move(call.done);
    call.done = nullptr;
    done(std::move(response));
}

}  // namespace

MetricsApi::MetricsApi(EventLoop& loop, RedisClient& redis, std::string prefix)
    : loop_(loop), redis_(redis), prefix_(std::move(prefix)) {}

std::unique_ptr<ApiCall> MetricsApi::handle(const ApiRequest& request, Api::Callback on_done) {
    auto call = std::make_shared<MetricsCall>();
    call->done = std::move(on_done);
    std::weak_ptr<MetricsCall> weak = call;

    if (request.method != "GET" && request.method != "HEAD") {
        auto response = error_response(405, "method_not_allowed", "allowed methods: GET, HEAD");
        response.headers.emplace_back("Allow", "GET, HEAD");
        call->timer = loop_.make_timer([weak, response]() mutable {
            if (auto c = weak.lock()) {
                answer(*c, std::move(response));
            }
        });
        call->timer->arm(std::chrono::milliseconds(0));
        return std::make_unique<MetricsHandle>(call);
    }

    const auto cutoff =
        std::chrono::duration_cast<std::chrono::milliseconds>(loop_.now().time_since_epoch() - std::chrono::minutes(1))
            .count();
    redis_.command({"EVAL", kGaugesScript, "5", prefix_ + "rescan", UserScanner::rate_key(prefix_),
                    prefix_ + "deals:ready", prefix_ + "deals:later", prefix_ + "deals:dead", std::to_string(cutoff)},
                   [weak](RedisResult r) {
                       auto c = weak.lock();
                       if (!c || !c->done) {
                           return;
                       }
                       MetricGauges g;
                       const auto& v = r.value.elements;
                       if (r.ok() && !r.value.is_error() && v.size() == 7) {
                           g.redis_up = true;
                           g.rescans_overdue = number(v[0]);
                           g.github_remaining = number(v[1]);
                           g.github_limit = number(v[2]);
                           g.github_reset_epoch = number(v[3]);
                           g.deals_queued = number(v[4]);
                           g.deals_retrying = number(v[5]);
                           g.deals_dead = number(v[6]);
                       }
                       ApiResponse response;
                       response.status = 200;
                       response.content_type = "text/plain; version=0.0.4; charset=utf-8";
                       try {
                           response.body = render_metrics(metrics().snapshot(), g);
                       } catch (const std::exception&) {
                           response = error_response(500, "internal_error", "internal error");
                       }
                       answer(*c, std::move(response));
                   });
    return std::make_unique<MetricsHandle>(call);
}

}  // namespace gist
