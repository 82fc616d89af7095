#include "gist/deal_worker.hpp"

#include "gist/metrics.hpp"
#include "gist/pipedrive_request.hpp"
#include "gist/pipedrive_response.hpp"
#include "gist/pipedrive_search.hpp"
#include "gist/rfc3339.hpp"

#include <algorithm>
#include <exception>
#include <utility>

namespace gist {

namespace {

using std::chrono::milliseconds;

// A look-up window that starts a little before the ambiguous attempt (clock skew).
std::string lookup_since(const std::string& intent) {
    auto t = parse_rfc3339(intent);
    return format_rfc3339((t ? *t : std::chrono::system_clock::now()) - std::chrono::minutes(5));
}

}  // namespace

// One job: person → deal → note, each step "look up if a create may have happened, else create".
struct DealWorker::Job : std::enable_shared_from_this<Job> {
    enum class Step { person, deal, note };

    DealWorker& w;
    DealJob job;
    std::unique_ptr<HttpCall> call;
    bool person_locked = false;

    Job(DealWorker& worker, std::string entry_id, std::string gist_id) : w(worker) {
        job.entry_id = std::move(entry_id);
        job.gist_id = std::move(gist_id);
    }

    ~Job() {
        if (person_locked) {
            w.outbox_.unlock_person(job.login);
        }
    }

    std::int64_t now_ms() const { return epoch_ms(w.loop_.now()); }
    std::int64_t lease_ms() const { return w.settings_.claim_timeout.count(); }

    // Continuations run only while this job is still owned by the worker.
    template <typename F>
    auto guarded(F f) {
        return [weak = weak_from_this(), f = std::move(f)](auto&&... args) mutable {
            auto self = weak.lock();
            if (!self) {
                return;
            }
            try {
                f(*self, std::forward<decltype(args)>(args)...);
            } catch (const std::exception& e) {
                self->w.log_.log(LogLevel::error, std::string("gist: deal job failed: ") + e.what());
                self->release();
            }
        };
    }

    // Drops the job from this worker (its stream entry stays pending unless acked by a script).
    void release() {
        auto self = shared_from_this();
        w.jobs_.erase(job.entry_id);
        w.guard_in_flight();
        w.schedule(milliseconds(0));
    }

    void start() {
        w.outbox_.take(job.entry_id, job.gist_id, now_ms(), lease_ms(), guarded([](Job& j, TakeResult r, DealJob taken) {
            if (r != TakeResult::ok) {
                // busy: another worker holds the lease; its entry comes back by XAUTOCLAIM if needed.
                j.release();
                return;
            }
            j.job = std::move(taken);
            j.next();
        }));
    }

    void next() {
        if (!job.person_id) {
            person();
        } else if (!job.deal_id) {
            deal();
        } else if (!job.note_id) {
            note();
        } else {
            done();
        }
    }

    // ---- person: one per GitHub login, found or created under a per-login lock ----

    void person() {
        if (!person_locked) {
            w.outbox_.lock_person(job.login, lease_ms(), guarded([](Job& j, bool locked) {
                if (!locked) {
                    // Another job is finding or creating this login's person: come back shortly.
                    j.retry_later(milliseconds(500), "waiting for the person of " + j.job.login, false, {});
                    return;
                }
                j.person_locked = true;
                // Re-read: the person may have been created while we waited for the lock.
                j.w.outbox_.take(j.job.entry_id, j.job.gist_id, j.now_ms(), j.lease_ms(),
                                 j.guarded([](Job& k, TakeResult r, DealJob taken) {
                                     if (r != TakeResult::ok) {
                                         k.release();
                                         return;
                                     }
                                     k.job = std::move(taken);
                                     k.person();
                                 }));
            }));
            return;
        }
        if (job.person_id) {
            // Found in the cache after all: let the login's other jobs go on.
            person_locked = false;
            w.outbox_.unlock_person(job.login);
            next();
            return;
        }
        if (!job.intent_person.empty()) {
            send(pipedrive_list_persons_request(w.settings_.pipedrive, lookup_since(job.intent_person)),
                 PipedriveCall::search, [](Job& j, const PipedriveVerdict&, const HttpResponse& r) {
                     j.found_or_create(Step::person, find_person_in_list(r.body, j.job.login));
                 });
            return;
        }
        w.outbox_.search_slot(now_ms(), w.settings_.searches_per_window, guarded([](Job& j, bool granted) {
            if (!granted) {
                j.retry_later(milliseconds(1000), "Pipedrive search rate limit (fleet-wide)", false, {});
                return;
            }
            j.send(pipedrive_search_person_request(j.w.settings_.pipedrive, j.job.login), PipedriveCall::search,
                   [](Job& k, const PipedriveVerdict&, const HttpResponse& r) {
                       k.found_or_create(Step::person, find_person_in_search(r.body, k.job.login));
                   });
        }));
    }

    // ---- deal and note: look up only after an ambiguous create ----

    void deal() {
        if (!job.intent_deal.empty()) {
            send(pipedrive_list_deals_request(w.settings_.pipedrive, *job.person_id, lookup_since(job.intent_deal)),
                 PipedriveCall::search, [](Job& j, const PipedriveVerdict&, const HttpResponse& r) {
                     j.found_or_create(Step::deal, find_deal_in_list(r.body, j.job.gist_id));
                 });
            return;
        }
        create(Step::deal);
    }

    void note() {
        if (!job.intent_note.empty()) {
            send(pipedrive_list_notes_request(w.settings_.pipedrive, *job.deal_id), PipedriveCall::search,
                 [](Job& j, const PipedriveVerdict&, const HttpResponse& r) {
                     j.found_or_create(Step::note, find_note_in_list(r.body, j.job.gist_id));
                 });
            return;
        }
        create(Step::note);
    }

    void found_or_create(Step step, const PipedriveSearchResult& result) {
        if (result.kind == PipedriveSearchResult::Kind::found) {
            store(step, result.id);
        } else if (result.kind == PipedriveSearchResult::Kind::not_found) {
            create(step);
        } else {
            // Never take an unreadable answer for "not found": that is how duplicates are made.
            retry_later(std::nullopt, "unreadable Pipedrive look-up answer", true, {});
        }
    }

    static const char* intent_field(Step step) {
        return step == Step::person ? "intent_person" : step == Step::deal ? "intent_deal" : "intent_note";
    }

    // Write-ahead: the intent is in Redis before the create leaves, so whoever runs this job next
    // (after a timeout, a crash or a takeover) looks up before creating again.
    void create(Step step) {
        const std::string now_text = format_rfc3339(w.loop_.now());
        w.outbox_.save(job, now_ms(), lease_ms(), {{intent_field(step), now_text}}, {}, std::nullopt,
                       guarded([step, now_text](Job& j, bool ok) {
                           if (!ok) {
                               j.release();  // lease lost: someone else runs this job now
                               return;
                           }
                           (step == Step::person ? j.job.intent_person
                            : step == Step::deal ? j.job.intent_deal
                                                 : j.job.intent_note) = now_text;
                           const auto& s = j.w.settings_.pipedrive;
                           HttpRequest request =
                               step == Step::person ? pipedrive_create_person_request(s, j.job.login)
                               : step == Step::deal ? pipedrive_create_deal_request(s, j.job.title, j.job.person_id)
                                                    : pipedrive_create_note_request(s, *j.job.deal_id, j.job.note);
                           j.send(std::move(request), PipedriveCall::create,
                                  [step](Job& k, const PipedriveVerdict& v, const HttpResponse&) {
                                      k.store(step, *v.id);
                                  },
                                  step);
                       }));
    }

    void store(Step step, std::int64_t id) {
        std::vector<std::pair<std::string, std::string>> set;
        std::optional<std::int64_t> cache;
        if (step == Step::person) {
            set.emplace_back("person_id", std::to_string(id));
            cache = id;
        } else if (step == Step::deal) {
            set.emplace_back("deal_id", std::to_string(id));
        } else {
            set.emplace_back("note_id", std::to_string(id));
        }
        w.outbox_.save(job, now_ms(), lease_ms(), std::move(set), {intent_field(step)}, cache,
                       guarded([step, id](Job& j, bool ok) {
                           if (!ok) {
                               j.release();
                               return;
                           }
                           if (step == Step::person) {
                               j.job.person_id = id;
                               j.job.intent_person.clear();
                               if (j.person_locked) {
                                   j.person_locked = false;
                                   j.w.outbox_.unlock_person(j.job.login);
                               }
                           } else if (step == Step::deal) {
                               j.job.deal_id = id;
                               j.job.intent_deal.clear();
                           } else {
                               j.job.note_id = id;
                               j.job.intent_note.clear();
                           }
                           j.next();
                       }));
    }

    void done() {
        w.outbox_.finish(job, format_rfc3339(w.loop_.now()), guarded([](Job& j, bool ok) {
                             if (ok) {
                                 count_deal(DealEvent::done);
                             }
                             j.release();
                         }));
    }

    // Sends one Pipedrive request and routes the verdict: ok → on_ok; the rest here.
    template <typename OnOk>
    void send(HttpRequest request, PipedriveCall kind, OnOk on_ok, std::optional<Step> creating = std::nullopt) {
        // Pipedrive asked this worker to wait (Retry-After): no call leaves before the pause ends,
        // whichever poll picked the job up. Nothing was sent, so a create's intent is not needed.
        if (const auto wait = w.pause_left(); wait > milliseconds(0)) {
            retry_later(wait, "waiting out Pipedrive's Retry-After", false,
                        creating ? std::string(intent_field(*creating)) : std::string());
            return;
        }
        const auto op = pipedrive_op(request.method, request.url);
        call = w.http_.start(std::move(request), guarded([kind, on_ok, creating, op](Job& j, HttpResponse response) {
            j.call.reset();
            const auto verdict = classify_pipedrive_response(response, j.w.loop_.now(), kind);
            count_pipedrive(op, verdict.outcome == PipedriveOutcome::ok          ? PipedriveResult::ok
                                : verdict.outcome == PipedriveOutcome::retry     ? PipedriveResult::retry
                                : verdict.outcome == PipedriveOutcome::ambiguous ? PipedriveResult::ambiguous
                                                                                 : PipedriveResult::permanent);
            switch (verdict.outcome) {
            case PipedriveOutcome::ok:
                if (kind == PipedriveCall::create && !verdict.id) {
                    j.retry_later(std::nullopt, "Pipedrive answered without an id", true, {});
                    return;
                }
                on_ok(j, verdict, response);
                return;
            case PipedriveOutcome::retry: {
                // Pipedrive's wait, never longer than our own backoff cap.
                const auto server_wait = j.w.capped_server_wait(verdict.retry_after);
                if (server_wait) {
                    j.w.paused_until_ = std::max(j.w.paused_until_, std::chrono::steady_clock::now() + *server_wait);
                }
                // Nothing was created: the intent (if any) is not needed any more.
                j.retry_later(std::nullopt, verdict.detail, true,
                              creating ? std::string(intent_field(*creating)) : std::string(), server_wait);
                return;
            }
            case PipedriveOutcome::ambiguous:
                // Keep the intent: the next attempt looks up first. Give Pipedrive a moment.
                j.retry_later(std::nullopt, verdict.detail, true, {}, std::nullopt, milliseconds(2000));
                return;
            case PipedriveOutcome::permanent:
                j.w.log_.log(LogLevel::error, "gist: deal for gist " + j.job.gist_id + " of " + j.job.login +
                                                  " failed for good: " + verdict.reason + " (" + verdict.detail + ")");
                j.w.outbox_.dead_letter(j.job, format_rfc3339(j.w.loop_.now()), verdict.reason, verdict.detail,
                                        verdict.status, j.guarded([](Job& k, bool ok) {
                                            if (ok) {
                                                count_deal(DealEvent::dead_lettered);
                                            }
                                            k.release();
                                        }));
                return;
            }
        }));
    }

    void retry_later(std::optional<milliseconds> fixed, const std::string& error, bool count_attempt,
                     const std::string& clear_intent, std::optional<std::chrono::seconds> server_wait = std::nullopt,
                     milliseconds at_least = milliseconds(0)) {
        const unsigned attempt = job.attempts + 1;
        if (count_attempt && w.settings_.max_attempts > 0 && attempt >= w.settings_.max_attempts) {
            w.log_.log(LogLevel::error, "gist: deal for gist " + job.gist_id + " of " + job.login + " gave up after " +
                                            std::to_string(attempt) + " attempts: " + error);
            w.outbox_.dead_letter(job, format_rfc3339(w.loop_.now()), "too_many_attempts", error, 0,
                                  guarded([](Job& k, bool ok) {
                                      if (ok) {
                                          count_deal(DealEvent::dead_lettered);
                                      }
                                      k.release();
                                  }));
            return;
        }
        milliseconds delay = fixed ? *fixed : retry_delay(w.settings_.retry, attempt, w.random_, server_wait);
        delay = std::max(delay, at_least);
        w.outbox_.reschedule(job, now_ms() + delay.count(), error, count_attempt, clear_intent,
                             guarded([count_attempt](Job& k, bool ok) {
                                 if (ok && count_attempt) {  // not a wait for Retry-After
                                     count_deal(DealEvent::retried);
                                 }
                                 k.release();
                             }));
    }
};

DealWorker::DealWorker(EventLoop& loop, HttpClient& http, RedisClient& redis, Logger& log, DealWorkerSettings settings)
    : loop_(loop),
      http_(http),
      redis_(redis),
      log_(log),
      settings_(std::move(settings)),
      outbox_(redis, settings_.prefix, settings_.consumer, settings_.retention),
      random_(default_unit_random()) {}

DealWorker::~DealWorker() {
    *alive_ = false;
    jobs_.clear();
}

std::size_t DealWorker::in_flight() const { return jobs_.size(); }

std::optional<std::chrono::seconds> DealWorker::capped_server_wait(std::optional<std::chrono::seconds> wait) const {
    if (!wait) {
        return wait;
    }
    return std::min(*wait, std::max(std::chrono::ceil<std::chrono::seconds>(settings_.retry.cap), std::chrono::seconds(1)));
}

std::chrono::milliseconds DealWorker::pause_left() const {
    return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(paused_until_ - std::chrono::steady_clock::now()));
}

void DealWorker::start() {
    timer_ = loop_.make_timer([this] { tick(); });
    guard_ = loop_.make_shutdown_guard([] {});
    schedule(milliseconds(0));
}

void DealWorker::guard_in_flight() {
    if (jobs_.empty()) {
        guard_->cancel();
    } else if (!guard_->armed()) {
        guard_->arm(settings_.claim_timeout);
    }
}

void DealWorker::kick() { schedule(milliseconds(0)); }

void DealWorker::schedule(milliseconds delay) {
    if (!timer_) {
        return;
    }
    timer_->arm(delay);
}

// One round: promote due retries, read new entries, now and then take over a dead worker's.
void DealWorker::tick() {
    schedule(settings_.poll_interval);
    if (polling_ || !redis_.connected() || loop_.stopping()) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    const int free = settings_.concurrency - static_cast<int>(jobs_.size());
    if (free <= 0 || now < paused_until_) {
        return;
    }
    polling_ = true;
    auto alive = alive_;
    auto finish_poll = [this, alive](DealOutbox::Entries entries) {
        if (!*alive) {
            return;
        }
        polling_ = false;
        take_entries(std::move(entries));
    };
    if (!group_ready_) {
        outbox_.ensure_group([this, alive](bool ok) {
            if (*alive) {
                group_ready_ = ok;
                polling_ = false;
            }
        });
        return;
    }
    const bool claim = now - last_claim_ >= settings_.claim_timeout / 2;
    outbox_.promote_due(epoch_ms(loop_.now()), [](bool) {});
    if (claim) {
        last_claim_ = now;
        outbox_.forget_idle_consumers(4 * settings_.claim_timeout.count(), [](bool, long long) {});
        outbox_.claim_idle(free, settings_.claim_timeout.count(),
                           [finish_poll](bool, DealOutbox::Entries entries) { finish_poll(std::move(entries)); });
        return;
    }
    outbox_.read_new(free, [this, alive, finish_poll](bool, bool nogroup, DealOutbox::Entries entries) {
        if (*alive && nogroup) {
            group_ready_ = false;  // Redis lost its data (restart without persistence): create again
        }
        finish_poll(std::move(entries));
    });
}

void DealWorker::take_entries(DealOutbox::Entries entries) {
    for (auto& [entry_id, gist_id] : entries) {
        if (jobs_.count(entry_id)) {
            continue;
        }
        auto job = std::make_shared<Job>(*this, entry_id, gist_id);
        jobs_.emplace(entry_id, job);
        guard_in_flight();
        job->start();
    }
}

}  // namespace gist
