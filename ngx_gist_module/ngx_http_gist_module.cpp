/*
 * ngx_http_gist_module: directives, configuration, and the per-worker runtime.
 *
 * Configuration is only parsed and checked here (nginx -t stays quick and side-effect free);
 * sockets are opened by the worker's runtime, created in init_process and destroyed in
 * exit_process.
 */

#include "ngx_http_gist_module.hpp"
#include "ngx_http_gist_changes.hpp"
#include "ngx_http_gist_event_loop.hpp"
#include "ngx_http_gist_log.hpp"

#include <gist/api.hpp>
#include <gist/deal_worker.hpp>
#include <gist/http_client.hpp>
#include <gist/key_migration.hpp>
#include <gist/redis_client.hpp>
#include <gist/rescanner.hpp>

#include <curl/curl.h>

#include <exception>
#include <stdexcept>
#include <memory>
#include <string>


static void *ngx_http_gist_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_gist_init_main_conf(ngx_conf_t *cf, void *conf);
static ngx_int_t ngx_http_gist_check_pipedrive(ngx_conf_t *cf, ngx_http_gist_main_conf_t *gmcf);
static void *ngx_http_gist_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_gist_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);
static char *ngx_http_gist_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_gist_api_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_gist_token_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_gist_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_gist_rescan_interval(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_gist_positive_msec(ngx_conf_t *cf, void *post, void *data);
static ngx_int_t ngx_http_gist_init_process(ngx_cycle_t *cycle);
static void ngx_http_gist_exit_process(ngx_cycle_t *cycle);


static char *
ngx_http_gist_positive_msec(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *ms = static_cast<ngx_msec_t *>(data);

    if (*ms == 0) {
        return const_cast<char *>("must be greater than 0");
    }

    return NGX_CONF_OK;
}


/* "off" or a time, as NGINX's own "…_timeout off" style directives */
static char *
ngx_http_gist_rescan_interval(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_msec_t  *field = reinterpret_cast<ngx_msec_t *>(static_cast<u_char *>(conf) + cmd->offset);
    ngx_str_t   *value;
    ngx_msec_t   ms;

    if (*field != NGX_CONF_UNSET_MSEC) {
        return const_cast<char *>("is duplicate");
    }

    value = static_cast<ngx_str_t *>(cf->args->elts);

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        *field = 0;
        return NGX_CONF_OK;
    }

    ms = ngx_parse_time(&value[1], 0);
    if (ms == (ngx_msec_t) NGX_ERROR || ms < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\": it must be \"off\" or at least 1s",
                           &value[1], &cmd->name);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    *field = ms;

    return NGX_CONF_OK;
}


static std::string
ngx_http_gist_string(const ngx_str_t &s)
{
    return s.len ? std::string(reinterpret_cast<const char *>(s.data), s.len) : std::string();
}


/* Throws std::invalid_argument for a value that is not a number. */
static gist::PipedriveSettings
ngx_http_gist_pipedrive_settings(ngx_http_gist_main_conf_t *gmcf)
{
    gist::PipedriveSettings  s;

    s.api_url = ngx_http_gist_string(gmcf->pipedrive_api_url);
    s.token = ngx_http_gist_string(gmcf->pipedrive_token);
    s.timeout = std::chrono::milliseconds(gmcf->pipedrive_timeout);

    if (gmcf->pipedrive_pipeline_id != NGX_CONF_UNSET) {
        s.pipeline_id = gmcf->pipedrive_pipeline_id;
    }

    if (gmcf->pipedrive_stage_id != NGX_CONF_UNSET) {
        s.stage_id = gmcf->pipedrive_stage_id;
    }

    if (gmcf->pipedrive_owner_id != NGX_CONF_UNSET) {
        s.owner_id = gmcf->pipedrive_owner_id;
    }

    if (gmcf->pipedrive_value.data) {
        std::size_t  used;
        std::string  text = ngx_http_gist_string(gmcf->pipedrive_value);

        s.value = std::stod(text, &used);
        if (used != text.size()) {
            throw std::invalid_argument("\"gist_pipedrive_value\" must be a number");
        }
    }

    if (gmcf->pipedrive_currency.data) {
        s.currency = ngx_http_gist_string(gmcf->pipedrive_currency);
    }

    if (gmcf->pipedrive_visible_to != NGX_CONF_UNSET) {
        s.visible_to = static_cast<int>(gmcf->pipedrive_visible_to);
    }

    return s;
}


static ngx_conf_num_bounds_t  ngx_http_gist_max_pages_bounds = {
    ngx_conf_check_num_bounds, 1, 1000
};


#define NGX_HTTP_GIST_EXISTING_DEAL  1
#define NGX_HTTP_GIST_EXISTING_SKIP  2

static ngx_conf_enum_t  ngx_http_gist_existing_gists[] = {
    { ngx_string("deal"), NGX_HTTP_GIST_EXISTING_DEAL },
    { ngx_string("skip"), NGX_HTTP_GIST_EXISTING_SKIP },
    { ngx_null_string, 0 }
};

static ngx_conf_num_bounds_t  ngx_http_gist_concurrency_bounds = {
    ngx_conf_check_num_bounds, 1, 256
};

/* a timeout of 0 would mean "no timeout" to libcurl and "never" to the Redis handshake */
static ngx_conf_post_t  ngx_http_gist_timeout_post = {
    ngx_http_gist_positive_msec
};

static ngx_conf_num_bounds_t  ngx_http_gist_page_size_bounds = {
    ngx_conf_check_num_bounds, 1, 100000
};

static ngx_conf_num_bounds_t  ngx_http_gist_attempts_bounds = {
    ngx_conf_check_num_bounds, 0, 1000000
};

static ngx_conf_num_bounds_t  ngx_http_gist_dead_letters_bounds = {
    ngx_conf_check_num_bounds, 1, 100000000
};

static ngx_conf_num_bounds_t  ngx_http_gist_deals_per_scan_bounds = {
    ngx_conf_check_num_bounds, 0, 1000000
};


#define ngx_http_gist_main_directive(name, set, field, post)                  \
    { ngx_string(name),                                                       \
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,                                      \
      set,                                                                    \
      NGX_HTTP_MAIN_CONF_OFFSET,                                              \
      offsetof(ngx_http_gist_main_conf_t, field),                             \
      post }


static ngx_command_t  ngx_http_gist_commands[] = {

    { ngx_string("gist_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_gist_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gist_redis_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gist_main_conf_t, redis_prefix),
      NULL },

    { ngx_string("gist_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gist_main_conf_t, redis_timeout),
      &ngx_http_gist_timeout_post },

    { ngx_string("gist_github_api_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_gist_api_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gist_main_conf_t, github_api_url),
      NULL },

    { ngx_string("gist_github_token_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_gist_token_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gist_main_conf_t, github_token),
      NULL },

    { ngx_string("gist_github_max_pages"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gist_main_conf_t, github_max_pages),
      &ngx_http_gist_max_pages_bounds },

    { ngx_string("gist_upstream_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gist_main_conf_t, upstream_timeout),
      &ngx_http_gist_timeout_post },

    ngx_http_gist_main_directive("gist_pipedrive_api_url", ngx_http_gist_api_url,
                                 pipedrive_api_url, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_token_file", ngx_http_gist_token_file,
                                 pipedrive_token, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_existing_gists", ngx_conf_set_enum_slot,
                                 pipedrive_existing_gists, &ngx_http_gist_existing_gists),
    ngx_http_gist_main_directive("gist_pipedrive_pipeline_id", ngx_conf_set_num_slot,
                                 pipedrive_pipeline_id, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_stage_id", ngx_conf_set_num_slot,
                                 pipedrive_stage_id, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_owner_id", ngx_conf_set_num_slot,
                                 pipedrive_owner_id, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_value", ngx_conf_set_str_slot,
                                 pipedrive_value, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_currency", ngx_conf_set_str_slot,
                                 pipedrive_currency, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_visible_to", ngx_conf_set_num_slot,
                                 pipedrive_visible_to, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_timeout", ngx_conf_set_msec_slot,
                                 pipedrive_timeout, &ngx_http_gist_timeout_post),
    ngx_http_gist_main_directive("gist_pipedrive_concurrency", ngx_conf_set_num_slot,
                                 pipedrive_concurrency, &ngx_http_gist_concurrency_bounds),
    ngx_http_gist_main_directive("gist_pipedrive_retry_base", ngx_conf_set_msec_slot,
                                 pipedrive_retry_base, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_retry_max", ngx_conf_set_msec_slot,
                                 pipedrive_retry_max, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_max_attempts", ngx_conf_set_num_slot,
                                 pipedrive_max_attempts, &ngx_http_gist_attempts_bounds),
    ngx_http_gist_main_directive("gist_pipedrive_claim_timeout", ngx_conf_set_msec_slot,
                                 pipedrive_claim_timeout, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_response_wait", ngx_conf_set_msec_slot,
                                 pipedrive_response_wait, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_dead_letters_max", ngx_conf_set_num_slot,
                                 pipedrive_dead_letters_max, &ngx_http_gist_dead_letters_bounds),
    ngx_http_gist_main_directive("gist_pipedrive_done_job_ttl", ngx_conf_set_sec_slot,
                                 pipedrive_done_job_ttl, NULL),
    ngx_http_gist_main_directive("gist_pipedrive_max_deals_per_scan", ngx_conf_set_num_slot,
                                 pipedrive_max_deals_per_scan, &ngx_http_gist_deals_per_scan_bounds),

    ngx_http_gist_main_directive("gist_cache_ttl", ngx_conf_set_msec_slot,
                                 cache_ttl, NULL),
    ngx_http_gist_main_directive("gist_tracked_users_page_size", ngx_conf_set_num_slot,
                                 tracked_users_page_size, &ngx_http_gist_page_size_bounds),

    ngx_http_gist_main_directive("gist_rescan_interval", ngx_http_gist_rescan_interval,
                                 rescan_interval, NULL),
    ngx_http_gist_main_directive("gist_rescan_concurrency", ngx_conf_set_num_slot,
                                 rescan_concurrency, &ngx_http_gist_concurrency_bounds),
    ngx_http_gist_main_directive("gist_github_rate_reserve", ngx_conf_set_num_slot,
                                 github_rate_reserve, &ngx_http_gist_attempts_bounds),

    { ngx_string("gist_user"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gist_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) NGX_HTTP_GIST_USER },

    { ngx_string("gist_tracked_users"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gist_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) NGX_HTTP_GIST_TRACKED_USERS },

    { ngx_string("gist_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gist_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) NGX_HTTP_GIST_HEALTH },

    { ngx_string("gist_deals"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gist_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) NGX_HTTP_GIST_DEALS },

    { ngx_string("gist_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gist_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) NGX_HTTP_GIST_METRICS },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_gist_module_ctx = {
    ngx_http_gist_add_variables,           /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_gist_create_main_conf,        /* create main configuration */
    ngx_http_gist_init_main_conf,          /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_gist_create_loc_conf,         /* create location configuration */
    ngx_http_gist_merge_loc_conf           /* merge location configuration */
};


extern "C" {

ngx_module_t  ngx_http_gist_module = {
    NGX_MODULE_V1,
    &ngx_http_gist_module_ctx,             /* module context */
    ngx_http_gist_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_gist_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_gist_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};

}


/* What one worker runs: created in init_process, destroyed in exit_process. */
struct ngx_http_gist_runtime_t {
    ngx_http_gist_event_loop               loop;
    ngx_http_gist_logger                   logger;
    std::unique_ptr<gist::HttpClient>      http;
    std::unique_ptr<gist::RedisClient>     redis;
    std::unique_ptr<gist::RedisClient>     changes_feed;  /* subscribed to the changes channel */
    std::unique_ptr<gist::ChangeSignal>    changes;
    std::unique_ptr<gist::DealWorker>      deals;
    std::unique_ptr<gist::Rescanner>       rescanner;
    std::unique_ptr<gist::KeyMigration>    migration;
    std::unique_ptr<gist::Api>             api;

    explicit ngx_http_gist_runtime_t(ngx_log_t *log) : loop(log), logger(log) {}

    ~ngx_http_gist_runtime_t()
    {
        /* the API and the deal worker first: they hold work that uses the clients */
        api.reset();
        rescanner.reset();
        deals.reset();
        migration.reset();
        changes_feed.reset();
        redis.reset();
        http.reset();
    }
};

static std::unique_ptr<ngx_http_gist_runtime_t>  ngx_http_gist_runtime;


gist::Api *
ngx_http_gist_worker_api()
{
    return ngx_http_gist_runtime ? ngx_http_gist_runtime->api.get() : nullptr;
}


static void *
ngx_http_gist_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_gist_main_conf_t  *gmcf;

    gmcf = static_cast<ngx_http_gist_main_conf_t *>(
               ngx_pcalloc(cf->pool, sizeof(ngx_http_gist_main_conf_t)));
    if (gmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     gmcf->redis_set = 0;
     *     gmcf->redis_host = { 0, NULL };
     *     gmcf->redis_unix = { 0, NULL };
     *     gmcf->redis_db = 0;
     *     gmcf->redis_password = { 0, NULL };
     *     gmcf->github_token = { 0, NULL };
     *     gmcf->handlers = 0;
     */

    gmcf->redis_prefix.data = NULL;
    gmcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    gmcf->github_api_url.data = NULL;
    gmcf->github_max_pages = NGX_CONF_UNSET;
    gmcf->upstream_timeout = NGX_CONF_UNSET_MSEC;

    gmcf->cache_ttl = NGX_CONF_UNSET_MSEC;
    gmcf->tracked_users_page_size = NGX_CONF_UNSET;

    gmcf->rescan_interval = NGX_CONF_UNSET_MSEC;
    gmcf->rescan_concurrency = NGX_CONF_UNSET;
    gmcf->github_rate_reserve = NGX_CONF_UNSET;

    gmcf->pipedrive_existing_gists = NGX_CONF_UNSET_UINT;
    gmcf->pipedrive_pipeline_id = NGX_CONF_UNSET;
    gmcf->pipedrive_stage_id = NGX_CONF_UNSET;
    gmcf->pipedrive_owner_id = NGX_CONF_UNSET;
    gmcf->pipedrive_visible_to = NGX_CONF_UNSET;
    gmcf->pipedrive_timeout = NGX_CONF_UNSET_MSEC;
    gmcf->pipedrive_concurrency = NGX_CONF_UNSET;
    gmcf->pipedrive_retry_base = NGX_CONF_UNSET_MSEC;
    gmcf->pipedrive_retry_max = NGX_CONF_UNSET_MSEC;
    gmcf->pipedrive_max_attempts = NGX_CONF_UNSET;
    gmcf->pipedrive_claim_timeout = NGX_CONF_UNSET_MSEC;
    gmcf->pipedrive_response_wait = NGX_CONF_UNSET_MSEC;
    gmcf->pipedrive_dead_letters_max = NGX_CONF_UNSET;
    gmcf->pipedrive_done_job_ttl = NGX_CONF_UNSET;
    gmcf->pipedrive_max_deals_per_scan = NGX_CONF_UNSET;

    return gmcf;
}


static char *
ngx_http_gist_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_gist_main_conf_t *gmcf = static_cast<ngx_http_gist_main_conf_t *>(conf);

    if (gmcf->redis_prefix.data == NULL) {
        ngx_str_set(&gmcf->redis_prefix, "gist:");
    }

    if (gmcf->github_api_url.data == NULL) {
        ngx_str_set(&gmcf->github_api_url, "https://api.github.com");
    }

    ngx_conf_init_msec_value(gmcf->redis_timeout, 3000);
    ngx_conf_init_value(gmcf->github_max_pages, 10);
    ngx_conf_init_msec_value(gmcf->upstream_timeout, 10000);

    ngx_conf_init_msec_value(gmcf->cache_ttl, 1000);
    ngx_conf_init_value(gmcf->tracked_users_page_size, 1000);

    ngx_conf_init_msec_value(gmcf->rescan_interval, 0);
    ngx_conf_init_value(gmcf->rescan_concurrency, 4);
    ngx_conf_init_value(gmcf->github_rate_reserve, 100);

    ngx_conf_init_uint_value(gmcf->pipedrive_existing_gists, NGX_HTTP_GIST_EXISTING_DEAL);
    ngx_conf_init_msec_value(gmcf->pipedrive_timeout, 10000);
    ngx_conf_init_value(gmcf->pipedrive_concurrency, 4);
    ngx_conf_init_msec_value(gmcf->pipedrive_retry_base, 1000);
    ngx_conf_init_msec_value(gmcf->pipedrive_retry_max, 300000);
    ngx_conf_init_value(gmcf->pipedrive_max_attempts, 0);
    ngx_conf_init_msec_value(gmcf->pipedrive_claim_timeout, 60000);
    ngx_conf_init_msec_value(gmcf->pipedrive_response_wait, 2000);
    ngx_conf_init_value(gmcf->pipedrive_dead_letters_max, 10000);
    ngx_conf_init_value(gmcf->pipedrive_done_job_ttl, 30 * 86400);
    ngx_conf_init_value(gmcf->pipedrive_max_deals_per_scan, 50);

    if (ngx_http_gist_check_pipedrive(cf, gmcf) != NGX_OK) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (gmcf->handlers && !gmcf->redis_set) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"gist_*\" handlers require \"gist_redis\" in the http block in %V:%ui",
                      &gmcf->handler_file, gmcf->handler_line);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (gmcf->handlers && gmcf->cache_ttl) {
        gmcf->changes_zone = ngx_http_gist_changes_zone(cf, &ngx_http_gist_module);
        if (gmcf->changes_zone == NULL) {
            return static_cast<char *>(NGX_CONF_ERROR);
        }
    }

    if (gmcf->handlers && ngx_http_gist_metrics_add_zone(cf, gmcf) != NGX_OK) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_gist_check_pipedrive(ngx_conf_t *cf, ngx_http_gist_main_conf_t *gmcf)
{
    if (gmcf->pipedrive_api_url.data == NULL) {
        if (gmcf->pipedrive_token.data) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"gist_pipedrive_token_file\" requires \"gist_pipedrive_api_url\"");
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    /* settings that only make sense together: reported at gist_pipedrive_api_url */
    const char *problem = NULL;
    std::string text;

    if (gmcf->pipedrive_token.data == NULL) {
        problem = "\"gist_pipedrive_api_url\" requires \"gist_pipedrive_token_file\"";

    } else if (gmcf->pipedrive_claim_timeout < 3 * gmcf->pipedrive_timeout) {
        problem = "\"gist_pipedrive_claim_timeout\" must be at least 3 times \"gist_pipedrive_timeout\"";

    } else if (gmcf->pipedrive_retry_max < gmcf->pipedrive_retry_base) {
        problem = "\"gist_pipedrive_retry_max\" is less than \"gist_pipedrive_retry_base\"";

    } else {
        try {
            text = gist::check_pipedrive_settings(ngx_http_gist_pipedrive_settings(gmcf));

        } catch (const std::exception &e) {
            text = std::string("invalid Pipedrive settings: ") + e.what();
        }

        if (!text.empty()) {
            problem = text.c_str();
        }
    }

    if (problem) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "%s in %V:%ui",
                      problem, &gmcf->pipedrive_file, gmcf->pipedrive_line);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void *
ngx_http_gist_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_gist_loc_conf_t  *glcf;

    glcf = static_cast<ngx_http_gist_loc_conf_t *>(
               ngx_pcalloc(cf->pool, sizeof(ngx_http_gist_loc_conf_t)));
    if (glcf == NULL) {
        return NULL;
    }

    glcf->endpoint = NGX_HTTP_GIST_NONE;

    return glcf;
}


static char *
ngx_http_gist_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    /*
     * The endpoint is not inherited: a handler applies to the location that names it, as with
     * NGINX's own content handlers (stub_status, proxy_pass).
     */

    return NGX_CONF_OK;
}


/* Reads a secret from a file at configuration time; the content itself is never logged. */
static ngx_int_t
ngx_http_gist_read_secret(ngx_conf_t *cf, ngx_str_t *path, ngx_str_t *secret)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_file_info_t  fi;
    u_char          *p, *last;

    if (ngx_conf_full_name(cf->cycle, path, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    /* non-blocking: opening a FIFO must not hang nginx -t; it is refused just below */
    fd = ngx_open_file(path->data, NGX_FILE_RDONLY|NGX_FILE_NONBLOCK, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", path);
        return NGX_ERROR;
    }

    /* checked on the opened file, so what is read is what was checked */
    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR || !ngx_is_file(&fi) || ngx_file_size(&fi) > 4096) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "secret file \"%V\" is not a regular file of at most 4096 bytes", path);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    p = static_cast<u_char *>(ngx_pnalloc(cf->pool, 4097));
    if (p == NULL) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, p, 4096);
    ngx_close_file(fd);

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", path);
        return NGX_ERROR;
    }

    /* a trailing newline (echo token > file) is not part of the secret */
    last = p + n;
    while (last > p && (last[-1] == '\n' || last[-1] == '\r' || last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    if (last == p) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "secret file \"%V\" is empty", path);
        return NGX_ERROR;
    }

    for (u_char *c = p; c < last; c++) {
        if (*c < 0x21 || *c == 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "secret file \"%V\" must hold one line without spaces", path);
            return NGX_ERROR;
        }
    }

    *last = '\0';
    secret->data = p;
    secret->len = last - p;

    return NGX_OK;
}


static char *
ngx_http_gist_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gist_main_conf_t *gmcf = static_cast<ngx_http_gist_main_conf_t *>(conf);

    ngx_str_t   *value, path;
    ngx_url_t    u;
    ngx_uint_t   i;
    u_char       text[NGX_SOCKADDR_STRLEN];
    size_t       len;

    if (gmcf->redis_set) {
        return const_cast<char *>("is duplicate");
    }

    value = static_cast<ngx_str_t *>(cf->args->elts);

    if (value[1].len > 5 && ngx_strncmp(value[1].data, "unix:", 5) == 0) {
        path.len = value[1].len - 5;
        path.data = value[1].data + 5;

        if (ngx_conf_full_name(cf->cycle, &path, 0) != NGX_OK) {
            return static_cast<char *>(NGX_CONF_ERROR);
        }

        gmcf->redis_unix = path;

    } else {
        /*
         * hiredis resolves names with a blocking getaddrinfo(): resolve here, once, at
         * configuration time, and hand the worker an address.
         */
        ngx_memzero(&u, sizeof(ngx_url_t));
        u.url = value[1];
        u.default_port = 6379;

        if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.uri.len) {
            if (u.err) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "%s in \"gist_redis\" \"%V\"", u.err, &u.url);
            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid address \"%V\" in \"gist_redis\"", &u.url);
            }

            return static_cast<char *>(NGX_CONF_ERROR);
        }

        if (u.naddrs == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no address for \"gist_redis\" \"%V\"", &u.url);
            return static_cast<char *>(NGX_CONF_ERROR);
        }

        len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, text,
                            NGX_SOCKADDR_STRLEN, 0);

        gmcf->redis_host.data = static_cast<u_char *>(ngx_pnalloc(cf->pool, len + 1));
        if (gmcf->redis_host.data == NULL) {
            return static_cast<char *>(NGX_CONF_ERROR);
        }

        ngx_memcpy(gmcf->redis_host.data, text, len);
        gmcf->redis_host.data[len] = '\0';
        gmcf->redis_host.len = len;
        gmcf->redis_port = u.port;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            gmcf->redis_db = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (gmcf->redis_db == NGX_ERROR || gmcf->redis_db > 1000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid database number \"%V\"", &value[i]);
                return static_cast<char *>(NGX_CONF_ERROR);
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            path.len = value[i].len - 14;
            path.data = value[i].data + 14;

            if (ngx_http_gist_read_secret(cf, &path, &gmcf->redis_password) != NGX_OK) {
                return static_cast<char *>(NGX_CONF_ERROR);
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    gmcf->redis_set = 1;

    return NGX_CONF_OK;
}


/* "localhost", an address in 127.0.0.0/8 or [::1]: traffic that never leaves the machine */
static bool
ngx_http_gist_loopback_host(const ngx_str_t *host)
{
    in_addr_t  addr;
#if (NGX_HAVE_INET6)
    u_char     addr6[16];
#endif

    /* "localhost." is the same name, written absolute */
    if ((host->len == sizeof("localhost") - 1
         || (host->len == sizeof("localhost.") - 1 && host->data[host->len - 1] == '.'))
        && ngx_strncasecmp(host->data, (u_char *) "localhost", sizeof("localhost") - 1) == 0)
    {
        return true;
    }

    addr = ngx_inet_addr(host->data, host->len);
    if (addr != INADDR_NONE) {
        return (ntohl(addr) >> 24) == 127;
    }

#if (NGX_HAVE_INET6)
    if (host->len > 2 && host->data[0] == '[' && host->data[host->len - 1] == ']'
        && ngx_inet6_addr(host->data + 1, host->len - 2, addr6) == NGX_OK)
    {
        return ngx_memcmp(addr6, &in6addr_loopback, sizeof(addr6)) == 0;
    }
#endif

    return false;
}


static char *
ngx_http_gist_api_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *field = reinterpret_cast<ngx_str_t *>(static_cast<u_char *>(conf) + cmd->offset);
    ngx_str_t  *value, url;
    ngx_url_t   u;
    size_t      skip;

    if (field->data) {
        return const_cast<char *>("is duplicate");
    }

    value = static_cast<ngx_str_t *>(cf->args->elts);
    url = value[1];

    if (url.len > 7 && ngx_strncasecmp(url.data, (u_char *) "http://", 7) == 0) {
        skip = 7;

    } else if (url.len > 8 && ngx_strncasecmp(url.data, (u_char *) "https://", 8) == 0) {
        skip = 8;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\" in \"%V\": it must start with \"http://\" or \"https://\"",
                           &url, &cmd->name);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    /* syntax only: the worker's libcurl resolves the name off the event loop */
    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url.data = url.data + skip;
    u.url.len = url.len - skip;
    u.no_resolve = 1;
    u.uri_part = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.host.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid URL \"%V\" in \"%V\"%s%s",
                           &url, &cmd->name, u.err ? ": " : "", u.err ? u.err : "");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    /* the URL carries a token: in clear text only to this machine (tests, a local tunnel) */
    if (skip == 7 && !ngx_http_gist_loopback_host(&u.host)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "insecure URL \"%V\" in \"%V\": \"http://\" is only allowed "
                           "for a loopback host (127.0.0.0/8, [::1], localhost); use \"https://\"",
                           &url, &cmd->name);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    while (url.len > skip && url.data[url.len - 1] == '/') {
        url.len--;
    }

    *field = url;

    if (cmd->offset == offsetof(ngx_http_gist_main_conf_t, pipedrive_api_url)) {
        ngx_http_gist_main_conf_t *gmcf = static_cast<ngx_http_gist_main_conf_t *>(conf);

        gmcf->pipedrive_file = cf->conf_file->file.name;
        gmcf->pipedrive_line = cf->conf_file->line;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gist_token_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *field = reinterpret_cast<ngx_str_t *>(static_cast<u_char *>(conf) + cmd->offset);
    ngx_str_t  *value, path;

    if (field->data) {
        return const_cast<char *>("is duplicate");
    }

    value = static_cast<ngx_str_t *>(cf->args->elts);
    path = value[1];

    if (ngx_http_gist_read_secret(cf, &path, field) != NGX_OK) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gist_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gist_loc_conf_t   *glcf = static_cast<ngx_http_gist_loc_conf_t *>(conf);
    ngx_http_gist_main_conf_t  *gmcf;
    ngx_http_core_loc_conf_t   *clcf;

    if (glcf->endpoint != NGX_HTTP_GIST_NONE) {
        return const_cast<char *>("is duplicate");
    }

    glcf->endpoint = static_cast<ngx_http_gist_endpoint_e>(reinterpret_cast<uintptr_t>(cmd->post));

    clcf = static_cast<ngx_http_core_loc_conf_t *>(
               ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = ngx_http_gist_handler;

    gmcf = static_cast<ngx_http_gist_main_conf_t *>(
               ngx_http_conf_get_module_main_conf(cf, ngx_http_gist_module));

    if (gmcf->handlers++ == 0) {
        gmcf->handler_file = cf->conf_file->file.name;
        gmcf->handler_line = cf->conf_file->line;
    }

    return NGX_CONF_OK;
}




static ngx_int_t
ngx_http_gist_init_process(ngx_cycle_t *cycle)
{
    ngx_http_gist_main_conf_t  *gmcf;

    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE) {
        return NGX_OK;
    }

    gmcf = static_cast<ngx_http_gist_main_conf_t *>(
               ngx_http_cycle_get_module_main_conf(cycle, ngx_http_gist_module));

    if (gmcf == NULL || !gmcf->redis_set || gmcf->handlers == 0) {
        return NGX_OK;
    }

    try {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "gist: curl_global_init() failed");
            return NGX_ERROR;
        }

        ngx_http_gist_metrics_attach(gmcf);

        auto rt = std::make_unique<ngx_http_gist_runtime_t>(cycle->log);

        gist::RedisEndpoint endpoint;
        endpoint.host = ngx_http_gist_string(gmcf->redis_host);
        endpoint.port = gmcf->redis_port;
        endpoint.unix_path = ngx_http_gist_string(gmcf->redis_unix);
        endpoint.db = static_cast<int>(gmcf->redis_db);
        endpoint.password = ngx_http_gist_string(gmcf->redis_password);

        gist::RedisClientOptions redis_options;
        redis_options.command_timeout = std::chrono::milliseconds(gmcf->redis_timeout);
        redis_options.connect_timeout = std::chrono::milliseconds(gmcf->redis_timeout);

        gist::ApiSettings settings;
        settings.github.api_url = ngx_http_gist_string(gmcf->github_api_url);
        settings.github.token = ngx_http_gist_string(gmcf->github_token);
        settings.github.user_agent = "ngx_gist_module (nginx/" NGINX_VERSION ")";
        settings.github.timeout = std::chrono::milliseconds(gmcf->upstream_timeout);
        settings.github.max_pages = static_cast<int>(gmcf->github_max_pages);
        settings.redis_prefix = ngx_http_gist_string(gmcf->redis_prefix);
        settings.deal_wait = std::chrono::milliseconds(gmcf->pipedrive_response_wait);
        settings.rescan_interval = std::chrono::milliseconds(gmcf->rescan_interval);
        settings.max_deals_per_scan = gmcf->pipedrive_max_deals_per_scan;
        settings.pipedrive_url = ngx_http_gist_string(gmcf->pipedrive_api_url);

        settings.cache_ttl = std::chrono::milliseconds(gmcf->cache_ttl);
        settings.tracked_users_page_size = static_cast<std::size_t>(gmcf->tracked_users_page_size);

        rt->http = gist::make_curl_http_client(rt->loop, rt->logger);

        if (gmcf->changes_zone) {
            /*
             * Changes made by any instance arrive on the channel; the subscription is made again
             * after every reconnect, and the TTL bounds staleness while it is down.
             */
            gist::RedisClientOptions  feed_options = redis_options;

            feed_options.log_name = "redis (changes feed)";
            feed_options.quiet = true;

            rt->changes = std::make_unique<ngx_http_gist_change_signal>(gmcf->changes_zone);
            rt->changes_feed = gist::make_hiredis_client(rt->loop, rt->logger, endpoint, feed_options);
            rt->changes_feed->subscribe(settings.redis_prefix + "changes",
                                        [signal = rt->changes.get()](std::string) { signal->bump(); },
                                        [signal = rt->changes.get()] { signal->bump(); });
            settings.changes = rt->changes.get();
        }

        rt->redis = gist::make_hiredis_client(rt->loop, rt->logger, std::move(endpoint), redis_options);
        if (gmcf->pipedrive_api_url.data) {
            gist::DealWorkerSettings  ds;
            char                      host[256];

            if (gethostname(host, sizeof(host)) != 0) {
                ngx_cpystrn(reinterpret_cast<u_char *>(host), (u_char *) "localhost", sizeof(host));
            }
            host[sizeof(host) - 1] = '\0';

            ds.pipedrive = ngx_http_gist_pipedrive_settings(gmcf);
            ds.prefix = settings.redis_prefix;
            ds.consumer = std::string(host) + ":" + std::to_string(ngx_pid);
            ds.concurrency = static_cast<int>(gmcf->pipedrive_concurrency);
            ds.retry.base = std::chrono::milliseconds(gmcf->pipedrive_retry_base);
            ds.retry.cap = std::chrono::milliseconds(gmcf->pipedrive_retry_max);
            ds.max_attempts = static_cast<unsigned>(gmcf->pipedrive_max_attempts);
            ds.claim_timeout = std::chrono::milliseconds(gmcf->pipedrive_claim_timeout);
            ds.retention.dead_letters_max = gmcf->pipedrive_dead_letters_max;
            ds.retention.done_job_ttl = std::chrono::seconds(gmcf->pipedrive_done_job_ttl);

            rt->deals = std::make_unique<gist::DealWorker>(rt->loop, *rt->http, *rt->redis, rt->logger,
                                                           std::move(ds));

            settings.deals = gmcf->pipedrive_existing_gists == NGX_HTTP_GIST_EXISTING_SKIP
                             ? gist::DealsMode::skip : gist::DealsMode::deal;
            settings.jobs_queued = [worker = rt->deals.get()] { worker->kick(); };
        }

        if (gmcf->rescan_interval) {
            gist::RescanSettings  rs;

            rs.scan.github = settings.github;
            rs.scan.deals = settings.deals;
            rs.scan.rescan_interval = settings.rescan_interval;
            rs.scan.max_deals_per_scan = settings.max_deals_per_scan;
            rs.prefix = settings.redis_prefix;
            rs.concurrency = static_cast<int>(gmcf->rescan_concurrency);
            rs.rate_reserve = gmcf->github_rate_reserve;
            rs.claim_lease = std::chrono::milliseconds(
                2 * gmcf->upstream_timeout * (gmcf->github_max_pages + 1));

            rt->rescanner = std::make_unique<gist::Rescanner>(rt->loop, *rt->http, *rt->redis, rt->logger,
                                                              std::move(rs));
        }

        rt->api = std::make_unique<gist::Api>(rt->loop, *rt->http, *rt->redis, rt->logger,
                                              std::move(settings));
        rt->redis->start();

        /* users stored by an earlier key schema move over in bounded steps, once per fleet */
        rt->migration = std::make_unique<gist::KeyMigration>(rt->loop, *rt->redis, rt->logger,
                                                             ngx_http_gist_string(gmcf->redis_prefix));
        rt->migration->start();

        if (rt->changes_feed) {
            rt->changes_feed->start();
        }

        /* said once per start or reload, by the first worker, into the error log */
        if (ngx_worker == 0) {
            ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0, "gist: Pipedrive deals are %s, rescans %s",
                          rt->deals ? "on" : "off (no \"gist_pipedrive_api_url\")",
                          rt->rescanner ? "on" : "off");

            /* GitHub gives 60 requests an hour without a token: below the reserve, none is left */
            if (rt->rescanner && gmcf->github_token.len == 0 && gmcf->github_rate_reserve >= 60) {
                ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                              "gist: rescans without \"gist_github_token_file\" get GitHub's "
                              "60 requests an hour, not above \"gist_github_rate_reserve\" %i: "
                              "they will not run",
                              gmcf->github_rate_reserve);
            }
        }

        if (rt->deals) {
            rt->deals->start();
        }

        if (rt->rescanner) {
            rt->rescanner->start();
        }

        ngx_http_gist_runtime = std::move(rt);

    } catch (const std::exception &e) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "gist: worker initialization failed: %s",
                      ngx_http_gist_log_text(e.what()).c_str());
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_gist_exit_process(ngx_cycle_t *cycle)
{
    if (!ngx_http_gist_runtime) {
        return;
    }

    try {
        ngx_http_gist_runtime.reset();
        ngx_http_gist_metrics_detach();

    } catch (...) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0, "gist: worker cleanup failed");
    }

    curl_global_cleanup();
}
