// The read path's pieces (docs/read-path.md): entity tags, If-None-Match, page cursors, query
// parameters and the response cache.
#include "gist/entity_tag.hpp"
#include "gist/page_cursor.hpp"
#include "gist/response_cache.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace gist {
namespace {

using std::chrono::milliseconds;

TEST(EntityTag, StrongQuotedAndStableForEqualBodies) {
    const auto tag = strong_etag(R"({"count":0,"users":[]})");
    EXPECT_EQ(tag.size(), 18u);
    EXPECT_EQ(tag.front(), '"');
    EXPECT_EQ(tag.back(), '"');
    EXPECT_EQ(tag, strong_etag(R"({"count":0,"users":[]})"));
    EXPECT_NE(tag, strong_etag(R"({"count":1,"users":[]})"));
    EXPECT_EQ(strong_etag(""), "\"cbf29ce484222325\"");  // FNV-1a 64 offset basis: the empty body
}

TEST(EntityTag, IfNoneMatchComparesWeaklyOverAList) {
    const std::string tag = "\"0123456789abcdef\"";
    EXPECT_TRUE(if_none_match_matches(tag, tag));
    EXPECT_TRUE(if_none_match_matches("*", tag));
    EXPECT_TRUE(if_none_match_matches(" W/\"0123456789abcdef\"", tag));
    EXPECT_TRUE(if_none_match_matches("\"x\", \"0123456789abcdef\"", tag));
    EXPECT_FALSE(if_none_match_matches("\"x\", \"y\"", tag));
    EXPECT_FALSE(if_none_match_matches("0123456789abcdef", tag));  // unquoted is another tag
    EXPECT_FALSE(if_none_match_matches("", tag));
}

TEST(PageCursor, RoundTripsEveryLoginAndIsOpaque) {
    for (const std::string& login : std::vector<std::string>{"a", "ab", "abc", "octocat", "a-b-c", std::string(39, 'z')}) {
        const auto cursor = encode_page_cursor(login);
        EXPECT_EQ(cursor.find(login), std::string::npos) << cursor;
        EXPECT_EQ(decode_page_cursor(cursor), login) << cursor;
    }
}

TEST(PageCursor, RejectsWhatWeDidNotMake) {
    EXPECT_FALSE(decode_page_cursor(""));
    EXPECT_FALSE(decode_page_cursor("!!!"));
    EXPECT_FALSE(decode_page_cursor("b2N0b2NhdA=="));              // padding is not ours
    EXPECT_FALSE(decode_page_cursor(encode_page_cursor("-bad")));  // not a login
    EXPECT_FALSE(decode_page_cursor(encode_page_cursor("Octocat")));  // logins are kept lower case
    EXPECT_FALSE(decode_page_cursor("b2N0b2NhdB"));                // stray bits after the last byte
    EXPECT_FALSE(decode_page_cursor(std::string(100, 'A')));
}

TEST(QueryParameter, FindsAndDecodes) {
    EXPECT_EQ(query_parameter("limit=10&cursor=abc", "cursor"), "abc");
    EXPECT_EQ(query_parameter("limit=10&cursor=abc", "limit"), "10");
    EXPECT_EQ(query_parameter("a=x%20y+z", "a"), "x y z");
    EXPECT_EQ(query_parameter("flag&b=1", "flag"), "");
    EXPECT_FALSE(query_parameter("limit=10", "cursor"));
    EXPECT_FALSE(query_parameter("", "cursor"));
    EXPECT_EQ(query_parameter("a=%zz", "a"), "%zz");  // not an escape: kept as it is
}

class ResponseCacheTest : public ::testing::Test {
protected:
    static ApiResponse body(std::string text) {
        ApiResponse r;
        r.body = std::move(text);
        return r;
    }
    LocalChangeSignal signal;
    ResponseCache::Clock::time_point t0 = ResponseCache::Clock::now();
};

TEST_F(ResponseCacheTest, HitWithinTheTtlMissAfter) {
    ResponseCache cache(milliseconds(1000), signal);
    cache.store("k", body("v"), signal.generation(), t0);
    ASSERT_NE(cache.find("k", t0 + milliseconds(999)), nullptr);
    EXPECT_EQ(cache.find("k", t0 + milliseconds(999))->body, "v");
    EXPECT_EQ(cache.find("k", t0 + milliseconds(1000)), nullptr);
    EXPECT_EQ(cache.size(), 0u) << "an expired entry is dropped";
}

TEST_F(ResponseCacheTest, AChangeInvalidatesAtOnce) {
    ResponseCache cache(milliseconds(60000), signal);
    cache.store("k", body("v"), signal.generation(), t0);
    signal.bump();
    EXPECT_EQ(cache.find("k", t0), nullptr);
}

TEST_F(ResponseCacheTest, AnAnswerReadBeforeAChangeIsNotStored) {
    ResponseCache cache(milliseconds(60000), signal);
    const auto read_began = signal.generation();
    signal.bump();  // a change while the read was under way
    cache.store("k", body("old"), read_began, t0);
    EXPECT_EQ(cache.find("k", t0), nullptr);
}

TEST_F(ResponseCacheTest, TtlZeroKeepsNothing) {
    ResponseCache cache(milliseconds(0), signal);
    EXPECT_FALSE(cache.enabled());
    cache.store("k", body("v"), signal.generation(), t0);
    EXPECT_EQ(cache.find("k", t0), nullptr);
}

TEST_F(ResponseCacheTest, BoundedByBytesLeastRecentlyUsedFirst) {
    ResponseCache cache(milliseconds(60000), signal, 3 * (1 + 1000 + 64));
    for (const char* k : {"a", "b", "c"}) {
        cache.store(k, body(std::string(1000, 'x')), signal.generation(), t0);
    }
    ASSERT_NE(cache.find("a", t0), nullptr);  // a is now the most recently used
    cache.store("d", body(std::string(1000, 'x')), signal.generation(), t0);
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_EQ(cache.find("b", t0), nullptr) << "the least recently used goes first";
    EXPECT_NE(cache.find("a", t0), nullptr);
    EXPECT_NE(cache.find("c", t0), nullptr);
    EXPECT_NE(cache.find("d", t0), nullptr);
    EXPECT_LE(cache.bytes(), 3u * (1 + 1000 + 64));
    cache.store("huge", body(std::string(10000, 'x')), signal.generation(), t0);
    EXPECT_EQ(cache.find("huge", t0), nullptr) << "larger than the whole cache: not kept";
}

}  // namespace
}  // namespace gist
