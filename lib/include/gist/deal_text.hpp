// Text helpers for what the module writes into Pipedrive (deal titles, notes).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gist {

// Valid UTF-8 copy of `text`: each invalid or overlong sequence, surrogate or code point above
// U+10FFFF becomes U+FFFD. (JSON serialisation refuses invalid UTF-8.)
std::string sanitize_utf8(std::string_view text);

// One line: control characters (C0, DEL, C1 such as U+0085, and U+2028/U+2029) become spaces,
// runs of spaces collapse to one, and leading/trailing spaces go. Input must be valid UTF-8.
std::string single_line(std::string_view text);

// The longest prefix of valid UTF-8 `text` that is at most max_bytes long and does not split
// a code point.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

// `text` if it fits in max_bytes, else a UTF-8-safe prefix followed by "…" (U+2026), all within
// max_bytes. max_bytes < 3 gives a plain prefix.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

// Escapes & < > " ' for HTML text and attribute values.
std::string html_escape(std::string_view text);

}  // namespace gist
