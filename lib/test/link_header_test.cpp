#include "gist/link_header.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gist {
namespace {

// Verbatim shape of a GitHub pagination header on page 2 of 5.
const std::string kGithubLink =
    "<https://api.github.com/user/1/gists?per_page=100&page=1>; rel=\"prev\", "
    "<https://api.github.com/user/1/gists?per_page=100&page=3>; rel=\"next\", "
    "<https://api.github.com/user/1/gists?per_page=100&page=5>; rel=\"last\", "
    "<https://api.github.com/user/1/gists?per_page=100&page=1>; rel=\"first\"";

TEST(FindLink, GithubFirstPageFormat) {
    const std::string header =
        "<https://api.github.com/user/1/gists?per_page=100&page=2>; rel=\"next\", "
        "<https://api.github.com/user/1/gists?per_page=100&page=4>; rel=\"last\"";
    EXPECT_EQ(find_link(header, "next"), "https://api.github.com/user/1/gists?per_page=100&page=2");
    EXPECT_EQ(find_link(header, "last"), "https://api.github.com/user/1/gists?per_page=100&page=4");
    EXPECT_EQ(find_link(header, "prev"), std::nullopt);
    EXPECT_EQ(find_link(header, "first"), std::nullopt);
}

TEST(FindLink, AllFourRels) {
    EXPECT_EQ(find_link(kGithubLink, "prev"), "https://api.github.com/user/1/gists?per_page=100&page=1");
    EXPECT_EQ(find_link(kGithubLink, "next"), "https://api.github.com/user/1/gists?per_page=100&page=3");
    EXPECT_EQ(find_link(kGithubLink, "last"), "https://api.github.com/user/1/gists?per_page=100&page=5");
    EXPECT_EQ(find_link(kGithubLink, "first"), "https://api.github.com/user/1/gists?per_page=100&page=1");
}

TEST(FindLink, LastPageHasOnlyPrevAndFirst) {
    const std::string header =
        "<https://api.github.com/user/1/gists?per_page=100&page=4>; rel=\"prev\", "
        "<https://api.github.com/user/1/gists?per_page=100&page=1>; rel=\"first\"";
    EXPECT_EQ(find_link(header, "next"), std::nullopt);
    EXPECT_EQ(find_link(header, "prev"), "https://api.github.com/user/1/gists?per_page=100&page=4");
}

TEST(FindLink, OnlyPrevAndLast) {
    const std::string header = "<https://x.test/p1>; rel=\"prev\", <https://x.test/p9>; rel=\"last\"";
    EXPECT_EQ(find_link(header, "next"), std::nullopt);
    EXPECT_EQ(find_link(header, "last"), "https://x.test/p9");
}

TEST(FindLink, SeveralRelsInOneParameter) {
    const std::string header = "<https://x.test/2>; rel=\"next last\", <https://x.test/1>; rel=\"prev\"";
    EXPECT_EQ(find_link(header, "next"), "https://x.test/2");
    EXPECT_EQ(find_link(header, "last"), "https://x.test/2");
    EXPECT_EQ(find_link(header, "prev"), "https://x.test/1");
    EXPECT_EQ(find_link(header, "nex"), std::nullopt);  // whole-word match only
}

TEST(FindLink, UnquotedRel) {
    EXPECT_EQ(find_link("<https://x.test/2>; rel=next", "next"), "https://x.test/2");
    EXPECT_EQ(find_link("<https://x.test/1>; rel=prev, <https://x.test/3>;rel=next", "next"),
              "https://x.test/3");
}

TEST(FindLink, RelIsCaseInsensitive) {
    EXPECT_EQ(find_link("<https://x.test/2>; REL=\"Next\"", "next"), "https://x.test/2");
    EXPECT_EQ(find_link("<https://x.test/2>; rel=\"next\"", "NEXT"), "https://x.test/2");
}

TEST(FindLink, ToleratesWhitespace) {
    const std::string header = "  <https://x.test/1> ;\trel = \"prev\" ,\t<https://x.test/3>  ;  rel=\"next\"  ";
    EXPECT_EQ(find_link(header, "next"), "https://x.test/3");
    EXPECT_EQ(find_link(header, "prev"), "https://x.test/1");
}

TEST(FindLink, OtherParametersAndEmptyListElements) {
    const std::string header =
        "<https://x.test/a>; title=\"a, b; c\"; rel=\"prev\",, "
        "<https://x.test/b>; type=\"text/html\"; rel=\"next\"; anchor=\"#x\"";
    EXPECT_EQ(find_link(header, "next"), "https://x.test/b");
    EXPECT_EQ(find_link(header, "prev"), "https://x.test/a");
}

TEST(FindLink, CommaInsideUrl) {
    EXPECT_EQ(find_link("<https://x.test/a?x=1,2>; rel=\"next\"", "next"), "https://x.test/a?x=1,2");
}

TEST(FindLink, FirstMatchingLinkWinsAndOnlyFirstRelCounts) {
    EXPECT_EQ(find_link("<https://x.test/1>; rel=next, <https://x.test/2>; rel=next", "next"),
              "https://x.test/1");
    // RFC 8288: a second rel parameter on the same link is ignored.
    EXPECT_EQ(find_link("<https://x.test/1>; rel=prev; rel=next", "next"), std::nullopt);
}

TEST(FindLink, QuotedStringEscapes) {
    EXPECT_EQ(find_link("<https://x.test/1>; title=\"say \\\"hi\\\"\"; rel=\"ne\\xt\"", "next"),
              "https://x.test/1");
}

TEST(FindLink, AbsentOrEmpty) {
    EXPECT_EQ(find_link("", "next"), std::nullopt);
    EXPECT_EQ(find_link("   ", "next"), std::nullopt);
    EXPECT_EQ(find_link("<https://x.test/1>", "next"), std::nullopt);  // no rel at all
    EXPECT_EQ(find_link("<https://x.test/1>; rel=\"next\"", ""), std::nullopt);
}

TEST(FindLink, MalformedInputGivesNothing) {
    EXPECT_EQ(find_link("https://x.test/1; rel=\"next\"", "next"), std::nullopt);   // no <>
    EXPECT_EQ(find_link("<https://x.test/1; rel=\"next\"", "next"), std::nullopt);  // no >
    EXPECT_EQ(find_link("<https://x.test/1>; rel=\"next", "next"), std::nullopt);   // open quote
    EXPECT_EQ(find_link("<https://x.test/1> rel=\"next\"", "next"), std::nullopt);  // no ;
    EXPECT_EQ(find_link("<https://x.test/1>; =next", "next"), std::nullopt);        // no name
    EXPECT_EQ(find_link("<https://x.test/1>; rel=", "next"), std::nullopt);         // no value
    EXPECT_EQ(find_link("<>; rel=\"next\"", "next"), std::nullopt);                 // empty URL
    EXPECT_EQ(find_link("<https://x.test/a b>; rel=\"next\"", "next"), std::nullopt);
    EXPECT_EQ(find_link("garbage", "next"), std::nullopt);
    // A broken element anywhere makes the whole header untrustworthy.
    EXPECT_EQ(find_link("<https://x.test/1>; rel=\"next\", junk", "next"), std::nullopt);
    EXPECT_EQ(find_link("<https://x.test/1>; rel=\"next\" <https://x.test/2>", "next"), std::nullopt);
}

TEST(SameOrigin, SameSchemeHostPort) {
    const std::string base = "https://api.github.com";
    EXPECT_TRUE(same_origin("https://api.github.com/user/1/gists?page=2", base));
    EXPECT_TRUE(same_origin("https://API.GitHub.com/x", base));
    EXPECT_TRUE(same_origin("HTTPS://api.github.com:443/x", base));
    EXPECT_TRUE(same_origin("https://api.github.com", base));
    EXPECT_TRUE(same_origin("https://api.github.com?x=1", base));
    EXPECT_TRUE(same_origin("http://127.0.0.1:8089/users/a/gists", "http://127.0.0.1:8089"));
    EXPECT_TRUE(same_origin("http://localhost/x", "http://localhost:80"));
    EXPECT_TRUE(same_origin("https://ghe.example.com/api/v3/x", "https://ghe.example.com/api/v3"));
    EXPECT_TRUE(same_origin("http://[::1]:8080/x", "http://[::1]:8080"));
}

TEST(SameOrigin, DifferentOrigins) {
    const std::string base = "https://api.github.com";
    EXPECT_FALSE(same_origin("http://api.github.com/x", base));
    EXPECT_FALSE(same_origin("https://api.github.com:8443/x", base));
    EXPECT_FALSE(same_origin("https://evil.example/x", base));
    EXPECT_FALSE(same_origin("https://api.github.com.evil.example/x", base));
    EXPECT_FALSE(same_origin("https://github.com/x", base));
    EXPECT_FALSE(same_origin("http://[::1]:8080/x", "http://[::2]:8080"));
}

TEST(SameOrigin, RefusesTrickyOrMalformedUrls) {
    const std::string base = "https://api.github.com";
    EXPECT_FALSE(same_origin("https://api.github.com@evil.example/x", base));
    EXPECT_FALSE(same_origin("https://user:pw@api.github.com/x", base));
    EXPECT_FALSE(same_origin("https://api.github.com\\@evil.example/x", base));
    EXPECT_FALSE(same_origin("/user/1/gists?page=2", base));        // relative
    EXPECT_FALSE(same_origin("//api.github.com/x", base));          // scheme-relative
    EXPECT_FALSE(same_origin("ftp://api.github.com/x", "ftp://api.github.com"));
    EXPECT_FALSE(same_origin("https://api.github.com:abc/x", base));
    EXPECT_FALSE(same_origin("https://api.github.com:99999/x", base));
    EXPECT_FALSE(same_origin("https:///x", base));
    EXPECT_FALSE(same_origin("", base));
    EXPECT_FALSE(same_origin("https://api.github.com/x", ""));
}

}  // namespace
}  // namespace gist
