#include "poll_loop.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>
#include <vector>

namespace gist::test {

namespace {
using Clock = std::chrono::steady_clock;
}

namespace detail {

// Entries are shared_ptr so that a callback being dispatched stays alive even when its owner
// destroys the watch/timer (or the whole client) from inside that callback.
struct PollWatchEntry {
    int fd = -1;
    bool want_read = false;
    bool want_write = false;
    bool alive = true;
    EventLoop::FdCallback cb;
};

struct PollTimerEntry {
    EventLoop::TimerCallback cb;
    bool alive = true;
    bool armed = false;
    Clock::time_point due{};
    std::uint64_t seq = 0;  // arming order; also invalidates stale dispatch snapshots
};

struct PollLoopState {
    std::vector<std::shared_ptr<PollWatchEntry>> watches;
    std::vector<std::shared_ptr<PollTimerEntry>> timers;
    std::uint64_t next_seq = 1;
    std::size_t invalid_fd_events = 0;

    template <typename T>
    static void erase(std::vector<std::shared_ptr<T>>& v, const T* e) {
        v.erase(std::remove_if(v.begin(), v.end(), [e](const auto& p) { return p.get() == e; }),
                v.end());
    }
};
}  // namespace detail

using State = detail::PollLoopState;
using WatchEntry = detail::PollWatchEntry;
using TimerEntry = detail::PollTimerEntry;

namespace {

class PollWatch final : public FdWatch {
public:
    PollWatch(std::weak_ptr<State> state, std::shared_ptr<WatchEntry> entry)
        : state_(std::move(state)), entry_(std::move(entry)) {}
    ~PollWatch() override {
        entry_->alive = false;
        if (auto s = state_.lock()) State::erase(s->watches, entry_.get());
    }
    void set_interest(bool want_read, bool want_write) override {
        entry_->want_read = want_read;
        entry_->want_write = want_write;
    }

private:
    std::weak_ptr<State> state_;
    std::shared_ptr<WatchEntry> entry_;
};

class PollTimer final : public Timer {
public:
    PollTimer(std::weak_ptr<State> state, std::shared_ptr<TimerEntry> entry)
        : state_(std::move(state)), entry_(std::move(entry)) {}
    ~PollTimer() override {
        entry_->alive = false;
        entry_->armed = false;
        if (auto s = state_.lock()) State::erase(s->timers, entry_.get());
    }
    void arm(std::chrono::milliseconds delay) override {
        auto s = state_.lock();
        if (!s) return;
        entry_->armed = true;
        entry_->due = Clock::now() + std::max(delay, std::chrono::milliseconds(0));
        entry_->seq = s->next_seq++;
    }
    void cancel() override {
        entry_->armed = false;
        if (auto s = state_.lock()) entry_->seq = s->next_seq++;
    }
    bool armed() const override { return entry_->armed; }

private:
    std::weak_ptr<State> state_;
    std::shared_ptr<TimerEntry> entry_;
};

}  // namespace

PollLoop::PollLoop() : state_(std::make_shared<State>()) {}
PollLoop::~PollLoop() = default;

std::unique_ptr<FdWatch> PollLoop::watch(int fd, FdCallback on_ready) {
    if (state_->watches.size() >= watch_limit_) return nullptr;
    auto entry = std::make_shared<WatchEntry>();
    entry->fd = fd;
    entry->cb = std::move(on_ready);
    state_->watches.push_back(entry);
    return std::make_unique<PollWatch>(state_, std::move(entry));
}

std::unique_ptr<Timer> PollLoop::make_timer(TimerCallback on_fire) {
    auto entry = std::make_shared<TimerEntry>();
    entry->cb = std::move(on_fire);
    state_->timers.push_back(entry);
    return std::make_unique<PollTimer>(state_, std::move(entry));
}

void PollLoop::run_once(std::chrono::milliseconds max_wait) {
    // Keep the state alive even if a callback destroys the loop's last user-visible handle.
    const auto state = state_;
    const auto now = Clock::now();

    auto wait = std::max(max_wait, std::chrono::milliseconds(0));
    for (const auto& t : state->timers) {
        if (!t->armed) continue;
        // Round up so a timer is never polled for "almost due" and then found not yet due.
        auto left = std::chrono::ceil<std::chrono::milliseconds>(t->due - now);
        wait = std::min(wait, std::max(left, std::chrono::milliseconds(0)));
    }

    // Snapshot the watches: callbacks may add or destroy watches while we dispatch.
    std::vector<std::shared_ptr<WatchEntry>> polled;
    std::vector<pollfd> fds;
    for (const auto& w : state->watches) {
        if (!w->want_read && !w->want_write) continue;
        short events = 0;
        if (w->want_read) events |= POLLIN;
        if (w->want_write) events |= POLLOUT;
        polled.push_back(w);
        fds.push_back(pollfd{w->fd, events, 0});
    }

    int n = ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
    if (n < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");

    for (std::size_t i = 0; n > 0 && i < fds.size(); ++i) {
        const short re = fds[i].revents;
        if (re == 0) continue;
        auto& w = polled[i];
        if (re & POLLNVAL) ++state->invalid_fd_events;
        if (!w->alive) continue;
        const bool failed = (re & (POLLERR | POLLHUP | POLLNVAL)) != 0;
        // Use the current interest: an earlier callback in this iteration may have changed it.
        const bool readable = w->want_read && ((re & POLLIN) || failed);
        const bool writable = w->want_write && ((re & POLLOUT) || failed);
        if (!readable && !writable) continue;
        auto cb = w;  // keeps the std::function alive during the call
        cb->cb(readable, writable);
    }

    // Due timers, in due-time then arming order. Each is checked again right before it fires,
    // because an earlier callback may have cancelled, re-armed or destroyed it.
    const auto fire_now = Clock::now();
    std::vector<std::pair<std::shared_ptr<TimerEntry>, std::uint64_t>> due;
    for (const auto& t : state->timers) {
        if (t->armed && t->due <= fire_now) due.emplace_back(t, t->seq);
    }
    std::sort(due.begin(), due.end(), [](const auto& a, const auto& b) {
        return a.first->due != b.first->due ? a.first->due < b.first->due : a.second < b.second;
    });
    for (auto& [t, seq] : due) {
        if (!t->alive || !t->armed || t->seq != seq) continue;
        t->armed = false;
        t->cb();
    }
}

bool PollLoop::run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
        const auto now = Clock::now();
        if (now >= deadline) return false;
        run_once(std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
    }
    return true;
}

void PollLoop::run_for(std::chrono::milliseconds duration) {
    run_until([] { return false; }, duration);
}

std::size_t PollLoop::watch_count() const { return state_->watches.size(); }

std::size_t PollLoop::armed_timer_count() const {
    return static_cast<std::size_t>(std::count_if(state_->timers.begin(), state_->timers.end(),
                                                  [](const auto& t) { return t->armed; }));
}

std::size_t PollLoop::invalid_fd_events() const { return state_->invalid_fd_events; }

}  // namespace gist::test
