// Rendered answers of the read endpoints, per worker: used while younger than the TTL and while
// the instance's change generation has not moved since the Redis read began (docs/read-path.md).
#pragma once

#include "gist/api_response.hpp"
#include "gist/change_signal.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

namespace gist {

class ResponseCache {
public:
    using Clock = std::chrono::steady_clock;

    // ttl 0: nothing is ever kept. max_bytes bounds the bodies kept; the least recently used go
    // first.
    ResponseCache(std::chrono::milliseconds ttl, const ChangeSignal& signal, std::size_t max_bytes = 16u << 20);

    bool enabled() const { return ttl_.count() > 0; }
    std::uint64_t generation() const { return signal_.generation(); }

    // The answer stored under key, or nullptr when there is none, it is older than the TTL or a
    // change happened since its read began.
    const ApiResponse* find(const std::string& key, Clock::time_point now);
    // generation: what generation() said when the read behind `response` began.
    void store(const std::string& key, ApiResponse response, std::uint64_t generation, Clock::time_point now);

    std::size_t size() const { return entries_.size(); }
    std::size_t bytes() const { return bytes_; }

private:
    struct Entry {
        ApiResponse response;
        std::uint64_t generation = 0;
        Clock::time_point filled;
        std::list<std::string>::iterator recency;
    };

    void erase(std::unordered_map<std::string, Entry>::iterator it);
    static std::size_t weight(const std::string& key, const ApiResponse& response);

    std::chrono::milliseconds ttl_;
    const ChangeSignal& signal_;
    std::size_t max_bytes_;
    std::size_t bytes_ = 0;
    std::list<std::string> recency_;  // most recently used first
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace gist
