#include "gist/retry_backoff.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <random>

namespace gist {

namespace {

using std::chrono::milliseconds;

double clamp_unit(double r) {
    if (!(r >= 0.0)) {  // also catches NaN
        return 0.0;
    }
    return r >= 1.0 ? std::nextafter(1.0, 0.0) : r;
}

// Uniform in [0, limit] (inclusive, so the cap itself is reachable).
milliseconds scaled(milliseconds limit, double r) {
    const auto ms = static_cast<std::int64_t>(
        std::floor(clamp_unit(r) * static_cast<double>(limit.count() + 1)));
    return milliseconds(std::min<std::int64_t>(ms, limit.count()));
}

}  // namespace

UnitRandom default_unit_random() {
    return [] {
        static std::mutex mutex;
        static std::mt19937_64 engine{std::random_device{}()};
        std::lock_guard<std::mutex> lock(mutex);
        return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
    };
}

milliseconds retry_delay(const RetryPolicy& policy, unsigned attempt, const UnitRandom& random,
                         std::optional<std::chrono::seconds> server_wait) {
    const milliseconds base = std::max(policy.base, milliseconds(1));
    const milliseconds cap = std::max(policy.cap, base);
    const double r = random ? random() : 0.0;

    if (server_wait) {
        // Compared in seconds first: a huge wait must not overflow the conversion to milliseconds.
        const milliseconds server_cap = std::max(policy.server_cap, milliseconds(0));
        const milliseconds wanted =
            *server_wait >= std::chrono::ceil<std::chrono::seconds>(server_cap)
                ? server_cap
                : std::min(milliseconds(std::max(*server_wait, std::chrono::seconds(0))), server_cap);
        const milliseconds jitter = scaled(std::min(base, milliseconds(1000)), r);
        return std::max(wanted + jitter, policy.floor);
    }

    const unsigned exponent = std::min(std::max(attempt, 1U) - 1, 40U);  // 2^40 s > any cap
    const double window_ms =
        std::min(static_cast<double>(base.count()) * std::ldexp(1.0, static_cast<int>(exponent)),
                 static_cast<double>(cap.count()));
    const milliseconds window(static_cast<std::int64_t>(window_ms));
    return std::max(scaled(window, r), policy.floor);
}

}  // namespace gist
