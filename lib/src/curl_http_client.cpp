// HttpClient on libcurl's multi-socket API, driven by a gist::EventLoop.
//
// Rules this file follows (see docs/design.md and the research notes):
//  * curl owns its sockets: CURL_POLL_REMOVE only destroys our FdWatch, never closes the fd.
//  * No multi add/remove and no user callback ever runs inside a curl callback. The socket and
//    timer callbacks only (re)configure watches and the timer; completions are collected with
//    curl_multi_info_read after curl_multi_socket_action returned, then delivered.
//  * The timer callback never calls curl_multi_socket_action itself (not even for 0 ms): it
//    arms our Timer, and the loop calls back later.
//  * No exception escapes a C callback.

#include "gist/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gist {
namespace {

struct MultiDeleter {
    void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct EasyDeleter {
    void operator()(CURL* e) const { curl_easy_cleanup(e); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s) {
    const char* ws = " \t\r\n";
    auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

bool has_crlf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && to_lower(a) == to_lower(b);
}

TransportError map_error(CURLcode rc) {
    switch (rc) {
        case CURLE_OK:
            return TransportError::none;
        case CURLE_OPERATION_TIMEDOUT:
            return TransportError::timeout;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
            // The connection (TCP or TLS) never came up, so nothing was sent.
            return TransportError::connect;
        case CURLE_FILESIZE_EXCEEDED:
            return TransportError::too_large;
        default:
            return TransportError::other;
    }
}

class CurlHttpClient;

// One request, from start() until its callback ran or it was cancelled.
struct Transfer {
    CurlHttpClient* owner = nullptr;
    EasyPtr easy;
    SlistPtr headers;
    std::string body;  // CURLOPT_POSTFIELDS points into this; must outlive the easy handle
    HttpClient::Callback on_done;
    HttpResponse response;
    char error_buf[CURL_ERROR_SIZE] = {};
    std::size_t max_bytes = 0;
    bool body_too_large = false;
    bool in_multi = false;   // added to the multi handle (remove before destroying `easy`)
    bool cancelled = false;  // the HttpCall was destroyed; never call on_done
};

class CurlCall final : public HttpCall {
public:
    explicit CurlCall(std::weak_ptr<Transfer> t) : transfer_(std::move(t)) {}
    ~CurlCall() override;

private:
    std::weak_ptr<Transfer> transfer_;
};

class CurlHttpClient final : public HttpClient {
public:
    CurlHttpClient(EventLoop& loop, Logger& log, HttpClientOptions options);
    ~CurlHttpClient() override;
    CurlHttpClient(const CurlHttpClient&) = delete;
    CurlHttpClient& operator=(const CurlHttpClient&) = delete;

    std::unique_ptr<HttpCall> start(HttpRequest request, Callback on_done) override;

    void cancel(Transfer& t);
    Logger& log() { return log_; }

private:
    static int socket_cb(CURL* easy, curl_socket_t s, int what, void* clientp, void* socketp);
    static int timer_cb(CURLM* multi, long timeout_ms, void* clientp);
    static std::size_t write_cb(char* data, std::size_t size, std::size_t n, void* userdata);
    static std::size_t header_cb(char* data, std::size_t size, std::size_t n, void* userdata);

    void on_socket(curl_socket_t s, int what, CURL* easy);
    void on_fd_ready(curl_socket_t s, bool readable, bool writable);
    void on_timer();
    void socket_action(curl_socket_t s, int mask);
    void collect_finished();
    void finish(const std::shared_ptr<Transfer>& t, CURLcode rc);
    void fail_now(const std::shared_ptr<Transfer>& t, TransportError error, std::string message);
    void deliver();
    std::shared_ptr<Transfer> find(CURL* easy);
    CURLcode configure(Transfer& t, const HttpRequest& request);

    EventLoop& loop_;
    Logger& log_;
    HttpClientOptions options_;
    // Declared before multi_ so it is destroyed after curl_multi_cleanup, which may still
    // call socket_cb/timer_cb.
    std::unordered_map<curl_socket_t, std::unique_ptr<FdWatch>> sockets_;
    std::unique_ptr<Timer> curl_timer_;
    std::unique_ptr<Timer> deliver_timer_;  // 0 ms: deliveries that must not run inside start()
    MultiPtr multi_;
    std::unordered_map<CURL*, std::shared_ptr<Transfer>> active_;  // in the multi handle
    std::deque<std::shared_ptr<Transfer>> finished_;               // waiting for delivery
    std::vector<CURL*> doomed_;  // failed inside a curl callback; removed later by deliver()
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

CurlCall::~CurlCall() {
    if (auto t = transfer_.lock()) t->owner->cancel(*t);
}

CurlHttpClient::CurlHttpClient(EventLoop& loop, Logger& log, HttpClientOptions options)
    : loop_(loop), log_(log), options_(std::move(options)) {
    curl_timer_ = loop_.make_timer([this] { on_timer(); });
    deliver_timer_ = loop_.make_timer([this] { deliver(); });
    multi_.reset(curl_multi_init());
    if (!multi_) throw std::runtime_error("curl_multi_init failed (was curl_global_init called?)");
    curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETFUNCTION, &CurlHttpClient::socket_cb);
    curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_.get(), CURLMOPT_TIMERFUNCTION, &CurlHttpClient::timer_cb);
    curl_multi_setopt(multi_.get(), CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_total_connections);
}

CurlHttpClient::~CurlHttpClient() {
    *alive_ = false;
    for (auto& [easy, t] : active_) {
        curl_multi_remove_handle(multi_.get(), easy);
        t->in_multi = false;
        t->cancelled = true;
    }
    active_.clear();
    finished_.clear();
    multi_.reset();  // may still call socket_cb (CURL_POLL_REMOVE) for cached connections
    sockets_.clear();
}

std::shared_ptr<Transfer> CurlHttpClient::find(CURL* easy) {
    auto it = active_.find(easy);
    return it == active_.end() ? nullptr : it->second;
}

CURLcode CurlHttpClient::configure(Transfer& t, const HttpRequest& request) {
    CURL* e = t.easy.get();
    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption opt, auto value) {
        if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, value);
    };

    set(CURLOPT_URL, request.url.c_str());
    set(CURLOPT_PRIVATE, static_cast<void*>(&t));
    set(CURLOPT_NOSIGNAL, 1L);
    // A transfer removed while its name is still being resolved must not make the worker wait
    // for curl's resolver thread (as long as DNS takes): the thread is left to finish alone.
    set(CURLOPT_QUICK_EXIT, 1L);
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl can decode; limits apply decoded
    set(CURLOPT_ERRORBUFFER, t.error_buf);
    set(CURLOPT_WRITEFUNCTION, &CurlHttpClient::write_cb);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
    set(CURLOPT_HEADERFUNCTION, &CurlHttpClient::header_cb);
    set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
    // Fails early when Content-Length announces too much; write_cb catches the rest.
    set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t.max_bytes));
    if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());

    if (request.method == "GET" && t.body.empty()) {
        set(CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
        set(CURLOPT_NOBODY, 1L);
    } else {
        set(CURLOPT_POSTFIELDS, t.body.data());
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
        if (request.method != "POST") set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    bool has_expect = false;
    for (const auto& [name, value] : request.headers) {
        if (iequals(name, "expect")) has_expect = true;
        // "Name;" is curl's syntax for sending a header with an empty value.
        std::string line = value.empty() ? name + ";" : name + ": " + value;
        curl_slist* l = curl_slist_append(t.headers.get(), line.c_str());
        if (!l) return CURLE_OUT_OF_MEMORY;
        t.headers.release();
        t.headers.reset(l);
    }
    if (!has_expect) {
        // Never wait for "100 Continue" on larger bodies; APIs answer the request directly.
        curl_slist* l = curl_slist_append(t.headers.get(), "Expect:");
        if (!l) return CURLE_OUT_OF_MEMORY;
        t.headers.release();
        t.headers.reset(l);
    }
    set(CURLOPT_HTTPHEADER, t.headers.get());
    return rc;
}

std::unique_ptr<HttpCall> CurlHttpClient::start(HttpRequest request, Callback on_done) {
    auto t = std::make_shared<Transfer>();
    t->owner = this;
    t->on_done = std::move(on_done);
    t->max_bytes = options_.max_response_bytes;
    t->body = std::move(request.body);
    auto call = std::make_unique<CurlCall>(t);

    for (const auto& [name, value] : request.headers) {
        if (name.empty() || has_crlf(name) || has_crlf(value) ||
            name.find(':') != std::string::npos) {
            fail_now(t, TransportError::other, "invalid request header");
            return call;
        }
    }
    if (request.method.empty() || has_crlf(request.method) ||
        request.method.find(' ') != std::string::npos) {
        fail_now(t, TransportError::other, "invalid request method");
        return call;
    }

    t->easy.reset(curl_easy_init());
    if (!t->easy) {
        fail_now(t, TransportError::other, "curl_easy_init failed");
        return call;
    }
    if (CURLcode rc = configure(*t, request); rc != CURLE_OK) {
        fail_now(t, TransportError::other, std::string("curl setup: ") + curl_easy_strerror(rc));
        return call;
    }
    if (CURLMcode mrc = curl_multi_add_handle(multi_.get(), t->easy.get()); mrc != CURLM_OK) {
        fail_now(t, TransportError::other, std::string("curl: ") + curl_multi_strerror(mrc));
        return call;
    }
    t->in_multi = true;
    active_.emplace(t->easy.get(), t);
    // curl_multi_add_handle armed a 0 ms timeout through timer_cb; the loop starts the transfer.
    return call;
}

void CurlHttpClient::fail_now(const std::shared_ptr<Transfer>& t, TransportError error,
                              std::string message) {
    t->response.error = error;
    t->response.error_message = std::move(message);
    finished_.push_back(t);
    deliver_timer_->arm(std::chrono::milliseconds(0));
}

void CurlHttpClient::cancel(Transfer& t) {
    t.cancelled = true;
    if (t.in_multi) {
        CURL* easy = t.easy.get();
        t.in_multi = false;
        // Never inside a curl callback: user code (the only caller) never runs there.
        curl_multi_remove_handle(multi_.get(), easy);
        active_.erase(easy);  // may destroy t
        return;
    }
    // Already finished and queued for delivery: deliver() skips and drops it.
}

int CurlHttpClient::socket_cb(CURL* easy, curl_socket_t s, int what, void* clientp, void*) {
    auto* self = static_cast<CurlHttpClient*>(clientp);
    try {
        self->on_socket(s, what, easy);
    } catch (const std::exception& e) {
        self->log_.log(LogLevel::error, std::string("http: socket callback failed: ") + e.what());
    } catch (...) {
        self->log_.log(LogLevel::error, "http: socket callback failed");
    }
    // Always 0: depending on the curl version, -1 is ignored or aborts every transfer.
    return 0;
}

void CurlHttpClient::on_socket(curl_socket_t s, int what, CURL* easy) {
    if (what == CURL_POLL_REMOVE) {
        sockets_.erase(s);  // stop watching; curl closes the fd itself
        return;
    }
    auto it = sockets_.find(s);
    if (it == sockets_.end()) {
        auto w = loop_.watch(s, [this, s](bool r, bool wr) { on_fd_ready(s, r, wr); });
        if (!w) {
            // No room in the loop (NGINX: worker_connections). Fail this transfer; the removal
            // must not happen inside this callback, so it is done from the deliver timer.
            log_.log(LogLevel::error, "http: no free connection slot for a new socket");
            if (auto t = find(easy); t && !t->cancelled && t->response.error_message.empty()) {
                t->response.error = TransportError::connect;
                t->response.error_message = "no free connection slot";
                doomed_.push_back(easy);
                deliver_timer_->arm(std::chrono::milliseconds(0));
            }
            return;
        }
        it = sockets_.emplace(s, std::move(w)).first;
    }
    it->second->set_interest(what == CURL_POLL_IN || what == CURL_POLL_INOUT,
                             what == CURL_POLL_OUT || what == CURL_POLL_INOUT);
}

int CurlHttpClient::timer_cb(CURLM*, long timeout_ms, void* clientp) {
    auto* self = static_cast<CurlHttpClient*>(clientp);
    try {
        if (timeout_ms < 0) {
            self->curl_timer_->cancel();
        } else {
            // Also for 0 ms: calling socket_action from here would re-enter curl.
            self->curl_timer_->arm(std::chrono::milliseconds(timeout_ms));
        }
    } catch (const std::exception& e) {
        self->log_.log(LogLevel::error, std::string("http: timer callback failed: ") + e.what());
    } catch (...) {
        self->log_.log(LogLevel::error, "http: timer callback failed");
    }
    return 0;
}

void CurlHttpClient::on_fd_ready(curl_socket_t s, bool readable, bool writable) {
    int mask = (readable ? CURL_CSELECT_IN : 0) | (writable ? CURL_CSELECT_OUT : 0);
    socket_action(s, mask);
}

void CurlHttpClient::on_timer() { socket_action(CURL_SOCKET_TIMEOUT, 0); }

void CurlHttpClient::socket_action(curl_socket_t s, int mask) {
    int running = 0;
    CURLMcode rc = curl_multi_socket_action(multi_.get(), s, mask, &running);
    if (rc != CURLM_OK) {
        log_.log(LogLevel::error, std::string("http: curl_multi_socket_action: ") +
                                      curl_multi_strerror(rc));
    }
    collect_finished();
    deliver();
}

void CurlHttpClient::collect_finished() {
    // Copy the messages first: removing a handle invalidates the CURLMsg it belongs to.
    std::vector<std::pair<CURL*, CURLcode>> done;
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
        if (msg->msg == CURLMSG_DONE) done.emplace_back(msg->easy_handle, msg->data.result);
    }
    for (auto& [easy, rc] : done) {
        if (auto t = find(easy)) finish(t, rc);
    }
}

void CurlHttpClient::finish(const std::shared_ptr<Transfer>& t, CURLcode rc) {
    CURL* e = t->easy.get();
    HttpResponse& r = t->response;

    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    long request_size = 0;
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &request_size);
    curl_off_t uploaded = 0;
    curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &uploaded);

    r.status = status;
    r.error = map_error(rc);
    if (rc == CURLE_WRITE_ERROR && t->body_too_large) r.error = TransportError::too_large;
    // request_sent: a response arrived, or curl handed the complete request (headers and the
    // whole body) to the socket. A connect/TLS failure never counts as sent. A request cut off
    // part-way is not "sent": with a Content-Length the server cannot have acted on it.
    if (r.error == TransportError::none) {
        r.request_sent = true;
    } else if (r.error == TransportError::connect) {
        r.request_sent = false;
    } else {
        r.request_sent = request_size > 0 && uploaded >= static_cast<curl_off_t>(t->body.size());
    }
    if (r.error != TransportError::none) {
        if (r.error == TransportError::too_large) {
            r.error_message = "response body exceeds " + std::to_string(t->max_bytes) + " bytes";
        } else {
            r.error_message = t->error_buf[0] ? t->error_buf : curl_easy_strerror(rc);
        }
        r.body.clear();
    }

    curl_multi_remove_handle(multi_.get(), e);
    t->in_multi = false;
    active_.erase(e);
    finished_.push_back(t);
}

void CurlHttpClient::deliver() {
    for (CURL* easy : std::exchange(doomed_, {})) {
        auto t = find(easy);
        if (!t) continue;  // finished or cancelled meanwhile
        const HttpResponse failed = std::move(t->response);
        curl_multi_remove_handle(multi_.get(), easy);
        t->in_multi = false;
        active_.erase(easy);
        t->response = HttpResponse{};
        t->response.error = failed.error;
        t->response.error_message = failed.error_message;
        finished_.push_back(std::move(t));
    }
    auto alive = alive_;
    while (!finished_.empty()) {
        auto t = std::move(finished_.front());
        finished_.pop_front();
        if (t->cancelled) continue;
        // Mark as done so a late destruction of its HttpCall is a no-op.
        t->cancelled = true;
        auto cb = std::move(t->on_done);
        HttpResponse response = std::move(t->response);
        t.reset();  // frees the easy handle before user code runs
        Logger& log = log_;
        try {
            if (cb) cb(std::move(response));
        } catch (const std::exception& e) {
            log.log(LogLevel::error, std::string("http: completion callback threw: ") + e.what());
        } catch (...) {
            log.log(LogLevel::error, "http: completion callback threw");
        }
        if (!*alive) return;  // the callback destroyed this client
    }
}

std::size_t CurlHttpClient::write_cb(char* data, std::size_t size, std::size_t n, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    try {
        const std::size_t len = size * n;
        if (t->response.body.size() + len > t->max_bytes) {
            t->body_too_large = true;
            return 0;  // aborts the transfer with CURLE_WRITE_ERROR
        }
        t->response.body.append(data, len);
        return len;
    } catch (const std::exception& e) {
        t->owner->log().log(LogLevel::error, std::string("http: write callback: ") + e.what());
    } catch (...) {
        t->owner->log().log(LogLevel::error, "http: write callback failed");
    }
    return 0;
}

std::size_t CurlHttpClient::header_cb(char* data, std::size_t size, std::size_t n,
                                      void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    const std::size_t len = size * n;
    try {
        std::string_view line(data, len);
        if (line.size() >= 5 && line.substr(0, 5) == "HTTP/") {
            // A new status line (e.g. after "100 Continue" or a 1xx): earlier headers belonged
            // to an interim response.
            t->response.headers.clear();
            return len;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return len;  // blank line, junk
        std::string name = to_lower(trim(line.substr(0, colon)));
        if (name.empty()) return len;
        t->response.headers[std::move(name)] = std::string(trim(line.substr(colon + 1)));
        return len;
    } catch (const std::exception& e) {
        t->owner->log().log(LogLevel::error, std::string("http: header callback: ") + e.what());
    } catch (...) {
        t->owner->log().log(LogLevel::error, "http: header callback failed");
    }
    return 0;
}

}  // namespace

std::unique_ptr<HttpClient> make_curl_http_client(EventLoop& loop, Logger& log,
                                                  HttpClientOptions options) {
    return std::make_unique<CurlHttpClient>(loop, log, std::move(options));
}

}  // namespace gist
