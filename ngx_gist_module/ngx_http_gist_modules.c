/*
 * The tables NGINX reads from a dynamic module (what objs/ngx_*_modules.c would hold when built
 * through NGINX's own ./configure).
 */

#include <ngx_config.h>
#include <ngx_core.h>


extern ngx_module_t  ngx_http_gist_module;

ngx_module_t  *ngx_modules[] = {
    &ngx_http_gist_module,
    NULL
};

char  *ngx_module_names[] = {
    "ngx_http_gist_module",
    NULL
};

char  *ngx_module_order[] = {
    NULL
};
