// The note attached to a gist's deal: an HTML snippet with the gist link and its file names.
#pragma once

#include "gist/gist.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace gist {

inline constexpr std::size_t max_note_files = 50;  // listed by name; the rest are counted

// <p>GitHub gist <a href="URL">ID</a> by LOGIN</p>
// <p>DESCRIPTION</p>                          (only when there is one)
// <p>Files:</p><ul><li>NAME</li>…</ul>         (or <p>No files.</p>)
// Every piece of GitHub text is HTML-escaped (and made valid UTF-8); the link is only made for
// an http(s) URL, otherwise the URL is shown as text. Pipedrive sanitises note HTML itself too.
std::string deal_note_html(const Gist& gist, std::string_view login);

}  // namespace gist
