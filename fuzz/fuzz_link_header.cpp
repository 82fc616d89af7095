// GitHub's Link header (RFC 8288) and the same-origin check of the next page's URL.
// Input: "<api base>\n<Link header value>" (no newline: all of it is the header).
#include "fuzz_check.hpp"

#include "gist/link_header.hpp"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto nl = in.find('\n');
    const std::string_view base = nl == std::string_view::npos ? "https://api.github.com" : in.substr(0, nl);
    const std::string_view header = nl == std::string_view::npos ? in : in.substr(nl + 1);

    for (std::string_view rel : {"next", "last", "NEXT"}) {
        const auto url = gist::find_link(header, rel);
        if (!url) {
            continue;
        }
        // The link is a non-empty <URI-Reference> taken verbatim from the header.
        FUZZ_CHECK(!url->empty());
        FUZZ_CHECK(header.find("<" + *url + ">") != std::string_view::npos);
        for (char c : *url) {
            const auto u = static_cast<unsigned char>(c);
            FUZZ_CHECK(u > 0x20 && u != 0x7f && c != '<' && c != '>' && c != '"');
        }
        (void)gist::same_origin(*url, base);
    }
    const bool a = gist::same_origin(header, base);
    FUZZ_CHECK(a == gist::same_origin(header, base));  // pure
    FUZZ_CHECK(a == gist::same_origin(base, header));  // symmetric
    return 0;
}
