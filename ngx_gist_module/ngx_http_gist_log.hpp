/*
 * ngx_http_gist_module: the error log's one gate for text the module did not write itself
 * (upstream answers, exception texts): gist::log_safe() keeps it on its line.
 */

#ifndef NGX_HTTP_GIST_LOG_HPP
#define NGX_HTTP_GIST_LOG_HPP

#include <gist/log_text.hpp>

#include <string>
#include <string_view>


/* never throws (it is called in catch blocks): when memory runs out the text is left out */
inline std::string
ngx_http_gist_log_text(std::string_view text) noexcept
{
    try {
        return gist::log_safe(text);

    } catch (...) {
        return std::string();
    }
}


#endif /* NGX_HTTP_GIST_LOG_HPP */
