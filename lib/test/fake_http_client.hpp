// An HttpClient for tests: records requests and answers them from a script, from the loop.
#pragma once

#include "gist/http_client.hpp"

#include <algorithm>
#include <chrono>
#include <cctype>
#include <map>
#include <string>
#include <string_view>
#include <functional>
#include <memory>
#include <vector>

namespace gist::test {

class FakeHttpClient final : public HttpClient {
public:
    // Decides the answer to each request; default: 500.
    using Responder = std::function<HttpResponse(const HttpRequest&)>;

    explicit FakeHttpClient(EventLoop& loop) : loop_(loop) {}

    void respond_with(Responder responder) { responder_ = std::move(responder); }
    // How long each request takes to be answered (default: at once, from the loop).
    void delay_with(std::function<std::chrono::milliseconds(const HttpRequest&)> delay) { delay_ = std::move(delay); }

    std::unique_ptr<HttpCall> start(HttpRequest request, Callback on_done) override {
        requests.push_back(request);
        auto call = std::make_unique<Call>();
        auto alive = call->alive;
        HttpResponse response = responder_ ? responder_(request) : HttpResponse{};
        if (!responder_) {
            response.status = 500;
        }
        call->timer = loop_.make_timer([alive, on_done = std::move(on_done), response = std::move(response)]() mutable {
            if (*alive) {
                *alive = false;
                on_done(std::move(response));
            }
        });
        call->timer->arm(delay_ ? delay_(request) : std::chrono::milliseconds(0));
        return call;
    }

    std::vector<HttpRequest> requests;

private:
    struct Call final : HttpCall {
        std::shared_ptr<bool> alive = std::make_shared<bool>(true);
        std::unique_ptr<Timer> timer;
        ~Call() override { *alive = false; }
    };

    EventLoop& loop_;
    Responder responder_;
    std::function<std::chrono::milliseconds(const HttpRequest&)> delay_;
};

inline HttpResponse http_response(long status, std::string body,
                                  std::map<std::string, std::string> headers = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    r.request_sent = true;
    return r;
}

inline const std::string* request_header(const HttpRequest& request, std::string_view name) {
    for (const auto& [key, value] : request.headers) {
        if (key.size() == name.size() &&
            std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            })) {
            return &value;
        }
    }
    return nullptr;
}

}  // namespace gist::test
