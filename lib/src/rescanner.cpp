#include "gist/rescanner.hpp"

#include "gist/rfc3339.hpp"

#include <algorithm>
#include <random>
#include <utility>

namespace gist {

namespace {

using std::chrono::milliseconds;

// KEYS: rescan, github:rate, github:pause_until. ARGV: now_ms, max, lease_ms, reserve, now_s.
// Takes due users and pushes their due time past the lease in one step, so no two workers
// anywhere take the same user, and a worker that dies mid-scan only delays it by the lease.
constexpr const char* kClaimScript = R"lua(
local now = tonumber(ARGV[1])
local pause = tonumber(redis.call('GET', KEYS[3]) or '0')
if pause > now then return {'paused'} end
local rate = redis.call('HMGET', KEYS[2], 'remaining', 'reset')
if rate[1] and tonumber(rate[1]) <= tonumber(ARGV[4]) and tonumber(rate[2] or '0') > tonumber(ARGV[5]) then
  return {'budget'}
end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
for i = 1, #due, 2 do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), due[i])
end
return {'ok', due}
)lua";

// KEYS: user, rescan, github:pause_until. ARGV: login, outcome, now_ms, interval_ms, now text,
// jitter (0..1), changes channel. A failed rescan: when to try again.
constexpr const char* kFailedScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'last_scan', ARGV[2], 'last_scan_at', ARGV[5])
local now = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local due
if ARGV[2] == 'github_user_not_found' then
  due = now + 4 * interval
elseif ARGV[2] == 'github_rate_limited' then
  due = math.max(now, tonumber(redis.call('GET', KEYS[3]) or '0'))
else
  local backoff = math.min(interval, 30000 * 2 ^ math.min(failures - 1, 20))
  due = now + backoff * (0.5 + 0.5 * tonumber(ARGV[6]))
end
redis.call('ZADD', KEYS[2], math.floor(due), ARGV[1])
redis.call('PUBLISH', ARGV[7], ARGV[1])
return 1
)lua";

// One step of the adoption walk (docs/read-path.md): users tracked while rescans were off get a
// due time, spread over the interval, a page of logins at a time. The walk's position is in Redis,
// so the fleet shares it and a restart goes on from there; the marker says it is done (a commit
// with rescans off deletes both, so users tracked meanwhile are adopted by a new walk).
// KEYS: users, rescan, adopted marker, walk cursor. ARGV: now_ms, interval_ms, seed, step size.
// Returns {1 when done, users adopted by this step}.
constexpr const char* kAdoptStepScript = R"lua(
if redis.call('EXISTS', KEYS[3]) == 1 then return {1, 0} end
math.randomseed(tonumber(ARGV[3]))
local after = redis.call('GET', KEYS[4])
local step = tonumber(ARGV[4])
local logins = redis.call('ZRANGE', KEYS[1], after and ('(' .. after) or '-', '+', 'BYLEX', 'LIMIT', 0, step)
local n = 0
for _, login in ipairs(logins) do
  n = n + redis.call('ZADD', KEYS[2], 'NX', tonumber(ARGV[1]) + math.floor(math.random() * tonumber(ARGV[2])), login)
end
if #logins < step then
  redis.call('SET', KEYS[3], '1')
  redis.call('DEL', KEYS[4])
  return {1, n}
end
redis.call('SET', KEYS[4], logins[#logins])
return {0, n}
)lua";

constexpr int kAdoptStep = 500;


const char* outcome_code(const ScanReport& report) {
    switch (report.verdict.outcome) {
    case GithubOutcome::not_found:
        return "github_user_not_found";
    case GithubOutcome::rate_limited:
        return "github_rate_limited";
    case GithubOutcome::timeout:
        return "github_timeout";
    case GithubOutcome::rejected:
        return "github_rejected";
    default:
        return "github_unavailable";
    }
}

double unit_random() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

Rescanner::Rescanner(EventLoop& loop, HttpClient& http, RedisClient& redis, Logger& log, RescanSettings settings)
    : loop_(loop),
      http_(http),
      redis_(redis),
      log_(log),
      settings_(std::move(settings)),
      store_(redis, settings_.prefix) {}

Rescanner::~Rescanner() {
    *alive_ = false;
    scans_.clear();
}

void Rescanner::start() {
    timer_ = loop_.make_timer([this] { tick(); });
    guard_ = loop_.make_shutdown_guard([] {});
    schedule(milliseconds(0));
}

void Rescanner::schedule(milliseconds delay) { timer_->arm(delay); }

void Rescanner::guard_in_flight() {
    if (scans_.empty()) {
        guard_->cancel();
    } else if (!guard_->armed()) {
        guard_->arm(settings_.claim_lease);
    }
}

void Rescanner::tick() {
    // A jittered period: workers' ticks must not stay in phase with the due times their own
    // scans set, or one worker ends up taking every user again.
    const auto period = std::clamp(settings_.scan.rescan_interval / 20, milliseconds(50), milliseconds(1000));
    schedule(milliseconds(static_cast<std::int64_t>(period.count() * (0.5 + unit_random()))));
    const int free = settings_.concurrency - static_cast<int>(scans_.size());
    if (claiming_ || free <= 0 || !redis_.connected() || loop_.stopping()) {
        return;
    }
    if (!adopted_) {
        adopt();
        return;
    }
    claiming_ = true;
    const auto now = loop_.now();
    auto alive = alive_;
    redis_.command({"EVAL", kClaimScript, "3", store_.rescan_key(), UserScanner::rate_key(settings_.prefix),
                    UserScanner::pause_key(settings_.prefix), std::to_string(epoch_ms(now)), std::to_string(free),
                    std::to_string(settings_.claim_lease.count()), std::to_string(settings_.rate_reserve),
                    std::to_string(epoch_ms(now) / 1000)},
                   [this, alive](RedisResult r) {
                       if (!*alive) {
                           return;
                       }
                       claiming_ = false;
                       if (!r.ok() || r.value.is_error() || r.value.elements.size() != 2) {
                           return;  // paused, over budget, or Redis trouble: the next tick tries again
                       }
                       const auto& due = r.value.elements[1].elements;
                       for (std::size_t i = 0; i + 1 < due.size(); i += 2) {
                           std::int64_t due_ms = 0;
                           try {
                               due_ms = static_cast<std::int64_t>(std::stod(due[i + 1].str));
                           } catch (const std::exception&) {
                           }
                           scan(due[i].str, due_ms);
                       }
                   });
}

void Rescanner::adopt() {
    claiming_ = true;
    auto alive = alive_;
    redis_.command({"EVAL", kAdoptStepScript, "4", store_.users_key(), store_.rescan_key(), store_.adopted_key(),
                    store_.adopt_cursor_key(), std::to_string(epoch_ms(loop_.now())),
                    std::to_string(settings_.scan.rescan_interval.count()),
                    std::to_string(static_cast<std::int64_t>(unit_random() * 1e9)), std::to_string(kAdoptStep)},
                   [this, alive](RedisResult r) {
                       if (!*alive) {
                           return;
                       }
                       claiming_ = false;
                       const auto& v = r.value.elements;
                       if (!r.ok() || r.value.is_error() || v.size() != 2) {
                           return;  // the next tick tries again
                       }
                       adopted_count_ += v[1].integer;
                       if (v[0].integer == 1) {
                           adopted_ = true;
                           if (adopted_count_ > 0) {
                               log_.log(LogLevel::notice, "gist: scheduled rescans for " +
                                                              std::to_string(adopted_count_) + " tracked users");
                           }
                       } else {
                           schedule(milliseconds(10));  // the next step soon, but never in one go
                       }
                   });
}

void Rescanner::scan(const std::string& login, std::int64_t due_ms) {
    if (scans_.count(login)) {
        return;  // still scanning it from an earlier claim (its lease ran out): let that finish
    }
    auto scanner = std::make_unique<UserScanner>(loop_, http_, redis_, store_, settings_.scan, settings_.prefix);
    auto* raw = scanner.get();
    scans_.emplace(login, std::move(scanner));
    guard_in_flight();
    // Keep the user's phase: next due one interval after this one was due (not after the scan
    // ended), so the period is the interval and the fleet's load stays where it was spread. A
    // scan that starts late (a backlog, a restart) starts a new phase instead: two scans of the
    // same user never come closer than 0.9 interval.
    const auto interval = settings_.scan.rescan_interval.count();
    const auto late = epoch_ms(loop_.now()) - due_ms;
    const std::int64_t next = due_ms > 0 && late <= interval / 10 ? due_ms + interval : 0;
    auto alive = alive_;
    raw->start(login, true, [this, alive, login](ScanReport report) {
        if (!*alive) {
            return;
        }
        scanned(login, report);
        // Destroyed last: we are inside its callback, which touches nothing of it afterwards.
        scans_.erase(login);
        guard_in_flight();
        schedule(milliseconds(0));
    }, next);
}

void Rescanner::scanned(const std::string& login, const ScanReport& report) {
    if (report.status != ScanReport::Status::github_failed) {
        // ok: the commit set the next due time; untracked: gone; store trouble: the claim expires
        return;
    }
    const char* code = outcome_code(report);
    if (report.verdict.outcome != GithubOutcome::not_found) {
        log_.log(LogLevel::warn, std::string("gist: rescan of ") + login + " failed: " + report.verdict.detail);
    }
    const auto now = loop_.now();
    redis_.command({"EVAL", kFailedScript, "3", store_.user_key(login), store_.rescan_key(),
                    UserScanner::pause_key(settings_.prefix), login, code, std::to_string(epoch_ms(now)),
                    std::to_string(settings_.scan.rescan_interval.count()), format_rfc3339(now),
                    std::to_string(unit_random()), store_.changes_channel()},
                   [](RedisResult) {});
}

}  // namespace gist
