// The operator's side of the deal outbox: listing jobs by status and retrying dead letters.
// Design: docs/pipedrive-outbox.md ("Operator retry").
#include "gist/deal_outbox.hpp"

#include <exception>
#include <utility>

#include <nlohmann/json.hpp>

namespace gist {

namespace {

using nlohmann::json;

// KEYS: dead, later, ready. ARGV: which (dead|retrying|queued), cursor, limit, job key prefix.
// dead and retrying page by offset, queued by stream entry id (entries come and go at the head).
// Answers one JSON text: {"total", "next", "jobs": [{…}]}.
constexpr const char* kListScript = R"lua(
local which, cursor, limit, prefix = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local out = {jobs = {}, next = ''}
local function job(id, row)
  local f = redis.call('HMGET', prefix .. id, 'login', 'title', 'state', 'error', 'attempts', 'deal_id', 'created_at')
  row.gist = id
  row.login = row.login or f[1] or ''
  row.title = f[2] or ''
  row.state = f[3] or ''
  row.error = f[4] or ''
  row.attempts = tonumber(f[5] or row.attempts or '0') or 0
  row.deal_id = f[6] or ''
  row.created_at = f[7] or ''
  out.jobs[#out.jobs + 1] = row
end
if which == 'dead' then
  local from = tonumber(cursor ~= '' and cursor or '0')
  if not from or from < 0 then return redis.error_reply('bad cursor') end
  out.total = redis.call('LLEN', KEYS[1])
  for _, text in ipairs(redis.call('LRANGE', KEYS[1], from, from + limit - 1)) do
    local ok, e = pcall(cjson.decode, text)
    if ok and type(e) == 'table' and e.gist then
      job(tostring(e.gist), {login = e.login, reason = e.reason or '', detail = e.detail or '',
                             status = tonumber(e.status) or 0, failed_at = e.at or '', attempts = e.attempts})
    end
  end
  if from + limit < out.total then out.next = tostring(from + limit) end
elseif which == 'retrying' then
  local from = tonumber(cursor ~= '' and cursor or '0')
  if not from or from < 0 then return redis.error_reply('bad cursor') end
  out.total = redis.call('ZCARD', KEYS[2])
  local r = redis.call('ZRANGE', KEYS[2], from, from + limit - 1, 'WITHSCORES')
  for i = 1, #r, 2 do job(r[i], {due_ms = tonumber(r[i + 1])}) end
  if from + limit < out.total then out.next = tostring(from + limit) end
else
  if cursor ~= '' and not string.match(cursor, '^%d+%-%d+$') then return redis.error_reply('bad cursor') end
  out.total = redis.call('XLEN', KEYS[3])
  local r = redis.call('XRANGE', KEYS[3], cursor ~= '' and ('(' .. cursor) or '-', '+', 'COUNT', limit + 1)
  for i = 1, math.min(#r, limit) do
    local fields = r[i][2]
    for k = 1, #fields, 2 do
      if fields[k] == 'gist' then job(fields[k + 1], {}) end
    end
  end
  if #r > limit then out.next = r[limit][1] end
end
return cjson.encode(out)
)lua";

// KEYS: dead, ready. ARGV: job key prefix, gist id ('' for all), now text.
// A dead letter leaves the list and its job goes back to the ready stream in one step, so two
// retries (two operators, two clicks) move it once: the second finds no dead letter.
constexpr const char* kRetryDeadScript = R"lua(
local n = 0
for _, text in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ok, e = pcall(cjson.decode, text)
  local id = ok and type(e) == 'table' and e.gist and tostring(e.gist) or nil
  if id and (ARGV[2] == '' or id == ARGV[2]) then
    redis.call('LREM', KEYS[1], 1, text)
    local key = ARGV[1] .. id
    if redis.call('HGET', key, 'state') == 'failed' then
      redis.call('HSET', key, 'state', 'pending', 'attempts', 0, 'retried_at', ARGV[3])
      redis.call('HDEL', key, 'error', 'failed_at', 'lease', 'lease_until')
      redis.call('XADD', KEYS[2], '*', 'gist', id)
      n = n + 1
    end
  end
end
return n
)lua";

std::string field(const json& j, const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t number(const json& j, const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

}  // namespace

void DealOutbox::list_jobs(DealJobList which, int limit, const std::string& cursor,
                           std::function<void(bool, DealJobPage)> done) {
    const char* name = which == DealJobList::dead ? "dead" : which == DealJobList::retrying ? "retrying" : "queued";
    redis_.command({"EVAL", kListScript, "3", dead_key(), later_key(), ready_key(), name, cursor,
                    std::to_string(limit), prefix_ + "deal:"},
                   [done = std::move(done)](RedisResult r) {
                       if (!r.ok() || r.value.type != RedisValue::Type::string) {
                           done(false, {});
                           return;
                       }
                       DealJobPage page;
                       try {
                           const auto j = json::parse(r.value.str);
                           page.total = number(j, "total");
                           page.next_cursor = field(j, "next");
                           // cjson writes an empty list as {}: only an array has jobs
                           const auto& jobs = j.at("jobs");
                           for (const auto& row : jobs.is_array() ? jobs : json::array()) {
                               DealJobView v;
                               v.gist_id = field(row, "gist");
                               v.login = field(row, "login");
                               v.title = field(row, "title");
                               v.state = field(row, "state");
                               v.error = field(row, "error");
                               v.attempts = number(row, "attempts");
                               v.created_at = field(row, "created_at");
                               v.reason = field(row, "reason");
                               v.detail = field(row, "detail");
                               v.failed_at = field(row, "failed_at");
                               v.http_status = number(row, "status");
                               v.due_ms = number(row, "due_ms");
                               const auto deal = field(row, "deal_id");
                               if (!deal.empty()) {
                                   v.deal_id = std::stoll(deal);
                               }
                               page.jobs.push_back(std::move(v));
                           }
                       } catch (const std::exception&) {
                           done(false, {});
                           return;
                       }
                       done(true, std::move(page));
                   });
}

void DealOutbox::retry_dead(const std::string& gist_id, const std::string& now_text,
                            std::function<void(bool, std::int64_t)> done) {
    redis_.command({"EVAL", kRetryDeadScript, "2", dead_key(), ready_key(), prefix_ + "deal:", gist_id, now_text},
                   [done = std::move(done)](RedisResult r) {
                       const bool ok = r.ok() && r.value.type == RedisValue::Type::integer;
                       done(ok, ok ? r.value.integer : 0);
                   });
}

}  // namespace gist
