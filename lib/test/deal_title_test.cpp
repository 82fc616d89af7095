#include "gist/deal_text.hpp"
#include "gist/deal_title.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <string>

namespace gist {
namespace {

const std::string id = "aa5a315d61ae9438b18d";

// True when s is valid UTF-8 (sanitising would not change it).
bool valid_utf8(const std::string& s) { return sanitize_utf8(s) == s; }

TEST(DealTitle, UsesDescription) {
    EXPECT_EQ(deal_title(id, "octocat", std::string("Hello world"), {"a.rb"}),
              "Gist aa5a315d61ae9438b18d by octocat: Hello world");
}

TEST(DealTitle, NullDescriptionFallsBackToFirstFile) {
    EXPECT_EQ(deal_title(id, "octocat", std::nullopt, {"hello.rb", "b.txt"}),
              "Gist aa5a315d61ae9438b18d by octocat: hello.rb");
}

TEST(DealTitle, BlankDescriptionFallsBackToFirstFile) {
    EXPECT_EQ(deal_title(id, "octocat", std::string(" \n\t "), {"hello.rb"}),
              "Gist aa5a315d61ae9438b18d by octocat: hello.rb");
}

TEST(DealTitle, NoDescriptionNoFiles) {
    EXPECT_EQ(deal_title(id, "octocat", std::nullopt, {}),
              "Gist aa5a315d61ae9438b18d by octocat: (no description)");
    EXPECT_EQ(deal_title(id, "octocat", std::string(""), {""}),
              "Gist aa5a315d61ae9438b18d by octocat: (no description)");
}

TEST(DealTitle, DescriptionOnOneLine) {
    EXPECT_EQ(deal_title(id, "u", std::string("  line one\r\n\tline\x01two  "), {}),
              "Gist aa5a315d61ae9438b18d by u: line one line two");
}

TEST(DealTitle, UnicodeIsKept) {
    const std::string d = "Привет, мир 👋 — 日本語";
    EXPECT_EQ(deal_title(id, "u", d, {}), "Gist aa5a315d61ae9438b18d by u: " + d);
}

TEST(DealTitle, LongAsciiDescriptionIsTruncatedTo255Bytes) {
    const std::string title = deal_title(id, "octocat", std::string(1000, 'x'), {});
    EXPECT_EQ(title.size(), 255u);
    EXPECT_EQ(title.rfind("Gist aa5a315d61ae9438b18d by octocat: xxx", 0), 0u);
    EXPECT_EQ(title.substr(title.size() - 3), "\xE2\x80\xA6");  // ends with …
}

TEST(DealTitle, LongUnicodeDescriptionIsCutOnCodePointBoundaries) {
    for (const std::string unit : {"é", "日", "👋"}) {
        std::string d;
        for (int i = 0; i < 300; ++i) {
            d += unit;
        }
        const std::string title = deal_title(id, "octocat", d, {});
        EXPECT_LE(title.size(), 255u) << unit;
        EXPECT_GE(title.size(), 255u - 4) << unit;  // no more than one code point wasted
        EXPECT_TRUE(valid_utf8(title)) << unit;
        EXPECT_EQ(title.substr(title.size() - 3), "\xE2\x80\xA6") << unit;
    }
}

TEST(DealTitle, InvalidUtf8BecomesReplacementCharacter) {
    const std::string title = deal_title(id, "u", std::string("ab\xC3(cd"), {});
    EXPECT_TRUE(valid_utf8(title));
    EXPECT_EQ(title, "Gist aa5a315d61ae9438b18d by u: ab\xEF\xBF\xBD(cd");
}

TEST(DealTitle, GistIdIsAlwaysComplete) {
    const std::string long_id(32, 'f');
    const std::string login(39, 'L');
    const std::string title = deal_title(long_id, login, std::string(500, 'd'), {});
    EXPECT_LE(title.size(), 255u);
    EXPECT_TRUE(is_deal_title_for_gist(title, long_id));
    // Even when nothing else fits, the id is kept whole.
    EXPECT_EQ(deal_title(long_id, login, std::string("d"), {}, 20), "Gist " + long_id);
    EXPECT_TRUE(is_deal_title_for_gist("Gist " + long_id, long_id));
}

TEST(DealTitle, FromGist) {
    Gist g;
    g.id = "abc123";
    g.description = std::nullopt;
    g.files = {"main.go"};
    EXPECT_EQ(deal_title(g, "gopher"), "Gist abc123 by gopher: main.go");
}

TEST(DealTitle, RecognisesOwnTitles) {
    EXPECT_TRUE(is_deal_title_for_gist("Gist abc by u: x", "abc"));
    EXPECT_TRUE(is_deal_title_for_gist("Gist abc", "abc"));
    EXPECT_FALSE(is_deal_title_for_gist("Gist abcd by u: x", "abc"));
    EXPECT_FALSE(is_deal_title_for_gist("Gist ab by u: abc", "abc"));
    EXPECT_FALSE(is_deal_title_for_gist("My Gist abc by u", "abc"));
    EXPECT_FALSE(is_deal_title_for_gist("Gist  by u", ""));
}

TEST(DealText, TruncateUtf8) {
    EXPECT_EQ(truncate_utf8("hello", 5), "hello");
    EXPECT_EQ(truncate_utf8("hello world", 8), "hello\xE2\x80\xA6");
    EXPECT_EQ(truncate_utf8("hello world", 9), "hello\xE2\x80\xA6");  // trailing space dropped
    EXPECT_EQ(truncate_utf8("héllo", 2), "h");                       // too small for …
    EXPECT_EQ(utf8_prefix("日本", 4), "日");
    EXPECT_EQ(utf8_prefix("日本", 2), "");
}

TEST(DealText, SanitizeUtf8) {
    EXPECT_EQ(sanitize_utf8("ok é 👋"), "ok é 👋");
    EXPECT_EQ(sanitize_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
    EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
    EXPECT_EQ(sanitize_utf8("\xF0\x9F"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short
}

TEST(DealText, SingleLine) {
    EXPECT_EQ(single_line("  a \n\n b\xC2\x85" "c\xE2\x80\xA8" "d  "), "a b c d");
    EXPECT_EQ(single_line(""), "");
}

TEST(DealText, HtmlEscape) {
    EXPECT_EQ(html_escape(R"(<a href="x">Tom & 'Jerry'</a>)"),
              "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
}

// Every bidi control and zero-width character the title must not carry, UTF-8 encoded.
const char* const kInvisible[] = {
    "\u061C", "\u200B", "\u200C", "\u200D", "\u200E", "\u200F", "\u202A", "\u202B", "\u202C", "\u202D",
    "\u202E", "\u2060", "\u2066", "\u2067", "\u2068", "\u2069", "\uFEFF",
};

TEST(DealTitle, DropsBidiControlsAndZeroWidthCharacters) {
    // "Trojan source" style: RLO would show "invoice\u202Etxt.exe" as "invoiceexe.txt".
    EXPECT_EQ(deal_title(id, "u", std::string("invoice\u202Etxt.exe\u202C pay\u200Bment\uFEFF"), {}),
              "Gist aa5a315d61ae9438b18d by u: invoicetxt.exe payment");
    for (std::size_t i = 0; i < std::size(kInvisible); ++i) {
        const std::string title = deal_title(id, "u", std::string("a") + kInvisible[i] + "b" + kInvisible[i], {});
        EXPECT_EQ(title, "Gist aa5a315d61ae9438b18d by u: ab") << "kInvisible[" << i << "]";
    }
    // Neighbours stay: U+200A (hair space) becomes a space in one line, U+2061 and U+206A are kept.
    EXPECT_EQ(deal_title(id, "u", std::string("a\u2061b\u206Ac"), {}),
              "Gist aa5a315d61ae9438b18d by u: a\u2061b\u206Ac");
}

TEST(DealTitle, OnlyInvisibleDescriptionFallsBackToFirstFile) {
    EXPECT_EQ(deal_title(id, "u", std::string("\u200B\u202E\uFEFF"), {"\u2066x.rb\u2069"}),
              "Gist aa5a315d61ae9438b18d by u: x.rb");
}

TEST(DealText, DropInvisible) {
    std::string all;
    for (const char* c : kInvisible) {
        all += c;
    }
    EXPECT_EQ(drop_invisible("x" + all + "y"), "xy");
    EXPECT_EQ(drop_invisible("caf\xC3\xA9 \xE6\x97\xA5"), "caf\xC3\xA9 \xE6\x97\xA5");
    EXPECT_EQ(drop_invisible(""), "");
    EXPECT_TRUE(is_invisible_format(0x202E));
    EXPECT_FALSE(is_invisible_format(0x200A));
    EXPECT_FALSE(is_invisible_format(0x2065));
    EXPECT_FALSE(is_invisible_format(0x202F));
}

}  // namespace
}  // namespace gist
