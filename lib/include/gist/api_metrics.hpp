// GET /metrics: the process's counters (metrics.hpp) plus what Redis says now (queues, backlog,
// GitHub's budget), in Prometheus' text format. Part of the HTTP API; independent of NGINX.
#pragma once

#include "gist/api.hpp"

#include <memory>
#include <string>

namespace gist {

class MetricsApi {
public:
    MetricsApi(EventLoop& loop, RedisClient& redis, std::string prefix);
    // The callback always runs later from the event loop.
    std::unique_ptr<ApiCall> handle(const ApiRequest& request, Api::Callback on_done);

private:
    EventLoop& loop_;
    RedisClient& redis_;
    std::string prefix_;
};

}  // namespace gist
