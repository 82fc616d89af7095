/*
 * Access-log variables: $gist_login, $gist_github_requests and $gist_scan, from what the API
 * said about the request (gist::ApiLogInfo), kept in the request's module context by the
 * content handler when it answers.
 */

#include "ngx_http_gist_module.hpp"

#include <gist/api_response.hpp>


static ngx_int_t ngx_http_gist_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data);


#define NGX_HTTP_GIST_VAR_LOGIN     0
#define NGX_HTTP_GIST_VAR_GITHUB    1
#define NGX_HTTP_GIST_VAR_SCAN      2


static ngx_http_variable_t  ngx_http_gist_vars[] = {

    { ngx_string("gist_login"), NULL, ngx_http_gist_variable,
      NGX_HTTP_GIST_VAR_LOGIN, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gist_github_requests"), NULL, ngx_http_gist_variable,
      NGX_HTTP_GIST_VAR_GITHUB, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gist_scan"), NULL, ngx_http_gist_variable,
      NGX_HTTP_GIST_VAR_SCAN, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/* preconfiguration */
ngx_int_t
ngx_http_gist_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_gist_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * Empty login and scan, and 0 GitHub requests, for requests the module did not answer, so that
 * a JSON log_format stays valid ("$gist_github_requests" can go unquoted).
 */
static ngx_int_t
ngx_http_gist_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_gist_log_t  *log;
    u_char               *p;

    log = static_cast<ngx_http_gist_log_t *>(ngx_http_get_module_ctx(r, ngx_http_gist_module));

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    switch (data) {

    case NGX_HTTP_GIST_VAR_GITHUB:
        p = static_cast<u_char *>(ngx_pnalloc(r->pool, NGX_INT_T_LEN));
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->len = ngx_sprintf(p, "%ui", log ? log->github_requests : 0) - p;
        v->data = p;
        break;

    case NGX_HTTP_GIST_VAR_LOGIN:
        v->len = log ? log->login.len : 0;
        v->data = log ? log->login.data : (u_char *) "";
        break;

    default:
        v->len = log ? log->scan.len : 0;
        v->data = log ? log->scan.data : (u_char *) "";
        break;
    }

    return NGX_OK;
}


/* The content handler, when the API has answered: keeps what the log needs. */
ngx_int_t
ngx_http_gist_set_log(ngx_http_request_t *r, const gist::ApiLogInfo &info)
{
    ngx_http_gist_log_t  *log;

    log = static_cast<ngx_http_gist_log_t *>(ngx_pcalloc(r->pool, sizeof(ngx_http_gist_log_t)));
    if (log == NULL) {
        return NGX_ERROR;
    }

    log->github_requests = info.github_requests > 0 ? info.github_requests : 0;

    log->login.len = info.login.size();
    log->login.data = static_cast<u_char *>(ngx_pnalloc(r->pool, info.login.size() + 1));
    log->scan.len = info.scan.size();
    log->scan.data = static_cast<u_char *>(ngx_pnalloc(r->pool, info.scan.size() + 1));
    if (log->login.data == NULL || log->scan.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(log->login.data, info.login.data(), info.login.size());
    ngx_memcpy(log->scan.data, info.scan.data(), info.scan.size());

    ngx_http_set_ctx(r, log, ngx_http_gist_module);

    return NGX_OK;
}
