// Background rescans: any worker's timer claims due users from Redis and scans them, so the fleet
// as a whole rescans each tracked user once per interval. Design: docs/rescan.md.
#pragma once

#include "gist/event_loop.hpp"
#include "gist/gist_store.hpp"
#include "gist/http_client.hpp"
#include "gist/logger.hpp"
#include "gist/redis_client.hpp"
#include "gist/user_scanner.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace gist {

struct RescanSettings {
    ScanSettings scan;                 // scan.rescan_interval > 0
    std::string prefix = "gist:";
    int concurrency = 4;               // rescans in flight per worker
    std::int64_t rate_reserve = 100;   // stop below this GitHub budget
    std::chrono::milliseconds claim_lease{60000};
};

class Rescanner {
public:
    Rescanner(EventLoop& loop, HttpClient& http, RedisClient& redis, Logger& log, RescanSettings settings);
    ~Rescanner();
    Rescanner(const Rescanner&) = delete;
    Rescanner& operator=(const Rescanner&) = delete;

    void start();
    std::size_t in_flight() const { return scans_.size(); }

private:
    void tick();
    void schedule(std::chrono::milliseconds delay);
    void adopt();
    void scan(const std::string& login, std::int64_t due_ms);
    void guard_in_flight();
    void scanned(const std::string& login, const ScanReport& report);

    EventLoop& loop_;
    HttpClient& http_;
    RedisClient& redis_;
    Logger& log_;
    RescanSettings settings_;
    GistStore store_;
    std::unique_ptr<Timer> timer_;
    std::unique_ptr<Timer> guard_;  // armed while rescans are in flight: a reload lets them finish
    std::map<std::string, std::unique_ptr<UserScanner>> scans_;  // by login
    bool claiming_ = false;
    bool adopted_ = false;
    std::int64_t adopted_count_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gist
