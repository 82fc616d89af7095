#include "gist/deal_outbox.hpp"

#include <exception>
#include <utility>

namespace gist {

namespace {

// KEYS: later, ready. ARGV: now_ms, limit. Atomic, so a due job is promoted exactly once.
constexpr const char* kPromoteScript = R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'gist', id)
end
return #due
)lua";

// KEYS: job, ready, persons, person intents. ARGV: me, now_ms, lease_ms, entry.
// The person intent is per login, not per job: any job of the login that runs after an ambiguous
// person create must look up first, not only the job that sent it.
constexpr const char* kTakeScript = R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'done' or state == 'failed' then
  redis.call('XACK', KEYS[2], 'workers', ARGV[4])
  redis.call('XDEL', KEYS[2], ARGV[4])
  return {'gone'}
end
local lease = redis.call('HGET', KEYS[1], 'lease')
local lease_until = tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0')
if lease and lease ~= ARGV[1] and lease_until > tonumber(ARGV[2]) then
  return {'busy'}
end
redis.call('HSET', KEYS[1], 'lease', ARGV[1], 'lease_until', tonumber(ARGV[2]) + tonumber(ARGV[3]))
local f = redis.call('HMGET', KEYS[1], 'login', 'title', 'note', 'person_id', 'deal_id', 'note_id',
                     'attempts', 'intent_person', 'intent_deal', 'intent_note')
local cached = false
local person_intent = f[8]
if f[1] then
  cached = redis.call('HGET', KEYS[3], f[1])
  person_intent = redis.call('HGET', KEYS[4], f[1]) or person_intent
end
return {'ok', f[1], f[2], f[3], f[4], f[5], f[6], f[7], person_intent, f[9], f[10], cached}
)lua";

// KEYS: job, persons, person intents. ARGV: me, now_ms, lease_ms, login, person id to cache ('' for
// none), n set pairs, pairs…, fields to delete…. intent_person is kept per login.
constexpr const char* kSaveScript = R"lua(
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease_until', tonumber(ARGV[2]) + tonumber(ARGV[3]))
local n = tonumber(ARGV[6])
local i = 7
for _ = 1, n do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  if ARGV[i] == 'intent_person' then redis.call('HSET', KEYS[3], ARGV[4], ARGV[i + 1]) end
  i = i + 2
end
while i <= #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
  if ARGV[i] == 'intent_person' then redis.call('HDEL', KEYS[3], ARGV[4]) end
  i = i + 1
end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], ARGV[4], ARGV[5]) end
return 1
)lua";

// KEYS: job, ready. ARGV: me, entry, now text.
constexpr const char* kFinishScript = R"lua(
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'done_at', ARGV[3])
redis.call('HDEL', KEYS[1], 'lease', 'lease_until', 'error')
redis.call('XACK', KEYS[2], 'workers', ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
return 1
)lua";

// KEYS: job, ready, later, person intents. ARGV: me, entry, due_ms, error, gist, count attempt
// (1/0), intent to clear, login.
constexpr const char* kRescheduleScript = R"lua(
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return 0 end
if ARGV[6] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', 1) end
redis.call('HSET', KEYS[1], 'error', ARGV[4])
redis.call('HDEL', KEYS[1], 'lease', 'lease_until')
if ARGV[7] ~= '' then redis.call('HDEL', KEYS[1], ARGV[7]) end
if ARGV[7] == 'intent_person' then redis.call('HDEL', KEYS[4], ARGV[8]) end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[5])
redis.call('XACK', KEYS[2], 'workers', ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
return 1
)lua";

// KEYS: job, ready, dead. ARGV: me, entry, now text, reason, detail, gist, login, status.
constexpr const char* kDeadScript = R"lua(
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return 0 end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local err = ARGV[5]
if err == '' then err = ARGV[4] end
redis.call('HSET', KEYS[1], 'state', 'failed', 'error', err, 'failed_at', ARGV[3])
redis.call('HDEL', KEYS[1], 'lease', 'lease_until')
redis.call('LPUSH', KEYS[3], cjson.encode({gist = ARGV[6], login = ARGV[7], reason = ARGV[4],
  detail = ARGV[5], status = tonumber(ARGV[8]), attempts = attempts, at = ARGV[3]}))
redis.call('XACK', KEYS[2], 'workers', ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
return 1
)lua";

// A sliding log of the searches granted in the last span, for the whole fleet.
// KEYS: the log (sorted set, score: grant time). ARGV: now (ms), span (ms), limit, unique member.
constexpr const char* kSearchSlotScript = R"lua(
local now, span = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], span)
return 1
)lua";

// Consumers of workers that are gone: nothing pending (XAUTOCLAIM took it) and silent for long.
// A live worker that is removed by mistake is added back by its next XREADGROUP.
// KEYS: ready. ARGV: group, min idle (ms), me.
constexpr const char* kForgetConsumersScript = R"lua(
local removed = 0
for _, info in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local c = {}
  for i = 1, #info, 2 do c[info[i]] = info[i + 1] end
  if c.name ~= ARGV[3] and tonumber(c.pending) == 0 and tonumber(c.idle) > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], c.name)
    removed = removed + 1
  end
end
return removed
)lua";

// KEYS: lock. ARGV: me.
constexpr const char* kUnlockScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

// ARGV: job key prefix, gist ids…
constexpr const char* kStatusScript = R"lua(
local out = {}
for i = 2, #ARGV do
  local v = redis.call('HMGET', ARGV[1] .. ARGV[i], 'state', 'deal_id', 'error')
  out[#out + 1] = {v[1] or '', v[2] or '', v[3] or ''}
end
return out
)lua";

// KEYS: ready, later, dead.
constexpr const char* kCountsScript = R"lua(
return {redis.call('XLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('LLEN', KEYS[3])}
)lua";

bool usable(const RedisResult& r) { return r.ok() && !r.value.is_error(); }

const std::string& text(const RedisValue& v) {
    static const std::string empty;
    return (v.type == RedisValue::Type::string || v.type == RedisValue::Type::status) ? v.str : empty;
}

std::optional<std::int64_t> id_of(const RedisValue& v) {
    if (v.type == RedisValue::Type::integer) {
        return v.integer;
    }
    if (v.type != RedisValue::Type::string || v.str.empty()) {
        return std::nullopt;
    }
    try {
        return std::stoll(v.str);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// [[id, [field, value, …]], …] → (entry id, gist id)
DealOutbox::Entries parse_entries(const RedisValue& list) {
    DealOutbox::Entries out;
    for (const auto& entry : list.elements) {
        if (entry.elements.size() != 2) {
            continue;
        }
        const auto& fields = entry.elements[1].elements;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
            if (fields[i].str == "gist") {
                out.emplace_back(entry.elements[0].str, fields[i + 1].str);
            }
        }
    }
    return out;
}

}  // namespace

DealOutbox::DealOutbox(RedisClient& redis, std::string prefix, std::string consumer)
    : redis_(redis), prefix_(std::move(prefix)), consumer_(std::move(consumer)) {}

void DealOutbox::ensure_group(std::function<void(bool)> done) {
    redis_.command({"XGROUP", "CREATE", ready_key(), group, "0", "MKSTREAM"}, [done = std::move(done)](RedisResult r) {
        // BUSYGROUP: somebody created it already, which is what we want.
        done(r.ok() && (!r.value.is_error() || r.value.str.rfind("BUSYGROUP", 0) == 0));
    });
}

void DealOutbox::promote_due(std::int64_t now_ms, std::function<void(bool)> done) {
    redis_.command({"EVAL", kPromoteScript, "2", later_key(), ready_key(), std::to_string(now_ms), "100"},
                   [done = std::move(done)](RedisResult r) { done(usable(r)); });
}

void DealOutbox::read_new(int count, std::function<void(bool, bool, Entries)> done) {
    redis_.command({"XREADGROUP", "GROUP", group, consumer_, "COUNT", std::to_string(count), "STREAMS", ready_key(), ">"},
                   [done = std::move(done)](RedisResult r) {
                       if (!r.ok()) {
                           done(false, false, {});
                           return;
                       }
                       if (r.value.is_error()) {
                           done(false, r.value.str.rfind("NOGROUP", 0) == 0, {});
                           return;
                       }
                       Entries entries;
                       for (const auto& stream : r.value.elements) {
                           if (stream.elements.size() == 2) {
                               auto part = parse_entries(stream.elements[1]);
                               entries.insert(entries.end(), part.begin(), part.end());
                           }
                       }
                       done(true, false, std::move(entries));
                   });
}

void DealOutbox::forget_idle_consumers(std::int64_t min_idle_ms, std::function<void(bool, long long)> done) {
    redis_.command({"EVAL", kForgetConsumersScript, "1", ready_key(), group, std::to_string(min_idle_ms), consumer_},
                   [done = std::move(done)](RedisResult r) {
                       const bool ok = usable(r) && r.value.type == RedisValue::Type::integer;
                       done(ok, ok ? r.value.integer : 0);
                   });
}

void DealOutbox::claim_idle(int count, std::int64_t min_idle_ms, std::function<void(bool, Entries)> done) {
    redis_.command({"XAUTOCLAIM", ready_key(), group, consumer_, std::to_string(min_idle_ms), "0-0", "COUNT",
                    std::to_string(count)},
                   [done = std::move(done)](RedisResult r) {
                       if (!usable(r) || r.value.elements.size() < 2) {
                           done(false, {});
                           return;
                       }
                       done(true, parse_entries(r.value.elements[1]));
                   });
}

void DealOutbox::take(const std::string& entry_id, const std::string& gist_id, std::int64_t now_ms,
                      std::int64_t lease_ms, std::function<void(TakeResult, DealJob)> done) {
    redis_.command({"EVAL", kTakeScript, "4", job_key(gist_id), ready_key(), persons_key(), person_intents_key(), consumer_,
                    std::to_string(now_ms), std::to_string(lease_ms), entry_id},
                   [done = std::move(done), entry_id, gist_id](RedisResult r) {
                       DealJob job;
                       job.entry_id = entry_id;
                       job.gist_id = gist_id;
                       if (!usable(r) || r.value.elements.empty()) {
                           done(TakeResult::error, std::move(job));
                           return;
                       }
                       const auto& v = r.value.elements;
                       if (v[0].str == "gone") {
                           done(TakeResult::gone, std::move(job));
                           return;
                       }
                       if (v[0].str != "ok" || v.size() != 12) {
                           done(TakeResult::busy, std::move(job));
                           return;
                       }
                       job.login = text(v[1]);
                       job.title = text(v[2]);
                       job.note = text(v[3]);
                       job.person_id = id_of(v[4]);
                       job.deal_id = id_of(v[5]);
                       job.note_id = id_of(v[6]);
                       job.attempts = static_cast<unsigned>(id_of(v[7]).value_or(0));
                       job.intent_person = text(v[8]);
                       job.intent_deal = text(v[9]);
                       job.intent_note = text(v[10]);
                       if (!job.person_id) {
                           job.person_id = id_of(v[11]);
                       }
                       done(TakeResult::ok, std::move(job));
                   });
}

void DealOutbox::save(const DealJob& job, std::int64_t now_ms, std::int64_t lease_ms,
                      std::vector<std::pair<std::string, std::string>> set, std::vector<std::string> del,
                      std::optional<std::int64_t> cache_person, std::function<void(bool)> done) {
    std::vector<std::string> argv{"EVAL", kSaveScript, "3", job_key(job.gist_id), persons_key(),
                                  person_intents_key(), consumer_, std::to_string(now_ms), std::to_string(lease_ms),
                                  job.login, cache_person ? std::to_string(*cache_person) : std::string(),
                                  std::to_string(set.size())};
    for (auto& [field, value] : set) {
        argv.push_back(std::move(field));
        argv.push_back(std::move(value));
    }
    for (auto& field : del) {
        argv.push_back(std::move(field));
    }
    redis_.command(std::move(argv), [done = std::move(done)](RedisResult r) {
        done(usable(r) && r.value.integer == 1);
    });
}

void DealOutbox::finish(const DealJob& job, const std::string& now_text, std::function<void(bool)> done) {
    redis_.command({"EVAL", kFinishScript, "2", job_key(job.gist_id), ready_key(), consumer_, job.entry_id, now_text},
                   [done = std::move(done)](RedisResult r) { done(usable(r) && r.value.integer == 1); });
}

void DealOutbox::reschedule(const DealJob& job, std::int64_t due_ms, const std::string& error, bool count_attempt,
                            const std::string& clear_intent, std::function<void(bool)> done) {
    redis_.command({"EVAL", kRescheduleScript, "4", job_key(job.gist_id), ready_key(), later_key(),
                    person_intents_key(), consumer_, job.entry_id, std::to_string(due_ms), error, job.gist_id,
                    count_attempt ? "1" : "0", clear_intent, job.login},
                   [done = std::move(done)](RedisResult r) { done(usable(r) && r.value.integer == 1); });
}

void DealOutbox::dead_letter(const DealJob& job, const std::string& now_text, const std::string& reason,
                             const std::string& detail, long status, std::function<void(bool)> done) {
    redis_.command({"EVAL", kDeadScript, "3", job_key(job.gist_id), ready_key(), dead_key(), consumer_, job.entry_id,
                    now_text, reason, detail, job.gist_id, job.login, std::to_string(status)},
                   [done = std::move(done)](RedisResult r) { done(usable(r) && r.value.integer == 1); });
}

void DealOutbox::lock_person(const std::string& login, std::int64_t ttl_ms, std::function<void(bool)> done) {
    redis_.command({"SET", prefix_ + "pdlock:person:" + login, consumer_, "NX", "PX", std::to_string(ttl_ms)},
                   [done = std::move(done)](RedisResult r) {
                       done(usable(r) && r.value.type == RedisValue::Type::status);
                   });
}

void DealOutbox::unlock_person(const std::string& login) {
    redis_.command({"EVAL", kUnlockScript, "1", prefix_ + "pdlock:person:" + login, consumer_}, [](RedisResult) {});
}

void DealOutbox::search_slot(std::int64_t now_ms, int per_window, std::function<void(bool)> done) {
    redis_.command({"EVAL", kSearchSlotScript, "1", prefix_ + "pipedrive:searches", std::to_string(now_ms),
                    std::to_string(kSearchSpan.count()), std::to_string(per_window),
                    consumer_ + ":" + std::to_string(++searches_)},
                   [done = std::move(done)](RedisResult r) { done(usable(r) && r.value.integer == 1); });
}

void DealOutbox::statuses(const std::vector<std::string>& gist_ids,
                          std::function<void(bool, std::vector<DealStatus>)> done) {
    if (gist_ids.empty()) {
        done(true, {});
        return;
    }
    std::vector<std::string> argv{"EVAL", kStatusScript, "0", prefix_ + "deal:"};
    argv.insert(argv.end(), gist_ids.begin(), gist_ids.end());
    redis_.command(std::move(argv), [done = std::move(done)](RedisResult r) {
        if (!usable(r)) {
            done(false, {});
            return;
        }
        std::vector<DealStatus> out;
        out.reserve(r.value.elements.size());
        for (const auto& row : r.value.elements) {
            DealStatus s;
            if (row.elements.size() == 3) {
                const auto& state = row.elements[0].str;
                const auto deal_id = id_of(row.elements[1]);
                if (deal_id) {
                    s.kind = DealStatus::Kind::created;
                    s.deal_id = *deal_id;
                } else if (state == "failed") {
                    s.kind = DealStatus::Kind::failed;
                    s.error = row.elements[2].str;
                } else if (!state.empty()) {
                    s.kind = DealStatus::Kind::pending;
                }
            }
            out.push_back(std::move(s));
        }
        done(true, std::move(out));
    });
}

void DealOutbox::counts(std::function<void(bool, OutboxCounts)> done) {
    redis_.command({"EVAL", kCountsScript, "3", ready_key(), later_key(), dead_key()},
                   [done = std::move(done)](RedisResult r) {
                       if (!usable(r) || r.value.elements.size() != 3) {
                           done(false, {});
                           return;
                       }
                       done(true, OutboxCounts{r.value.elements[0].integer, r.value.elements[1].integer,
                                               r.value.elements[2].integer});
                   });
}

}  // namespace gist
