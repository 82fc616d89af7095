// The console's view of the deal outbox: GET /deals, POST /deals/{gist}/retry, POST /deals/retry.
// Part of the HTTP API (api.hpp routes Endpoint::deals here); independent of NGINX.
#pragma once

#include "gist/api.hpp"
#include "gist/deal_outbox.hpp"

#include <memory>
#include <string>

namespace gist {

class DealsApi {
public:
    // pipedrive_url: the company's Pipedrive (deal links in the console); empty: deals are off.
    DealsApi(EventLoop& loop, RedisClient& redis, std::string prefix, std::string pipedrive_url);

    // request.path: the URI after the location's prefix ("", "/retry", "/{gist}/retry");
    // request.query: the query string. The callback always runs later from the event loop.
    std::unique_ptr<ApiCall> handle(const ApiRequest& request, Api::Callback on_done);

private:
    EventLoop& loop_;
    DealOutbox outbox_;
    std::string pipedrive_url_;
};

}  // namespace gist
