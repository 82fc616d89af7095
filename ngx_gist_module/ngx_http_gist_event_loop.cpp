/*
 * The core's event loop interface on NGINX events.
 *
 * File descriptors belong to libcurl and hiredis: a watch borrows an ngx_connection_t only to get
 * events for the fd, and gives it back with ngx_free_connection() and c->fd = -1, never closing the
 * fd (the owner closes it right after). Events are level-triggered, so a library that reads only
 * part of what is buffered is called again.
 */

#include "ngx_http_gist_event_loop.hpp"
#include "ngx_http_gist_log.hpp"

#include <exception>
#include <string>
#include <utility>


namespace {

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

    static void handler(ngx_event_t *ev)
    {
        ngx_connection_t  *c = static_cast<ngx_connection_t *>(ev->data);
        auto *self = static_cast<ngx_http_gist_fd_watch *>(c->data);

        try {
            /* the callback may destroy this watch: run a copy, touch nothing afterwards */
            auto cb = self->cb_;
            cb(!ev->write, ev->write != 0);

        } catch (const std::exception &e) {
            ngx_log_error(NGX_LOG_ERR, ev->log, 0, "gist: fd event handler failed: %s",
                          ngx_http_gist_log_text(e.what()).c_str());
        } catch (...) {
            ngx_log_error(NGX_LOG_ERR, ev->log, 0, "gist: fd event handler failed");
        }
    }

    ngx_connection_t               *c_;
    gist::EventLoop::FdCallback     cb_;
};


class ngx_http_gist_timer final : public gist::Timer {
public:
    ngx_http_gist_timer(ngx_log_t *log, gist::EventLoop::TimerCallback cb, bool cancelable)
        : cb_(std::move(cb))
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

        ngx_add_timer(&ev_, delay.count() < 0 ? 0 : (ngx_msec_t) delay.count());
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
    static void handler(ngx_event_t *ev)
    {
        auto *self = static_cast<ngx_http_gist_timer *>(ev->data);

        try {
            /* the callback may destroy this timer */
            auto cb = self->cb_;
            cb();

        } catch (const std::exception &e) {
            ngx_log_error(NGX_LOG_ERR, ev->log, 0, "gist: timer handler failed: %s",
                          ngx_http_gist_log_text(e.what()).c_str());
        } catch (...) {
            ngx_log_error(NGX_LOG_ERR, ev->log, 0, "gist: timer handler failed");
        }
    }

    ngx_event_t                        ev_;
    gist::EventLoop::TimerCallback     cb_;
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

    const std::string  line = ngx_http_gist_log_text(message);

    ngx_log_error(ngx_level, log_, 0, "%*s", line.size(), line.data());
}
