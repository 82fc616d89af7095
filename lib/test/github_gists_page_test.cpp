#include "gist/github_gists_page.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gist {
namespace {

std::vector<Gist> ok(std::string_view body) {
    auto result = parse_gists_page(body);
    if (auto* err = std::get_if<PageParseError>(&result)) {
        ADD_FAILURE() << "unexpected error: " << err->message;
        return {};
    }
    return std::get<GistsPage>(std::move(result)).gists;
}

std::string err(std::string_view body) {
    auto result = parse_gists_page(body);
    if (!std::holds_alternative<PageParseError>(result)) {
        ADD_FAILURE() << "expected an error for: " << body;
        return {};
    }
    return std::get<PageParseError>(result).message;
}

// Trimmed but real-shaped element of GET /users/{login}/gists.
const char* kRealGist = R"({
  "url": "https://api.github.com/gists/aa5a315d61ae9438b18d",
  "id": "aa5a315d61ae9438b18d",
  "node_id": "MDQ6R2lzdGFhNWEzMTVkNjFhZTk0MzhiMThk",
  "html_url": "https://gist.github.com/aa5a315d61ae9438b18d",
  "files": {
    "hello_world.rb": {"filename": "hello_world.rb", "type": "application/x-ruby",
                       "language": "Ruby", "raw_url": "https://gist.githubusercontent.com/raw/x", "size": 167},
    "ABC.txt": {"filename": "ABC.txt", "type": "text/plain", "size": 3}
  },
  "public": true,
  "created_at": "2010-04-14T02:15:15Z",
  "updated_at": "2011-06-20T11:34:15Z",
  "description": "Hello World Examples",
  "comments": 0,
  "user": null,
  "owner": {"login": "octocat", "id": 1},
  "truncated": false
})";

TEST(ParseGistsPage, RealShape) {
    const auto gists = ok(std::string("[") + kRealGist + "]");
    ASSERT_EQ(gists.size(), 1u);
    const Gist& g = gists[0];
    EXPECT_EQ(g.id, "aa5a315d61ae9438b18d");
    EXPECT_EQ(g.html_url, "https://gist.github.com/aa5a315d61ae9438b18d");
    EXPECT_EQ(g.description, "Hello World Examples");
    // GitHub's order, not alphabetical.
    EXPECT_EQ(g.files, (std::vector<std::string>{"hello_world.rb", "ABC.txt"}));
    EXPECT_FALSE(g.truncated);
    EXPECT_EQ(g.created_at, "2010-04-14T02:15:15Z");
    EXPECT_EQ(g.updated_at, "2011-06-20T11:34:15Z");
}

TEST(ParseGistsPage, KeepsPageOrder) {
    const auto gists = ok(R"([{"id":"b","html_url":"https://gist.github.com/b"},{"id":"a","html_url":"https://gist.github.com/a"},{"id":"c","html_url":"https://gist.github.com/c"}])");
    ASSERT_EQ(gists.size(), 3u);
    EXPECT_EQ(gists[0].id, "b");
    EXPECT_EQ(gists[1].id, "a");
    EXPECT_EQ(gists[2].id, "c");
}

TEST(ParseGistsPage, EmptyArray) {
    EXPECT_TRUE(ok("[]").empty());
    EXPECT_TRUE(ok(" \n[ ]\n").empty());
}

TEST(ParseGistsPage, NullDescription) {
    const auto gists = ok(R"([{"id":"1","html_url":"https://gist.github.com/1","description":null}])");
    ASSERT_EQ(gists.size(), 1u);
    EXPECT_EQ(gists[0].description, std::nullopt);
}

TEST(ParseGistsPage, MissingDescription) {
    const auto gists = ok(R"([{"id":"1","html_url":"https://gist.github.com/1"}])");
    ASSERT_EQ(gists.size(), 1u);
    EXPECT_EQ(gists[0].description, std::nullopt);
}

TEST(ParseGistsPage, EmptyDescriptionIsNotNull) {
    const auto gists = ok(R"([{"id":"1","html_url":"https://gist.github.com/1","description":""}])");
    ASSERT_EQ(gists.size(), 1u);
    EXPECT_EQ(gists[0].description, std::optional<std::string>(""));
}

TEST(ParseGistsPage, MissingFieldsDefault) {
    const auto gists = ok(R"([{"id":"1","html_url":"https://gist.github.com/1","created_at":5,"files":null}])");
    ASSERT_EQ(gists.size(), 1u);
    EXPECT_EQ(gists[0].created_at, "");
    EXPECT_EQ(gists[0].updated_at, "");
    EXPECT_TRUE(gists[0].files.empty());
    EXPECT_FALSE(gists[0].truncated);
}

TEST(ParseGistsPage, TruncatedGistWith300Files) {
    std::string files;
    for (int i = 0; i < 300; ++i) {
        if (i > 0) {
            files += ",";
        }
        files += "\"f" + std::to_string(1000 + i) + ".txt\":{\"size\":1}";
    }
    const auto gists = ok(R"([{"id":"b19","html_url":"https://gist.github.com/b19","truncated":true,"files":{)" + files + "}}]");
    ASSERT_EQ(gists.size(), 1u);
    EXPECT_TRUE(gists[0].truncated);
    ASSERT_EQ(gists[0].files.size(), 300u);
    EXPECT_EQ(gists[0].files.front(), "f1000.txt");
    EXPECT_EQ(gists[0].files.back(), "f1299.txt");
}

TEST(ParseGistsPage, PerFileTruncatedIsNotGistTruncated) {
    const auto gists = ok(R"([{"id":"1","html_url":"https://gist.github.com/1","files":{"big.bin":{"truncated":true}}}])");
    ASSERT_EQ(gists.size(), 1u);
    EXPECT_FALSE(gists[0].truncated);
}

TEST(ParseGistsPage, NonBooleanTruncatedIsFalse) {
    const auto gists = ok(R"([{"id":"1","html_url":"https://gist.github.com/1","truncated":"true"}])");
    ASSERT_EQ(gists.size(), 1u);
    EXPECT_FALSE(gists[0].truncated);
}

TEST(ParseGistsPage, Unicode) {
    // Raw UTF-8 and \u escapes (including a surrogate pair) both decode to UTF-8.
    const auto gists = ok("[{\"id\":\"c0de\",\"html_url\":\"https://gist.github.com/c0de\",\"description\":\"caf\xC3\xA9 \\u65e5\\u672c \\ud83d\\ude00\","
                          "\"files\":{\"\xE6\x97\xA5\xE6\x9C\xAC.md\":{},\"r\\u00e9sum\\u00e9.txt\":{}}}]");
    ASSERT_EQ(gists.size(), 1u);
    EXPECT_EQ(gists[0].description, "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80");
    EXPECT_EQ(gists[0].files,
              (std::vector<std::string>{"\xE6\x97\xA5\xE6\x9C\xAC.md", "r\xC3\xA9sum\xC3\xA9.txt"}));
}

TEST(ParseGistsPage, InvalidUtf8IsAnError) {
    EXPECT_FALSE(err("[{\"id\":\"1\",\"description\":\"\xFF\xFE\"}]").empty());
}

TEST(ParseGistsPage, Garbage) {
    EXPECT_FALSE(err("").empty());
    EXPECT_FALSE(err("not json").empty());
    EXPECT_FALSE(err("[{\"id\":\"1\"}").empty());       // cut off
    EXPECT_FALSE(err("[{\"id\":\"1\"}] trailing").empty());
    EXPECT_FALSE(err(std::string("[\0]", 3)).empty());
}

TEST(ParseGistsPage, NumberOutOfRangeIsAnError) {
    // nlohmann throws out_of_range (406), not parse_error, for a number a double cannot hold;
    // found by fuzz/fuzz_gists_page. It must be a page error like any other unreadable body.
    EXPECT_NE(err(R"([{"id":"a","files":{},"size":1e999}])").find("not JSON"), std::string::npos);
    EXPECT_FALSE(err("[-1e400]").empty());
}

TEST(ParseGistsPage, ErrorMessageIsShort) {
    const std::string body = "<!DOCTYPE html><html>" + std::string(5000, 'x') + "</html>";
    const std::string message = err(body);
    EXPECT_NE(message.find("<!DOCTYPE html>"), std::string::npos) << message;
    EXPECT_LT(message.size(), 160u) << message;
    EXPECT_EQ(message.find(std::string(81, 'x')), std::string::npos);
}

TEST(ParseGistsPage, NotAnArray) {
    EXPECT_NE(err(R"({"message":"Not Found"})").find("object"), std::string::npos);
    EXPECT_FALSE(err("null").empty());
    EXPECT_FALSE(err("42").empty());
    EXPECT_FALSE(err(R"("[]")").empty());
}

TEST(ParseGistsPage, ElementThatIsNotAnObject) {
    EXPECT_NE(err(R"([{"id":"1"}, "2"])").find("element 1"), std::string::npos);
    EXPECT_FALSE(err("[null]").empty());
    EXPECT_FALSE(err("[[]]").empty());
}

TEST(ParseGistsPage, ElementWithoutStringId) {
    EXPECT_NE(err(R"([{"id":"1"},{"description":"x"}])").find("element 1"), std::string::npos);
    EXPECT_FALSE(err(R"([{"id":null}])").empty());
    EXPECT_FALSE(err(R"([{"id":""}])").empty());
}

TEST(ParseGistsPage, NumericIdIsAnError) {
    // GitHub's ids are strings; a number means the body is not what we think it is.
    EXPECT_FALSE(err(R"([{"id":12345}])").empty());
}

TEST(ParseGistsPage, OneBadElementFailsTheWholePage) {
    EXPECT_TRUE(std::holds_alternative<PageParseError>(
        parse_gists_page(R"([{"id":"a"},{"id":"b"},{"id":3},{"id":"d"}])")));
}

GistsPage page(std::string_view body) {
    auto result = parse_gists_page(body);
    if (auto* e = std::get_if<PageParseError>(&result)) {
        ADD_FAILURE() << "unexpected error: " << e->message;
        return {};
    }
    return std::get<GistsPage>(std::move(result));
}

TEST(ParseGistsPage, InvalidIdIsDroppedNotTheWholePage) {
    // Upper case, too long, a key separator, a path, control bytes: none is stored or shown.
    const auto p = page(R"([{"id":"aa01","html_url":"https://gist.github.com/aa01"},)"
                        R"({"id":"AA02","html_url":"https://gist.github.com/AA02"},)"
                        R"({"id":")" + std::string(65, 'a') + R"(","html_url":"https://gist.github.com/x"},)"
                        R"({"id":"aa:03","html_url":"https://gist.github.com/aa03"},)"
                        R"({"id":"../x","html_url":"https://gist.github.com/x"},)"
                        R"({"id":"aa\r\n04","html_url":"https://gist.github.com/aa04"},)"
                        R"({"id":"bb05","html_url":"https://gist.github.com/bb05"}])");
    ASSERT_EQ(p.gists.size(), 2u);
    EXPECT_EQ(p.gists[0].id, "aa01");
    EXPECT_EQ(p.gists[1].id, "bb05");
    ASSERT_EQ(p.dropped.size(), 5u);
    EXPECT_NE(p.dropped[0].find("element 1: invalid gist id \"AA02\""), std::string::npos) << p.dropped[0];
    for (const auto& why : p.dropped) {
        for (char c : why) {
            EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "not printable ASCII: " << why;
        }
    }
}

TEST(ParseGistsPage, HtmlUrlOffGistGithubComIsDropped) {
    const auto p = page(R"([{"id":"a1","html_url":"https://gist.github.com/a1"},)"
                        R"({"id":"a2","html_url":"http://gist.github.com/a2"},)"
                        R"({"id":"a3","html_url":"https://gist.github.com.evil.test/a3"},)"
                        R"j({"id":"a4","html_url":"javascript:alert(1)"},)j"
                        R"({"id":"a5","html_url":"https://gist.github.com/a5?next=https://evil.test"},)"
                        R"({"id":"a6","html_url":"https://gist.github.com/\"><script>"},)"
                        R"({"id":"a7","html_url":null},)"
                        R"({"id":"a8"},)"
                        R"({"id":"a9","html_url":"https://gist.github.com/"},)"
                        R"({"id":"b1","html_url":"https://gist.github.com/octocat/b1"}])");
    ASSERT_EQ(p.gists.size(), 2u);
    EXPECT_EQ(p.gists[0].id, "a1");
    EXPECT_EQ(p.gists[1].id, "b1");
    ASSERT_EQ(p.dropped.size(), 8u);
    EXPECT_EQ(p.dropped[0], "gist a2: html_url \"http://gist.github.com/a2\" is not on https://gist.github.com/");
}

TEST(GistValues, Id) {
    EXPECT_TRUE(is_gist_id("aa5a315d61ae9438b18d"));
    EXPECT_TRUE(is_gist_id("0"));
    EXPECT_TRUE(is_gist_id(std::string(64, 'f')));
    EXPECT_FALSE(is_gist_id(""));
    EXPECT_FALSE(is_gist_id(std::string(65, 'f')));
    EXPECT_FALSE(is_gist_id("aA"));
    EXPECT_FALSE(is_gist_id("g1"));
    EXPECT_FALSE(is_gist_id("a b"));
    EXPECT_FALSE(is_gist_id(std::string("a\0b", 3)));
}

TEST(GistValues, HtmlUrl) {
    EXPECT_TRUE(is_gist_html_url("https://gist.github.com/aa5a315d61ae9438b18d"));
    EXPECT_TRUE(is_gist_html_url("https://gist.github.com/octo-cat/aa5a315d61ae9438b18d"));
    EXPECT_FALSE(is_gist_html_url("https://gist.github.com/"));
    EXPECT_FALSE(is_gist_html_url("https://gist.github.com"));
    EXPECT_FALSE(is_gist_html_url("HTTPS://gist.github.com/a"));
    EXPECT_FALSE(is_gist_html_url("https://gist.github.com@evil.test/a"));
    EXPECT_FALSE(is_gist_html_url("https://gist.github.com/a#x"));
    EXPECT_FALSE(is_gist_html_url("https://gist.github.com/a%0d%0a"));
    EXPECT_FALSE(is_gist_html_url("https://gist.github.com/a\nb"));
    EXPECT_FALSE(is_gist_html_url("https://gist.github.com/" + std::string(300, 'a')));
}

}  // namespace
}  // namespace gist
