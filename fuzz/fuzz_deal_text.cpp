// What the module writes into Pipedrive from GitHub's data: UTF-8 sanitising, one-line text,
// truncation, HTML escaping, the deal title and the note.
#include "fuzz_check.hpp"

#include "gist/deal_note.hpp"
#include "gist/deal_text.hpp"
#include "gist/deal_title.hpp"

#include <optional>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const std::size_t max_bytes = in.ConsumeIntegralInRange<std::size_t>(0, 300);
    gist::Gist g;
    g.id = in.ConsumeRandomLengthString(64);
    const std::string login = in.ConsumeRandomLengthString(48);
    if (in.ConsumeBool()) g.description = in.ConsumeRandomLengthString(600);
    g.html_url = in.ConsumeRandomLengthString(80);
    g.truncated = in.ConsumeBool();
    const std::size_t files = in.ConsumeIntegralInRange<std::size_t>(0, 60);
    for (std::size_t i = 0; i < files && in.remaining_bytes() > 0; ++i) {
        g.files.push_back(in.ConsumeRandomLengthString(40));
    }
    const std::string raw = in.ConsumeRemainingBytesAsString();

    // sanitize_utf8: valid, idempotent, keeps valid text as it is.
    const std::string clean = gist::sanitize_utf8(raw);
    FUZZ_CHECK(fuzz::valid_utf8(clean));
    FUZZ_CHECK(gist::sanitize_utf8(clean) == clean);
    if (fuzz::valid_utf8(raw)) FUZZ_CHECK(clean == raw);

    // single_line: no controls/line breaks, no leading, trailing or double spaces, idempotent.
    const std::string line = gist::single_line(clean);
    FUZZ_CHECK(fuzz::valid_utf8(line) && fuzz::no_line_breaks_or_controls(line));
    FUZZ_CHECK(line.empty() || (line.front() != ' ' && line.back() != ' '));
    FUZZ_CHECK(line.find("  ") == std::string::npos);
    FUZZ_CHECK(gist::single_line(line) == line);

    // utf8_prefix / truncate_utf8: within max_bytes, valid, a prefix (plus "…").
    const std::string_view prefix = gist::utf8_prefix(clean, max_bytes);
    FUZZ_CHECK(prefix.size() <= max_bytes || prefix.size() == clean.size());
    FUZZ_CHECK(fuzz::valid_utf8(prefix) && clean.compare(0, prefix.size(), prefix) == 0);
    const std::string cut = gist::truncate_utf8(line, max_bytes);
    FUZZ_CHECK(cut.size() <= max_bytes || cut == line);
    FUZZ_CHECK(fuzz::valid_utf8(cut));

    // html_escape: nothing left that could open or close markup or an attribute.
    const std::string html = gist::html_escape(clean);
    FUZZ_CHECK(html.find_first_of("<>\"'") == std::string::npos);

    // The deal title: valid UTF-8, the id complete (a retry searches by it), within max_bytes
    // unless only "Gist <id>" is left; <what> on one line.
    const std::string title = gist::deal_title(g.id, login, g.description, g.files,
                                               max_bytes < 8 ? 255 : max_bytes);
    FUZZ_CHECK(fuzz::valid_utf8(title));
    const std::string id = gist::sanitize_utf8(g.id);
    if (!id.empty()) FUZZ_CHECK(gist::is_deal_title_for_gist(title, id));
    const std::size_t limit = max_bytes < 8 ? 255 : max_bytes;
    FUZZ_CHECK(title.size() <= limit || title == "Gist " + id);
    const std::string head = "Gist " + id + " by " + gist::sanitize_utf8(login) + ": ";
    if (title.size() > head.size()) {
        FUZZ_CHECK(title.compare(0, head.size(), head) == 0);
        FUZZ_CHECK(fuzz::no_line_breaks_or_controls(std::string_view(title).substr(head.size())));
    }

    // The note is HTML built from escaped, valid text.
    const std::string note = gist::deal_note_html(g, login);
    FUZZ_CHECK(fuzz::valid_utf8(note));
    return 0;
}
