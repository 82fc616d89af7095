#include "gist/gist_store.hpp"

#include <exception>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

namespace gist {

namespace {

// KEYS: users, user, seen, deals:ready, rescan, rescan:adopted, rescan:adopt_cursor, pages. ARGV: login, now, pages JSON, gist count, deals
// mode (off|deal|skip), deal job key prefix, n candidates, rescan due (ms) for a user tracked
// before / for a newly tracked one ('' when rescans are off), only-if-tracked (1 for rescans),
// last_scan text, the changes channel, then n × (id, title, note), then the other gist ids.
// One script, so that "tracked", "seen", the stored listing and the deal jobs change together or
// not at all, and two scans racing on any worker or instance never both see a gist as new.
// Candidates are gists that were not in the user's stored listing: only they can be new, so only
// they carry a deal's title and note.
constexpr const char* kCommitScanScript = R"lua(
if ARGV[10] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[5], ARGV[1])
  return {-1, false, {}}
end
local created = redis.call('HSETNX', KEYS[2], 'tracked_since', ARGV[2])
redis.call('HSET', KEYS[2], 'login', ARGV[1], 'last_scanned_at', ARGV[2],
           'gist_count', ARGV[4], 'last_scan', ARGV[11], 'failures', 0)
redis.call('SET', KEYS[8], ARGV[3])
redis.call('ZADD', KEYS[1], 0, ARGV[1])
if ARGV[8] ~= '' then
  if created == 1 then
    redis.call('ZADD', KEYS[5], ARGV[9], ARGV[1])
  else
    redis.call('ZADD', KEYS[5], ARGV[8], ARGV[1])
  end
elseif created == 1 then
  -- tracked with rescans off: a later start with rescans on must adopt this user
  redis.call('DEL', KEYS[6], KEYS[7])
end
redis.call('PUBLISH', ARGV[12], ARGV[1])
local jobs = ARGV[5] == 'deal' or (ARGV[5] == 'skip' and created == 0)
local fresh = {}
local n = tonumber(ARGV[7])
local i = 13
for _ = 1, n do
  local id = ARGV[i]
  local is_new = redis.call('HSETNX', KEYS[3], id, ARGV[2])
  fresh[#fresh + 1] = is_new
  if is_new == 1 and jobs then
    redis.call('HSET', ARGV[6] .. id, 'state', 'pending', 'login', ARGV[1], 'title', ARGV[i + 1],
               'note', ARGV[i + 2], 'attempts', 0, 'created_at', ARGV[2])
    redis.call('XADD', KEYS[4], '*', 'gist', id)
  end
  i = i + 3
end
while i <= #ARGV do
  fresh[#fresh + 1] = redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[2])
  i = i + 1
end
return {created, redis.call('HGET', KEYS[2], 'tracked_since'), fresh}
)lua";

// KEYS: user, rescan, pages. ARGV: login.
constexpr const char* kLoadUserScript = R"lua(
local v = redis.call('HMGET', KEYS[1], 'login', 'tracked_since', 'last_scanned_at', 'gist_count', 'last_scan')
v[6] = redis.call('GET', KEYS[3]) or false
v[7] = redis.call('ZSCORE', KEYS[2], ARGV[1]) or false
return v
)lua";

// One page of users in login order (all scores are 0, so BYLEX is by login): at most ARGV[3]
// logins after ARGV[2] ('-' for the first page, '(<login>' after one), never all users.
// KEYS: users, rescan. ARGV: user key prefix, start, how many, user key suffix.
// Returns {count of all users, {login, tracked_since, last_scanned_at, gist_count, last_scan,
// next due}…, last login read or false, 1 when more logins follow}.
constexpr const char* kListUsersScript = R"lua(
local limit = tonumber(ARGV[3])
local logins = redis.call('ZRANGE', KEYS[1], ARGV[2], '+', 'BYLEX', 'LIMIT', 0, limit)
local last = logins[#logins]
local more = 0
if last and #logins == limit and #redis.call('ZRANGE', KEYS[1], '(' .. last, '+', 'BYLEX', 'LIMIT', 0, 1) > 0 then
  more = 1
end
local out = {}
for _, login in ipairs(logins) do
  local v = redis.call('HMGET', ARGV[1] .. login .. ARGV[4], 'tracked_since', 'last_scanned_at', 'gist_count', 'last_scan')
  if v[1] then
    out[#out + 1] = {login, v[1], v[2] or '', v[3] or '0', v[4] or '', redis.call('ZSCORE', KEYS[2], login) or ''}
  end
end
return {redis.call('ZCARD', KEYS[1]), out, last or false, more}
)lua";

// KEYS: users, user, rescan, pages. ARGV: login, changes channel.
constexpr const char* kUntrackScript = R"lua(
local existed = redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[4])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if existed == 1 then redis.call('PUBLISH', ARGV[2], ARGV[1]) end
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
// A user's keys share the hash tag {login}: one slot in a sharded Redis (docs/read-path.md).
std::string GistStore::user_key(const std::string& login) const { return prefix_ + "user:{" + login + "}"; }
std::string GistStore::pages_key(const std::string& login) const { return prefix_ + "pages:{" + login + "}"; }
std::string GistStore::seen_key() const { return prefix_ + "seen"; }
std::string GistStore::rescan_key() const { return prefix_ + "rescan"; }
std::string GistStore::changes_channel() const { return prefix_ + "changes"; }
std::string GistStore::adopted_key() const { return prefix_ + "rescan:adopted"; }
std::string GistStore::adopt_cursor_key() const { return prefix_ + "rescan:adopt_cursor"; }

void GistStore::load_user(const std::string& login,
                          std::function<void(StoreResult<std::optional<UserRecord>>)> done) {
    redis_.command({"EVAL", kLoadUserScript, "3", user_key(login), rescan_key(), pages_key(login), login},
                   [done = std::move(done), login](RedisResult result) {
                       if (auto failure = failure_text(result); !failure.empty()) {
                           done(StoreError{failure});
                           return;
                       }
                       const auto& v = result.value.elements;
                       if (v.size() != 7 || v[1].is_nil()) {
                           done(std::optional<UserRecord>{});
                           return;
                       }
                       UserRecord record;
                       record.login = v[0].is_nil() ? login : v[0].str;
                       record.tracked_since = string_or_empty(v[1]);
                       record.last_scanned_at = string_or_empty(v[2]);
                       record.gist_count = to_int(v[3]);
                       record.last_scan = string_or_empty(v[4]);
                       record.next_scan_ms = to_int(v[6]);
                       if (!v[5].is_nil()) {
                           try {
                               record.pages = pages_from_json(nlohmann::json::parse(v[5].str));
                           } catch (const std::exception& e) {
                               // Unreadable listing: forget it, the next scan fetches everything again.
                               record.pages.clear();
                           }
                       }
                       done(std::optional<UserRecord>{std::move(record)});
                   });
}

void GistStore::commit_scan(const ScanCommit& commit, std::function<void(StoreResult<CommitOutcome>)> done) {
    std::vector<std::string> argv{"EVAL", kCommitScanScript, "8", users_key(), user_key(commit.login), seen_key(),
                                  prefix_ + "deals:ready", rescan_key(), adopted_key(), adopt_cursor_key(),
                                  pages_key(commit.login), commit.login, commit.scanned_at,
                                  pages_to_text(commit.pages),
                                  std::to_string(commit.gist_ids.size()),
                                  commit.deals == DealsMode::off    ? "off"
                                  : commit.deals == DealsMode::skip ? "skip"
                                                                    : "deal",
                                  prefix_ + "deal:", std::to_string(commit.candidates.size()),
                                  commit.next_scan_ms ? std::to_string(commit.next_scan_ms) : std::string(),
                                  std::to_string(commit.first_scan_ms), commit.only_if_tracked ? "1" : "0",
                                  commit.last_scan, changes_channel()};
    // Candidates first (with their deal text), then the other ids; the reply follows that order.
    std::unordered_map<std::string, std::size_t> position;
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < commit.gist_ids.size(); ++i) {
        position.emplace(commit.gist_ids[i], i);
    }
    std::vector<bool> is_candidate(commit.gist_ids.size(), false);
    for (const auto& c : commit.candidates) {
        auto it = position.find(c.gist_id);
        if (it == position.end() || is_candidate[it->second]) {
            continue;
        }
        is_candidate[it->second] = true;
        order.push_back(it->second);
        argv.push_back(c.gist_id);
        argv.push_back(c.title);
        argv.push_back(c.note);
    }
    argv[17] = std::to_string(order.size());  // ARGV[7]: the candidate count
    for (std::size_t i = 0; i < commit.gist_ids.size(); ++i) {
        if (!is_candidate[i]) {
            order.push_back(i);
            argv.push_back(commit.gist_ids[i]);
        }
    }
    const std::size_t expected = commit.gist_ids.size();
    redis_.command(std::move(argv), [done = std::move(done), expected, order = std::move(order)](RedisResult result) {
        if (auto failure = failure_text(result); !failure.empty()) {
            done(StoreError{failure});
            return;
        }
        const auto& v = result.value.elements;
        if (v.size() == 3 && to_int(v[0]) == -1) {
            CommitOutcome untracked;
            untracked.untracked = true;
            done(std::move(untracked));
            return;
        }
        if (v.size() != 3 || v[2].elements.size() != expected) {
            done(StoreError{"unexpected reply to the scan commit"});
            return;
        }
        CommitOutcome outcome;
        outcome.newly_tracked = to_int(v[0]) == 1;
        outcome.tracked_since = string_or_empty(v[1]);
        outcome.is_new.assign(expected, false);
        for (std::size_t k = 0; k < expected; ++k) {
            outcome.is_new[order[k]] = to_int(v[2].elements[k]) == 1;
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
    redis_.command({"EVAL", kUntrackScript, "4", users_key(), user_key(login), rescan_key(), pages_key(login), login,
                    changes_channel()},
                   [done = std::move(done)](RedisResult result) {
                       if (auto failure = failure_text(result); !failure.empty()) {
                           done(StoreError{failure});
                           return;
                       }
                       done(to_int(result.value) == 1);
                   });
}

void GistStore::list_users(const std::string& after, std::size_t limit,
                           std::function<void(StoreResult<UserPage>)> done) {
    redis_.command({"EVAL", kListUsersScript, "2", users_key(), rescan_key(), prefix_ + "user:{",
                    after.empty() ? "-" : "(" + after, std::to_string(limit), "}"},
                   [done = std::move(done)](RedisResult result) {
                       if (auto failure = failure_text(result); !failure.empty()) {
                           done(StoreError{failure});
                           return;
                       }
                       const auto& v = result.value.elements;
                       if (v.size() != 4) {
                           done(StoreError{"unexpected reply to the user listing"});
                           return;
                       }
                       UserPage page;
                       page.count = to_int(v[0]);
                       for (const auto& row : v[1].elements) {
                           if (row.elements.size() != 6) {
                               continue;
                           }
                           UserSummary u{row.elements[0].str, row.elements[1].str, row.elements[2].str,
                                         to_int(row.elements[3]), row.elements[4].str, to_int(row.elements[5])};
                           page.users.push_back(std::move(u));
                       }
                       page.last_login = string_or_empty(v[2]);
                       page.more = to_int(v[3]) == 1;
                       done(std::move(page));
                   });
}

void GistStore::ping(std::function<void(bool up)> done) {
    redis_.command({"PING"}, [done = std::move(done)](RedisResult result) {
        done(result.ok() && !result.value.is_error());
    });
}

}  // namespace gist
