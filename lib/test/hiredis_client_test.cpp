// Tests of the hiredis RedisClient against real redis-server processes on loopback.
#include "gist/redis_client.hpp"
#include "poll_loop.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using gist::LogLevel;
using gist::RedisClientOptions;
using gist::RedisEndpoint;
using gist::RedisFailure;
using gist::RedisResult;
using gist::RedisValue;
using gist::test::PollLoop;

namespace {

int free_port() {
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

bool tcp_accepts(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// A redis-server child process on a fixed loopback port (kept across restarts), optionally
// also listening on a unix socket.
class RedisProcess {
public:
    explicit RedisProcess(std::vector<std::string> extra_args = {}, bool with_unix_socket = false)
        : port_(free_port()), extra_(std::move(extra_args)) {
        if (with_unix_socket) {
            unix_path_ = "/tmp/gist-redis-test-" + std::to_string(::getpid()) + "-" +
                         std::to_string(port_) + ".sock";
        }
        start();
    }
    ~RedisProcess() {
        stop();
        if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
    }
    RedisProcess(const RedisProcess&) = delete;
    RedisProcess& operator=(const RedisProcess&) = delete;

    int port() const { return port_; }
    const std::string& unix_path() const { return unix_path_; }

    void start() {
        std::vector<std::string> args = {"redis-server", "--port", std::to_string(port_), "--bind",
                                         "127.0.0.1", "--save", "", "--appendonly", "no",
                                         "--enable-debug-command", "yes", "--loglevel", "warning",
                                         "--dir", "/tmp"};
        if (!unix_path_.empty()) {
            args.insert(args.end(), {"--unixsocket", unix_path_, "--unixsocketperm", "700"});
        }
        args.insert(args.end(), extra_.begin(), extra_.end());
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            int devnull = ::open("/dev/null", O_WRONLY);
            ::dup2(devnull, 1);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv("/usr/bin/redis-server", argv.data());
            ::_exit(127);
        }
        for (int i = 0; i < 500; ++i) {
            if (tcp_accepts(port_) && (unix_path_.empty() || ::access(unix_path_.c_str(), F_OK) == 0)) {
                return;
            }
            std::this_thread::sleep_for(10ms);
        }
        throw std::runtime_error("redis-server did not start");
    }

    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }

private:
    int port_;
    std::vector<std::string> extra_;
    std::string unix_path_;
    pid_t pid_ = -1;
};

class CapturingLogger final : public gist::Logger {
public:
    void log(LogLevel level, std::string_view message) override {
        lines.emplace_back(level, std::string(message));
    }
    // Lines an operator would see (everything but debug).
    int visible() const {
        int n = 0;
        for (auto& [l, m] : lines) n += l != LogLevel::debug;
        return n;
    }
    int count(LogLevel level, const std::string& needle = "") const {
        int n = 0;
        for (auto& [l, m] : lines) n += l == level && m.find(needle) != std::string::npos;
        return n;
    }
    bool contains(const std::string& needle) const {
        for (auto& [l, m] : lines) {
            if (m.find(needle) != std::string::npos) return true;
        }
        return false;
    }
    std::string dump() const {
        std::string s;
        for (auto& [l, m] : lines) s += std::to_string(static_cast<int>(l)) + " " + m + "\n";
        return s;
    }

    std::vector<std::pair<LogLevel, std::string>> lines;
};

RedisClientOptions fast_options() {
    RedisClientOptions o;
    o.connect_timeout = 1000ms;
    o.command_timeout = 2000ms;
    o.reconnect_min = 20ms;
    o.reconnect_max = 200ms;
    return o;
}

RedisEndpoint tcp(int port) {
    RedisEndpoint e;
    e.host = "127.0.0.1";
    e.port = port;
    return e;
}

class HiredisClientTest : public ::testing::Test {
protected:
    void TearDown() override {
        client_.reset();
        other_.reset();
        loop_.run_for(10ms);
        EXPECT_EQ(loop_.invalid_fd_events(), 0u) << "an fd was closed while still watched";
        EXPECT_EQ(loop_.watch_count(), 0u) << "watches leaked after the client was destroyed";
    }

    std::unique_ptr<gist::RedisClient> make(RedisEndpoint ep, RedisClientOptions o = fast_options()) {
        auto c = gist::make_hiredis_client(loop_, log_, std::move(ep), o);
        c->start();
        return c;
    }

    bool wait_connected(gist::RedisClient& c, std::chrono::milliseconds limit = 3s) {
        return loop_.run_until([&] { return c.connected(); }, limit);
    }

    RedisResult call(gist::RedisClient& c, std::vector<std::string> argv,
                     std::chrono::milliseconds limit = 3s) {
        std::optional<RedisResult> out;
        c.command(std::move(argv), [&](RedisResult r) { out = std::move(r); });
        EXPECT_TRUE(loop_.run_until([&] { return out.has_value(); }, limit)) << "no reply";
        return out.value_or(RedisResult{});
    }

    PollLoop loop_;
    CapturingLogger log_;
    std::unique_ptr<gist::RedisClient> client_;
    std::unique_ptr<gist::RedisClient> other_;
};

TEST_F(HiredisClientTest, RepliesMapToValueTypes) {
    RedisProcess redis;
    client_ = make(tcp(redis.port()));
    ASSERT_TRUE(wait_connected(*client_)) << log_.dump();
    EXPECT_EQ(client_->connects(), 1u);

    RedisResult r = call(*client_, {"PING"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value.type, RedisValue::Type::status);
    EXPECT_EQ(r.value.str, "PONG");

    r = call(*client_, {"SET", "k", "v"});
    EXPECT_EQ(r.value.type, RedisValue::Type::status);
    EXPECT_EQ(r.value.str, "OK");

    r = call(*client_, {"GET", "k"});
    EXPECT_EQ(r.value.type, RedisValue::Type::string);
    EXPECT_EQ(r.value.str, "v");

    r = call(*client_, {"GET", "missing"});
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.value.is_nil());

    r = call(*client_, {"INCRBY", "n", "-42"});
    EXPECT_EQ(r.value.type, RedisValue::Type::integer);
    EXPECT_EQ(r.value.integer, -42);

    r = call(*client_, {"EVAL", "return {1, 'two', {3, false}, redis.status_reply('FINE')}", "0"});
    ASSERT_EQ(r.value.type, RedisValue::Type::array);
    ASSERT_EQ(r.value.elements.size(), 4u);
    EXPECT_EQ(r.value.elements[0].type, RedisValue::Type::integer);
    EXPECT_EQ(r.value.elements[0].integer, 1);
    EXPECT_EQ(r.value.elements[1].type, RedisValue::Type::string);
    EXPECT_EQ(r.value.elements[1].str, "two");
    ASSERT_EQ(r.value.elements[2].type, RedisValue::Type::array);
    ASSERT_EQ(r.value.elements[2].elements.size(), 2u);
    EXPECT_EQ(r.value.elements[2].elements[0].integer, 3);
    EXPECT_TRUE(r.value.elements[2].elements[1].is_nil());  // Lua false is a nil reply
    EXPECT_EQ(r.value.elements[3].type, RedisValue::Type::status);
    EXPECT_EQ(r.value.elements[3].str, "FINE");

    r = call(*client_, {"EVAL", "return redis.error_reply('MYERR boom')", "0"});
    ASSERT_TRUE(r.ok()) << "an error reply is a reply, not a transport failure";
    EXPECT_TRUE(r.value.is_error());
    EXPECT_EQ(r.value.str, "MYERR boom");

    r = call(*client_, {"HGET", "k", "f"});
    EXPECT_TRUE(r.value.is_error());
    EXPECT_EQ(r.value.str.rfind("WRONGTYPE", 0), 0u) << r.value.str;

    r = call(*client_, {"EVAL", "return {}", "0"});
    EXPECT_EQ(r.value.type, RedisValue::Type::array);
    EXPECT_TRUE(r.value.elements.empty());

    r = call(*client_, {});
    EXPECT_TRUE(r.value.is_error());
}

TEST_F(HiredisClientTest, ArgumentsAreBinarySafe) {
    RedisProcess redis;
    client_ = make(tcp(redis.port()));
    ASSERT_TRUE(wait_connected(*client_));
    const std::string key("k\0ey \r\n", 7);
    const std::string value("\0\x01\xff\r\n$3\r\n", 10);
    EXPECT_EQ(call(*client_, {"SET", key, value}).value.str, "OK");
    RedisResult r = call(*client_, {"GET", key});
    EXPECT_EQ(r.value.type, RedisValue::Type::string);
    EXPECT_EQ(r.value.str, value);
    EXPECT_EQ(call(*client_, {"GET", "k"}).value.type, RedisValue::Type::nil);
}

TEST_F(HiredisClientTest, PipelinedCommandsReplyInOrder) {
    RedisProcess redis;
    client_ = make(tcp(redis.port()));
    ASSERT_TRUE(wait_connected(*client_));
    std::vector<long long> got;
    for (int i = 0; i < 1000; ++i) {
        client_->command({"INCR", "counter"}, [&](RedisResult r) { got.push_back(r.value.integer); });
    }
    ASSERT_TRUE(loop_.run_until([&] { return got.size() == 1000; }, 5s));
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(got[i], i + 1);
}

TEST_F(HiredisClientTest, CommandFromInsideCallback) {
    RedisProcess redis;
    client_ = make(tcp(redis.port()));
    ASSERT_TRUE(wait_connected(*client_));
    std::optional<RedisResult> second;
    client_->command({"SET", "a", "1"}, [&](RedisResult) {
        client_->command({"GET", "a"}, [&](RedisResult r) { second = std::move(r); });
    });
    ASSERT_TRUE(loop_.run_until([&] { return second.has_value(); }, 2s));
    EXPECT_EQ(second->value.str, "1");
}

TEST_F(HiredisClientTest, CommandWhileDownFailsFastFromTheLoop) {
    const int port = free_port();  // nothing listens here
    client_ = make(tcp(port));
    bool in_command = true;
    bool ran_inside = false;
    std::optional<RedisResult> out;
    client_->command({"PING"}, [&](RedisResult r) {
        ran_inside = in_command;
        out = std::move(r);
    });
    in_command = false;
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(loop_.run_until([&] { return out.has_value(); }, 1s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
    EXPECT_FALSE(ran_inside);
    EXPECT_EQ(out->failure, RedisFailure::unavailable);
    EXPECT_FALSE(client_->connected());
}

TEST_F(HiredisClientTest, CommandBeforeStartIsUnavailable) {
    RedisProcess redis;
    client_ = gist::make_hiredis_client(loop_, log_, tcp(redis.port()), fast_options());
    RedisResult r = call(*client_, {"PING"});
    EXPECT_EQ(r.failure, RedisFailure::unavailable);
}

TEST_F(HiredisClientTest, RetriesWhileDownLogOnlyOnce) {
    const int port = free_port();
    client_ = make(tcp(port));
    loop_.run_for(800ms);  // many attempts at 20..200 ms backoff
    EXPECT_FALSE(client_->connected());
    EXPECT_EQ(client_->connects(), 0u);
    EXPECT_EQ(log_.visible(), 1) << log_.dump();
    EXPECT_EQ(log_.count(LogLevel::error, "cannot connect"), 1) << log_.dump();
    EXPECT_GE(log_.count(LogLevel::debug), 2) << "expected several quiet retries\n" << log_.dump();
}

TEST_F(HiredisClientTest, ReconnectsAfterServerRestart) {
    RedisProcess redis;
    client_ = make(tcp(redis.port()));
    ASSERT_TRUE(wait_connected(*client_));
    EXPECT_EQ(call(*client_, {"SET", "x", "1"}).value.str, "OK");

    redis.stop();
    ASSERT_TRUE(loop_.run_until([&] { return !client_->connected(); }, 2s));
    EXPECT_EQ(call(*client_, {"PING"}).failure, RedisFailure::unavailable);
    loop_.run_for(500ms);  // several failed attempts while the server is down

    redis.start();
    ASSERT_TRUE(wait_connected(*client_, 3s)) << log_.dump();
    EXPECT_EQ(client_->connects(), 2u);
    RedisResult r = call(*client_, {"PING"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value.str, "PONG");

    EXPECT_EQ(log_.count(LogLevel::notice, "connected"), 2) << log_.dump();
    EXPECT_EQ(log_.count(LogLevel::error), 1) << log_.dump();
    EXPECT_EQ(log_.count(LogLevel::error, "lost"), 1) << log_.dump();
    EXPECT_EQ(log_.visible(), 3) << log_.dump();
}

// After a failover a connection (or the TLS tunnel in front of it) may still lead to the old
// primary, now a replica: READONLY means "connect again", not "this command is wrong".
TEST_F(HiredisClientTest, ReadonlyReplyDropsTheConnectionAndReconnects) {
    RedisProcess old_primary;
    RedisProcess new_primary;
    client_ = make(tcp(old_primary.port()));
    other_ = make(tcp(old_primary.port()));
    ASSERT_TRUE(wait_connected(*client_));
    ASSERT_TRUE(wait_connected(*other_));
    EXPECT_EQ(call(*client_, {"SET", "x", "1"}).value.str, "OK");

    ASSERT_TRUE(call(*other_, {"REPLICAOF", "127.0.0.1", std::to_string(new_primary.port())}).ok());
    for (std::vector<std::string> write : {std::vector<std::string>{"SET", "x", "2"},
                                           {"EVAL", "return redis.call('SET', KEYS[1], '3')", "1", "x"}}) {
        const auto connects = client_->connects();
        RedisResult r = call(*client_, write);
        EXPECT_EQ(r.failure, RedisFailure::unavailable) << write[0] << ": " << r.value.str;
        ASSERT_TRUE(loop_.run_until([&] { return client_->connects() == connects + 1; }, 3s))
            << write[0] << ": no new connection\n" << log_.dump();
    }
    EXPECT_GE(log_.count(LogLevel::error, "READONLY"), 1) << log_.dump();

    // The replica is promoted (the proxy or DNS now leads here): writes work again.
    ASSERT_TRUE(call(*other_, {"REPLICAOF", "NO", "ONE"}).ok());
    ASSERT_TRUE(loop_.run_until([&] { return client_->connected(); }, 3s));
    EXPECT_EQ(call(*client_, {"SET", "x", "4"}).value.str, "OK") << log_.dump();
}

TEST_F(HiredisClientTest, SubscriptionDeliversMessagesAndComesBackAfterADrop) {
    RedisProcess redis;
    client_ = make(tcp(redis.port()));
    std::vector<std::string> messages;
    int subscribed = 0;
    client_->subscribe("news", [&](std::string m) { messages.push_back(std::move(m)); }, [&] { ++subscribed; });
    other_ = make(tcp(redis.port()));
    ASSERT_TRUE(loop_.run_until([&] { return subscribed == 1; }, 3s)) << log_.dump();
    ASSERT_TRUE(wait_connected(*other_));
    EXPECT_EQ(call(*other_, {"PUBLISH", "news", "one"}).value.integer, 1);
    ASSERT_TRUE(loop_.run_until([&] { return messages.size() == 1; }, 3s));
    EXPECT_EQ(messages[0], "one");

    // The server drops the subscriber: it connects and subscribes again by itself.
    EXPECT_EQ(call(*other_, {"CLIENT", "KILL", "TYPE", "pubsub"}).value.integer, 1);
    ASSERT_TRUE(loop_.run_until([&] { return subscribed == 2; }, 3s)) << log_.dump();
    EXPECT_EQ(call(*other_, {"PUBLISH", "news", "two"}).value.integer, 1);
    ASSERT_TRUE(loop_.run_until([&] { return messages.size() == 2; }, 3s));
    EXPECT_EQ(messages[1], "two");
    EXPECT_EQ(client_->connects(), 2u);
}

TEST_F(HiredisClientTest, InFlightCommandFailsWhenConnectionDrops) {
    RedisProcess redis;
    client_ = make(tcp(redis.port()));
    ASSERT_TRUE(wait_connected(*client_));
    std::optional<RedisResult> out;
    client_->command({"BLPOP", "never", "0"}, [&](RedisResult r) { out = std::move(r); });
    loop_.run_for(100ms);  // the command is on the wire
    ASSERT_FALSE(out.has_value());
    redis.stop();
    ASSERT_TRUE(loop_.run_until([&] { return out.has_value(); }, 2s));
    EXPECT_EQ(out->failure, RedisFailure::unavailable);
}

TEST_F(HiredisClientTest, AuthWithCorrectPassword) {
    const std::string password = "S3cret-pass-xyz";
    RedisProcess redis({"--requirepass", password});
    RedisEndpoint ep = tcp(redis.port());
    ep.password = password;
    client_ = make(ep);
    ASSERT_TRUE(wait_connected(*client_)) << log_.dump();
    EXPECT_EQ(call(*client_, {"SET", "a", "b"}).value.str, "OK");
    EXPECT_EQ(call(*client_, {"GET", "a"}).value.str, "b");
    EXPECT_FALSE(log_.contains(password));
}

TEST_F(HiredisClientTest, AuthWithWrongPasswordNeverConnects) {
    RedisProcess redis({"--requirepass", "the-right-one"});
    RedisEndpoint ep = tcp(redis.port());
    ep.password = "Wr0ng-Passw0rd-42";
    client_ = make(ep);
    loop_.run_for(700ms);
    EXPECT_FALSE(client_->connected());
    EXPECT_EQ(client_->connects(), 0u);
    EXPECT_EQ(call(*client_, {"PING"}).failure, RedisFailure::unavailable);
    EXPECT_EQ(log_.visible(), 1) << log_.dump();
    EXPECT_EQ(log_.count(LogLevel::error, "AUTH failed"), 1) << log_.dump();
    EXPECT_FALSE(log_.contains(ep.password)) << log_.dump();
    EXPECT_FALSE(log_.contains("the-right-one"));
}

TEST_F(HiredisClientTest, SelectsTheConfiguredDatabase) {
    RedisProcess redis;
    RedisEndpoint ep5 = tcp(redis.port());
    ep5.db = 5;
    client_ = make(ep5);
    other_ = make(tcp(redis.port()));
    ASSERT_TRUE(wait_connected(*client_));
    ASSERT_TRUE(wait_connected(*other_));
    EXPECT_EQ(call(*client_, {"SET", "only-in-5", "yes"}).value.str, "OK");
    EXPECT_TRUE(call(*other_, {"GET", "only-in-5"}).value.is_nil());
    EXPECT_EQ(call(*client_, {"GET", "only-in-5"}).value.str, "yes");
    EXPECT_EQ(call(*other_, {"SELECT", "5"}).value.str, "OK");
    EXPECT_EQ(call(*other_, {"GET", "only-in-5"}).value.str, "yes");
}

TEST_F(HiredisClientTest, SelectOfMissingDatabaseIsAFailedConnect) {
    RedisProcess redis({"--databases", "4"});
    RedisEndpoint ep = tcp(redis.port());
    ep.db = 9;
    client_ = make(ep);
    loop_.run_for(400ms);
    EXPECT_FALSE(client_->connected());
    EXPECT_EQ(log_.count(LogLevel::error, "SELECT failed"), 1) << log_.dump();
}

TEST_F(HiredisClientTest, CommandTimeoutResetsTheConnectionAndRecovers) {
    RedisProcess redis;
    RedisClientOptions o = fast_options();
    o.command_timeout = 200ms;
    client_ = make(tcp(redis.port()), o);
    ASSERT_TRUE(wait_connected(*client_));

    std::optional<RedisResult> slow, behind;
    const auto t0 = std::chrono::steady_clock::now();
    client_->command({"DEBUG", "SLEEP", "1"}, [&](RedisResult r) { slow = std::move(r); });
    loop_.run_for(50ms);
    client_->command({"PING"}, [&](RedisResult r) { behind = std::move(r); });
    ASSERT_TRUE(loop_.run_until([&] { return slow && behind; }, 2s));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(slow->failure, RedisFailure::timeout);
    EXPECT_EQ(behind->failure, RedisFailure::unavailable) << "queued behind the stuck command";
    EXPECT_GE(took, 190ms);
    EXPECT_LT(took, 600ms);
    EXPECT_TRUE(log_.contains("timed out")) << log_.dump();

    // The server stays busy for the rest of the second; the client must come back by itself.
    bool pong = false;
    const bool recovered = loop_.run_until(
        [&] {
            if (pong) return true;
            if (client_->connected()) {
                RedisResult r = call(*client_, {"PING"}, 1s);
                pong = r.ok() && r.value.str == "PONG";
            }
            return pong;
        },
        5s);
    EXPECT_TRUE(recovered) << log_.dump();
    EXPECT_GE(client_->connects(), 2u);
}

TEST_F(HiredisClientTest, DestroyingTheClientDropsPendingCallbacks) {
    RedisProcess redis;
    client_ = make(tcp(redis.port()));
    ASSERT_TRUE(wait_connected(*client_));
    int called = 0;
    client_->command({"BLPOP", "never", "0"}, [&](RedisResult) { ++called; });
    loop_.run_for(50ms);
    client_->command({"PING"}, [&](RedisResult) { ++called; });  // queued, not yet sent
    client_.reset();
    loop_.run_for(200ms);
    EXPECT_EQ(called, 0);
}

TEST_F(HiredisClientTest, DestroyingTheClientDropsQueuedFailFastCallbacks) {
    client_ = make(tcp(free_port()));
    int called = 0;
    client_->command({"PING"}, [&](RedisResult) { ++called; });
    client_.reset();
    loop_.run_for(100ms);
    EXPECT_EQ(called, 0);
}

TEST_F(HiredisClientTest, DestroyingTheClientFromItsOwnCallback) {
    RedisProcess redis;
    client_ = make(tcp(redis.port()));
    ASSERT_TRUE(wait_connected(*client_));
    int called = 0;
    client_->command({"PING"}, [&](RedisResult) {
        ++called;
        client_.reset();
    });
    client_->command({"PING"}, [&](RedisResult) { ++called; });
    loop_.run_for(300ms);
    EXPECT_EQ(called, 1);
    EXPECT_EQ(client_, nullptr);
}

TEST_F(HiredisClientTest, ConnectsOverUnixSocket) {
    RedisProcess redis({}, /*with_unix_socket=*/true);
    RedisEndpoint ep;
    ep.unix_path = redis.unix_path();
    client_ = make(ep);
    ASSERT_TRUE(wait_connected(*client_)) << log_.dump();
    RedisResult r = call(*client_, {"PING"});
    EXPECT_EQ(r.value.str, "PONG");
    EXPECT_TRUE(log_.contains("unix:" + redis.unix_path()));
}

TEST_F(HiredisClientTest, MissingUnixSocketIsAFailedConnect) {
    RedisEndpoint ep;
    ep.unix_path = "/tmp/gist-no-such-redis-" + std::to_string(::getpid()) + ".sock";
    client_ = make(ep);
    loop_.run_for(300ms);
    EXPECT_FALSE(client_->connected());
    EXPECT_EQ(log_.visible(), 1) << log_.dump();
}

TEST_F(HiredisClientTest, HostNamesAreNotResolved) {
    RedisEndpoint ep = tcp(6379);
    ep.host = "localhost";
    client_ = make(ep);
    loop_.run_for(200ms);
    EXPECT_FALSE(client_->connected());
    EXPECT_EQ(log_.count(LogLevel::error, "not an IP address"), 1) << log_.dump();
}

TEST_F(HiredisClientTest, HandshakeThatNeverAnswersTimesOut) {
    // A listener that never accepts: TCP connects (kernel backlog) but AUTH gets no reply.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 64), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);

    RedisEndpoint ep = tcp(ntohs(addr.sin_port));
    ep.password = "pw-never-logged";
    RedisClientOptions o = fast_options();
    o.connect_timeout = 150ms;
    client_ = make(ep, o);
    loop_.run_for(500ms);
    EXPECT_FALSE(client_->connected());
    EXPECT_EQ(log_.count(LogLevel::error, "connect timed out"), 1) << log_.dump();
    EXPECT_FALSE(log_.contains(ep.password));
    client_.reset();
    ::close(fd);
}

}  // namespace
