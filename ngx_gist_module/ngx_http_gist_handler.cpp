/*
 * The content handler: hands the request to gist::Api and writes its answer.
 *
 * The API answers from a curl or hiredis event, deep inside the core's call stack. The answer is
 * stored in the request context and written from a posted event, so the core's stack has unwound
 * before the request (and with it the call handle) can be freed.
 */

#include "ngx_http_gist_module.hpp"
#include "ngx_http_gist_log.hpp"

#include <gist/api.hpp>

#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>


namespace {

struct ngx_http_gist_ctx_t {
    ngx_http_request_t               *request;
    ngx_event_t                       answer;     /* posted when the API has answered */
    ngx_event_t                       deadline;   /* keeps the worker alive while a request runs */
    gist::ApiResponse                 response;
    std::unique_ptr<gist::ApiCall>    call;

    ~ngx_http_gist_ctx_t()
    {
        if (answer.posted) {
            ngx_delete_posted_event(&answer);
        }

        if (deadline.timer_set) {
            ngx_del_timer(&deadline);
        }
    }
};

}  // namespace


static void ngx_http_gist_cleanup(void *data) noexcept;
static void ngx_http_gist_answer_handler(ngx_event_t *ev) noexcept;
static void ngx_http_gist_deadline_handler(ngx_event_t *ev) noexcept;
static ngx_int_t ngx_http_gist_send(ngx_http_request_t *r, const gist::ApiResponse &response);
static ngx_int_t ngx_http_gist_login(ngx_http_request_t *r, ngx_str_t *login);
static void ngx_http_gist_abandon(ngx_http_gist_ctx_t *ctx) noexcept;
static void ngx_http_gist_release_body(void *data) noexcept;
static void ngx_http_gist_path_tail(ngx_http_request_t *r, std::string *tail);


ngx_int_t
ngx_http_gist_handler(ngx_http_request_t *r) noexcept
{
    ngx_int_t                   rc;
    ngx_str_t                   login;
    ngx_pool_cleanup_t         *cln;
    ngx_http_gist_ctx_t        *ctx = nullptr;
    ngx_http_gist_loc_conf_t   *glcf;
    ngx_http_gist_main_conf_t  *gmcf;
    gist::Api                  *api;
    gist::ApiRequest            request;

    glcf = static_cast<ngx_http_gist_loc_conf_t *>(ngx_http_get_module_loc_conf(r, ngx_http_gist_module));
    gmcf = static_cast<ngx_http_gist_main_conf_t *>(ngx_http_get_module_main_conf(r, ngx_http_gist_module));

    api = ngx_http_gist_worker_api();
    if (api == nullptr) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "gist: worker runtime is not initialized");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the API takes no body: drop it (a large one is refused below, before it is read) */
    if (r->headers_in.content_length_n <= 64 * 1024) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

    } else {
        /* the unread body would be taken for the next request */
        r->keepalive = 0;
        r->lingering_close = 1;
    }

    switch (glcf->endpoint) {
    case NGX_HTTP_GIST_USER:
        request.endpoint = gist::Endpoint::user;
        break;
    case NGX_HTTP_GIST_TRACKED_USERS:
        request.endpoint = gist::Endpoint::tracked_users;
        break;
    case NGX_HTTP_GIST_DEALS:
        request.endpoint = gist::Endpoint::deals;
        break;
    case NGX_HTTP_GIST_METRICS:
        request.endpoint = gist::Endpoint::metrics;
        break;
    default:
        request.endpoint = gist::Endpoint::health;
        break;
    }

    try {
        request.method.assign(reinterpret_cast<const char *>(r->method_name.data), r->method_name.len);
        request.content_length = r->headers_in.content_length_n;

        if (request.endpoint == gist::Endpoint::user) {
            if (ngx_http_gist_login(r, &login) == NGX_OK) {
                request.login.assign(reinterpret_cast<const char *>(login.data), login.len);
            } else {
                request.login = "/";   /* never a valid login: answered with 400 */
            }
        }

        request.query.assign(reinterpret_cast<const char *>(r->args.data), r->args.len);

        if (request.endpoint == gist::Endpoint::deals) {
            ngx_http_gist_path_tail(r, &request.path);
        }

        if (r->headers_in.if_none_match) {
            request.if_none_match.assign(reinterpret_cast<const char *>(r->headers_in.if_none_match->value.data),
                                         r->headers_in.if_none_match->value.len);
        }

        /* a read rendered a moment ago is written at once: no Redis, no posted event */
        if (auto cached = api->cached_answer(request)) {
            if (ngx_http_gist_set_log(r, cached->log) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_gist_send(r, *cached);
        }

        cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_gist_ctx_t));
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx = new (cln->data) ngx_http_gist_ctx_t();
        cln->handler = ngx_http_gist_cleanup;

        ctx->request = r;
        ctx->answer.handler = ngx_http_gist_answer_handler;
        ctx->answer.data = ctx;
        ctx->answer.log = r->connection->log;

        /*
         * Not cancelable: a graceful shutdown or reload waits for requests in flight, and a
         * request that somehow never gets an answer still ends.
         */
        ctx->deadline.handler = ngx_http_gist_deadline_handler;
        ctx->deadline.data = ctx;
        ctx->deadline.log = r->connection->log;
        ngx_add_timer(&ctx->deadline,
                      gmcf->upstream_timeout * (gmcf->github_max_pages + 1) + 2 * gmcf->redis_timeout
                      + gmcf->pipedrive_response_wait);

        ctx->call = api->handle(request, [ctx](gist::ApiResponse response) {
            ctx->response = std::move(response);
            ngx_post_event(&ctx->answer, &ngx_posted_events);
        });

    } catch (const std::exception &e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "gist: request failed: %s",
                      ngx_http_gist_log_text(e.what()).c_str());
        ngx_http_gist_abandon(ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;

    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "gist: request failed");
        ngx_http_gist_abandon(ctx);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* notice a client that goes away, so its scan is cancelled */
    if (!r->discard_body) {
        r->read_event_handler = ngx_http_test_reading;
    }

    r->main->count++;

    return NGX_DONE;
}


/* the request is answered with an error right away: nothing of it may fire later */
static void
ngx_http_gist_abandon(ngx_http_gist_ctx_t *ctx) noexcept
{
    if (ctx == nullptr) {
        return;
    }

    ctx->call.reset();

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    if (ctx->answer.posted) {
        ngx_delete_posted_event(&ctx->answer);
    }
}


static void
ngx_http_gist_release_body(void *data) noexcept
{
    using body_ref = std::shared_ptr<const std::string>;

    static_cast<body_ref *>(data)->~body_ref();
}


static void
ngx_http_gist_cleanup(void *data) noexcept
{
    auto *ctx = static_cast<ngx_http_gist_ctx_t *>(data);

    /* cancels what is still in flight: its callback will not run */
    ctx->~ngx_http_gist_ctx_t();
}


static void
ngx_http_gist_answer_handler(ngx_event_t *ev) noexcept
{
    auto               *ctx = static_cast<ngx_http_gist_ctx_t *>(ev->data);
    ngx_http_request_t *r = ctx->request;
    ngx_connection_t   *c = r->connection;
    ngx_int_t           rc;

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    try {
        rc = ngx_http_gist_set_log(r, ctx->response.log);
        if (rc == NGX_OK) {
            rc = ngx_http_gist_send(r, ctx->response);
        }

    } catch (const std::exception &e) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "gist: sending the response failed: %s",
                      ngx_http_gist_log_text(e.what()).c_str());
        rc = NGX_ERROR;

    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "gist: sending the response failed");
        rc = NGX_ERROR;
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_gist_deadline_handler(ngx_event_t *ev) noexcept
{
    auto               *ctx = static_cast<ngx_http_gist_ctx_t *>(ev->data);
    ngx_http_request_t *r = ctx->request;
    ngx_connection_t   *c = r->connection;

    ngx_log_error(NGX_LOG_ERR, c->log, 0, "gist: request got no answer in time");

    if (ctx->answer.posted) {
        ngx_delete_posted_event(&ctx->answer);
    }

    try {
        ctx->call.reset();
        ctx->response = gist::error_response(504, "timeout", "the request took too long");

    } catch (...) {
        /* not even an error body could be made: end the request without one */
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        ngx_http_run_posted_requests(c);
        return;
    }

    ngx_http_gist_answer_handler(&ctx->answer);
}


static ngx_int_t
ngx_http_gist_send(ngx_http_request_t *r, const gist::ApiResponse &response)
{
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_chain_t          out;
    ngx_table_elt_t     *h;
    ngx_pool_cleanup_t  *cln;

    r->headers_out.status = response.status;

    for (const auto &header : response.headers) {
        h = static_cast<ngx_table_elt_t *>(ngx_list_push(&r->headers_out.headers));
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        h->key.len = header.first.size();
        h->key.data = static_cast<u_char *>(ngx_pnalloc(r->pool, header.first.size()));
        h->value.len = header.second.size();
        h->value.data = static_cast<u_char *>(ngx_pnalloc(r->pool, header.second.size() + 1));
        if (h->key.data == NULL || h->value.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(h->key.data, header.first.data(), header.first.size());
        ngx_memcpy(h->value.data, header.second.data(), header.second.size());
        h->value.data[header.second.size()] = '\0';
    }

    const std::string  &text = response.text();

    if (text.empty()) {
        r->header_only = 1;

        if (response.status == NGX_HTTP_NO_CONTENT || response.status == NGX_HTTP_NOT_MODIFIED) {
            ngx_http_clear_content_length(r);

        } else {
            /* without a length an HTTP/1.1 answer would be chunked, with no last chunk */
            r->headers_out.content_length_n = 0;
        }

        return ngx_http_send_header(r);
    }

    if (response.content_type.empty()) {
        ngx_str_set(&r->headers_out.content_type, "application/json");

    } else {
        r->headers_out.content_type.len = response.content_type.size();
        r->headers_out.content_type.data = static_cast<u_char *>(ngx_pnalloc(r->pool, response.content_type.size()));
        if (r->headers_out.content_type.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(r->headers_out.content_type.data, response.content_type.data(), response.content_type.size());
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = text.size();

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    if (response.shared_body) {
        /* an answer kept in memory: written from there, kept alive until the request is freed */
        b = static_cast<ngx_buf_t *>(ngx_calloc_buf(r->pool));
        cln = ngx_pool_cleanup_add(r->pool, sizeof(std::shared_ptr<const std::string>));
        if (b == NULL || cln == NULL) {
            return NGX_ERROR;
        }

        new (cln->data) std::shared_ptr<const std::string>(response.shared_body);
        cln->handler = ngx_http_gist_release_body;

        b->pos = reinterpret_cast<u_char *>(const_cast<char *>(text.data()));
        b->last = b->pos + text.size();
        b->memory = 1;

    } else {
        b = ngx_create_temp_buf(r->pool, text.size());
        if (b == NULL) {
            return NGX_ERROR;
        }

        b->last = ngx_cpymem(b->pos, text.data(), text.size());
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * The login is the URI's last path segment: "/user/octocat" → "octocat". Anything after it
 * ("/user/a/b") or nothing ("/user/") is not a login.
 */
static ngx_int_t
ngx_http_gist_login(ngx_http_request_t *r, ngx_str_t *login)
{
    ngx_http_core_loc_conf_t  *clcf;
    u_char                    *p, *last;

    clcf = static_cast<ngx_http_core_loc_conf_t *>(ngx_http_get_module_loc_conf(r, ngx_http_core_module));

    p = r->uri.data;
    last = r->uri.data + r->uri.len;

    if (!clcf->regex && !clcf->exact_match && clcf->name.len <= r->uri.len) {
        /* a prefix location such as "location /user/": the login follows the prefix */
        p += clcf->name.len;

    } else {
        for (u_char *s = last; s > p; s--) {
            if (s[-1] == '/') {
                p = s;
                break;
            }
        }
    }

    if (p == last || ngx_strlchr(p, last, '/') != NULL) {
        return NGX_DECLINED;
    }

    login->data = p;
    login->len = last - p;

    return NGX_OK;
}


/*
 * What follows a prefix location's name: "/deals/abc/retry" in "location /deals" → "/abc/retry".
 * An exact location has none; a regex location hands over the whole URI (use a prefix location).
 */
static void
ngx_http_gist_path_tail(ngx_http_request_t *r, std::string *tail)
{
    ngx_http_core_loc_conf_t  *clcf;
    u_char                    *p, *last;

    clcf = static_cast<ngx_http_core_loc_conf_t *>(ngx_http_get_module_loc_conf(r, ngx_http_core_module));

    p = r->uri.data;
    last = r->uri.data + r->uri.len;

    if (clcf->exact_match) {
        p = last;

    } else if (!clcf->regex && clcf->name.len <= r->uri.len) {
        p += clcf->name.len;
    }

    tail->assign(reinterpret_cast<const char *>(p), last - p);
}
