#include "gist/login.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gist {
namespace {

TEST(IsValidLogin, AcceptsTypicalLogins) {
    EXPECT_TRUE(is_valid_login("octocat"));
    EXPECT_TRUE(is_valid_login("a"));
    EXPECT_TRUE(is_valid_login("7"));
    EXPECT_TRUE(is_valid_login("a-b"));
    EXPECT_TRUE(is_valid_login("Mona-Lisa-2"));
    EXPECT_TRUE(is_valid_login("ABCxyz0189"));
}

TEST(IsValidLogin, LengthBoundaries) {
    EXPECT_FALSE(is_valid_login(""));
    EXPECT_TRUE(is_valid_login(std::string(39, 'a')));
    EXPECT_FALSE(is_valid_login(std::string(40, 'a')));
    EXPECT_FALSE(is_valid_login(std::string(1000, 'a')));
}

TEST(IsValidLogin, HyphenRules) {
    EXPECT_FALSE(is_valid_login("-"));
    EXPECT_FALSE(is_valid_login("-abc"));
    EXPECT_FALSE(is_valid_login("abc-"));
    EXPECT_FALSE(is_valid_login("a--b"));
    EXPECT_TRUE(is_valid_login("a-b-c"));
}

TEST(IsValidLogin, RejectsOtherCharacters) {
    EXPECT_FALSE(is_valid_login("a_b"));
    EXPECT_FALSE(is_valid_login("a.b"));
    EXPECT_FALSE(is_valid_login("a/b"));
    EXPECT_FALSE(is_valid_login("../etc"));
    EXPECT_FALSE(is_valid_login("a%2Fb"));
    EXPECT_FALSE(is_valid_login("a b"));
    EXPECT_FALSE(is_valid_login("a:b"));
    EXPECT_FALSE(is_valid_login("a\nb"));
    EXPECT_FALSE(is_valid_login(std::string("a\0b", 3)));
    EXPECT_FALSE(is_valid_login("us\xC3\xA9r"));        // "usér" in UTF-8
    EXPECT_FALSE(is_valid_login("\xD0\xB0\xD0\xB1"));   // Cyrillic "аб"
    EXPECT_FALSE(is_valid_login("\xEF\xBC\xA1"));       // fullwidth 'A'
}

TEST(NormalizeLogin, LowerCasesAsciiOnly) {
    EXPECT_EQ(normalize_login("OctoCat"), "octocat");
    EXPECT_EQ(normalize_login("ABC-123-xyz"), "abc-123-xyz");
    EXPECT_EQ(normalize_login(""), "");
    EXPECT_EQ(normalize_login("\xC3\x89"), "\xC3\x89");  // non-ASCII bytes untouched
}

TEST(NormalizeLogin, IsIdempotent) {
    const std::string once = normalize_login("MiXeD-Case9");
    EXPECT_EQ(normalize_login(once), once);
}

}  // namespace
}  // namespace gist
