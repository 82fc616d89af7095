/*
 * The counters behind GET /metrics, in a shared-memory zone "gist_metrics": every worker adds
 * with ngx_atomic_fetch_add, one scrape reads them all, and a reload keeps them (the new cycle's
 * zone takes the old one's data, as ngx_http_limit_req does). The counters themselves and their
 * names are lib/'s (gist/metrics.hpp); this file only gives them a place.
 */

#include "ngx_http_gist_module.hpp"

#include <gist/metrics.hpp>

#include <memory>
#include <vector>


#define NGX_HTTP_GIST_METRICS_ZONE_SIZE  (64 * 1024)


typedef struct {
    uint32_t           version;    /* gist::metric_layout_version() */
    uint32_t           slots;
    ngx_atomic_t       values[1];
} ngx_http_gist_metrics_shctx_t;


namespace {

class ngx_http_gist_shm_metrics final : public gist::Metrics {
public:
    explicit ngx_http_gist_shm_metrics(ngx_http_gist_metrics_shctx_t *sh) : sh_(sh) {}

    void add(std::size_t slot, std::uint64_t n) override
    {
        if (slot < sh_->slots) {
            (void) ngx_atomic_fetch_add(&sh_->values[slot], static_cast<ngx_atomic_int_t>(n));
        }
    }

    std::vector<std::uint64_t> snapshot() const override
    {
        std::vector<std::uint64_t> out(sh_->slots);

        for (uint32_t i = 0; i < sh_->slots; i++) {
            out[i] = sh_->values[i];
        }

        return out;
    }

private:
    ngx_http_gist_metrics_shctx_t  *sh_;
};

std::unique_ptr<ngx_http_gist_shm_metrics>  ngx_http_gist_worker_metrics;

}  // namespace


static ngx_int_t
ngx_http_gist_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    auto                           *octx = static_cast<ngx_http_gist_metrics_shctx_t *>(data);
    ngx_slab_pool_t                *shpool;
    ngx_http_gist_metrics_shctx_t  *sh;
    size_t                          n;

    /* a reload: the previous cycle's counters, unless this build counts other things */
    if (octx && octx->version == gist::metric_layout_version()) {
        shm_zone->data = octx;
        return NGX_OK;
    }

    shpool = reinterpret_cast<ngx_slab_pool_t *>(shm_zone->shm.addr);

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    n = gist::metric_slot_count();

    sh = static_cast<ngx_http_gist_metrics_shctx_t *>(
             ngx_slab_calloc(shpool, sizeof(ngx_http_gist_metrics_shctx_t) + n * sizeof(ngx_atomic_t)));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->version = gist::metric_layout_version();
    sh->slots = static_cast<uint32_t>(n);

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}


/* Called from init_main_conf when the module is used. */
ngx_int_t
ngx_http_gist_metrics_add_zone(ngx_conf_t *cf, ngx_http_gist_main_conf_t *gmcf)
{
    ngx_str_t  name = ngx_string("gist_metrics");

    gmcf->metrics_zone = ngx_shared_memory_add(cf, &name, NGX_HTTP_GIST_METRICS_ZONE_SIZE,
                                               &ngx_http_gist_module);
    if (gmcf->metrics_zone == NULL) {
        return NGX_ERROR;
    }

    gmcf->metrics_zone->init = ngx_http_gist_metrics_init_zone;

    return NGX_OK;
}


/* init_process: the worker's counts go to the zone from now on. */
void
ngx_http_gist_metrics_attach(ngx_http_gist_main_conf_t *gmcf)
{
    if (gmcf->metrics_zone == NULL || gmcf->metrics_zone->data == NULL) {
        return;
    }

    ngx_http_gist_worker_metrics = std::make_unique<ngx_http_gist_shm_metrics>(
        static_cast<ngx_http_gist_metrics_shctx_t *>(gmcf->metrics_zone->data));
    gist::set_metrics(ngx_http_gist_worker_metrics.get());
}


/* exit_process */
void
ngx_http_gist_metrics_detach()
{
    gist::set_metrics(nullptr);
    ngx_http_gist_worker_metrics.reset();
}
