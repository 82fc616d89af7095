#include "gist/deal_note.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gist {
namespace {

Gist sample() {
    Gist g;
    g.id = "aa5a315d61ae9438b18d";
    g.html_url = "https://gist.github.com/aa5a315d61ae9438b18d";
    g.description = std::string("Hello world");
    g.files = {"hello.rb", "README.md"};
    return g;
}

TEST(DealNote, LinksTheGistAndListsFiles) {
    EXPECT_EQ(deal_note_html(sample(), "octocat"),
              "<p>GitHub gist <a href=\"https://gist.github.com/aa5a315d61ae9438b18d\">"
              "aa5a315d61ae9438b18d</a> by octocat</p>"
              "<p>Hello world</p>"
              "<p>Files:</p><ul><li>hello.rb</li><li>README.md</li></ul>");
}

TEST(DealNote, EscapesEverythingFromGithub) {
    Gist g = sample();
    g.description = std::string("<script>alert('x')</script> & more");
    g.files = {"<img src=x onerror=alert(1)>.html", "a&b\".txt"};
    g.html_url = "https://gist.github.com/x?a=1&b=\"2\"";
    const std::string html = deal_note_html(g, "u<b>");
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_EQ(html.find("<img"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"),
              std::string::npos);
    EXPECT_NE(html.find("<li>&lt;img src=x onerror=alert(1)&gt;.html</li>"), std::string::npos);
    EXPECT_NE(html.find("<li>a&amp;b&quot;.txt</li>"), std::string::npos);
    EXPECT_NE(html.find("href=\"https://gist.github.com/x?a=1&amp;b=&quot;2&quot;\""),
              std::string::npos);
    EXPECT_NE(html.find("by u&lt;b&gt;</p>"), std::string::npos);
}

TEST(DealNote, NoLinkForNonWebUrl) {
    Gist g = sample();
    g.html_url = "javascript:alert(1)";
    const std::string html = deal_note_html(g, "u");
    EXPECT_EQ(html.find("<a "), std::string::npos);
    EXPECT_NE(html.find("aa5a315d61ae9438b18d (javascript:alert(1))"), std::string::npos);
}

TEST(DealNote, NullDescriptionAndNoFiles) {
    Gist g = sample();
    g.description = std::nullopt;
    g.files.clear();
    const std::string html = deal_note_html(g, "u");
    EXPECT_EQ(html.find("<p>Hello"), std::string::npos);
    EXPECT_NE(html.find("<p>No files.</p>"), std::string::npos);
}

TEST(DealNote, ManyFilesAreCounted) {
    Gist g = sample();
    g.files.clear();
    for (int i = 0; i < 53; ++i) {
        g.files.push_back("f" + std::to_string(i));
    }
    g.truncated = true;
    const std::string html = deal_note_html(g, "u");
    EXPECT_NE(html.find("<li>f49</li></ul>"), std::string::npos);
    EXPECT_EQ(html.find("<li>f50</li>"), std::string::npos);
    EXPECT_NE(html.find("and 3 more files; GitHub lists only the first files of this gist."),
              std::string::npos);
}

TEST(DealNote, UnicodeAndInvalidBytes) {
    Gist g = sample();
    g.description = std::string("日本語 \xFF");
    g.files = {"файл.txt"};
    const std::string html = deal_note_html(g, "u");
    EXPECT_NE(html.find("<p>日本語 \xEF\xBF\xBD</p>"), std::string::npos);
    EXPECT_NE(html.find("<li>файл.txt</li>"), std::string::npos);
}

TEST(DealNote, DropsBidiControlsAndZeroWidthCharacters) {
    Gist g = sample();
    g.description = std::string("pay\u200Bment \u202Eexe.txt");
    g.files = {"\u2067evil\u2069.rb", "read\uFEFFme.md"};
    EXPECT_EQ(deal_note_html(g, "octocat"),
              "<p>GitHub gist <a href=\"https://gist.github.com/aa5a315d61ae9438b18d\">aa5a315d61ae9438b18d</a>"
              " by octocat</p><p>payment exe.txt</p><p>Files:</p><ul><li>evil.rb</li><li>readme.md</li></ul>");
}

}  // namespace
}  // namespace gist
