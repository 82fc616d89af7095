#include "gist/gist.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gist {
namespace {

using nlohmann::json;

Gist sample() {
    Gist g;
    g.id = "aa5a315d61ae9438b18d";
    g.html_url = "https://gist.github.com/aa5a315d61ae9438b18d";
    g.description = "Hello \xE2\x9C\x93 world";  // check mark, UTF-8
    g.files = {"zeta.py", "alpha.md"};
    g.created_at = "2010-04-14T02:15:15Z";
    g.updated_at = "2011-06-20T11:34:15Z";
    return g;
}

Gist with(std::string id, std::string created_at) {
    Gist g;
    g.id = std::move(id);
    g.created_at = std::move(created_at);
    return g;
}

std::vector<std::string> ids(const std::vector<Gist>& gists) {
    std::vector<std::string> out;
    for (const auto& g : gists) {
        out.push_back(g.id);
    }
    return out;
}

TEST(GistToJson, HasTheDocumentedShape) {
    const json j = to_json(sample());
    EXPECT_EQ(j.at("id"), "aa5a315d61ae9438b18d");
    EXPECT_EQ(j.at("html_url"), "https://gist.github.com/aa5a315d61ae9438b18d");
    EXPECT_EQ(j.at("description"), "Hello \xE2\x9C\x93 world");
    EXPECT_EQ(j.at("files"), json::array({"zeta.py", "alpha.md"}));
    EXPECT_EQ(j.at("created_at"), "2010-04-14T02:15:15Z");
    EXPECT_EQ(j.at("updated_at"), "2011-06-20T11:34:15Z");
    EXPECT_FALSE(j.contains("truncated"));  // only written when true
    EXPECT_EQ(j.size(), 6u);
}

TEST(GistToJson, NullDescriptionAndTruncated) {
    Gist g = sample();
    g.description.reset();
    g.truncated = true;
    g.files.clear();
    const json j = to_json(g);
    ASSERT_TRUE(j.contains("description"));
    EXPECT_TRUE(j.at("description").is_null());
    EXPECT_EQ(j.at("truncated"), true);
    EXPECT_EQ(j.at("files"), json::array());
}

TEST(GistFromJson, RoundTrips) {
    Gist g = sample();
    for (bool truncated : {false, true}) {
        for (bool has_description : {false, true}) {
            g.truncated = truncated;
            g.description = has_description ? std::optional<std::string>("d") : std::nullopt;
            const Gist back = gist_from_json(to_json(g));
            EXPECT_EQ(back.id, g.id);
            EXPECT_EQ(back.html_url, g.html_url);
            EXPECT_EQ(back.description, g.description);
            EXPECT_EQ(back.files, g.files);
            EXPECT_EQ(back.truncated, g.truncated);
            EXPECT_EQ(back.created_at, g.created_at);
            EXPECT_EQ(back.updated_at, g.updated_at);
        }
    }
}

TEST(GistFromJson, RoundTripsThroughText) {
    // State goes to Redis as text; UTF-8 must survive dump/parse.
    const Gist back = gist_from_json(json::parse(to_json(sample()).dump()));
    EXPECT_EQ(back.description, sample().description);
    EXPECT_EQ(back.files, sample().files);
}

TEST(GistFromJson, MissingDescriptionIsNull) {
    json j = to_json(sample());
    j.erase("description");
    EXPECT_EQ(gist_from_json(j).description, std::nullopt);
}

TEST(GistFromJson, RejectsBadInput) {
    EXPECT_THROW(gist_from_json(json::array()), std::runtime_error);
    EXPECT_THROW(gist_from_json(json("text")), std::runtime_error);
    EXPECT_THROW(gist_from_json(json(nullptr)), std::runtime_error);

    const json good = to_json(sample());
    for (const char* key : {"id", "html_url", "created_at", "updated_at", "files"}) {
        json j = good;
        j.erase(key);
        EXPECT_THROW(gist_from_json(j), std::runtime_error) << "missing " << key;
        j[key] = 42;
        EXPECT_THROW(gist_from_json(j), std::runtime_error) << "numeric " << key;
    }
    json j = good;
    j["id"] = "";
    EXPECT_THROW(gist_from_json(j), std::runtime_error);
    j = good;
    j["description"] = 7;
    EXPECT_THROW(gist_from_json(j), std::runtime_error);
    j = good;
    j["files"] = json::array({"a", 1});
    EXPECT_THROW(gist_from_json(j), std::runtime_error);
    j = good;
    j["truncated"] = "yes";
    EXPECT_THROW(gist_from_json(j), std::runtime_error);
}

TEST(SortNewestFirst, ByCreatedAtDescending) {
    std::vector<Gist> gists = {with("a", "2020-01-01T00:00:00Z"), with("b", "2022-06-01T12:00:00Z"),
                               with("c", "2021-03-05T08:30:00Z")};
    sort_newest_first(gists);
    EXPECT_EQ(ids(gists), (std::vector<std::string>{"b", "c", "a"}));
}

TEST(SortNewestFirst, TiesBrokenByIdDescending) {
    std::vector<Gist> gists = {with("111", "2020-01-01T00:00:00Z"), with("fff", "2020-01-01T00:00:00Z"),
                               with("999", "2020-01-01T00:00:00Z"), with("old", "2019-01-01T00:00:00Z")};
    sort_newest_first(gists);
    EXPECT_EQ(ids(gists), (std::vector<std::string>{"fff", "999", "111", "old"}));
}

TEST(SortNewestFirst, ComparesInstantsNotText) {
    // 10:00+02:00 is 08:00Z, older than 09:00Z although its text sorts higher.
    std::vector<Gist> gists = {with("offset", "2020-01-01T10:00:00+02:00"),
                               with("zulu", "2020-01-01T09:00:00Z"),
                               with("frac", "2020-01-01T09:00:00.5Z")};
    sort_newest_first(gists);
    EXPECT_EQ(ids(gists), (std::vector<std::string>{"frac", "zulu", "offset"}));
}

TEST(SortNewestFirst, UnparsableTimesGoLast) {
    std::vector<Gist> gists = {with("x", ""), with("y", "2001-01-01T00:00:00Z"), with("z", "garbage")};
    sort_newest_first(gists);
    EXPECT_EQ(ids(gists), (std::vector<std::string>{"y", "z", "x"}));
}

TEST(SortNewestFirst, KeepsAllFieldsAndHandlesEmpty) {
    std::vector<Gist> none;
    sort_newest_first(none);
    EXPECT_TRUE(none.empty());

    std::vector<Gist> gists = {with("a", "2020-01-01T00:00:00Z"), sample()};
    sort_newest_first(gists);
    ASSERT_EQ(gists.size(), 2u);
    EXPECT_EQ(gists[0].id, "a");
    EXPECT_EQ(gists[1].files, sample().files);
    EXPECT_EQ(gists[1].description, sample().description);
}

TEST(SortNewestFirst, IsDeterministicRegardlessOfInputOrder) {
    std::vector<Gist> a = {with("1", "2020-01-01T00:00:00Z"), with("2", "2020-01-01T00:00:00Z"),
                           with("3", "2021-01-01T00:00:00Z")};
    std::vector<Gist> b = {a[2], a[1], a[0]};
    sort_newest_first(a);
    sort_newest_first(b);
    EXPECT_EQ(ids(a), ids(b));
    EXPECT_EQ(ids(a), (std::vector<std::string>{"3", "2", "1"}));
}

}  // namespace
}  // namespace gist
