// Non-blocking Redis client: hiredis' async API driven by an EventLoop, with reconnects.
#pragma once

#include "gist/event_loop.hpp"
#include "gist/logger.hpp"
#include "gist/redis_value.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gist {

struct RedisEndpoint {
    std::string host;        // an IP address (never a name: hiredis would resolve it blocking)
    int port = 6379;
    std::string unix_path;   // used instead of host:port when non-empty
    int db = 0;
    std::string password;    // AUTH when non-empty; never logged
};

struct RedisClientOptions {
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds command_timeout{3000};
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{5000};
    std::string log_name = "redis";  // starts each log line
    bool quiet = false;              // connection state changes at info, not notice/error
};

enum class RedisFailure {
    none,
    unavailable,  // not connected (command failed fast), or the connection dropped before the reply
    timeout,      // no reply within command_timeout; the connection is reset
};

struct RedisResult {
    RedisFailure failure = RedisFailure::none;
    RedisValue value;  // meaningful when failure == none (may itself be an error reply)
    bool ok() const { return failure == RedisFailure::none; }
};

class RedisClient {
public:
    using Callback = std::function<void(RedisResult)>;

    virtual ~RedisClient() = default;
    // Starts connecting (and keeps reconnecting with backoff while disconnected).
    virtual void start() = 0;
    virtual bool connected() const = 0;
    // Sends one command (argv form, binary-safe). When disconnected the callback runs with
    // `unavailable` from the event loop (not from inside this call). A callback runs at most once;
    // callbacks still pending when the client is destroyed are dropped without being called.
    virtual void command(std::vector<std::string> argv, Callback on_reply) = 0;
    // Incremented on every successful (re)connect; tests and metrics read it.
    virtual unsigned long connects() const = 0;
    // Subscribes this connection to `channel`, again after every reconnect; the connection then
    // serves nothing else. on_message gets each message's payload, on_subscribed runs after each
    // (re)subscription (messages sent while the connection was down are lost). Both run from the
    // event loop. Clients that cannot subscribe ignore it.
    virtual void subscribe(std::string /*channel*/, std::function<void(std::string)> /*on_message*/,
                           std::function<void()> /*on_subscribed*/) {}
};

std::unique_ptr<RedisClient> make_hiredis_client(EventLoop& loop, Logger& log, RedisEndpoint endpoint,
                                                  RedisClientOptions options = {});

}  // namespace gist
