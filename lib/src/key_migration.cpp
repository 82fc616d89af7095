#include "gist/key_migration.hpp"

#include <chrono>
#include <utility>

namespace gist {

namespace {

using std::chrono::milliseconds;

// KEYS: schema marker, users, walk cursor. ARGV: key prefix, step size.
// Returns {1 when done, users moved by this step}. A user already written in the new schema (a
// scan ran after the upgrade) only loses its old hash.
constexpr const char* kStepScript = R"lua(
if redis.call('GET', KEYS[1]) == '2' then return {1, 0} end
local after = redis.call('GET', KEYS[3])
local step = tonumber(ARGV[2])
local logins = redis.call('ZRANGE', KEYS[2], after and ('(' .. after) or '-', '+', 'BYLEX', 'LIMIT', 0, step)
local moved = 0
for _, login in ipairs(logins) do
  local old = ARGV[1] .. 'user:' .. login
  if redis.call('EXISTS', old) == 1 then
    local new = ARGV[1] .. 'user:{' .. login .. '}'
    if redis.call('EXISTS', new) == 0 then
      local pages = redis.call('HGET', old, 'pages')
      redis.call('RENAME', old, new)
      redis.call('HDEL', new, 'pages')
      if pages then redis.call('SET', ARGV[1] .. 'pages:{' .. login .. '}', pages) end
      moved = moved + 1
    else
      redis.call('DEL', old)
    end
  end
end
if #logins < step then
  redis.call('SET', KEYS[1], '2')
  redis.call('DEL', KEYS[3])
  return {1, moved}
end
redis.call('SET', KEYS[3], logins[#logins])
return {0, moved}
)lua";

}  // namespace

KeyMigration::KeyMigration(EventLoop& loop, RedisClient& redis, Logger& log, std::string prefix)
    : loop_(loop), redis_(redis), log_(log), prefix_(std::move(prefix)) {}

KeyMigration::~KeyMigration() { *alive_ = false; }

void KeyMigration::start() {
    timer_ = loop_.make_timer([this] { step(); });
    timer_->arm(milliseconds(0));
}

void KeyMigration::step() {
    if (done_ || busy_) {
        return;
    }
    if (!redis_.connected()) {
        timer_->arm(milliseconds(200));
        return;
    }
    busy_ = true;
    auto alive = alive_;
    redis_.command({"EVAL", kStepScript, "3", prefix_ + "schema", prefix_ + "users", prefix_ + "schema:cursor",
                    prefix_, std::to_string(kStep)},
                   [this, alive](RedisResult r) {
                       if (!*alive) {
                           return;
                       }
                       busy_ = false;
                       const auto& v = r.value.elements;
                       if (!r.ok() || r.value.is_error() || v.size() != 2) {
                           timer_->arm(milliseconds(1000));  // Redis trouble: try again later
                           return;
                       }
                       moved_ += v[1].integer;
                       if (v[0].integer == 1) {
                           done_ = true;
                           if (moved_ > 0) {
                               log_.log(LogLevel::notice, "gist: moved " + std::to_string(moved_) +
                                                              " tracked users to the current Redis key schema");
                           }
                           return;
                       }
                       timer_->arm(milliseconds(5));  // the next step soon, never all in one go
                   });
}

}  // namespace gist
