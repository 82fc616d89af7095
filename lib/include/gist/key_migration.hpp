// Moves users stored by the schema before issue 8 (P user:<login> with the listing inside) to
// the hash-tagged keys (P user:{<login>}, P pages:{<login>}), a bounded step at a time, once for
// the whole fleet (docs/read-path.md). Every worker runs it at start; after the first walk each
// worker reads one marker and is done.
#pragma once

#include "gist/event_loop.hpp"
#include "gist/logger.hpp"
#include "gist/redis_client.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace gist {

class KeyMigration {
public:
    static constexpr int kStep = 200;  // users per step: each step is a short script

    KeyMigration(EventLoop& loop, RedisClient& redis, Logger& log, std::string prefix);
    ~KeyMigration();
    KeyMigration(const KeyMigration&) = delete;
    KeyMigration& operator=(const KeyMigration&) = delete;

    void start();
    bool done() const { return done_; }

private:
    void step();

    EventLoop& loop_;
    RedisClient& redis_;
    Logger& log_;
    std::string prefix_;
    std::unique_ptr<Timer> timer_;
    bool done_ = false;
    bool busy_ = false;
    std::int64_t moved_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gist
