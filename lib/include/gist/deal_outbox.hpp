// The Redis side of the deal outbox: job hashes, the ready stream, delayed retries, the
// dead-letter list and the person cache. Every mutation is one Lua script, so a job is always in
// exactly one place. Design: docs/pipedrive-outbox.md.
#pragma once

#include "gist/redis_client.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gist {

// A job as read (and leased) by one worker.
struct DealJob {
    std::string entry_id;   // stream entry in <P>deals:ready
    std::string gist_id;
    std::string login;
    std::string title;
    std::string note;
    std::optional<std::int64_t> person_id;  // from the job or the per-login cache
    std::optional<std::int64_t> deal_id;
    std::optional<std::int64_t> note_id;
    unsigned attempts = 0;
    std::string intent_person, intent_deal, intent_note;  // RFC 3339 when a create may have happened
};

enum class TakeResult { ok, busy, gone, error };

// What POST/GET /user show per gist.
struct DealStatus {
    enum class Kind { none, pending, created, failed };
    Kind kind = Kind::none;
    std::int64_t deal_id = 0;
    std::string error;
};

struct OutboxCounts {
    std::int64_t queued = 0, retrying = 0, dead = 0;
};

// What Redis keeps of finished work, so that it does not grow without bound.
struct OutboxRetention {
    std::int64_t dead_letters_max = 10000;          // newest entries kept in <P>deals:dead
    std::chrono::seconds done_job_ttl{30 * 86400};  // a finished job's (trimmed) hash expires after this
};

// One job as GET /deals lists it (deal_outbox_admin.cpp).
struct DealJobView {
    std::string gist_id, login, title, state, error;
    std::int64_t attempts = 0;
    std::optional<std::int64_t> deal_id;
    std::string created_at;
    // dead: the dead letter's reason, detail, HTTP status (0: none) and time
    std::string reason, detail, failed_at;
    std::int64_t http_status = 0;
    std::int64_t due_ms = 0;  // retrying: when the next attempt is due
};

struct DealJobPage {
    std::int64_t total = 0;       // jobs with that status
    std::vector<DealJobView> jobs;
    std::string next_cursor;      // empty: last page
};

enum class DealJobList { dead, retrying, queued };

class DealOutbox {
public:
    DealOutbox(RedisClient& redis, std::string prefix, std::string consumer, OutboxRetention retention = {});

    const std::string& consumer() const { return consumer_; }
    std::string job_key(const std::string& gist_id) const { return prefix_ + "deal:" + gist_id; }
    std::string ready_key() const { return prefix_ + "deals:ready"; }
    std::string later_key() const { return prefix_ + "deals:later"; }
    std::string dead_key() const { return prefix_ + "deals:dead"; }
    std::string persons_key() const { return prefix_ + "persons"; }
    std::string person_intents_key() const { return prefix_ + "persons:intent"; }
    // gist id → deal id of every finished job: what GET /user shows once the job's hash expired
    std::string done_key() const { return prefix_ + "deals:done"; }
    // gist id → the gist id of the summary job that covers it (gist_pipedrive_max_deals_per_scan)
    std::string summary_key() const { return prefix_ + "deals:summary"; }
    static constexpr const char* group = "workers";

    // XGROUP CREATE … 0 MKSTREAM (an existing group is fine).
    void ensure_group(std::function<void(bool ok)> done);
    // Moves jobs whose backoff is over back to the ready stream.
    void promote_due(std::int64_t now_ms, std::function<void(bool ok)> done);
    // New entries for this consumer (XREADGROUP), or entries idle longer than min_idle_ms
    // (XAUTOCLAIM: a dead worker's). Pairs of (entry id, gist id). `nogroup` is set when the
    // group is missing (Redis lost its data).
    using Entries = std::vector<std::pair<std::string, std::string>>;
    void read_new(int count, std::function<void(bool ok, bool nogroup, Entries)> done);
    void claim_idle(int count, std::int64_t min_idle_ms, std::function<void(bool ok, Entries)> done);
    // Removes the consumers of workers that are gone (one per worker start would pile up):
    // nothing pending and idle for longer than min_idle_ms. Never this outbox's own.
    void forget_idle_consumers(std::int64_t min_idle_ms, std::function<void(bool ok, long long removed)> done);

    // Leases the job for lease_ms and reads it.
    void take(const std::string& entry_id, const std::string& gist_id, std::int64_t now_ms, std::int64_t lease_ms,
              std::function<void(TakeResult, DealJob)> done);
    // Renews the lease and sets/deletes job fields; also caches login → person id when given.
    // ok=false when the lease is no longer ours (another worker took the job over).
    void save(const DealJob& job, std::int64_t now_ms, std::int64_t lease_ms,
              std::vector<std::pair<std::string, std::string>> set, std::vector<std::string> del,
              std::optional<std::int64_t> cache_person, std::function<void(bool ok)> done);
    void finish(const DealJob& job, const std::string& now_text, std::function<void(bool ok)> done);
    // Back to the delayed set with attempts+1; `clear_intent` names an intent field a definite
    // failure proved unneeded.
    void reschedule(const DealJob& job, std::int64_t due_ms, const std::string& error, bool count_attempt,
                    const std::string& clear_intent, std::function<void(bool ok)> done);
    void dead_letter(const DealJob& job, const std::string& now_text, const std::string& reason,
                     const std::string& detail, long status, std::function<void(bool ok)> done);

    // Serialises person find-or-create per login across workers and instances.
    void lock_person(const std::string& login, std::int64_t ttl_ms, std::function<void(bool locked)> done);
    void unlock_person(const std::string& login);

    // Pipedrive allows 10 searches per 2 s per token, for the whole fleet: a sliding log in Redis
    // grants at most `per_window` searches in any kSearchSpan. The span is longer than Pipedrive's
    // 2 s because Pipedrive counts arrivals, which come a little after the grants.
    static constexpr std::chrono::milliseconds kSearchSpan{2500};
    void search_slot(std::int64_t now_ms, int per_window, std::function<void(bool granted)> done);

    void statuses(const std::vector<std::string>& gist_ids, std::function<void(bool ok, std::vector<DealStatus>)> done);
    void counts(std::function<void(bool ok, OutboxCounts)> done);

    // Operator views and actions (deal_outbox_admin.cpp). `cursor` is what next_cursor said
    // (empty: first page); ok=false also for a cursor that is not one.
    void list_jobs(DealJobList which, int limit, const std::string& cursor,
                   std::function<void(bool ok, DealJobPage)> done);
    // Moves dead-lettered jobs back to the ready stream (state pending, attempts 0, intents and ids
    // kept, so the worker looks up before it creates): one gist's, or all when gist_id is empty.
    // `moved` is how many; a gist without a dead letter moves none.
    void retry_dead(const std::string& gist_id, const std::string& now_text,
                    std::function<void(bool ok, std::int64_t moved)> done);

private:
    RedisClient& redis_;
    std::string prefix_;
    std::string consumer_;
    std::uint64_t searches_ = 0;  // makes each granted search a distinct member of the log
    OutboxRetention retention_;
};

}  // namespace gist
