#include "gist/response_cache.hpp"

#include <utility>

namespace gist {

ResponseCache::ResponseCache(std::chrono::milliseconds ttl, const ChangeSignal& signal, std::size_t max_bytes)
    : ttl_(ttl), signal_(signal), max_bytes_(max_bytes) {}

std::size_t ResponseCache::weight(const std::string& key, const ApiResponse& response) {
    std::size_t n = key.size() + response.body.size() + 64;
    for (const auto& [name, value] : response.headers) {
        n += name.size() + value.size();
    }
    return n;
}

const ApiResponse* ResponseCache::find(const std::string& key, Clock::time_point now) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        return nullptr;
    }
    Entry& e = it->second;
    if (now - e.filled >= ttl_ || e.generation != signal_.generation()) {
        erase(it);
        return nullptr;
    }
    recency_.splice(recency_.begin(), recency_, e.recency);
    return &e.response;
}

void ResponseCache::store(const std::string& key, ApiResponse response, std::uint64_t generation,
                          Clock::time_point now) {
    if (!enabled() || generation != signal_.generation()) {
        return;  // a change happened while it was read: it is stale already
    }
    if (auto it = entries_.find(key); it != entries_.end()) {
        erase(it);
    }
    const std::size_t w = weight(key, response);
    if (w > max_bytes_) {
        return;
    }
    while (bytes_ + w > max_bytes_ && !recency_.empty()) {
        erase(entries_.find(recency_.back()));
    }
    recency_.push_front(key);
    entries_.emplace(key, Entry{std::move(response), generation, now, recency_.begin()});
    bytes_ += w;
}

void ResponseCache::erase(std::unordered_map<std::string, Entry>::iterator it) {
    bytes_ -= weight(it->first, it->second.response);
    recency_.erase(it->second.recency);
    entries_.erase(it);
}

}  // namespace gist
