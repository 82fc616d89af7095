/*
 * ngx_http_gist_module: configuration shared by the module's files.
 */

#ifndef NGX_HTTP_GIST_MODULE_HPP
#define NGX_HTTP_GIST_MODULE_HPP

#include "ngx_http_gist_nginx.hpp"

namespace gist {
class Api;
struct ApiLogInfo;
}


typedef enum {
    NGX_HTTP_GIST_NONE = 0,
    NGX_HTTP_GIST_USER,
    NGX_HTTP_GIST_TRACKED_USERS,
    NGX_HTTP_GIST_HEALTH,
    NGX_HTTP_GIST_DEALS,
    NGX_HTTP_GIST_METRICS
} ngx_http_gist_endpoint_e;


typedef struct {
    ngx_flag_t                 redis_set;
    ngx_str_t                  redis_host;        /* an IP address, resolved at config time */
    in_port_t                  redis_port;
    ngx_str_t                  redis_unix;
    ngx_int_t                  redis_db;
    ngx_str_t                  redis_password;    /* from password_file=; never logged */
    ngx_msec_t                 redis_timeout;

    ngx_str_t                  redis_prefix;

    ngx_str_t                  github_api_url;
    ngx_str_t                  github_token;      /* from gist_github_token_file; never logged */
    ngx_int_t                  github_max_pages;
    ngx_msec_t                 upstream_timeout;

    ngx_str_t                  pipedrive_api_url;
    ngx_str_t                  pipedrive_token;   /* from gist_pipedrive_token_file; never logged */
    ngx_uint_t                 pipedrive_existing_gists;
    ngx_int_t                  pipedrive_pipeline_id;
    ngx_int_t                  pipedrive_stage_id;
    ngx_int_t                  pipedrive_owner_id;
    ngx_str_t                  pipedrive_value;
    ngx_str_t                  pipedrive_currency;
    ngx_int_t                  pipedrive_visible_to;
    ngx_msec_t                 pipedrive_timeout;
    ngx_int_t                  pipedrive_concurrency;
    ngx_msec_t                 pipedrive_retry_base;
    ngx_msec_t                 pipedrive_retry_max;
    ngx_int_t                  pipedrive_max_attempts;
    ngx_msec_t                 pipedrive_claim_timeout;
    ngx_msec_t                 pipedrive_response_wait;
    ngx_int_t                  pipedrive_dead_letters_max;
    time_t                     pipedrive_done_job_ttl;
    ngx_int_t                  pipedrive_max_deals_per_scan;   /* 0: no limit */
    ngx_str_t                  pipedrive_file;    /* where gist_pipedrive_api_url is, for errors */
    ngx_uint_t                 pipedrive_line;

    ngx_msec_t                 cache_ttl;         /* 0: no answers from memory */
    ngx_int_t                  tracked_users_page_size;
    ngx_shm_zone_t            *changes_zone;      /* the instance's change generation */

    ngx_msec_t                 rescan_interval;   /* 0: off */
    ngx_int_t                  rescan_concurrency;
    ngx_int_t                  github_rate_reserve;

    /* where the first handler directive is, for the "requires gist_redis" error */
    ngx_str_t                  handler_file;
    ngx_uint_t                 handler_line;
    ngx_uint_t                 handlers;

    ngx_shm_zone_t            *metrics_zone;      /* "gist_metrics": the counters of /metrics */
} ngx_http_gist_main_conf_t;


typedef struct {
    ngx_http_gist_endpoint_e   endpoint;
} ngx_http_gist_loc_conf_t;


extern "C" ngx_module_t  ngx_http_gist_module;

ngx_int_t ngx_http_gist_handler(ngx_http_request_t *r) noexcept;

/* the worker's API; NULL outside workers or when the module is not used */
gist::Api *ngx_http_gist_worker_api();

/* ngx_http_gist_variables.cpp: $gist_login, $gist_github_requests, $gist_scan */
typedef struct {
    ngx_str_t                  login;
    ngx_uint_t                 github_requests;
    ngx_str_t                  scan;
} ngx_http_gist_log_t;

ngx_int_t ngx_http_gist_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_gist_set_log(ngx_http_request_t *r, const gist::ApiLogInfo &info);

/* ngx_http_gist_metrics.cpp */
ngx_int_t ngx_http_gist_metrics_add_zone(ngx_conf_t *cf, ngx_http_gist_main_conf_t *gmcf);
void ngx_http_gist_metrics_attach(ngx_http_gist_main_conf_t *gmcf);
void ngx_http_gist_metrics_detach();


#endif /* NGX_HTTP_GIST_MODULE_HPP */
