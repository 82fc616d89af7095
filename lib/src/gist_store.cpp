#include "gist/gist_store.hpp"

#include <exception>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

namespace gist {

namespace {

// KEYS: users, user, seen. ARGV: login, now, pages JSON, gist count, gist ids…
// One script, so that "tracked", "seen" and the stored listing change together or not at all,
// and two scans racing on any worker or instance never both see a gist as new.
constexpr const char* kCommitScanScript = R"lua(
local created = redis.call('HSETNX', KEYS[2], 'tracked_since', ARGV[2])
redis.call('HSET', KEYS[2], 'login', ARGV[1], 'last_scanned_at', ARGV[2],
           'pages', ARGV[3], 'gist_count', ARGV[4])
redis.call('ZADD', KEYS[1], 0, ARGV[1])
local fresh = {}
for i = 5, #ARGV do
  fresh[#fresh + 1] = redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[2])
end
return {created, redis.call('HGET', KEYS[2], 'tracked_since'), fresh}
)lua";

// KEYS: users. ARGV: user key prefix. Sorted by login: all scores are 0, so ZRANGE is lexical.
constexpr const char* kListUsersScript = R"lua(
local out = {}
for _, login in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local v = redis.call('HMGET', ARGV[1] .. login, 'tracked_since', 'last_scanned_at', 'gist_count')
  if v[1] then
    out[#out + 1] = {login, v[1], v[2] or '', v[3] or '0'}
  end
end
return out
)lua";

// KEYS: users, user. ARGV: login.
constexpr const char* kUntrackScript = R"lua(
local existed = redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return existed
)lua";

const std::string& string_or_empty(const RedisValue& v) {
    static const std::string empty;
    return v.type == RedisValue::Type::string || v.type == RedisValue::Type::status ? v.str : empty;
}

std::int64_t to_int(const RedisValue& v) {
    if (v.type == RedisValue::Type::integer) {
        return v.integer;
    }
    try {
        return std::stoll(string_or_empty(v));
    } catch (const std::exception&) {
        return 0;
    }
}

// A Redis failure or an error reply, as text for the log; empty when the result is usable.
std::string failure_text(const RedisResult& result) {
    if (result.failure == RedisFailure::unavailable) {
        return "redis unavailable";
    }
    if (result.failure == RedisFailure::timeout) {
        return "redis command timed out";
    }
    if (result.value.is_error()) {
        return "redis error: " + result.value.str;
    }
    return {};
}

}  // namespace

GistStore::GistStore(RedisClient& redis, std::string prefix) : redis_(redis), prefix_(std::move(prefix)) {}

std::string GistStore::users_key() const { return prefix_ + "users"; }
std::string GistStore::user_key(const std::string& login) const { return prefix_ + "user:" + login; }
std::string GistStore::seen_key() const { return prefix_ + "seen"; }

void GistStore::load_user(const std::string& login,
                          std::function<void(StoreResult<std::optional<UserRecord>>)> done) {
    redis_.command({"HMGET", user_key(login), "login", "tracked_since", "last_scanned_at", "gist_count", "pages"},
                   [done = std::move(done), login](RedisResult result) {
                       if (auto failure = failure_text(result); !failure.empty()) {
                           done(StoreError{failure});
                           return;
                       }
                       const auto& v = result.value.elements;
                       if (v.size() != 5 || v[1].is_nil()) {
                           done(std::optional<UserRecord>{});
                           return;
                       }
                       UserRecord record;
                       record.login = v[0].is_nil() ? login : v[0].str;
                       record.tracked_since = string_or_empty(v[1]);
                       record.last_scanned_at = string_or_empty(v[2]);
                       record.gist_count = to_int(v[3]);
                       if (!v[4].is_nil()) {
                           try {
                               record.pages = pages_from_json(nlohmann::json::parse(v[4].str));
                           } catch (const std::exception& e) {
                               // Unreadable listing: forget it, the next scan fetches everything again.
                               record.pages.clear();
                           }
                       }
                       done(std::optional<UserRecord>{std::move(record)});
                   });
}

void GistStore::commit_scan(const ScanCommit& commit, std::function<void(StoreResult<CommitOutcome>)> done) {
    std::vector<std::string> argv{"EVAL", kCommitScanScript, "3", users_key(), user_key(commit.login), seen_key(),
                                  commit.login, commit.scanned_at,
                                  pages_to_json(commit.pages).dump(-1, ' ', false,
                                                                   nlohmann::json::error_handler_t::replace),
                                  std::to_string(commit.gist_ids.size())};
    argv.insert(argv.end(), commit.gist_ids.begin(), commit.gist_ids.end());
    const std::size_t expected = commit.gist_ids.size();
    redis_.command(std::move(argv), [done = std::move(done), expected](RedisResult result) {
        if (auto failure = failure_text(result); !failure.empty()) {
            done(StoreError{failure});
            return;
        }
        const auto& v = result.value.elements;
        if (v.size() != 3 || v[2].elements.size() != expected) {
            done(StoreError{"unexpected reply to the scan commit"});
            return;
        }
        CommitOutcome outcome;
        outcome.newly_tracked = to_int(v[0]) == 1;
        outcome.tracked_since = string_or_empty(v[1]);
        outcome.is_new.reserve(expected);
        for (const auto& flag : v[2].elements) {
            outcome.is_new.push_back(to_int(flag) == 1);
        }
        done(std::move(outcome));
    });
}

void GistStore::view_user(const std::string& login,
                          std::function<void(StoreResult<std::optional<UserView>>)> done) {
    load_user(login, [this, done = std::move(done)](StoreResult<std::optional<UserRecord>> loaded) mutable {
        if (auto* error = std::get_if<StoreError>(&loaded)) {
            done(std::move(*error));
            return;
        }
        auto& record = std::get<std::optional<UserRecord>>(loaded);
        if (!record) {
            done(std::optional<UserView>{});
            return;
        }
        UserView view;
        view.record = std::move(*record);
        std::vector<std::string> argv{"HMGET", seen_key()};
        std::unordered_set<std::string> ids;
        for (const auto& page : view.record.pages) {
            for (const auto& g : page.gists) {
                if (ids.insert(g.id).second) {
                    argv.push_back(g.id);
                }
            }
        }
        if (argv.size() == 2) {
            done(std::optional<UserView>{std::move(view)});
            return;
        }
        redis_.command(std::move(argv), [done = std::move(done), view = std::move(view)](RedisResult result) mutable {
            if (auto failure = failure_text(result); !failure.empty()) {
                done(StoreError{failure});
                return;
            }
            for (const auto& v : result.value.elements) {
                view.first_seen.push_back(string_or_empty(v));
            }
            done(std::optional<UserView>{std::move(view)});
        });
    });
}

void GistStore::untrack(const std::string& login, std::function<void(StoreResult<bool>)> done) {
    redis_.command({"EVAL", kUntrackScript, "2", users_key(), user_key(login), login},
                   [done = std::move(done)](RedisResult result) {
                       if (auto failure = failure_text(result); !failure.empty()) {
                           done(StoreError{failure});
                           return;
                       }
                       done(to_int(result.value) == 1);
                   });
}

void GistStore::list_users(std::function<void(StoreResult<std::vector<UserSummary>>)> done) {
    redis_.command({"EVAL", kListUsersScript, "1", users_key(), prefix_ + "user:"},
                   [done = std::move(done)](RedisResult result) {
                       if (auto failure = failure_text(result); !failure.empty()) {
                           done(StoreError{failure});
                           return;
                       }
                       std::vector<UserSummary> users;
                       users.reserve(result.value.elements.size());
                       for (const auto& row : result.value.elements) {
                           if (row.elements.size() != 4) {
                               continue;
                           }
                           users.push_back(UserSummary{row.elements[0].str, row.elements[1].str,
                                                       row.elements[2].str, to_int(row.elements[3])});
                       }
                       done(std::move(users));
                   });
}

void GistStore::ping(std::function<void(bool up)> done) {
    redis_.command({"PING"}, [done = std::move(done)](RedisResult result) {
        done(result.ok() && !result.value.is_error());
    });
}

}  // namespace gist
