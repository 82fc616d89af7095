// A poll(2)-based gist::EventLoop for unit tests (NGINX uses its own implementation).
//
// Semantics every EventLoop implementation must honour, and which this one makes testable:
//  * Level-triggered fd watches: the callback runs on every iteration while the fd stays
//    ready for a direction the watch is interested in. Errors and hang-ups (POLLERR/POLLHUP)
//    are reported as readiness for the interested directions, so the owner sees the error
//    when it reads or writes.
//  * A watch with no interest is not polled at all.
//  * Destroying a FdWatch or Timer from inside any callback, including its own, is safe;
//    a destroyed watch or cancelled/re-armed timer never fires for the old event.
//  * Timers are one-shot. A timer armed (even with 0 ms) from inside a callback fires on a
//    later iteration, never re-entrantly. Timers due at the same time fire in arming order.
//  * Destroying a FdWatch never closes its fd.
//
// Watches and timers may outlive the loop (they become inert), but callbacks only run from
// run_once()/run_until(), on the calling thread. Not thread-safe.
#pragma once

#include "gist/event_loop.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>

namespace gist::test {

namespace detail {
struct PollLoopState;
}

class PollLoop final : public gist::EventLoop {
public:
    PollLoop();
    ~PollLoop() override;
    PollLoop(const PollLoop&) = delete;
    PollLoop& operator=(const PollLoop&) = delete;

    std::unique_ptr<FdWatch> watch(int fd, FdCallback on_ready) override;
    std::unique_ptr<Timer> make_timer(TimerCallback on_fire) override;

    // One iteration: waits up to `max_wait` (less if a timer is due earlier) for fd readiness,
    // then runs the ready fd callbacks, then the due timers.
    void run_once(std::chrono::milliseconds max_wait);

    // Runs iterations until `done()` returns true (checked before each iteration) or `limit`
    // has passed. Returns whether `done()` became true.
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit);

    // Runs for `duration` regardless of what happens (for "nothing must happen" checks).
    void run_for(std::chrono::milliseconds duration);

    // Makes watch() return nullptr once `max` watches are live (simulates NGINX running out of
    // worker_connections). Default: unlimited.
    void set_watch_limit(std::size_t max) { watch_limit_ = max; }

    // Live (not yet destroyed) watches and armed timers; tests use them to check for leaks.
    std::size_t watch_count() const;
    std::size_t armed_timer_count() const;
    // Times poll() reported POLLNVAL: a watched fd was closed while still watched, i.e. the
    // owner broke the "remove the watch before closing" rule. Tests assert this stays 0.
    std::size_t invalid_fd_events() const;

private:
    std::shared_ptr<detail::PollLoopState> state_;
    std::size_t watch_limit_ = std::numeric_limits<std::size_t>::max();
};

}  // namespace gist::test
