// The event loop the core runs on. NGINX implements it in ngx_gist_module/; tests use PollLoop.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace gist {

// Watches one file descriptor that somebody else owns (curl or hiredis). Destroying the watch
// stops watching; it never closes the descriptor.
class FdWatch {
public:
    virtual ~FdWatch() = default;
    // Level-triggered interest: the callback runs while the fd stays readable/writable.
    virtual void set_interest(bool want_read, bool want_write) = 0;
};

// A one-shot timer. Destroying it cancels it.
class Timer {
public:
    virtual ~Timer() = default;
    // (Re)arms the timer to fire once after `delay`, replacing any earlier arming.
    virtual void arm(std::chrono::milliseconds delay) = 0;
    virtual void cancel() = 0;
    virtual bool armed() const = 0;
};

class EventLoop {
public:
    using FdCallback = std::function<void(bool readable, bool writable)>;
    using TimerCallback = std::function<void()>;

    virtual ~EventLoop() = default;
    // Returns nullptr when the loop has no room for another fd (NGINX: worker_connections).
    virtual std::unique_ptr<FdWatch> watch(int fd, FdCallback on_ready) = 0;
    virtual std::unique_ptr<Timer> make_timer(TimerCallback on_fire) = 0;
    // A timer that, while armed, keeps a gracefully stopping process alive (NGINX: not
    // cancelable): background work in flight finishes before the worker exits.
    virtual std::unique_ptr<Timer> make_shutdown_guard(TimerCallback on_fire) {
        return make_timer(std::move(on_fire));
    }
    // True once a graceful stop (reload, quit) has begun: start no new background work.
    virtual bool stopping() const { return false; }
    // Wall clock, for timestamps written to Redis and shown to users.
    virtual std::chrono::system_clock::time_point now() const {
        return std::chrono::system_clock::now();
    }
};

}  // namespace gist
