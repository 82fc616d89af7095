// Tests of the libcurl HttpClient against a tiny blocking HTTP server on 127.0.0.1.
#include "gist/http_client.hpp"
#include "poll_loop.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using gist::HttpCall;
using gist::HttpRequest;
using gist::HttpResponse;
using gist::TransportError;
using gist::test::PollLoop;

namespace {

// What the server saw.
struct SeenRequest {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

// What the server does.
struct Reply {
    std::string raw;  // bytes written as the response (status line, headers, body)
    std::chrono::milliseconds delay{0};
    bool close_without_answer = false;
};

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

Reply http_reply(int status, std::vector<std::pair<std::string, std::string>> headers,
                 std::string body, bool content_length = true) {
    std::string raw = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
    for (auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
    if (content_length) raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    raw += "Connection: close\r\n\r\n";
    raw += body;
    return Reply{std::move(raw)};
}

// One thread accepts; one thread per connection answers one request, then closes.
class TestHttpServer {
public:
    using Handler = std::function<Reply(const SeenRequest&)>;

    explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listen_fd_, 128) != 0) {
            throw std::runtime_error("test server: bind/listen failed");
        }
        socklen_t len = sizeof addr;
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }

    ~TestHttpServer() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
        ::shutdown(listen_fd_, SHUT_RDWR);
        acceptor_.join();
        ::close(listen_fd_);
        std::vector<std::thread> conns;
        {
            std::lock_guard<std::mutex> lock(mu_);
            conns.swap(conns_);
        }
        for (auto& t : conns) t.join();
    }

    std::string url(const std::string& path = "/") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    int requests() const { return requests_.load(); }
    std::vector<SeenRequest> seen() {
        std::lock_guard<std::mutex> lock(mu_);
        return seen_;
    }

private:
    void accept_loop() {
        for (;;) {
            int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd < 0) return;  // shutdown() wakes us up
            std::lock_guard<std::mutex> lock(mu_);
            if (stopping_) {
                ::close(fd);
                return;
            }
            conns_.emplace_back([this, fd] { serve(fd); });
        }
    }

    static bool read_request(int fd, SeenRequest& req) {
        timeval tv{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string buf;
        char chunk[65536];
        std::size_t head_end;
        while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
            ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) return false;
            buf.append(chunk, static_cast<std::size_t>(n));
        }
        std::string head = buf.substr(0, head_end);
        std::string rest = buf.substr(head_end + 4);
        auto line_end = head.find("\r\n");
        std::string request_line = head.substr(0, line_end);
        auto sp1 = request_line.find(' ');
        auto sp2 = request_line.find(' ', sp1 + 1);
        req.method = request_line.substr(0, sp1);
        req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
        std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
        while (pos < head.size()) {
            auto e = head.find("\r\n", pos);
            if (e == std::string::npos) e = head.size();
            std::string line = head.substr(pos, e - pos);
            auto colon = line.find(':');
            if (colon != std::string::npos) {
                std::string v = line.substr(colon + 1);
                while (!v.empty() && v.front() == ' ') v.erase(0, 1);
                req.headers[lower(line.substr(0, colon))] = v;
            }
            pos = e + 2;
        }
        std::size_t want = 0;
        if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
            want = std::stoul(it->second);
        }
        while (rest.size() < want) {
            ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) return false;
            rest.append(chunk, static_cast<std::size_t>(n));
        }
        req.body = rest.substr(0, want);
        return true;
    }

    void serve(int fd) {
        SeenRequest req;
        if (read_request(fd, req)) {
            ++requests_;
            {
                std::lock_guard<std::mutex> lock(mu_);
                seen_.push_back(req);
            }
            Reply reply = handler_(req);
            if (reply.delay > 0ms) {
                std::unique_lock<std::mutex> lock(mu_);
                cv_.wait_for(lock, reply.delay, [this] { return stopping_; });
            }
            if (!reply.close_without_answer) {
                std::size_t off = 0;
                while (off < reply.raw.size()) {
                    ssize_t n = ::send(fd, reply.raw.data() + off, reply.raw.size() - off,
                                       MSG_NOSIGNAL);
                    if (n <= 0) break;  // the client gave up (e.g. too_large)
                    off += static_cast<std::size_t>(n);
                }
            }
        }
        ::shutdown(fd, SHUT_WR);
        ::close(fd);
    }

    Handler handler_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::thread acceptor_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::vector<std::thread> conns_;
    std::vector<SeenRequest> seen_;
    std::atomic<int> requests_{0};
};

// A loopback port with nothing listening.
int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

class CurlHttpClientTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { curl_global_init(CURL_GLOBAL_DEFAULT); }

    void SetUp() override { client_ = gist::make_curl_http_client(loop_, log_, options_); }

    void TearDown() override {
        client_.reset();
        EXPECT_EQ(loop_.invalid_fd_events(), 0u) << "an fd was closed while still watched";
        EXPECT_EQ(loop_.watch_count(), 0u) << "watches leaked after the client was destroyed";
    }

    void recreate(gist::HttpClientOptions options) {
        client_.reset();
        options_ = std::move(options);
        client_ = gist::make_curl_http_client(loop_, log_, options_);
    }

    // Runs one request to completion.
    HttpResponse fetch(HttpRequest req, std::chrono::milliseconds limit = 5s) {
        std::optional<HttpResponse> out;
        auto call = client_->start(std::move(req), [&](HttpResponse r) { out = std::move(r); });
        EXPECT_TRUE(loop_.run_until([&] { return out.has_value(); }, limit)) << "no completion";
        return out.value_or(HttpResponse{});
    }

    static HttpRequest get(const std::string& url) {
        HttpRequest r;
        r.url = url;
        return r;
    }

    PollLoop loop_;
    gist::NullLogger log_;
    gist::HttpClientOptions options_;
    std::unique_ptr<gist::HttpClient> client_;
};

TEST_F(CurlHttpClientTest, Get200WithHeadersAndBody) {
    TestHttpServer server([](const SeenRequest&) {
        return http_reply(200, {{"Content-Type", "text/plain"}, {"ETag", "\"abc\""}}, "hello");
    });
    HttpRequest req = get(server.url("/users/octocat/gists?per_page=100"));
    req.headers = {{"Authorization", "token secret"}, {"User-Agent", "gist-test"}};
    HttpResponse r = fetch(req);
    EXPECT_EQ(r.error, TransportError::none) << r.error_message;
    EXPECT_TRUE(r.request_sent);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello");
    ASSERT_NE(r.header("etag"), nullptr);
    EXPECT_EQ(*r.header("etag"), "\"abc\"");
    ASSERT_NE(r.header("content-type"), nullptr);
    EXPECT_EQ(*r.header("content-type"), "text/plain");

    auto seen = server.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "GET");
    EXPECT_EQ(seen[0].target, "/users/octocat/gists?per_page=100");
    EXPECT_EQ(seen[0].headers["authorization"], "token secret");
    EXPECT_EQ(seen[0].headers["user-agent"], "gist-test");
    EXPECT_NE(seen[0].headers["accept-encoding"].find("gzip"), std::string::npos);
    EXPECT_EQ(seen[0].headers.count("expect"), 0u);
}

TEST_F(CurlHttpClientTest, NotModified304) {
    TestHttpServer server([](const SeenRequest& req) {
        EXPECT_EQ(req.headers.at("if-none-match"), "\"v1\"");
        return http_reply(304, {{"ETag", "\"v1\""}}, "", false);
    });
    HttpRequest req = get(server.url());
    req.headers = {{"If-None-Match", "\"v1\""}};
    HttpResponse r = fetch(req);
    EXPECT_EQ(r.error, TransportError::none) << r.error_message;
    EXPECT_EQ(r.status, 304);
    EXPECT_TRUE(r.body.empty());
    ASSERT_NE(r.header("etag"), nullptr);
    EXPECT_EQ(*r.header("etag"), "\"v1\"");
}

TEST_F(CurlHttpClientTest, HeaderNamesAreLowerCaseAndLastValueWins) {
    TestHttpServer server([](const SeenRequest&) {
        return http_reply(200,
                          {{"X-RateLimit-Remaining", "0"},
                           {"Link", "<https://a/?page=2>; rel=\"next\""},
                           {"x-MiXeD", "first"},
                           {"X-Mixed", "  last  "}},
                          "{}");
    });
    HttpResponse r = fetch(get(server.url()));
    ASSERT_EQ(r.error, TransportError::none) << r.error_message;
    ASSERT_NE(r.header("x-ratelimit-remaining"), nullptr);
    EXPECT_EQ(*r.header("x-ratelimit-remaining"), "0");
    ASSERT_NE(r.header("link"), nullptr);
    EXPECT_EQ(*r.header("link"), "<https://a/?page=2>; rel=\"next\"");
    ASSERT_NE(r.header("x-mixed"), nullptr);
    EXPECT_EQ(*r.header("x-mixed"), "last");
    EXPECT_EQ(r.header("X-Mixed"), nullptr) << "lookups use lower-case names";
    for (const auto& [name, value] : r.headers) EXPECT_EQ(name, lower(name));
}

TEST_F(CurlHttpClientTest, InterimResponseHeadersAreDropped) {
    TestHttpServer server([](const SeenRequest&) {
        Reply r = http_reply(201, {{"X-Final", "yes"}}, "made");
        r.raw = "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n" + r.raw;
        return r;
    });
    HttpRequest req = get(server.url());
    req.method = "POST";
    req.body = "{\"a\":1}";
    HttpResponse r = fetch(req);
    ASSERT_EQ(r.error, TransportError::none) << r.error_message;
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, "made");
    EXPECT_EQ(r.header("x-interim"), nullptr);
    ASSERT_NE(r.header("x-final"), nullptr);
}

TEST_F(CurlHttpClientTest, PostSendsBodyAndHeadersWithoutExpect) {
    TestHttpServer server([](const SeenRequest& req) {
        return http_reply(201, {}, std::to_string(req.body.size()));
    });
    HttpRequest req = get(server.url("/v1/deals"));
    req.method = "POST";
    req.body = std::string(1536 * 1024, 'x');  // above curl's Expect: 100-continue threshold
    req.headers = {{"Content-Type", "application/json"}, {"X-Empty", ""}};
    HttpResponse r = fetch(req);
    ASSERT_EQ(r.error, TransportError::none) << r.error_message;
    EXPECT_TRUE(r.request_sent);
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, std::to_string(1536 * 1024));
    auto seen = server.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].headers["content-type"], "application/json");
    EXPECT_EQ(seen[0].headers.count("x-empty"), 1u);
    EXPECT_EQ(seen[0].headers.count("expect"), 0u);
    EXPECT_EQ(seen[0].body, req.body);
}

TEST_F(CurlHttpClientTest, OtherMethodsAndEmptyPost) {
    TestHttpServer server([](const SeenRequest& req) {
        return http_reply(200, {}, req.method + ":" + req.body);
    });
    HttpRequest put = get(server.url());
    put.method = "PUT";
    put.body = "b";
    EXPECT_EQ(fetch(put).body, "PUT:b");
    HttpRequest del = get(server.url());
    del.method = "DELETE";
    EXPECT_EQ(fetch(del).body, "DELETE:");
    HttpRequest post = get(server.url());
    post.method = "POST";
    EXPECT_EQ(fetch(post).body, "POST:");
}

TEST_F(CurlHttpClientTest, TimeoutIsReportedAndRequestCountsAsSent) {
    TestHttpServer server([](const SeenRequest&) {
        Reply r = http_reply(200, {}, "late");
        r.delay = 3s;
        return r;
    });
    HttpRequest req = get(server.url());
    req.timeout = 200ms;
    auto t0 = std::chrono::steady_clock::now();
    HttpResponse r = fetch(req);
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.error, TransportError::timeout) << r.error_message;
    EXPECT_TRUE(r.request_sent) << "the server got the request: the outcome is ambiguous";
    EXPECT_FALSE(r.error_message.empty());
    EXPECT_LT(took, 2s);
    EXPECT_GE(took, 150ms);
}

TEST_F(CurlHttpClientTest, PostThatTimesOutCountsAsSent) {
    TestHttpServer server([](const SeenRequest&) {
        Reply r = http_reply(201, {}, "late");
        r.delay = 3s;
        return r;
    });
    HttpRequest req = get(server.url("/v1/deals"));
    req.method = "POST";
    req.body = "{\"title\":\"x\"}";
    req.timeout = 200ms;
    HttpResponse r = fetch(req);
    EXPECT_EQ(r.error, TransportError::timeout) << r.error_message;
    EXPECT_TRUE(r.request_sent) << "the server has the full body: a retry could duplicate it";
    ASSERT_EQ(server.seen().size(), 1u);
    EXPECT_EQ(server.seen()[0].body, req.body);
}

TEST_F(CurlHttpClientTest, CompletionCallbackMayDestroyTheClient) {
    TestHttpServer server([](const SeenRequest&) { return http_reply(200, {}, "x"); });
    int calls = 0;
    std::vector<std::unique_ptr<HttpCall>> handles;
    for (int i = 0; i < 3; ++i) {
        handles.push_back(client_->start(get(server.url()), [&](HttpResponse) {
            ++calls;
            client_.reset();
        }));
    }
    loop_.run_for(500ms);
    EXPECT_EQ(calls, 1);
    handles.clear();
}

TEST_F(CurlHttpClientTest, ConnectionRefused) {
    HttpResponse r = fetch(get("http://127.0.0.1:" + std::to_string(closed_port()) + "/"));
    EXPECT_EQ(r.error, TransportError::connect) << r.error_message;
    EXPECT_FALSE(r.request_sent);
    EXPECT_EQ(r.status, 0);
}

TEST_F(CurlHttpClientTest, UnsupportedSchemeIsNotFetched) {
    HttpResponse r = fetch(get("file:///etc/passwd"));
    EXPECT_NE(r.error, TransportError::none);
    EXPECT_TRUE(r.body.empty());
    EXPECT_FALSE(r.request_sent);
}

TEST_F(CurlHttpClientTest, RedirectsAreNotFollowed) {
    TestHttpServer server([](const SeenRequest&) {
        return http_reply(302, {{"Location", "/elsewhere"}}, "");
    });
    HttpResponse r = fetch(get(server.url()));
    EXPECT_EQ(r.error, TransportError::none);
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(server.requests(), 1);
}

TEST_F(CurlHttpClientTest, ServerClosesWithoutAnswer) {
    TestHttpServer server([](const SeenRequest&) {
        Reply r;
        r.close_without_answer = true;
        return r;
    });
    HttpResponse r = fetch(get(server.url()));
    EXPECT_EQ(r.error, TransportError::other) << r.error_message;
    EXPECT_TRUE(r.request_sent);
    EXPECT_EQ(server.requests(), 1);
}

TEST_F(CurlHttpClientTest, TooLargeWithContentLength) {
    recreate({"", 1024, 64});
    TestHttpServer server([](const SeenRequest&) {
        return http_reply(200, {}, std::string(4096, 'a'));
    });
    HttpResponse r = fetch(get(server.url()));
    EXPECT_EQ(r.error, TransportError::too_large) << r.error_message;
    EXPECT_TRUE(r.body.empty());
}

TEST_F(CurlHttpClientTest, TooLargeStreamedBody) {
    recreate({"", 64 * 1024, 64});
    TestHttpServer server([](const SeenRequest&) {
        return http_reply(200, {}, std::string(8 << 20, 'a'), /*content_length=*/false);
    });
    HttpResponse r = fetch(get(server.url()));
    EXPECT_EQ(r.error, TransportError::too_large) << r.error_message;
    EXPECT_TRUE(r.body.empty());
}

TEST_F(CurlHttpClientTest, BodyExactlyAtLimitIsAccepted) {
    recreate({"", 1000, 64});
    TestHttpServer server([](const SeenRequest&) {
        return http_reply(200, {}, std::string(1000, 'a'), false);
    });
    HttpResponse r = fetch(get(server.url()));
    EXPECT_EQ(r.error, TransportError::none) << r.error_message;
    EXPECT_EQ(r.body.size(), 1000u);
}

TEST_F(CurlHttpClientTest, CancelledCallNeverCallsBack) {
    TestHttpServer server([](const SeenRequest&) {
        Reply r = http_reply(200, {}, "x");
        r.delay = 200ms;
        return r;
    });
    bool called = false;
    auto call = client_->start(get(server.url()), [&](HttpResponse) { called = true; });
    // Short iterations: one long poll() would sleep until the answer arrives and deliver it
    // before the cancel below (the test was flaky under load).
    for (int i = 0; i < 200 && server.requests() == 0; ++i) {
        loop_.run_once(10ms);
    }
    ASSERT_EQ(server.requests(), 1);
    call.reset();
    loop_.run_for(500ms);
    EXPECT_FALSE(called);
    EXPECT_EQ(loop_.watch_count(), 0u) << "the cancelled transfer's socket is still watched";
}

TEST_F(CurlHttpClientTest, CancelBeforeTheLoopRuns) {
    TestHttpServer server([](const SeenRequest&) { return http_reply(200, {}, "x"); });
    bool called = false;
    client_->start(get(server.url()), [&](HttpResponse) { called = true; }).reset();
    loop_.run_for(200ms);
    EXPECT_FALSE(called);
}

TEST_F(CurlHttpClientTest, CallbackNeverRunsInsideStart) {
    bool in_start = true;
    bool ran_inside = false;
    bool done = false;
    HttpRequest bad = get("http://127.0.0.1:1/");
    bad.headers = {{"X-Bad", "a\r\nInjected: 1"}};
    auto call = client_->start(bad, [&](HttpResponse r) {
        ran_inside = in_start;
        done = true;
        EXPECT_EQ(r.error, TransportError::other);
        EXPECT_FALSE(r.request_sent);
    });
    in_start = false;
    EXPECT_TRUE(loop_.run_until([&] { return done; }, 1s));
    EXPECT_FALSE(ran_inside);
}

TEST_F(CurlHttpClientTest, FiftyConcurrentRequestsAllComplete) {
    TestHttpServer server([](const SeenRequest& req) {
        Reply r = http_reply(200, {}, "body" + req.target);
        r.delay = 20ms;
        return r;
    });
    constexpr int kN = 50;
    std::vector<std::optional<HttpResponse>> out(kN);
    std::vector<std::unique_ptr<HttpCall>> calls;
    for (int i = 0; i < kN; ++i) {
        calls.push_back(client_->start(get(server.url("/" + std::to_string(i))),
                                       [&out, i](HttpResponse r) { out[i] = std::move(r); }));
    }
    int done = 0;
    EXPECT_TRUE(loop_.run_until(
        [&] {
            done = 0;
            for (auto& o : out) done += o.has_value();
            return done == kN;
        },
        10s))
        << done << " of " << kN;
    for (int i = 0; i < kN; ++i) {
        ASSERT_TRUE(out[i]) << i;
        EXPECT_EQ(out[i]->error, TransportError::none) << out[i]->error_message;
        EXPECT_EQ(out[i]->body, "body/" + std::to_string(i));
    }
}

TEST_F(CurlHttpClientTest, NewRequestFromInsideCompletionCallback) {
    TestHttpServer server([](const SeenRequest& req) { return http_reply(200, {}, req.target); });
    std::unique_ptr<HttpCall> second;
    std::optional<HttpResponse> first_r, second_r;
    auto first = client_->start(get(server.url("/1")), [&](HttpResponse r) {
        first_r = std::move(r);
        second = client_->start(get(server.url("/2")),
                                [&](HttpResponse r2) { second_r = std::move(r2); });
    });
    ASSERT_TRUE(loop_.run_until([&] { return second_r.has_value(); }, 5s));
    EXPECT_EQ(first_r->body, "/1");
    EXPECT_EQ(second_r->body, "/2");
}

TEST_F(CurlHttpClientTest, CompletionCallbackCancelsAnotherInFlightCall) {
    TestHttpServer server([](const SeenRequest& req) {
        Reply r = http_reply(200, {}, req.target);
        if (req.target == "/slow") r.delay = 300ms;
        return r;
    });
    bool slow_called = false, fast_called = false;
    std::unique_ptr<HttpCall> slow =
        client_->start(get(server.url("/slow")), [&](HttpResponse) { slow_called = true; });
    auto fast = client_->start(get(server.url("/fast")), [&](HttpResponse) {
        fast_called = true;
        slow.reset();
    });
    loop_.run_until([&] { return fast_called; }, 2s);
    loop_.run_for(600ms);
    EXPECT_TRUE(fast_called);
    EXPECT_FALSE(slow_called);
}

TEST_F(CurlHttpClientTest, CompletionCallbackCancelsAnotherFinishedCall) {
    // Both fail validation, so both are queued for the same delivery pass.
    HttpRequest bad = get("http://127.0.0.1:1/");
    bad.headers = {{"Bad\nName", "x"}};
    int calls = 0;
    std::unique_ptr<HttpCall> b;
    auto a = client_->start(bad, [&](HttpResponse) {
        ++calls;
        b.reset();
    });
    b = client_->start(bad, [&](HttpResponse) { ++calls; });
    loop_.run_for(100ms);
    EXPECT_EQ(calls, 1);
}

TEST_F(CurlHttpClientTest, CallHandleMayOutliveClient) {
    TestHttpServer server([](const SeenRequest&) {
        Reply r = http_reply(200, {}, "x");
        r.delay = 300ms;
        return r;
    });
    bool called = false;
    auto call = client_->start(get(server.url()), [&](HttpResponse) { called = true; });
    loop_.run_until([&] { return server.requests() == 1; }, 2s);
    client_.reset();
    loop_.run_for(100ms);
    call.reset();
    EXPECT_FALSE(called);
}

TEST_F(CurlHttpClientTest, NoRoomForSocketFailsTheRequest) {
    TestHttpServer server([](const SeenRequest&) { return http_reply(200, {}, "x"); });
    loop_.set_watch_limit(0);
    HttpResponse r = fetch(get(server.url()), 3s);
    EXPECT_EQ(r.error, TransportError::connect) << r.error_message;
    loop_.set_watch_limit(100);
    HttpResponse ok = fetch(get(server.url()));
    EXPECT_EQ(ok.error, TransportError::none) << ok.error_message;
}

TEST_F(CurlHttpClientTest, SequentialRequestsReuseTheClient) {
    TestHttpServer server([](const SeenRequest& req) { return http_reply(200, {}, req.target); });
    for (int i = 0; i < 5; ++i) {
        HttpResponse r = fetch(get(server.url("/" + std::to_string(i))));
        EXPECT_EQ(r.body, "/" + std::to_string(i));
    }
    EXPECT_EQ(server.requests(), 5);
}

}  // namespace
