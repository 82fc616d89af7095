// Text helpers for what the module writes into Pipedrive (deal titles, notes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gist {

// Valid UTF-8 copy of `text`: each invalid or overlong sequence, surrogate or code point above
// U+10FFFF becomes U+FFFD. (JSON serialisation refuses invalid UTF-8.)
std::string sanitize_utf8(std::string_view text);

// One line: control characters (C0, DEL, C1 such as U+0085, and U+2028/U+2029) become spaces,
// runs of spaces collapse to one, leading/trailing spaces go, and invisible characters
// (is_invisible_format) are dropped. Input must be valid UTF-8.
std::string single_line(std::string_view text);

// Bidi controls (U+200E/U+200F, U+061C, U+202A-U+202E, U+2066-U+2069) and zero-width characters
// (U+200B-U+200D, U+2060, U+FEFF): they change how text around them reads (a reversed "evil.exe"
// shows as "exe.live") or hide inside it, so text shown in the CRM goes without them.
bool is_invisible_format(std::uint32_t code_point);

// `text` without the characters is_invisible_format() names. Input must be valid UTF-8.
std::string drop_invisible(std::string_view text);

// The longest prefix of valid UTF-8 `text` that is at most max_bytes long and does not split
// a code point.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

// `text` if it fits in max_bytes, else a UTF-8-safe prefix followed by "…" (U+2026), all within
// max_bytes. max_bytes < 3 gives a plain prefix.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

// Escapes & < > " ' for HTML text and attribute values.
std::string html_escape(std::string_view text);

}  // namespace gist
