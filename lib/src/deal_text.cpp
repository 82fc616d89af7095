#include "gist/deal_text.hpp"

#include <cstdint>

namespace gist {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view ellipsis = "\xE2\x80\xA6";     // U+2026

// Decodes one code point at text[i]; returns its length, or 0 when the sequence is invalid.
std::size_t decode(std::string_view text, std::size_t i, std::uint32_t& cp) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char b0 = byte(i);
    std::size_t len = 0;
    std::uint32_t min = 0;
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    } else if ((b0 & 0xE0) == 0xC0) {
        len = 2;
        cp = b0 & 0x1F;
        min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3;
        cp = b0 & 0x0F;
        min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4;
        cp = b0 & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > text.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < len; ++k) {
        const unsigned char b = byte(i + k);
        if ((b & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return len;
}

bool is_line_breaking_or_control(std::uint32_t cp) {
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

}  // namespace

bool is_invisible_format(std::uint32_t cp) {
    return cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) || cp == 0x2060 ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

std::string drop_invisible(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        std::uint32_t cp = 0;
        std::size_t len = decode(text, i, cp);
        if (len == 0) {  // not promised valid; keep the byte, sanitize_utf8 is the one that repairs
            len = 1;
            cp = 0xFFFD;
        }
        if (!is_invisible_format(cp)) {
            out.append(text.substr(i, len));
        }
        i += len;
    }
    return out;
}

std::string sanitize_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        std::uint32_t cp = 0;
        const std::size_t len = decode(text, i, cp);
        if (len == 0) {
            out.append(replacement);
            ++i;  // resynchronise on the next byte
        } else {
            out.append(text.substr(i, len));
            i += len;
        }
    }
    return out;
}

std::string single_line(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool pending_space = false;
    std::size_t i = 0;
    while (i < text.size()) {
        std::uint32_t cp = 0;
        std::size_t len = decode(text, i, cp);
        if (len == 0) {  // not promised valid; be safe anyway
            len = 1;
            cp = 0xFFFD;
        }
        if (is_invisible_format(cp)) {
            // dropped, not a space: a zero-width space inside a word must not split it
        } else if (cp == ' ' || is_line_breaking_or_control(cp)) {
            pending_space = !out.empty();
        } else {
            if (pending_space) {
                out.push_back(' ');
                pending_space = false;
            }
            if (cp == 0xFFFD && len == 1) {
                out.append(replacement);
            } else {
                out.append(text.substr(i, len));
            }
        }
        i += len;
    }
    return out;
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) {
        return text;
    }
    std::size_t end = max_bytes;
    // Step back over continuation bytes so the cut lands on a code point boundary.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
        --end;
    }
    return text.substr(0, end);
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) {
        return std::string(text);
    }
    if (max_bytes < ellipsis.size()) {
        return std::string(utf8_prefix(text, max_bytes));
    }
    std::string_view head = utf8_prefix(text, max_bytes - ellipsis.size());
    while (!head.empty() && head.back() == ' ') {
        head.remove_suffix(1);
    }
    std::string out(head);
    out.append(ellipsis);
    return out;
}

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out.push_back(c);
        }
    }
    return out;
}

}  // namespace gist
