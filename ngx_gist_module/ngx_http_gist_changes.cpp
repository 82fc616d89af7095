/*
 * The shared-memory zone behind ngx_http_gist_change_signal: one ngx_atomic_t from the zone's
 * slab pool. A reload keeps the counter (the new cycle's zone is the old one when the size is
 * unchanged), so answers cached by old workers are never mistaken for fresh ones.
 */

#include "ngx_http_gist_changes.hpp"


static ngx_int_t ngx_http_gist_changes_init_zone(ngx_shm_zone_t *shm_zone, void *data) noexcept;


ngx_shm_zone_t *
ngx_http_gist_changes_zone(ngx_conf_t *cf, void *tag)
{
    ngx_str_t        name = ngx_string("gist_changes");
    ngx_shm_zone_t  *zone;

    zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize, tag);
    if (zone == NULL) {
        return NULL;
    }

    zone->init = ngx_http_gist_changes_init_zone;

    return zone;
}


static ngx_int_t
ngx_http_gist_changes_init_zone(ngx_shm_zone_t *shm_zone, void *data) noexcept
{
    ngx_slab_pool_t  *shpool;
    ngx_atomic_t     *generation;

    if (data) {
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = reinterpret_cast<ngx_slab_pool_t *>(shm_zone->shm.addr);

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    generation = static_cast<ngx_atomic_t *>(ngx_slab_alloc(shpool, sizeof(ngx_atomic_t)));
    if (generation == NULL) {
        return NGX_ERROR;
    }

    *generation = 0;
    shpool->data = const_cast<ngx_atomic_uint_t *>(generation);
    shm_zone->data = const_cast<ngx_atomic_uint_t *>(generation);

    return NGX_OK;
}
