/*
 * gist::EventLoop and gist::Logger on NGINX's own event loop (one per worker).
 */

#ifndef NGX_HTTP_GIST_EVENT_LOOP_HPP
#define NGX_HTTP_GIST_EVENT_LOOP_HPP

#include "ngx_http_gist_nginx.hpp"

#include <gist/event_loop.hpp>
#include <gist/logger.hpp>


class ngx_http_gist_event_loop final : public gist::EventLoop {
public:
    explicit ngx_http_gist_event_loop(ngx_log_t *log) : log_(log) {}

    std::unique_ptr<gist::FdWatch> watch(int fd, FdCallback on_ready) override;
    std::unique_ptr<gist::Timer> make_timer(TimerCallback on_fire) override;
    std::unique_ptr<gist::Timer> make_shutdown_guard(TimerCallback on_fire) override;
    bool stopping() const override;

private:
    ngx_log_t  *log_;
};


class ngx_http_gist_logger final : public gist::Logger {
public:
    explicit ngx_http_gist_logger(ngx_log_t *log) : log_(log) {}

    void log(gist::LogLevel level, std::string_view message) override;

private:
    ngx_log_t  *log_;
};


#endif /* NGX_HTTP_GIST_EVENT_LOOP_HPP */
