// When to try a failed Pipedrive job again: exponential backoff with full jitter.
#pragma once

#include <chrono>
#include <functional>
#include <optional>

namespace gist {

struct RetryPolicy {
    std::chrono::milliseconds base{1000};         // window of the first retry
    std::chrono::milliseconds cap{300000};        // the window never grows past this
    std::chrono::milliseconds floor{0};           // no delay is shorter (e.g. search lag after
                                                  // an ambiguous create)
    std::chrono::milliseconds server_cap{3600000};  // longest server-requested wait we honour
};

// A uniform random number in [0, 1). Injected so tests are deterministic.
using UnitRandom = std::function<double()>;

// A process-wide generator (seeded from std::random_device); not for tests.
UnitRandom default_unit_random();

// attempt counts failures so far (1 after the first failure).
// Without a server wait: uniform in [0, min(cap, base * 2^(attempt-1))] ("full jitter"),
// raised to floor. With a server wait (Retry-After / x-ratelimit-reset): that wait, capped at
// server_cap, plus jitter of up to min(base, 1 s) so many workers do not return in lock step;
// never less than floor. attempt 0 is treated as 1.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, unsigned attempt,
                                      const UnitRandom& random,
                                      std::optional<std::chrono::seconds> server_wait = std::nullopt);

}  // namespace gist
