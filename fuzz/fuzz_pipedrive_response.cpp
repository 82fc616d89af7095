// Pipedrive's answers as the deal worker classifies them: any status, Retry-After /
// x-ratelimit-reset values, any body, for creates and for searches.
#include "fuzz_check.hpp"

#include "gist/pipedrive_response.hpp"

#include <chrono>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    gist::HttpResponse r;
    r.error = static_cast<gist::TransportError>(in.ConsumeIntegralInRange<int>(0, 4));
    r.request_sent = in.ConsumeBool();
    r.status = in.ConsumeIntegralInRange<long>(0, 999);
    const auto now = std::chrono::system_clock::time_point(
        std::chrono::seconds(in.ConsumeIntegralInRange<std::int64_t>(0, 4'102'444'800)));  // ..2100
    if (in.ConsumeBool()) r.headers["retry-after"] = in.ConsumeRandomLengthString(40);
    if (in.ConsumeBool()) r.headers["x-ratelimit-reset"] = in.ConsumeRandomLengthString(40);
    if (in.ConsumeBool()) r.headers["location"] = in.ConsumeRandomLengthString(80);
    r.error_message = in.ConsumeRandomLengthString(300);
    r.body = in.ConsumeRemainingBytesAsString();

    for (const auto call : {gist::PipedriveCall::create, gist::PipedriveCall::search}) {
        const gist::PipedriveVerdict v = gist::classify_pipedrive_response(r, now, call);
        FUZZ_CHECK(!v.reason.empty());
        FUZZ_CHECK(gist::to_string(v.outcome) != "unknown");
        // detail goes into logs and the dead-letter list: one line of valid UTF-8, bounded.
        FUZZ_CHECK(fuzz::valid_utf8(v.detail) && fuzz::no_line_breaks_or_controls(v.detail));
        FUZZ_CHECK(v.detail.size() < 1024);
        if (v.outcome == gist::PipedriveOutcome::ok && call == gist::PipedriveCall::create) {
            FUZZ_CHECK(v.id && *v.id > 0);
        }
        if (v.outcome == gist::PipedriveOutcome::ambiguous) {
            FUZZ_CHECK(call == gist::PipedriveCall::create);  // a search cannot have created anything
        }
        if (v.retry_after) {
            FUZZ_CHECK(v.retry_after->count() >= 0);
        }
    }
    if (const auto it = r.headers.find("retry-after"); it != r.headers.end()) {
        if (const auto wait = gist::parse_retry_after(it->second, now)) {
            FUZZ_CHECK(wait->count() >= 0);
        }
    }
    return 0;
}
