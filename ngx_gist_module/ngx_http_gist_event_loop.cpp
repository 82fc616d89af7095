/*
 * The core's event loop interface on NGINX events.
 *
 * File descriptors belong to libcurl and hiredis: a watch borrows an ngx_connection_t only to get
 * events for the fd, and gives it back with ngx_free_connection() and c->fd = -1, never closing the
 * fd (the owner closes it right after). Events are level-triggered, so a library that reads only
 * part of what is buffered is called again.
 *
 * Shutdown guards (non-cancelable timers) keep a gracefully stopping worker alive while
 * background work is in flight, but never past worker_shutdown_timeout: then NGINX closes the
 * worker's connections, the guards let go, and the work still in flight is dropped when the
 * worker exits (it is leased in Redis and taken over by another worker).
 */

#include "ngx_http_gist_event_loop.hpp"

#include <exception>
#include <string>
#include <utility>


namespace {

/* a guard looks at the shutdown state this often while armed */
constexpr ngx_msec_t  ngx_http_gist_guard_step = 100;

/* NGINX's shutdown timer closed this worker's connections (worker_shutdown_timeout) */
bool        ngx_http_gist_shutdown_expired;
/* when this worker was first seen exiting */
ngx_msec_t  ngx_http_gist_exit_seen;
bool        ngx_http_gist_exit_seen_set;
bool        ngx_http_gist_shutdown_logged;


/* true once a stopping worker has used up worker_shutdown_timeout */
bool
ngx_http_gist_shutdown_timed_out()
{
    ngx_core_conf_t  *ccf;

    if (!ngx_exiting) {
        return false;
    }

    if (ngx_http_gist_shutdown_expired) {
        return true;
    }

    ccf = reinterpret_cast<ngx_core_conf_t *>(ngx_get_conf(ngx_cycle->conf_ctx, ngx_core_module));
    if (ccf->shutdown_timeout == 0 || ccf->shutdown_timeout == NGX_CONF_UNSET_MSEC) {
        return false;   /* no worker_shutdown_timeout: wait for the work as long as it takes */
    }

    if (!ngx_http_gist_exit_seen_set) {
        ngx_http_gist_exit_seen = ngx_current_msec;
        ngx_http_gist_exit_seen_set = true;
    }

    return ngx_current_msec - ngx_http_gist_exit_seen >= ccf->shutdown_timeout;
}


class ngx_http_gist_fd_watch final : public gist::FdWatch {
public:
    ngx_http_gist_fd_watch(ngx_connection_t *c, gist::EventLoop::FdCallback cb)
        : c_(c), cb_(std::move(cb))
    {
        c_->data = this;
        c_->read->handler = handler;
        c_->write->handler = handler;
        c_->read->log = c_->log;
        c_->write->log = c_->log;
    }

    ~ngx_http_gist_fd_watch() override
    {
        release(c_->read, NGX_READ_EVENT);
        release(c_->write, NGX_WRITE_EVENT);

        ngx_free_connection(c_);
        c_->fd = (ngx_socket_t) -1;
    }

    void set_interest(bool want_read, bool want_write) override
    {
        update(c_->read, NGX_READ_EVENT, want_read);
        update(c_->write, NGX_WRITE_EVENT, want_write);
    }

private:
    static void update(ngx_event_t *ev, ngx_int_t event, bool wanted)
    {
        if (wanted && !ev->active) {
            if (ngx_add_event(ev, event, NGX_LEVEL_EVENT) != NGX_OK) {
                ngx_log_error(NGX_LOG_ALERT, ev->log, 0, "gist: ngx_add_event() failed");
            }

        } else if (!wanted && ev->active) {
            /* not NGX_CLOSE_EVENT: the fd stays open and may be watched again */
            ngx_del_event(ev, event, 0);
        }
    }

    static void release(ngx_event_t *ev, ngx_int_t event)
    {
        if (ev->active) {
            ngx_del_event(ev, event, 0);
        }

        if (ev->timer_set) {
            ngx_del_timer(ev);
        }

        if (ev->posted) {
            ngx_delete_posted_event(ev);
        }
    }

    static void handler(ngx_event_t *ev) noexcept
    {
        ngx_connection_t  *c = static_cast<ngx_connection_t *>(ev->data);
        auto              *self = static_cast<ngx_http_gist_fd_watch *>(c->data);
        ngx_log_t         *log = ev->log;
        bool               write = ev->write != 0;

        if (c->close && ngx_exiting) {
            /* ngx_shutdown_timer_handler(): worker_shutdown_timeout has passed */
            ngx_http_gist_shutdown_expired = true;
        }

        /* the callback may destroy this watch and its connection: touch neither afterwards */
        try {
            auto cb = self->cb_;
            cb(!write, write);

        } catch (const std::exception &e) {
            ngx_log_error(NGX_LOG_ERR, log, 0, "gist: fd event handler failed: %s", e.what());
        } catch (...) {
            ngx_log_error(NGX_LOG_ERR, log, 0, "gist: fd event handler failed");
        }
    }

    ngx_connection_t               *c_;
    gist::EventLoop::FdCallback     cb_;
};


class ngx_http_gist_timer final : public gist::Timer {
public:
    ngx_http_gist_timer(ngx_log_t *log, gist::EventLoop::TimerCallback cb, bool cancelable)
        : cb_(std::move(cb)), guard_(!cancelable)
    {
        ngx_memzero(&ev_, sizeof(ngx_event_t));
        ev_.handler = handler;
        ev_.data = this;
        ev_.log = log;
        /* a cancelable timer never holds a worker back from a graceful exit; a guard does */
        ev_.cancelable = cancelable ? 1 : 0;
    }

    ~ngx_http_gist_timer() override { cancel(); }

    void arm(std::chrono::milliseconds delay) override
    {
        /* ngx_add_timer() keeps an armed timer that is within 300 ms: re-arm exactly */
        if (ev_.timer_set) {
            ngx_del_timer(&ev_);
        }

        ngx_msec_t  ms = delay.count() < 0 ? 0 : (ngx_msec_t) delay.count();

        if (guard_) {
            /* a guard wakes up in steps, to let go once worker_shutdown_timeout is used up */
            deadline_ = ngx_current_msec + ms;
            ms = ngx_min(ms, ngx_http_gist_guard_step);
        }

        ngx_add_timer(&ev_, ms);
    }

    void cancel() override
    {
        if (ev_.timer_set) {
            ngx_del_timer(&ev_);
        }

        if (ev_.posted) {
            ngx_delete_posted_event(&ev_);
        }
    }

    bool armed() const override { return ev_.timer_set; }

private:
    static void handler(ngx_event_t *ev) noexcept
    {
        auto       *self = static_cast<ngx_http_gist_timer *>(ev->data);
        ngx_log_t  *log = ev->log;

        if (self->guard_) {
            if (ngx_http_gist_shutdown_timed_out()) {
                if (!ngx_http_gist_shutdown_logged) {
                    ngx_http_gist_shutdown_logged = true;
                    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                                  "gist: worker_shutdown_timeout: background work in flight is "
                                  "left to other workers");
                }

                return;     /* disarmed: the worker may exit */
            }

            if ((ngx_msec_int_t) (self->deadline_ - ngx_current_msec) > 0) {
                ngx_add_timer(ev, ngx_min(self->deadline_ - ngx_current_msec,
                                          ngx_http_gist_guard_step));
                return;
            }
        }

        /* the callback may destroy this timer (and ev with it): touch neither afterwards */
        try {
            auto cb = self->cb_;
            cb();

        } catch (const std::exception &e) {
            ngx_log_error(NGX_LOG_ERR, log, 0, "gist: timer handler failed: %s", e.what());
        } catch (...) {
            ngx_log_error(NGX_LOG_ERR, log, 0, "gist: timer handler failed");
        }
    }

    ngx_event_t                        ev_;
    gist::EventLoop::TimerCallback     cb_;
    bool                               guard_;
    ngx_msec_t                         deadline_ = 0;
};

}  // namespace


std::unique_ptr<gist::FdWatch>
ngx_http_gist_event_loop::watch(int fd, FdCallback on_ready)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(fd, log_);
    if (c == NULL) {
        /* ngx_get_connection() already logged "worker_connections are not enough" */
        return nullptr;
    }

    c->log = log_;

    return std::make_unique<ngx_http_gist_fd_watch>(c, std::move(on_ready));
}


std::unique_ptr<gist::Timer>
ngx_http_gist_event_loop::make_timer(TimerCallback on_fire)
{
    return std::make_unique<ngx_http_gist_timer>(log_, std::move(on_fire), true);
}


std::unique_ptr<gist::Timer>
ngx_http_gist_event_loop::make_shutdown_guard(TimerCallback on_fire)
{
    return std::make_unique<ngx_http_gist_timer>(log_, std::move(on_fire), false);
}


bool
ngx_http_gist_event_loop::stopping() const
{
    return ngx_exiting || ngx_quit || ngx_terminate;
}


void
ngx_http_gist_logger::log(gist::LogLevel level, std::string_view message)
{
    ngx_uint_t  ngx_level;

    switch (level) {
    case gist::LogLevel::error:  ngx_level = NGX_LOG_ERR; break;
    case gist::LogLevel::warn:   ngx_level = NGX_LOG_WARN; break;
    case gist::LogLevel::notice: ngx_level = NGX_LOG_NOTICE; break;
    case gist::LogLevel::info:   ngx_level = NGX_LOG_INFO; break;
    default:                     ngx_level = NGX_LOG_DEBUG; break;
    }

    if (log_->log_level < ngx_level) {
        return;
    }

    ngx_log_error(ngx_level, log_, 0, "%*s", (size_t) message.size(), message.data());
}
