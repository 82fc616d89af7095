// Drains the deal outbox toward Pipedrive: one per NGINX worker, any number per deployment.
// Design: docs/pipedrive-outbox.md.
#pragma once

#include "gist/deal_outbox.hpp"
#include "gist/event_loop.hpp"
#include "gist/http_client.hpp"
#include "gist/logger.hpp"
#include "gist/pipedrive_settings.hpp"
#include "gist/redis_client.hpp"
#include "gist/retry_backoff.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace gist {

struct DealWorkerSettings {
    PipedriveSettings pipedrive;
    std::string prefix = "gist:";
    std::string consumer;                        // unique per worker: "<host>:<pid>"
    int concurrency = 4;                         // jobs in flight
    RetryPolicy retry;
    unsigned max_attempts = 0;                   // 0: retry transient failures for ever
    std::chrono::milliseconds claim_timeout{60000};
    std::chrono::milliseconds poll_interval{250};
    int searches_per_window = 8;                 // fleet-wide per 2 s; Pipedrive allows 10 per token
};

class DealWorker {
public:
    DealWorker(EventLoop& loop, HttpClient& http, RedisClient& redis, Logger& log, DealWorkerSettings settings);
    ~DealWorker();
    DealWorker(const DealWorker&) = delete;
    DealWorker& operator=(const DealWorker&) = delete;

    void start();
    // Look for work now (a scan just queued jobs).
    void kick();
    std::size_t in_flight() const;

    struct Job;  // one job in progress (deal_worker.cpp)

private:
    void tick();
    void schedule(std::chrono::milliseconds delay);
    void take_entries(DealOutbox::Entries entries);

    friend struct Job;
    EventLoop& loop_;
    HttpClient& http_;
    RedisClient& redis_;
    Logger& log_;
    DealWorkerSettings settings_;
    DealOutbox outbox_;
    UnitRandom random_;
    std::unique_ptr<Timer> timer_;
    std::unique_ptr<Timer> guard_;  // armed while jobs are in flight: a reload lets them finish
    void guard_in_flight();
    // How long Pipedrive's last Retry-After still holds every call of this worker back.
    std::chrono::milliseconds pause_left() const;
    std::optional<std::chrono::seconds> capped_server_wait(std::optional<std::chrono::seconds> wait) const;
    std::map<std::string, std::shared_ptr<Job>> jobs_;  // by stream entry id
    bool polling_ = false;
    bool group_ready_ = false;
    std::chrono::steady_clock::time_point paused_until_{};
    std::chrono::steady_clock::time_point last_claim_{};
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gist
