#include "gist/pipedrive_response.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gist {
namespace {

using std::chrono::seconds;
using Outcome = PipedriveOutcome;

// 2026-08-20T12:00:00Z
const auto now = std::chrono::system_clock::time_point(seconds(1787227200));

HttpResponse http(long status, std::string body, std::map<std::string, std::string> headers = {}) {
    HttpResponse r;
    r.request_sent = true;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    r.headers.emplace("content-type", "application/json");
    return r;
}

HttpResponse transport(TransportError e, bool sent, std::string message = {}) {
    HttpResponse r;
    r.error = e;
    r.request_sent = sent;
    r.error_message = std::move(message);
    return r;
}

PipedriveVerdict create(const HttpResponse& r) {
    return classify_pipedrive_response(r, now, PipedriveCall::create);
}
PipedriveVerdict search(const HttpResponse& r) {
    return classify_pipedrive_response(r, now, PipedriveCall::search);
}

// --- successes, one per endpoint ------------------------------------------------------------

TEST(PipedriveResponse, CreateDealSuccess) {
    const auto v = create(http(200, R"({"success":true,"data":{"id":101,"title":"Gist a by b: c",
        "owner_id":1,"person_id":7,"stage_id":1,"pipeline_id":1,"status":"open","value":0,
        "currency":"EUR","add_time":"2026-08-20T12:00:00Z","custom_fields":{}},
        "additional_data":null})"));
    EXPECT_EQ(v.outcome, Outcome::ok);
    ASSERT_TRUE(v.id);
    EXPECT_EQ(*v.id, 101);
    EXPECT_EQ(v.status, 200);
    EXPECT_EQ(v.reason, "ok");
}

TEST(PipedriveResponse, CreatePersonSuccess201) {
    const auto v = create(http(201, R"({"success":true,"data":{"id":9001,"name":"octocat",
        "emails":[],"phones":[],"owner_id":1,"visible_to":3}})"));
    EXPECT_EQ(v.outcome, Outcome::ok);
    EXPECT_EQ(v.id, 9001);
}

TEST(PipedriveResponse, CreateNoteSuccess) {
    const auto v = create(http(200, R"({"success":true,"data":{"id":55,"content":"<p>x</p>",
        "deal_id":101,"active_flag":true,"pinned_to_deal_flag":false}})"));
    EXPECT_EQ(v.outcome, Outcome::ok);
    EXPECT_EQ(v.id, 55);
}

TEST(PipedriveResponse, SearchPersonsSuccess) {
    const auto v = search(http(200, R"({"success":true,"data":{"items":[{"result_score":1.0,
        "item":{"id":7,"type":"person","name":"octocat"}}]},
        "additional_data":{"next_cursor":null}})"));
    EXPECT_EQ(v.outcome, Outcome::ok);
    EXPECT_FALSE(v.id);
}

TEST(PipedriveResponse, SearchDealsEmptySuccess) {
    EXPECT_EQ(search(http(200, R"({"success":true,"data":{"items":[]}})")).outcome, Outcome::ok);
    EXPECT_EQ(search(http(200, R"({"success":true,"data":null})")).outcome, Outcome::ok);
}

// The consistent look-ups (GET /api/v2/persons, /api/v2/deals, /api/v1/notes?deal_id) answer a
// list: "data" is an array. Taking that for unreadable made every ambiguous create retry for ever.
TEST(PipedriveResponse, ListLookupSuccess) {
    EXPECT_EQ(search(http(200, R"({"success":true,"data":[{"id":7,"name":"octocat"}],
        "additional_data":{"next_cursor":null}})")).outcome, Outcome::ok);
    EXPECT_EQ(search(http(200, R"({"success":true,"data":[]})")).outcome, Outcome::ok);
}

// --- malformed successes --------------------------------------------------------------------

TEST(PipedriveResponse, GarbageBodyOn2xxCreateIsAmbiguous) {
    for (const char* body : {"", "<html>oops</html>", "{\"success\":true", "[]", "null"}) {
        const auto v = create(http(200, body));
        EXPECT_EQ(v.outcome, Outcome::ambiguous) << body;
        EXPECT_EQ(v.reason, "bad_response");
    }
}

TEST(PipedriveResponse, SuccessWithoutIntegerIdIsAmbiguous) {
    EXPECT_EQ(create(http(200, R"({"success":true,"data":{}})")).outcome, Outcome::ambiguous);
    EXPECT_EQ(create(http(200, R"({"success":true,"data":{"id":"101"}})")).outcome,
              Outcome::ambiguous);
    EXPECT_EQ(create(http(200, R"({"success":true,"data":{"id":1.5}})")).outcome,
              Outcome::ambiguous);
    EXPECT_EQ(create(http(200, R"({"success":true,"data":{"id":0}})")).outcome, Outcome::ambiguous);
    EXPECT_EQ(create(http(200, R"({"success":false,"data":{"id":5}})")).outcome,
              Outcome::ambiguous);
    EXPECT_EQ(create(http(200, R"({"data":{"id":5}})")).outcome, Outcome::ambiguous);
}

TEST(PipedriveResponse, GarbageBodyOn2xxSearchIsRetry) {
    EXPECT_EQ(search(http(200, "not json")).outcome, Outcome::retry);
    EXPECT_EQ(search(http(200, R"({"success":false})")).outcome, Outcome::retry);
    EXPECT_EQ(search(http(200, R"({"success":true,"data":"x"})")).outcome, Outcome::retry);
}

// --- permanent errors with Pipedrive's envelope --------------------------------------------

struct PermanentCase {
    long status;
    const char* body;
    const char* reason;
    const char* detail_part;
};

TEST(PipedriveResponse, PermanentErrorsCarryTheEnvelope) {
    const PermanentCase cases[] = {
        {400, R"({"success":false,"error":"Validation failed: title: Required","code":"ERR_SCHEMA_VALIDATION_FAILED","error_info":"Please check developers.pipedrive.com","data":null,"additional_data":null})",
         "ERR_SCHEMA_VALIDATION_FAILED", "Validation failed: title: Required"},
        {401, R"({"success":false,"error":"unauthorized access","errorCode":401,"error_info":"Please check developers.pipedrive.com for more information about Pipedrive API."})",
         "http_401", "unauthorized access Please check developers.pipedrive.com"},
        {402, R"({"success":false,"error":"Company account is not open (possible reason: trial expired, payment details not entered).","errorCode":402})",
         "http_402", "Company account is not open"},
        {403, R"({"success":false,"error":"Couldn't add the deal. Open deals limit reached.","code":"feature_capping_deals_limit","error_info":"Please check developers.pipedrive.com for more information about Pipedrive API.","data":null,"additional_data":null})",
         "feature_capping_deals_limit", "Couldn't add the deal. Open deals limit reached."},
        {404, R"({"success":false,"error":"Person not found","error_info":"Please check developers.pipedrive.com"})",
         "http_404", "Person not found"},
        {405, R"({"success":false,"error":"Method not allowed"})", "http_405", "Method not allowed"},
        {410, R"({"success":false,"error":"Gone"})", "http_410", "Gone"},
        {415, R"({"success":false,"error":"Unsupported Media Type"})", "http_415",
         "Unsupported Media Type"},
        {422, R"({"success":false,"error":"Stage not found","error_info":"stage_id 999 does not exist"})",
         "http_422", "Stage not found stage_id 999 does not exist"},
    };
    for (const auto& c : cases) {
        for (const auto call : {PipedriveCall::create, PipedriveCall::search}) {
            const auto v = classify_pipedrive_response(http(c.status, c.body), now, call);
            EXPECT_EQ(v.outcome, Outcome::permanent) << c.status;
            EXPECT_EQ(v.status, c.status);
            EXPECT_EQ(v.reason, c.reason) << c.status;
            EXPECT_NE(v.detail.find(c.detail_part), std::string::npos) << v.detail;
            EXPECT_EQ(v.detail.rfind("Pipedrive HTTP " + std::to_string(c.status), 0), 0u);
            EXPECT_FALSE(v.retry_after);
        }
    }
}

TEST(PipedriveResponse, FeatureCappingDetailReadsWell) {
    const auto v = create(http(403, R"({"success":false,"error":"Couldn't add the deal. Open deals limit reached.","code":"feature_capping_deals_limit"})"));
    EXPECT_EQ(v.detail,
              "Pipedrive HTTP 403: Couldn't add the deal. Open deals limit reached. "
              "(feature_capping_deals_limit)");
}

TEST(PipedriveResponse, PermanentWithoutEnvelope) {
    const auto v = create(http(401, "<html>Unauthorized</html>"));
    EXPECT_EQ(v.outcome, Outcome::permanent);
    EXPECT_EQ(v.reason, "http_401");
    EXPECT_EQ(v.detail, "Pipedrive HTTP 401");
}

TEST(PipedriveResponse, OtherClientErrorsAndRedirectsArePermanent) {
    EXPECT_EQ(create(http(409, "{}")).outcome, Outcome::permanent);
    const auto v = create(http(301, "", {{"location", "https://elsewhere/"}}));
    EXPECT_EQ(v.outcome, Outcome::permanent);
    EXPECT_NE(v.detail.find("gist_pipedrive_api_url"), std::string::npos);
}

TEST(PipedriveResponse, EnvelopeTextIsBoundedAndOneLine) {
    const std::string long_error(5000, 'e');
    const auto v = create(http(422, R"({"success":false,"error":")" + long_error +
                                         R"(\nline2","code":"has spaces not a code"})"));
    EXPECT_LE(v.detail.size(), 300u);
    EXPECT_EQ(v.detail.find('\n'), std::string::npos);
    EXPECT_EQ(v.reason, "http_422");
}

// --- rate limits ----------------------------------------------------------------------------

const char* rate_body =
    R"({"success":false,"error":"Request over limit","errorCode":429,"error_info":"Please check developers.pipedrive.com"})";

TEST(PipedriveResponse, RateLimitedWithRetryAfter) {
    const auto v = create(http(429, rate_body,
                               {{"retry-after", "7"}, {"x-ratelimit-limit", "80"},
                                {"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "2"}}));
    EXPECT_EQ(v.outcome, Outcome::retry);
    EXPECT_EQ(v.reason, "rate_limited");
    ASSERT_TRUE(v.retry_after);
    EXPECT_EQ(*v.retry_after, seconds(7));  // Retry-After wins over x-ratelimit-reset
}

TEST(PipedriveResponse, RateLimitedWithOnlyRatelimitReset) {
    const auto v = search(http(429, rate_body,
                               {{"x-ratelimit-limit", "10"}, {"x-ratelimit-remaining", "0"},
                                {"x-ratelimit-reset", "2"}}));
    EXPECT_EQ(v.outcome, Outcome::retry);
    EXPECT_EQ(v.retry_after, seconds(2));
}

TEST(PipedriveResponse, RateLimitResetAsEpochAndZero) {
    EXPECT_EQ(create(http(429, rate_body, {{"x-ratelimit-reset", "1787227230"}})).retry_after,
              seconds(30));
    EXPECT_EQ(create(http(429, rate_body, {{"x-ratelimit-reset", "0"}})).retry_after, seconds(1));
    EXPECT_EQ(create(http(429, rate_body, {{"retry-after", "0"}})).retry_after, seconds(1));
}

TEST(PipedriveResponse, RateLimitedWithHttpDateRetryAfter) {
    const auto v = create(http(429, rate_body, {{"retry-after", "Thu, 20 Aug 2026 12:01:00 GMT"}}));
    EXPECT_EQ(v.retry_after, seconds(60));
}

TEST(PipedriveResponse, HugeServerWaitsAreClampedToAnHour) {
    EXPECT_EQ(create(http(429, rate_body, {{"retry-after", "999999999999999999"}})).retry_after, seconds(3600));
    EXPECT_EQ(create(http(429, rate_body, {{"x-ratelimit-reset", "999999999999999999"}})).retry_after,
              seconds(3600));
    EXPECT_EQ(create(http(429, rate_body, {{"retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"}})).retry_after,
              seconds(3600));
}

TEST(PipedriveResponse, RateLimitedWithoutHeadersUsesPolicy) {
    const auto v = create(http(429, rate_body, {{"retry-after", "soon"}}));
    EXPECT_EQ(v.outcome, Outcome::retry);
    EXPECT_FALSE(v.retry_after);
}

// --- server errors --------------------------------------------------------------------------

TEST(PipedriveResponse, ServerErrorsOnCreateAreAmbiguous) {
    for (long status : {500L, 502L, 504L}) {
        const auto v = create(http(status, "<html>Bad Gateway</html>"));
        EXPECT_EQ(v.outcome, Outcome::ambiguous) << status;
        EXPECT_EQ(v.reason, "http_" + std::to_string(status));
    }
}

TEST(PipedriveResponse, ServerErrorsOnSearchAreRetry) {
    for (long status : {500L, 502L, 503L, 504L}) {
        EXPECT_EQ(search(http(status, "")).outcome, Outcome::retry) << status;
    }
}

TEST(PipedriveResponse, MaintenanceAndRequestTimeoutAreRetry) {
    const auto v = create(http(503, R"({"success":false,"error":"Service unavailable"})",
                               {{"retry-after", "120"}}));
    EXPECT_EQ(v.outcome, Outcome::retry);
    EXPECT_EQ(v.retry_after, seconds(120));
    EXPECT_EQ(create(http(408, "")).outcome, Outcome::retry);
}

// --- transport failures ---------------------------------------------------------------------

TEST(PipedriveResponse, ConnectErrorIsRetry) {
    const auto v = create(transport(TransportError::connect, false, "Connection refused"));
    EXPECT_EQ(v.outcome, Outcome::retry);
    EXPECT_EQ(v.reason, "connect");
    EXPECT_EQ(v.status, 0);
    EXPECT_EQ(v.detail, "Pipedrive connect error: Connection refused");
}

TEST(PipedriveResponse, TimeoutBeforeSendIsRetry) {
    EXPECT_EQ(create(transport(TransportError::timeout, false)).outcome, Outcome::retry);
    EXPECT_EQ(create(transport(TransportError::other, false)).outcome, Outcome::retry);
}

TEST(PipedriveResponse, TimeoutAfterSendIsAmbiguousForCreates) {
    const auto v = create(transport(TransportError::timeout, true, "Operation timed out"));
    EXPECT_EQ(v.outcome, Outcome::ambiguous);
    EXPECT_EQ(v.reason, "timeout");
    EXPECT_NE(v.detail.find("after the request was sent"), std::string::npos);
    EXPECT_EQ(create(transport(TransportError::other, true, "Connection reset")).outcome,
              Outcome::ambiguous);
    EXPECT_EQ(create(transport(TransportError::too_large, true)).outcome, Outcome::ambiguous);
}

TEST(PipedriveResponse, TimeoutAfterSendIsRetryForSearches) {
    EXPECT_EQ(search(transport(TransportError::timeout, true)).outcome, Outcome::retry);
}

TEST(PipedriveResponse, OutcomeNames) {
    EXPECT_EQ(to_string(Outcome::ok), "ok");
    EXPECT_EQ(to_string(Outcome::retry), "retry");
    EXPECT_EQ(to_string(Outcome::ambiguous), "ambiguous");
    EXPECT_EQ(to_string(Outcome::permanent), "permanent");
}

TEST(PipedriveResponse, ParseRetryAfter) {
    EXPECT_EQ(parse_retry_after(" 42 ", now), seconds(42));
    EXPECT_EQ(parse_retry_after("Thu, 20 Aug 2026 11:00:00 GMT", now), seconds(0));
    EXPECT_FALSE(parse_retry_after("-5", now));
    EXPECT_FALSE(parse_retry_after("", now));
    EXPECT_FALSE(parse_retry_after("Thu, 20 Foo 2026 11:00:00 GMT", now));
}

}  // namespace
}  // namespace gist
