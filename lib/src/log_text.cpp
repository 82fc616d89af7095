#include "gist/log_text.hpp"

#include <cstddef>
#include <cstdint>

namespace gist {

namespace {

void escape_byte(std::string& out, unsigned char b) {
    static constexpr char hex[] = "0123456789ABCDEF";
    out += "\\x";
    out += hex[b >> 4];
    out += hex[b & 0x0F];
}

// Length of the valid UTF-8 sequence at text[i] (2 to 4 bytes, no overlong form, no surrogate,
// at most U+10FFFF) with its code point in `cp`; 0 when there is none.
std::size_t multibyte_length(std::string_view text, std::size_t i, std::uint32_t& cp) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    std::uint32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) {
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
        const auto b = static_cast<unsigned char>(text[i + k]);
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

}  // namespace

std::string log_safe(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) {
            if (b < 0x20 || b == 0x7F || b == '\\') {
                escape_byte(out, b);
            } else {
                out.push_back(static_cast<char>(b));
            }
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        const std::size_t len = multibyte_length(text, i, cp);
        if (len == 0 || cp <= 0x9F) {  // invalid, or a C1 control (an 8-bit terminal's CSI is U+009B)
            const std::size_t n = len == 0 ? 1 : len;
            for (std::size_t k = 0; k < n; ++k) {
                escape_byte(out, static_cast<unsigned char>(text[i + k]));
            }
            i += n;
            continue;
        }
        out.append(text.substr(i, len));
        i += len;
    }
    return out;
}

}  // namespace gist
