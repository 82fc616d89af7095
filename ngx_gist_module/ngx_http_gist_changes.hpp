/*
 * The instance's change generation: one counter in a shared-memory zone, moved by any worker that
 * changes tracked users (or hears of a change on the Redis channel), so every worker of the
 * instance stops reusing answers rendered before it (docs/read-path.md).
 */

#ifndef NGX_HTTP_GIST_CHANGES_HPP
#define NGX_HTTP_GIST_CHANGES_HPP

#include "ngx_http_gist_nginx.hpp"

#include <gist/change_signal.hpp>


/* adds the zone at configuration time; NULL on failure (already logged) */
ngx_shm_zone_t *ngx_http_gist_changes_zone(ngx_conf_t *cf, void *tag);


class ngx_http_gist_change_signal final : public gist::ChangeSignal {
public:
    explicit ngx_http_gist_change_signal(ngx_shm_zone_t *zone)
        : generation_(static_cast<ngx_atomic_t *>(zone->data)) {}

    std::uint64_t generation() const override { return *generation_; }
    void bump() override { (void) ngx_atomic_fetch_add(generation_, 1); }

private:
    ngx_atomic_t  *generation_;
};


#endif /* NGX_HTTP_GIST_CHANGES_HPP */
