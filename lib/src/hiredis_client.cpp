// RedisClient on hiredis 0.14's async API, driven by a gist::EventLoop.
//
// hiredis 0.14 facts this file is built around (see /usr/include/hiredis/async.h):
//  * It has no timeouts: connect and command timeouts are our own Timers.
//  * A failed connect calls only the connect callback, then frees the context; a dropped
//    connection calls pending reply callbacks with a NULL reply, then ev.cleanup, then the
//    disconnect callback, then frees the context. So ev.cleanup is our one "context is gone"
//    signal, and it runs for every context exactly when hiredis is about to close the fd.
//  * redisAsyncFree() also calls pending reply callbacks (NULL reply). The `freeing_` and
//    `destroying_` flags tell those callbacks who asked for it.
//  * redisAsyncConnect() resolves names with blocking getaddrinfo(): only IP literals are used.
//
// Our own rules: no user callback ever runs inside a hiredis callback (results are queued and
// delivered from a 0 ms timer), and redisAsyncFree() is only called from our timers, command()
// paths or the destructor, never from inside a hiredis callback.

#include "gist/redis_client.hpp"

#include "gist/metrics.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <arpa/inet.h>

#include <algorithm>
#include <deque>
#include <exception>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gist {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class HiredisClient;

enum class CommandKind { user, auth, select, subscribe };

// The privdata of one command handed to hiredis. hiredis calls back exactly once per
// accepted command: with the reply, or with NULL when the context is freed.
struct PendingCommand {
    HiredisClient* owner = nullptr;
    CommandKind kind = CommandKind::user;
    RedisClient::Callback callback;
    SteadyClock::time_point deadline{};
    bool resolved = false;  // a result was already queued (timeout); ignore the late reply
};

RedisValue to_value(const redisReply* r) {
    RedisValue v;
    switch (r->type) {
        case REDIS_REPLY_STRING:
            v.type = RedisValue::Type::string;
            v.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_STATUS:
            v.type = RedisValue::Type::status;
            v.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_ERROR:
            v.type = RedisValue::Type::error;
            v.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_INTEGER:
            v.type = RedisValue::Type::integer;
            v.integer = r->integer;
            break;
        case REDIS_REPLY_ARRAY:
            v.type = RedisValue::Type::array;
            v.elements.reserve(r->elements);
            for (std::size_t i = 0; i < r->elements; ++i) v.elements.push_back(to_value(r->element[i]));
            break;
        default:
            v.type = RedisValue::Type::nil;
            break;
    }
    return v;
}

// Replies that say this server cannot take our writes right now: after a failover the connection
// (or a TLS tunnel in front of it) may still lead to the old primary, now a replica, or to a
// server still loading its data. A new connection finds the current primary.
bool says_wrong_server(const redisReply* r) {
    if (r == nullptr || r->type != REDIS_REPLY_ERROR || r->str == nullptr) {
        return false;
    }
    const std::string_view text(r->str, r->len);
    for (std::string_view code : {"READONLY", "LOADING", "MASTERDOWN"}) {
        if (text.substr(0, code.size()) == code) {
            return true;
        }
    }
    return false;
}

bool is_ip_literal(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

class HiredisClient final : public RedisClient {
public:
    HiredisClient(EventLoop& loop, Logger& log, RedisEndpoint endpoint, RedisClientOptions options);
    ~HiredisClient() override;
    HiredisClient(const HiredisClient&) = delete;
    HiredisClient& operator=(const HiredisClient&) = delete;

    void start() override;
    bool connected() const override { return state_ == State::connected; }
    void command(std::vector<std::string> argv, Callback on_reply) override;
    unsigned long connects() const override { return connects_; }
    void subscribe(std::string channel, std::function<void(std::string)> on_message,
                   std::function<void()> on_subscribed) override;

private:
    enum class State {
        stopped,     // start() not called yet
        connecting,  // TCP/unix connect in progress
        handshake,   // AUTH / SELECT sent, replies pending
        connected,
        waiting,     // down; the reconnect timer is armed
    };
    enum class Health { unknown, up, down };  // what the log last said

    // hiredis hooks (C callbacks; each catches everything).
    static void ev_add_read(void* self);
    static void ev_del_read(void* self);
    static void ev_add_write(void* self);
    static void ev_del_write(void* self);
    static void ev_cleanup(void* self);
    static void on_connect_cb(const redisAsyncContext* ac, int status);
    static void on_disconnect_cb(const redisAsyncContext* ac, int status);
    static void on_reply_cb(redisAsyncContext* ac, void* reply, void* privdata);
    template <typename F>
    static void guarded(void* self, const char* what, F&& f);

    void set_interest(bool* flag, bool value);
    void connect_now();
    void on_fd_ready(bool readable, bool writable);
    void on_context_gone();
    void on_tcp_connected();
    void on_reply(PendingCommand* p, redisReply* reply);
    bool send_internal(CommandKind kind, std::vector<std::string> argv);
    bool send(std::unique_ptr<PendingCommand>& p, const std::vector<std::string>& argv);
    void mark_connected();
    void send_subscribe();
    void on_subscription_reply(const redisReply* reply);
    void went_down(const std::string& why);
    void reset_connection(const std::string& why);
    void free_context();
    void schedule_reconnect();
    milliseconds backoff_delay();
    void rearm_command_timer();
    void on_command_timer();
    void push_result(Callback cb, RedisResult result);
    void deliver();
    std::string scrub(std::string text) const;

    EventLoop& loop_;
    Logger& log_;
    RedisEndpoint endpoint_;
    RedisClientOptions options_;
    std::string name_;  // for log lines; never contains the password

    std::unique_ptr<Timer> connect_timer_;    // connect + handshake deadline
    std::unique_ptr<Timer> command_timer_;    // oldest in-flight command's deadline
    std::unique_ptr<Timer> reconnect_timer_;  // backoff
    std::unique_ptr<Timer> reset_timer_;      // 0 ms: resets requested inside hiredis callbacks
    std::unique_ptr<Timer> deliver_timer_;    // 0 ms: runs queued user callbacks

    redisAsyncContext* ac_ = nullptr;
    std::unique_ptr<FdWatch> watch_;
    bool want_read_ = false;
    bool want_write_ = false;

    State state_ = State::stopped;
    Health health_ = Health::unknown;
    bool freeing_ = false;     // inside our own redisAsyncFree()
    bool destroying_ = false;  // inside the destructor: drop everything silently
    unsigned generation_ = 0;  // increments per context, so stale deferred resets are ignored
    unsigned reset_generation_ = 0;
    std::string reset_reason_;
    std::string last_connect_error_;
    int handshake_pending_ = 0;
    unsigned attempt_ = 0;  // consecutive failed attempts, for the backoff
    unsigned long connects_ = 0;
    std::minstd_rand rng_{std::random_device{}()};

    struct Subscription {
        std::string channel;
        std::function<void(std::string)> on_message;
        std::function<void()> on_subscribed;
    };
    std::unique_ptr<Subscription> subscription_;  // this connection then serves only that

    std::deque<std::unique_ptr<PendingCommand>> inflight_;  // in hiredis' reply order
    std::deque<std::pair<Callback, RedisResult>> results_;  // waiting for deliver()
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

HiredisClient::HiredisClient(EventLoop& loop, Logger& log, RedisEndpoint endpoint,
                             RedisClientOptions options)
    : loop_(loop), log_(log), endpoint_(std::move(endpoint)), options_(options) {
    name_ = endpoint_.unix_path.empty()
                ? endpoint_.host + ":" + std::to_string(endpoint_.port)
                : "unix:" + endpoint_.unix_path;
    if (endpoint_.db != 0) name_ += " db " + std::to_string(endpoint_.db);
    if (options_.reconnect_min < milliseconds(1)) options_.reconnect_min = milliseconds(1);
    if (options_.reconnect_max < options_.reconnect_min) options_.reconnect_max = options_.reconnect_min;
    connect_timer_ = loop_.make_timer([this] {
        if (state_ == State::connecting || state_ == State::handshake) {
            reset_connection("connect timed out after " +
                             std::to_string(options_.connect_timeout.count()) + " ms");
        }
    });
    command_timer_ = loop_.make_timer([this] { on_command_timer(); });
    reconnect_timer_ = loop_.make_timer([this] { connect_now(); });
    reset_timer_ = loop_.make_timer([this] {
        if (ac_ && reset_generation_ == generation_) reset_connection(reset_reason_);
    });
    deliver_timer_ = loop_.make_timer([this] { deliver(); });
}

HiredisClient::~HiredisClient() {
    *alive_ = false;
    destroying_ = true;
    // Commands queued by our owners' destructors (a deal job's person lock released as the worker
    // exits) are still in hiredis' output buffer: one non-blocking write sends what fits, so a
    // lock is not left to expire. Their replies are never read.
    if (ac_ && state_ == State::connected) {
        redisAsyncHandleWrite(ac_);
    }
    // Pending reply callbacks are called by redisAsyncFree with NULL; they see destroying_
    // and only release their PendingCommand.
    free_context();
    results_.clear();
    inflight_.clear();
}

template <typename F>
void HiredisClient::guarded(void* self, const char* what, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        static_cast<HiredisClient*>(self)->log_.log(
            LogLevel::error, std::string("redis: ") + what + " failed: " + e.what());
    } catch (...) {
        static_cast<HiredisClient*>(self)->log_.log(LogLevel::error,
                                                    std::string("redis: ") + what + " failed");
    }
}

void HiredisClient::set_interest(bool* flag, bool value) {
    *flag = value;
    if (watch_) watch_->set_interest(want_read_, want_write_);
}

void HiredisClient::ev_add_read(void* p) {
    guarded(p, "addRead", [p] {
        auto* self = static_cast<HiredisClient*>(p);
        self->set_interest(&self->want_read_, true);
    });
}
void HiredisClient::ev_del_read(void* p) {
    guarded(p, "delRead", [p] {
        auto* self = static_cast<HiredisClient*>(p);
        self->set_interest(&self->want_read_, false);
    });
}
void HiredisClient::ev_add_write(void* p) {
    guarded(p, "addWrite", [p] {
        auto* self = static_cast<HiredisClient*>(p);
        self->set_interest(&self->want_write_, true);
    });
}
void HiredisClient::ev_del_write(void* p) {
    guarded(p, "delWrite", [p] {
        auto* self = static_cast<HiredisClient*>(p);
        self->set_interest(&self->want_write_, false);
    });
}
void HiredisClient::ev_cleanup(void* p) {
    guarded(p, "cleanup", [p] { static_cast<HiredisClient*>(p)->on_context_gone(); });
}

void HiredisClient::on_connect_cb(const redisAsyncContext* ac, int status) {
    void* p = ac->data;
    guarded(p, "connect callback", [p, ac, status] {
        auto* self = static_cast<HiredisClient*>(p);
        if (status != REDIS_OK) {
            // hiredis frees the context right after this returns; ev_cleanup does the rest.
            self->last_connect_error_ = ac->c.errstr[0] ? ac->c.errstr : "connect failed";
            return;
        }
        self->on_tcp_connected();
    });
}

void HiredisClient::on_disconnect_cb(const redisAsyncContext*, int) {
    // Required so hiredis never holds a stale callback; ev_cleanup already handled the state.
}

void HiredisClient::on_reply_cb(redisAsyncContext*, void* reply, void* privdata) {
    auto* pending = static_cast<PendingCommand*>(privdata);
    void* p = pending->owner;
    guarded(p, "reply callback", [p, pending, reply] {
        static_cast<HiredisClient*>(p)->on_reply(pending, static_cast<redisReply*>(reply));
    });
}

void HiredisClient::start() {
    if (state_ != State::stopped) return;
    connect_now();
}

void HiredisClient::connect_now() {
    if (ac_) return;
    ++generation_;
    handshake_pending_ = 0;
    last_connect_error_.clear();

    redisAsyncContext* ac = nullptr;
    if (!endpoint_.unix_path.empty()) {
        ac = redisAsyncConnectUnix(endpoint_.unix_path.c_str());
    } else if (!is_ip_literal(endpoint_.host)) {
        state_ = State::connecting;
        went_down("host \"" + endpoint_.host + "\" is not an IP address (names are not resolved)");
        return;
    } else {
        ac = redisAsyncConnect(endpoint_.host.c_str(), endpoint_.port);
    }
    state_ = State::connecting;
    if (!ac) {
        went_down("out of memory");
        return;
    }
    if (ac->err) {
        std::string why = ac->errstr;
        redisAsyncFree(ac);  // nothing attached yet: just closes the fd
        went_down(why);
        return;
    }

    ac_ = ac;
    ac->data = this;
    ac->ev.data = this;
    ac->ev.addRead = &HiredisClient::ev_add_read;
    ac->ev.delRead = &HiredisClient::ev_del_read;
    ac->ev.addWrite = &HiredisClient::ev_add_write;
    ac->ev.delWrite = &HiredisClient::ev_del_write;
    ac->ev.cleanup = &HiredisClient::ev_cleanup;
    want_read_ = want_write_ = false;
    watch_ = loop_.watch(ac->c.fd, [this](bool r, bool w) { on_fd_ready(r, w); });
    if (!watch_) {
        free_context();
        went_down("no free connection slot");
        return;
    }
    // Both callbacks, always: a failed connect only ever calls the connect callback.
    // Setting the connect callback makes hiredis ask for writability (connect completion).
    redisAsyncSetConnectCallback(ac, &HiredisClient::on_connect_cb);
    redisAsyncSetDisconnectCallback(ac, &HiredisClient::on_disconnect_cb);
    connect_timer_->arm(options_.connect_timeout);
}

void HiredisClient::on_fd_ready(bool readable, bool writable) {
    // Either call may end with hiredis freeing the context; ev_cleanup then clears ac_.
    if (readable && ac_) redisAsyncHandleRead(ac_);
    if (writable && ac_) redisAsyncHandleWrite(ac_);
}

void HiredisClient::on_context_gone() {
    watch_.reset();  // hiredis closes the fd right after this; we never close it
    want_read_ = want_write_ = false;
    if (!ac_) return;  // already handled (cleanup can be signalled more than once)
    std::string why = ac_->errstr ? ac_->errstr : "";
    if (why.empty()) why = last_connect_error_;
    if (why.empty()) why = "connection closed";
    ac_ = nullptr;
    if (freeing_ || destroying_) return;  // we asked for it; the caller handles the state
    // hiredis dropped the connection by itself (EOF, I/O error, failed connect). Pending
    // commands already got their NULL replies. Never reconnect from inside hiredis: use a timer.
    went_down(why);
}

void HiredisClient::on_tcp_connected() {
    state_ = State::handshake;
    bool ok = true;
    if (!endpoint_.password.empty()) ok = send_internal(CommandKind::auth, {"AUTH", endpoint_.password});
    if (ok && endpoint_.db != 0) {
        ok = send_internal(CommandKind::select, {"SELECT", std::to_string(endpoint_.db)});
    }
    if (!ok) {
        // We are inside hiredis' connect callback: reset from a timer instead.
        state_ = State::connecting;
        reset_generation_ = generation_;
        reset_reason_ = "could not send the connection handshake";
        reset_timer_->arm(milliseconds(0));
        return;
    }
    if (handshake_pending_ == 0) mark_connected();
}

bool HiredisClient::send_internal(CommandKind kind, std::vector<std::string> argv) {
    auto p = std::make_unique<PendingCommand>();
    p->owner = this;
    p->kind = kind;
    if (!send(p, argv)) return false;
    ++handshake_pending_;
    return true;
}

// On success hiredis holds p.get() until it calls back, and inflight_ owns it; on failure `p`
// is left untouched.
bool HiredisClient::send(std::unique_ptr<PendingCommand>& p, const std::vector<std::string>& argv) {
    std::vector<const char*> args;
    std::vector<std::size_t> lens;
    args.reserve(argv.size());
    lens.reserve(argv.size());
    for (const auto& a : argv) {
        args.push_back(a.data());
        lens.push_back(a.size());
    }
    if (redisAsyncCommandArgv(ac_, &HiredisClient::on_reply_cb, p.get(), static_cast<int>(args.size()),
                              args.data(), lens.data()) != REDIS_OK) {
        return false;
    }
    inflight_.push_back(std::move(p));
    return true;
}

void HiredisClient::command(std::vector<std::string> argv, Callback on_reply) {
    if (argv.empty()) {
        RedisResult r;
        r.value.type = RedisValue::Type::error;
        r.value.str = "ERR empty command";
        push_result(std::move(on_reply), std::move(r));
        return;
    }
    if (state_ != State::connected || !ac_) {
        RedisResult r;
        r.failure = RedisFailure::unavailable;
        push_result(std::move(on_reply), std::move(r));
        return;
    }
    auto p = std::make_unique<PendingCommand>();
    p->owner = this;
    p->kind = CommandKind::user;
    p->deadline = SteadyClock::now() + options_.command_timeout;
    p->callback = std::move(on_reply);
    if (!send(p, argv)) {
        RedisResult r;
        r.failure = RedisFailure::unavailable;
        push_result(std::move(p->callback), std::move(r));
        return;
    }
    if (!command_timer_->armed()) command_timer_->arm(options_.command_timeout);
}

void HiredisClient::on_reply(PendingCommand* p, redisReply* reply) {
    std::unique_ptr<PendingCommand> own;
    auto it = std::find_if(inflight_.begin(), inflight_.end(),
                           [p](const auto& q) { return q.get() == p; });
    // A subscription is called for every message; hiredis lets go of it only with a NULL reply.
    const bool keep = p->kind == CommandKind::subscribe && reply != nullptr;
    if (it != inflight_.end() && !keep) {
        own = std::move(*it);
        inflight_.erase(it);
    }
    if (destroying_) return;

    if (p->kind == CommandKind::subscribe) {
        if (reply) on_subscription_reply(reply);
        return;
    }

    if (p->kind == CommandKind::user) {
        const bool wrong_server = says_wrong_server(reply);
        if (!p->resolved) {
            p->resolved = true;
            RedisResult r;
            if (reply && !wrong_server) {
                r.value = to_value(reply);
            } else {
                r.failure = RedisFailure::unavailable;  // the connection is going away
            }
            push_result(std::move(p->callback), std::move(r));
        }
        if (wrong_server && state_ == State::connected && !reset_timer_->armed()) {
            reset_generation_ = generation_;
            reset_reason_ = "the server answered " + scrub(std::string(reply->str, reply->len)) +
                            "; connecting again to find the primary";
            reset_timer_->arm(milliseconds(0));  // never free the context inside its callback
        }
        rearm_command_timer();
        return;
    }

    // AUTH / SELECT of the connection handshake.
    if (!reply) return;  // the context is going away; ev_cleanup reports it
    --handshake_pending_;
    if (state_ != State::handshake) return;  // handshake already failed
    if (reply->type == REDIS_REPLY_ERROR) {
        const char* what = p->kind == CommandKind::auth ? "AUTH" : "SELECT";
        state_ = State::connecting;  // not connected; stays so until the reset
        reset_generation_ = generation_;
        reset_reason_ = std::string(what) + " failed: " + scrub(std::string(reply->str, reply->len));
        reset_timer_->arm(milliseconds(0));  // never free the context inside its callback
        return;
    }
    if (handshake_pending_ == 0) mark_connected();
}

void HiredisClient::mark_connected() {
    state_ = State::connected;
    connect_timer_->cancel();
    attempt_ = 0;
    ++connects_;
    if (connects_ > 1) count_redis(RedisEvent::reconnect);
    if (health_ != Health::up) {
        health_ = Health::up;
        log_.log(options_.quiet ? LogLevel::info : LogLevel::notice,
                 options_.log_name + ": connected to " + name_);
    }
    if (subscription_) send_subscribe();
}

void HiredisClient::subscribe(std::string channel, std::function<void(std::string)> on_message,
                              std::function<void()> on_subscribed) {
    subscription_ = std::make_unique<Subscription>(
        Subscription{std::move(channel), std::move(on_message), std::move(on_subscribed)});
    if (state_ == State::connected) send_subscribe();
}

// After every (re)connect: the server forgets subscriptions with the connection.
void HiredisClient::send_subscribe() {
    auto p = std::make_unique<PendingCommand>();
    p->owner = this;
    p->kind = CommandKind::subscribe;
    if (!send(p, {"SUBSCRIBE", subscription_->channel})) {
        reset_generation_ = generation_;
        reset_reason_ = "could not subscribe to " + subscription_->channel;
        reset_timer_->arm(milliseconds(0));
    }
}

// ["subscribe", channel, count] once subscribed, then ["message", channel, payload] each time.
void HiredisClient::on_subscription_reply(const redisReply* reply) {
    if (!subscription_ || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        return;
    }
    const std::string_view kind(reply->element[0]->str, reply->element[0]->len);
    const redisReply* payload = reply->element[2];
    auto alive = alive_;
    if (kind == "message" && payload->type == REDIS_REPLY_STRING) {
        RedisResult r;
        r.value.type = RedisValue::Type::string;
        r.value.str.assign(payload->str, payload->len);
        push_result([this, alive](RedisResult m) {
            if (*alive && subscription_ && subscription_->on_message) subscription_->on_message(std::move(m.value.str));
        }, std::move(r));
    } else if (kind == "subscribe") {
        push_result([this, alive](RedisResult) {
            if (*alive && subscription_ && subscription_->on_subscribed) subscription_->on_subscribed();
        }, RedisResult{});
    }
}

void HiredisClient::went_down(const std::string& why) {
    const bool was_connected = state_ == State::connected;
    state_ = State::waiting;
    handshake_pending_ = 0;
    connect_timer_->cancel();
    command_timer_->cancel();
    if (health_ != Health::down) {
        health_ = Health::down;
        log_.log(options_.quiet ? LogLevel::info : LogLevel::error,
                 (was_connected ? options_.log_name + ": connection to " + name_ + " lost: "
                                : options_.log_name + ": cannot connect to " + name_ + ": ") +
                                      scrub(why));
    } else {
        log_.log(LogLevel::debug, options_.log_name + ": reconnect to " + name_ + " failed: " + scrub(why));
    }
    schedule_reconnect();
}

void HiredisClient::reset_connection(const std::string& why) {
    free_context();
    went_down(why);
}

void HiredisClient::free_context() {
    if (!ac_) return;
    redisAsyncContext* ac = ac_;
    freeing_ = true;
    redisAsyncFree(ac);  // NULL replies to pending commands, then ev_cleanup, then closes the fd
    freeing_ = false;
    ac_ = nullptr;
    watch_.reset();
}

milliseconds HiredisClient::backoff_delay() {
    // Exponential from reconnect_min, capped at reconnect_max, with "equal jitter": a random
    // point in the upper half of the step, but never below reconnect_min.
    const auto min = options_.reconnect_min.count();
    const auto max = options_.reconnect_max.count();
    long long step = min;
    for (unsigned i = 0; i < attempt_ && step < max; ++i) step *= 2;
    step = std::min<long long>(step, max);
    const long long low = std::max<long long>(min, step / 2);
    std::uniform_int_distribution<long long> dist(low, std::max(low, step));
    return milliseconds(dist(rng_));
}

void HiredisClient::schedule_reconnect() {
    const auto delay = backoff_delay();
    if (attempt_ < 64) ++attempt_;
    reconnect_timer_->arm(delay);
}

void HiredisClient::rearm_command_timer() {
    for (const auto& p : inflight_) {
        if (p->kind != CommandKind::user || p->resolved) continue;
        auto left = std::chrono::ceil<milliseconds>(p->deadline - SteadyClock::now());
        command_timer_->arm(std::max(left, milliseconds(0)));
        return;
    }
    command_timer_->cancel();
}

void HiredisClient::on_command_timer() {
    const auto now = SteadyClock::now();
    bool expired = false;
    for (auto& p : inflight_) {
        if (p->kind != CommandKind::user || p->resolved || p->deadline > now) continue;
        p->resolved = true;
        expired = true;
        RedisResult r;
        r.failure = RedisFailure::timeout;
        push_result(std::move(p->callback), std::move(r));
    }
    if (!expired) {
        rearm_command_timer();
        return;
    }
    // The connection is stuck (or the server is): drop it, so later commands do not queue up
    // behind the slow one. The other pending commands get `unavailable`.
    reset_connection("command timed out after " + std::to_string(options_.command_timeout.count()) +
                     " ms");
}

void HiredisClient::push_result(Callback cb, RedisResult result) {
    if (!result.ok()) {
        count_redis(result.failure == RedisFailure::timeout ? RedisEvent::error_timeout : RedisEvent::error_unavailable);
    }
    if (!cb) return;
    results_.emplace_back(std::move(cb), std::move(result));
    if (!deliver_timer_->armed()) deliver_timer_->arm(milliseconds(0));
}

void HiredisClient::deliver() {
    auto alive = alive_;
    Logger& log = log_;
    // Only what is queued now; results queued by these callbacks go in the next round.
    for (std::size_t n = results_.size(); n > 0 && !results_.empty(); --n) {
        auto item = std::move(results_.front());
        results_.pop_front();
        try {
            item.first(std::move(item.second));
        } catch (const std::exception& e) {
            log.log(LogLevel::error, std::string("redis: reply callback threw: ") + e.what());
        } catch (...) {
            log.log(LogLevel::error, "redis: reply callback threw");
        }
        if (!*alive) return;  // the callback destroyed the client
    }
    if (!results_.empty() && !deliver_timer_->armed()) deliver_timer_->arm(milliseconds(0));
}

std::string HiredisClient::scrub(std::string text) const {
    const std::string& secret = endpoint_.password;
    if (secret.empty()) return text;
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
        text.replace(pos, secret.size(), "***");
    }
    return text;
}

}  // namespace

std::unique_ptr<RedisClient> make_hiredis_client(EventLoop& loop, Logger& log, RedisEndpoint endpoint,
                                                  RedisClientOptions options) {
    return std::make_unique<HiredisClient>(loop, log, std::move(endpoint), options);
}

}  // namespace gist
