// The Redis state model: tracked users, their last gist listing, and the global "seen" marks.
// Key schema: docs/design.md.
#pragma once

#include "gist/redis_client.hpp"
#include "gist/stored_page.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gist {

struct StoreError {
    std::string message;  // for logs; callers answer 503 redis_unavailable
};

template <typename T>
using StoreResult = std::variant<T, StoreError>;

struct UserRecord {
    std::string login;
    std::string tracked_since;
    std::string last_scanned_at;
    std::int64_t gist_count = 0;
    std::vector<StoredPage> pages;
    std::string last_scan;          // outcome of the last scan ("ok", "not_modified", an error code)
    std::int64_t next_scan_ms = 0;  // due time of the next rescan; 0: none scheduled
};

struct UserSummary {
    std::string login;
    std::string tracked_since;
    std::string last_scanned_at;
    std::int64_t gist_count = 0;
    std::string last_scan;
    std::int64_t next_scan_ms = 0;
};

// One page of the tracked users, in login order.
struct UserPage {
    std::int64_t count = 0;  // all tracked users
    std::vector<UserSummary> users;
    std::string last_login;  // the page's last login (the next page starts after it)
    bool more = false;       // users follow it
};

enum class DealsMode { off, deal, skip };

// A gist that may be new, with the deal to open if it is.
struct DealCandidate {
    std::string gist_id;
    std::string title;
    std::string note;
};

struct ScanCommit {
    std::string login;
    std::string scanned_at;          // RFC 3339
    std::vector<StoredPage> pages;
    std::vector<std::string> gist_ids;  // every gist of the listing, deduplicated
    DealsMode deals = DealsMode::off;
    // skip: no deals for the gists a newly tracked user already had
    std::vector<DealCandidate> candidates;  // gists not in the stored listing (subset of gist_ids)
    std::string last_scan = "ok";           // "ok" or "not_modified"
    std::int64_t next_scan_ms = 0;          // rescans on: due time for a user tracked before; 0: off
    std::int64_t first_scan_ms = 0;         // rescans on: due time for a newly tracked user
    bool only_if_tracked = false;           // a rescan must not bring back a user untracked meanwhile
};

struct CommitOutcome {
    bool untracked = false;  // only_if_tracked and the user is gone: nothing was written
    bool newly_tracked = false;
    std::string tracked_since;
    std::vector<bool> is_new;  // aligned with ScanCommit::gist_ids
};

struct UserView {
    UserRecord record;
    std::vector<std::string> first_seen;  // aligned with record's gists (all pages, deduplicated)
};

class GistStore {
public:
    GistStore(RedisClient& redis, std::string prefix);

    std::string users_key() const;
    std::string user_key(const std::string& login) const;
    std::string pages_key(const std::string& login) const;
    std::string seen_key() const;
    std::string rescan_key() const;
    // Pub/sub channel: the login of every user whose stored state changed (docs/read-path.md).
    std::string changes_channel() const;
    // The rescan adoption walk: done marker and position (docs/read-path.md).
    std::string adopted_key() const;
    std::string adopt_cursor_key() const;

    // nullopt when the user is not tracked.
    void load_user(const std::string& login,
                   std::function<void(StoreResult<std::optional<UserRecord>>)> done);
    // Atomically: track the user, mark every gist id seen (first time wins), store the listing.
    void commit_scan(const ScanCommit& commit, std::function<void(StoreResult<CommitOutcome>)> done);
    void view_user(const std::string& login, std::function<void(StoreResult<std::optional<UserView>>)> done);
    // true when the user was tracked (and is not any more).
    void untrack(const std::string& login, std::function<void(StoreResult<bool>)> done);
    // At most `limit` users after the login `after` ("" for the first page), in login order.
    void list_users(const std::string& after, std::size_t limit, std::function<void(StoreResult<UserPage>)> done);
    void ping(std::function<void(bool up)> done);

private:
    RedisClient& redis_;
    std::string prefix_;
};

}  // namespace gist
