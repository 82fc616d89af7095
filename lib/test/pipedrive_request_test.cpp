#include "gist/pipedrive_request.hpp"
#include "gist/pipedrive_settings.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

namespace gist {
namespace {

PipedriveSettings minimal() {
    PipedriveSettings s;
    s.api_url = "https://example.pipedrive.com";
    s.token = "s3cr3t-token";
    s.timeout = std::chrono::milliseconds(7000);
    return s;
}

PipedriveSettings full() {
    PipedriveSettings s = minimal();
    s.pipeline_id = 3;
    s.stage_id = 12;
    s.owner_id = 99;
    s.value = 250.5;
    s.currency = "EUR";
    s.visible_to = 3;
    return s;
}

const std::string* header(const HttpRequest& req, const std::string& name) {
    for (const auto& [k, v] : req.headers) {
        if (k == name) {
            return &v;
        }
    }
    return nullptr;
}

void expect_common(const HttpRequest& req, bool with_body) {
    ASSERT_NE(header(req, "x-api-token"), nullptr);
    EXPECT_EQ(*header(req, "x-api-token"), "s3cr3t-token");
    ASSERT_NE(header(req, "Accept"), nullptr);
    EXPECT_EQ(*header(req, "Accept"), "application/json");
    if (with_body) {
        ASSERT_NE(header(req, "Content-Type"), nullptr);
        EXPECT_EQ(*header(req, "Content-Type"), "application/json");
    } else {
        EXPECT_EQ(header(req, "Content-Type"), nullptr);
        EXPECT_TRUE(req.body.empty());
    }
    EXPECT_EQ(req.url.find("s3cr3t"), std::string::npos) << "token must never be in the URL";
    EXPECT_EQ(req.url.find("api_token"), std::string::npos);
    EXPECT_EQ(req.timeout, std::chrono::milliseconds(7000));
}

TEST(PipedriveRequest, UrlEncodeKeepsUnreservedOnly) {
    EXPECT_EQ(pipedrive_url_encode("octocat"), "octocat");
    EXPECT_EQ(pipedrive_url_encode("a-b_c.d~e09AZ"), "a-b_c.d~e09AZ");
    EXPECT_EQ(pipedrive_url_encode("a b"), "a%20b");
    EXPECT_EQ(pipedrive_url_encode("a&b=c?d#e/f+g%"), "a%26b%3Dc%3Fd%23e%2Ff%2Bg%25");
    EXPECT_EQ(pipedrive_url_encode("\xC3\xA9"), "%C3%A9");  // é
    EXPECT_EQ(pipedrive_url_encode(""), "");
}

TEST(PipedriveRequest, CreateDealMinimal) {
    const HttpRequest req = pipedrive_create_deal_request(minimal(), "Gist abc by me: x", 42);
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.url, "https://example.pipedrive.com/api/v2/deals");
    expect_common(req, true);
    const auto body = nlohmann::json::parse(req.body);
    EXPECT_EQ(body, (nlohmann::json{{"title", "Gist abc by me: x"}, {"person_id", 42}}));
}

TEST(PipedriveRequest, CreateDealWithAdminFields) {
    const HttpRequest req = pipedrive_create_deal_request(full(), "T", 7);
    const auto body = nlohmann::json::parse(req.body);
    EXPECT_EQ(body["title"], "T");
    EXPECT_EQ(body["person_id"], 7);
    EXPECT_EQ(body["pipeline_id"], 3);
    EXPECT_EQ(body["stage_id"], 12);
    EXPECT_EQ(body["owner_id"], 99);
    EXPECT_DOUBLE_EQ(body["value"].get<double>(), 250.5);
    EXPECT_EQ(body["currency"], "EUR");
    EXPECT_EQ(body["visible_to"], 3);
    EXPECT_TRUE(body["person_id"].is_number_integer());
    EXPECT_TRUE(body["value"].is_number());
    EXPECT_EQ(body.size(), 8u);
}

TEST(PipedriveRequest, CreateDealWithoutPersonOmitsIt) {
    const auto body =
        nlohmann::json::parse(pipedrive_create_deal_request(minimal(), "T", std::nullopt).body);
    EXPECT_FALSE(body.contains("person_id"));
}

TEST(PipedriveRequest, CreateDealSurvivesInvalidUtf8Title) {
    const HttpRequest req = pipedrive_create_deal_request(minimal(), "bad \xFF byte", 1);
    const auto body = nlohmann::json::parse(req.body);
    EXPECT_EQ(body["title"], "bad \xEF\xBF\xBD byte");
}

TEST(PipedriveRequest, TrailingSlashInBaseIsTolerated) {
    PipedriveSettings s = minimal();
    s.api_url = "http://127.0.0.1:8080/";
    EXPECT_EQ(pipedrive_create_deal_request(s, "T", 1).url, "http://127.0.0.1:8080/api/v2/deals");
}

TEST(PipedriveRequest, SearchPersonByExactName) {
    const HttpRequest req = pipedrive_search_person_request(minimal(), "Mona-Lisa");
    EXPECT_EQ(req.method, "GET");
    EXPECT_EQ(req.url,
              "https://example.pipedrive.com/api/v2/persons/search?term=Mona-Lisa&fields=name"
              "&exact_match=true");
    expect_common(req, false);
}

TEST(PipedriveRequest, SearchPersonEncodesTerm) {
    const HttpRequest req = pipedrive_search_person_request(minimal(), "a b&c");
    EXPECT_NE(req.url.find("term=a%20b%26c&"), std::string::npos) << req.url;
}

TEST(PipedriveRequest, CreatePerson) {
    const HttpRequest req = pipedrive_create_person_request(minimal(), "octocat");
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.url, "https://example.pipedrive.com/api/v2/persons");
    expect_common(req, true);
    EXPECT_EQ(nlohmann::json::parse(req.body), (nlohmann::json{{"name", "octocat"}}));
}

TEST(PipedriveRequest, CreatePersonTakesOwnerAndVisibility) {
    const auto body = nlohmann::json::parse(pipedrive_create_person_request(full(), "x").body);
    EXPECT_EQ(body, (nlohmann::json{{"name", "x"}, {"owner_id", 99}, {"visible_to", 3}}));
}

TEST(PipedriveRequest, SearchDealByGistIdInTitle) {
    const HttpRequest req = pipedrive_search_deal_request(minimal(), "aa5a315d61ae9438b18d");
    EXPECT_EQ(req.method, "GET");
    EXPECT_EQ(req.url,
              "https://example.pipedrive.com/api/v2/deals/search?term=aa5a315d61ae9438b18d"
              "&fields=title&exact_match=false");
    expect_common(req, false);
    EXPECT_NE(pipedrive_search_deal_request(minimal(), "x1", 5).url.find("&person_id=5"),
              std::string::npos);
}

TEST(PipedriveRequest, ListDealsOfPersonSince) {
    const HttpRequest req =
        pipedrive_list_deals_request(minimal(), 101, "2026-08-20T11:55:00Z");
    EXPECT_EQ(req.method, "GET");
    EXPECT_EQ(req.url,
              "https://example.pipedrive.com/api/v2/deals?person_id=101"
              "&updated_since=2026-08-20T11%3A55%3A00Z&sort_by=add_time&sort_direction=desc"
              "&limit=100");
    expect_common(req, false);
}

TEST(PipedriveRequest, ListPersonsSince) {
    const HttpRequest req = pipedrive_list_persons_request(minimal(), "2026-08-20T11:55:00Z");
    EXPECT_EQ(req.url,
              "https://example.pipedrive.com/api/v2/persons?updated_since=2026-08-20T11%3A55%3A00Z"
              "&sort_by=add_time&sort_direction=desc&limit=100");
    expect_common(req, false);
}

TEST(PipedriveRequest, ListNotesOfDeal) {
    const HttpRequest req = pipedrive_list_notes_request(minimal(), 5001);
    EXPECT_EQ(req.method, "GET");
    EXPECT_EQ(req.url, "https://example.pipedrive.com/api/v1/notes?deal_id=5001&limit=100");
    expect_common(req, false);
}

TEST(PipedriveRequest, CreateNoteOnV1) {
    const HttpRequest req = pipedrive_create_note_request(minimal(), 123, "<p>hi &amp; bye</p>");
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.url, "https://example.pipedrive.com/api/v1/notes");
    expect_common(req, true);
    EXPECT_EQ(nlohmann::json::parse(req.body),
              (nlohmann::json{{"content", "<p>hi &amp; bye</p>"}, {"deal_id", 123}}));
}

TEST(PipedriveRequest, UnsafeTokenIsNotSent) {
    PipedriveSettings s = minimal();
    s.token = "abc\r\nX-Evil: 1";
    const HttpRequest req = pipedrive_create_person_request(s, "x");
    EXPECT_EQ(header(req, "x-api-token"), nullptr);
}

TEST(PipedriveRequest, LogLineNeverShowsToken) {
    for (const HttpRequest& req :
         {pipedrive_create_deal_request(full(), "T", 1), pipedrive_search_person_request(full(), "u"),
          pipedrive_create_person_request(full(), "u"), pipedrive_search_deal_request(full(), "g"),
          pipedrive_create_note_request(full(), 1, "c"),
          pipedrive_list_deals_request(full(), 1, "t"), pipedrive_list_persons_request(full(), "t"),
          pipedrive_list_notes_request(full(), 1)}) {
        const std::string line = pipedrive_request_log_line(req);
        EXPECT_EQ(line.find("s3cr3t"), std::string::npos) << line;
        EXPECT_EQ(line.rfind(req.method + " https://example.pipedrive.com/api/v", 0), 0u) << line;
    }
    HttpRequest legacy;
    legacy.method = "GET";
    legacy.url = "https://x/api/v1/notes?api_token=s3cr3t&start=0&api_token=again";
    EXPECT_EQ(pipedrive_request_log_line(legacy),
              "GET https://x/api/v1/notes?api_token=***&start=0&api_token=***");
}

TEST(PipedriveSettingsCheck, AcceptsGoodSettings) {
    EXPECT_EQ(check_pipedrive_settings(minimal()), "");
    EXPECT_EQ(check_pipedrive_settings(full()), "");
    PipedriveSettings s = minimal();
    s.api_url = "http://127.0.0.1:8080/";
    EXPECT_EQ(check_pipedrive_settings(s), "");
}

TEST(PipedriveSettingsCheck, RejectsBadSettings) {
    const auto bad = [](auto mutate) {
        PipedriveSettings s = full();
        mutate(s);
        const std::string problem = check_pipedrive_settings(s);
        EXPECT_EQ(problem.find("s3cr3t"), std::string::npos);
        return !problem.empty();
    };
    EXPECT_TRUE(bad([](PipedriveSettings& s) { s.api_url = "ftp://x"; }));
    EXPECT_TRUE(bad([](PipedriveSettings& s) { s.api_url = "https://"; }));
    EXPECT_TRUE(bad([](PipedriveSettings& s) { s.api_url = "https://x?api_token=1"; }));
    EXPECT_TRUE(bad([](PipedriveSettings& s) { s.token = ""; }));
    EXPECT_TRUE(bad([](PipedriveSettings& s) { s.token = "s3cr3t\n"; }));
    EXPECT_TRUE(bad([](PipedriveSettings& s) { s.stage_id = 0; }));
    EXPECT_TRUE(bad([](PipedriveSettings& s) { s.value = -1; }));
    EXPECT_TRUE(bad([](PipedriveSettings& s) { s.currency = "EURO"; }));
    EXPECT_TRUE(bad([](PipedriveSettings& s) { s.visible_to = 2; }));
    EXPECT_TRUE(bad([](PipedriveSettings& s) { s.timeout = std::chrono::milliseconds(0); }));
}

}  // namespace
}  // namespace gist
