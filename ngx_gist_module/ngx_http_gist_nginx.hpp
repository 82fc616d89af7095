/*
 * NGINX's headers, for the module's C++ files. Only ngx_gist_module/ includes these.
 */

#ifndef NGX_HTTP_GIST_NGINX_HPP
#define NGX_HTTP_GIST_NGINX_HPP

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>
}

#endif /* NGX_HTTP_GIST_NGINX_HPP */
