#include "gist/log_text.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace gist {
namespace {

TEST(LogSafe, PrintableTextIsUnchanged) {
    EXPECT_EQ(log_safe(""), "");
    EXPECT_EQ(log_safe("gist: GitHub scan of octocat failed: HTTP 500: Server Error"),
              "gist: GitHub scan of octocat failed: HTTP 500: Server Error");
    EXPECT_EQ(log_safe("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80"),
              "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80");
}

TEST(LogSafe, LineBreaksCannotForgeALogLine) {
    const std::string forged = log_safe("Bad credentials\r\n2026/01/01 00:00:00 [emerg] 1#1: forged");
    EXPECT_EQ(forged, "Bad credentials\\x0D\\x0A2026/01/01 00:00:00 [emerg] 1#1: forged");
    EXPECT_EQ(forged.find('\n'), std::string::npos);
    EXPECT_EQ(forged.find('\r'), std::string::npos);
}

TEST(LogSafe, EveryControlByteIsEscaped) {
    for (int b = 0; b < 0x20; ++b) {
        const std::string out = log_safe(std::string(1, static_cast<char>(b)));
        char expected[8];
        std::snprintf(expected, sizeof(expected), "\\x%02X", b);
        EXPECT_EQ(out, expected);
    }
    EXPECT_EQ(log_safe("\x7F"), "\\x7F");
    EXPECT_EQ(log_safe("\x1B[31mred\x1B[0m"), "\\x1B[31mred\\x1B[0m");
    EXPECT_EQ(log_safe(std::string("a\0b", 3)), "a\\x00b");
}

TEST(LogSafe, BackslashIsEscapedSoEscapesCannotBeForged) {
    EXPECT_EQ(log_safe("\\x0A"), "\\x5Cx0A");
}

TEST(LogSafe, C1ControlsAndInvalidUtf8AreEscapedBytewise) {
    EXPECT_EQ(log_safe("\xC2\x9B" "31m"), "\\xC2\\x9B31m");  // U+009B: CSI on 8-bit terminals
    EXPECT_EQ(log_safe("\xC2\x85"), "\\xC2\\x85");          // U+0085: next line
    EXPECT_EQ(log_safe("\xC2\xA0"), "\xC2\xA0");             // U+00A0 is text
    EXPECT_EQ(log_safe("\xFF\xFE"), "\\xFF\\xFE");
    EXPECT_EQ(log_safe("\xC0\x8A"), "\\xC0\\x8A");           // overlong LF
    EXPECT_EQ(log_safe("\xED\xA0\x80"), "\\xED\\xA0\\x80");  // a surrogate
    EXPECT_EQ(log_safe("ab\xE6\x97"), "ab\\xE6\\x97");       // cut off
}

}  // namespace
}  // namespace gist
