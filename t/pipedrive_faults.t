#!/usr/bin/perl

# Issue 3 under Pipedrive failures, counted at the stub Pipedrive: still exactly one deal and one
# note per new gist and one person per login when
#   (b) Pipedrive fails the first attempts (500, 502, 503, 429 + Retry-After),
#   (c) Pipedrive accepts a create and then hangs (the module times out after the entity exists;
#       it must look up before creating again), also a 502 after creating,
#   (f) Pipedrive is down for a while and comes back: the backlog drains by itself;
# permanent failures (422, 401) go to the dead-letter list with a reason, show "failed" and are
# not retried; the operator retry (redis-cli EVAL from docs/pipedrive-outbox.md) creates them once;
# 429 (Retry-After or x-ratelimit-reset) and 503 + Retry-After are honoured. Ends with the OpenAPI
# contract of every request the stub received.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my %users = (
    flaky   => 4,    # (b)
    hang    => 3,    # (c) deals and notes
    hangp   => 3,    # (c) the person
    outage  => 3,    # (f)
    reject  => 2,    # 422
    unauth  => 1,    # 401
    limited => 1,    # 429 + Retry-After
    limreset => 1,   # 429 + x-ratelimit-reset only
    maint   => 1,    # 503 + Retry-After
);
my %gists = map { $_ => [StubGitHub::make_gists($_, $users{$_}, tag => 'faults')] } keys %users;
my %ids = map { my $u = $_; $u => [map { $_->{id} } @{ $gists{$u} }] } keys %gists;

my $redis = $t->redis;
my $gh = $t->stub({ users => { map { $_ => { gists => $gists{$_} } } keys %gists } });
my $pd = $t->pipedrive;
# retry_max 3s: a server's wait is honoured up to the backoff cap, and the 429/503 cases below
# ask for 2 s.
my $ng = $t->nginx(workers => 2, http_extra => $t->pipedrive_conf($pd, response_wait => '1s', retry_max => '3s'))->run;

sub deals_of { GistTest::deals_of(@_) }
sub status_of { my ($d) = @_; ref $d eq 'HASH' ? $d->{status} // '' : defined $d ? $d : 'null' }

sub health { my (undef, undef, undef, $j) = $ng->http(GET => '/health'); return $j }

sub wait_idle {
    my ($timeout) = @_;
    return GistTest::wait_for(sub {
        my $h = health();
        ref $h eq 'HASH' && ref $h->{deals} eq 'HASH' && ($h->{deals}{queued} // -1) == 0
            && ($h->{deals}{retrying} // -1) == 0;
    }, $timeout // 20, 0.2);
}

# GET /user/$login: gist id => deal status text.
sub get_statuses {
    my ($login) = @_;
    my (undef, undef, undef, $j) = $ng->http(GET => "/user/$login");
    my $d = deals_of($j);
    return { map { $_ => status_of($d->{$_}) } keys %$d };
}

sub post_user {
    my ($login) = @_;
    my ($st, $h, $body, $j) = $ng->http(POST => "/user/$login", timeout => 15);
    is($st, 201, "$login: POST 201") or diag $body;
    my $d = deals_of($j);
    is(scalar(grep { ref $d->{$_} eq 'HASH' } @{ $ids{$login} }), scalar @{ $ids{$login} },
       "$login: every new gist has a deal object") or diag $body;
    return ($j, $h);
}

# Requests of $endpoint recorded at or after $mark.
sub since { my ($mark, $endpoint) = @_; return grep { $_->{time} >= $mark } $pd->requests_for($endpoint) }

# True when the job hash of every gist of $login is in $state.
sub jobs_in_state {
    my ($login, $state) = @_;
    return !grep { ($redis->cmd('HGET', "gist:deal:$_", 'state') // '') ne $state } @{ $ids{$login} };
}

# Jobs not finished (queued, in flight or waiting for a retry) according to /health.
sub unfinished { my $h = health(); return ($h->{deals}{queued} // 0) + ($h->{deals}{retrying} // 0) }

# Every deal and note of $login made and stable: the stub count, then /health idle, then again.
sub settled_once {
    my ($login, $name, $timeout) = @_;
    ok(GistTest::pipedrive_wait($pd, $login, $ids{$login}, $timeout // 15), "$name: the stub reaches one deal per gist");
    ok(GistTest::wait_for(sub { jobs_in_state($login, 'done') }, 10, 0.1), "$name: every job of $login is done");
    GistTest::pipedrive_exactly_once_ok($pd, $login, $ids{$login},
        "$name: exactly " . @{ $ids{$login} } . ' deals, ' . @{ $ids{$login} } . ' notes, 1 person');
    # GET /user may answer from a worker's memory for up to gist_cache_ttl (1 s) after the last change.
    my $s;
    GistTest::wait_for(sub {
        $s = get_statuses($login);
        return scalar(grep { ($s->{$_} // '') eq 'created' } @{ $ids{$login} }) == @{ $ids{$login} };
    }, 3, 0.2);
    is(scalar(grep { ($s->{$_} // '') eq 'created' } @{ $ids{$login} }), scalar @{ $ids{$login} },
       "$name: GET /user shows every deal created") or diag explain $s;
}

# --- (b) the first attempts fail: 503 + Retry-After, 500 on creates, 429 on notes --------------
$pd->set_behaviour({ endpoints => {
    search_persons => { fail => { count => 1, status => 503, retry_after => 1 } },
    create_person  => { fail => { count => 1, status => 500 } },
    create_deal    => { fail => { count => 2, status => 500 } },
    create_note    => { fail => { count => 2, status => 429, retry_after => 1 } },
} });
post_user('flaky');
settled_once('flaky', '(b) failing first attempts');
my $left = $pd->behaviour->{endpoints};
is_deeply([map { $left->{$_}{fail}{count} } qw(search_persons create_person create_deal create_note)], [0, 0, 0, 0],
          '(b) every injected failure was served');
ok(scalar(my @ld = $pd->requests_for('list_deals')) >= 1, '(b) a 500 on POST /deals is followed by a deals look-up');
my @lds = grep { !defined $_->{query}{person_id} || $_->{query}{person_id} !~ /^\d+\z/ } $pd->requests_for('list_deals');
is(scalar @lds, 0, '(b) deal look-ups are by person_id');

# --- (c) Pipedrive creates, then hangs past the timeout (and a 502 after creating) -------------
$pd->set_behaviour({ endpoints => {
    create_deal   => { hang => { count => 2, seconds => 2.5 }, fail => { count => 1, status => 502, create => 1 } },
    create_note   => { hang => { count => 1, seconds => 2.5 } },
} });
my $mark_c = time;
post_user('hang');
settled_once('hang', '(c) accept-then-hang on deals and notes', 20);
$left = $pd->behaviour->{endpoints};
is_deeply([map { $left->{$_}{hang}{count} } qw(create_deal create_note)], [0, 0], '(c) every hang was served');
is($left->{create_deal}{fail}{count}, 0, '(c) the 502-after-create was served');
my @hung = grep { $_->{action} eq 'hang' && $_->{time} >= $mark_c } $pd->requests;
is(scalar @hung, 3, '(c) 3 creates were accepted and then left hanging');
ok(scalar(my @b = since($mark_c, 'list_deals')) >= 3, '(c) deals looked up after the hung creates and the 502');
ok(scalar(my @c = since($mark_c, 'list_notes')) >= 1, '(c) notes looked up after the hung create');
# Each hung deal create was followed by a look-up before any further create of that gist.
for my $h (grep { ($_->{endpoint} // '') eq 'create_deal' } @hung) {
    my ($gid) = ($h->{json}{title} // '') =~ /^Gist (\S+) by /;
    my @later = sort { $a->{time} <=> $b->{time} } grep { $_->{time} > $h->{time} } $pd->requests;
    my ($next_create) = grep { ($_->{endpoint} // '') eq 'create_deal' && index($_->{json}{title} // '', "Gist $gid by ") == 0 } @later;
    my ($lookup) = grep { ($_->{endpoint} // '') eq 'list_deals' } @later;
    ok($lookup && (!$next_create || $lookup->{time} <= $next_create->{time}),
       "(c) gist $gid: a deals look-up comes before any new create");
}

# --- (c) the person: created, then the answer hangs; searches lag 3 s behind creates -----------
# (as Pipedrive's search index does): the person made by the hung request is only found by a
# consistent look-up (GET /api/v2/persons?updated_since), whichever job of the login runs next.
$pd->set_behaviour({ search_lag => 3, endpoints => { create_person => { hang => { count => 1, seconds => 2.5 } } } });
my $mark_p = time;
post_user('hangp');
settled_once('hangp', '(c) accept-then-hang on the person', 20);
is($pd->behaviour->{endpoints}{create_person}{hang}{count}, 0, '(c) the person hang was served');
ok(scalar(my @a = since($mark_p, 'list_persons')) >= 1, '(c) persons looked up after the hung create');
$pd->set_behaviour({});

# --- (f) Pipedrive down for a while, then back: the backlog drains by itself ---------------------
my $base = unfinished();
$pd->set_behaviour({ down => 1 });
sleep 0.3;    # the stub closes its listening socket within 0.1 s
my ($j) = post_user('outage');
my $d = deals_of($j);
is(scalar(grep { status_of($d->{$_}) eq 'pending' } @{ $ids{outage} }), 3, '(f) POST shows the deals pending');
sleep 2.5;
my $s = get_statuses('outage');
is(scalar(grep { ($s->{$_} // '') eq 'pending' } @{ $ids{outage} }), 3, '(f) still pending while Pipedrive is down');
my $hj = health();
is(($hj->{deals}{queued} // 0) + ($hj->{deals}{retrying} // 0) - $base, 3, '(f) /health: 3 more jobs queued or retrying')
    or diag explain $hj;
is($hj->{deals}{dead}, 0, '(f) /health: none dead');
is($hj->{status}, 'ok', '(f) /health status ok while Pipedrive is down');
is(scalar(grep { ($_->{title} // '') =~ / by outage:/ } $pd->deals), 0, '(f) no deal while down');
$pd->set_behaviour({});
settled_once('outage', '(f) Pipedrive back', 20);

# --- permanent failures: 422 and 401 -> dead letters, "failed", no retries ---------------------
$pd->set_behaviour({ endpoints => { create_deal => { fail => { count => 2, status => 422 } } } });
post_user('reject');
ok(GistTest::wait_for(sub { ($redis->cmd('LLEN', 'gist:deals:dead') // 0) >= 2 }, 15, 0.1),
   '422: both jobs dead-lettered');
$pd->set_behaviour({ endpoints => { create_deal => { fail => { count => 1, status => 401 } } } });
post_user('unauth');
ok(GistTest::wait_for(sub { ($redis->cmd('LLEN', 'gist:deals:dead') // 0) >= 3 }, 15, 0.1),
   '401: the job dead-lettered');
sleep 3.5;  # > retry_max: a job that were retried would have been by now

my @dead = map { GistTest::json_decode($_) } @{ $redis->cmd('LRANGE', 'gist:deals:dead', 0, -1) };
is(scalar @dead, 3, 'dead list has 3 entries');
my %dead = map { ($_->{gist} // '') => $_ } grep { ref $_ eq 'HASH' } @dead;
for my $u (qw(reject unauth)) {
    my $code = $u eq 'reject' ? 422 : 401;
    for my $id (@{ $ids{$u} }) {
        my $e = $dead{$id};
        ok($e, "$u $id: dead-letter entry") or next;
        is($e->{login}, $u, "$u $id: entry has the login");
        ok(defined $e->{reason} && length $e->{reason}, "$u $id: entry has a reason ($e->{reason})");
        is($e->{status}, $code, "$u $id: entry has HTTP status $code");
        ok(defined $e->{at}, "$u $id: entry has a time");
        is($redis->cmd('HGET', "gist:deal:$id", 'state'), 'failed', "$u $id: job state failed");
        my @creates = grep { index($_->{json}{title} // '', "Gist $id by ") == 0 } $pd->requests_for('create_deal');
        is(scalar @creates, 1, "$u $id: exactly one deal create (no retries)");
    }
    my $st = get_statuses($u);
    is(scalar(grep { ($st->{$_} // '') eq 'failed' } @{ $ids{$u} }), scalar @{ $ids{$u} }, "$u: GET shows failed");
    my (undef, undef, undef, $gj) = $ng->http(GET => "/user/$u");
    my $gd = deals_of($gj);
    for my $id (@{ $ids{$u} }) {
        like($gd->{$id}{error} // '', qr/$code/, "$u $id: the error names HTTP $code");
        unlike($gd->{$id}{error} // '', qr/\Q${\ $pd->token }\E/, "$u $id: the error has no token");
    }
}
is(scalar(grep { ($_->{title} // '') =~ / by (?:reject|unauth):/ } $pd->deals), 0, 'no deal for the rejected jobs');
$hj = health();
is($hj->{deals}{dead}, 3, '/health deals.dead 3');
is($hj->{status}, 'ok', '/health status stays ok with dead jobs');
my @errlines = grep { /\[error\]/ } split /\n/, $ng->error_log;
for my $id (@{ $ids{reject} }, @{ $ids{unauth} }) {
    is(scalar(grep { index($_, $id) >= 0 } @errlines), 1, "gist $id: one error log line");
}

# --- the operator retry (docs/pipedrive-outbox.md) --------------------------------------------
my $lua = q{local n=0 for _,j in ipairs(redis.call('LRANGE',ARGV[1]..'deals:dead',0,-1)) do
  local id=cjson.decode(j).gist redis.call('HSET',ARGV[1]..'deal:'..id,'state','pending','attempts',0)
  redis.call('HDEL',ARGV[1]..'deal:'..id,'error') redis.call('XADD',ARGV[1]..'deals:ready','*','gist',id)
  n=n+1 end redis.call('DEL',ARGV[1]..'deals:dead') return n};
my $out = `redis-cli -p ${\ $redis->port } EVAL "$lua" 0 gist: 2>&1`;
like($out, qr/^\(integer\) 3$|^3$/m, 'operator retry: redis-cli EVAL moved 3 jobs back') or diag $out;
settled_once('reject', 'operator retry (422)', 20);
settled_once('unauth', 'operator retry (401)', 20);
is($redis->cmd('LLEN', 'gist:deals:dead'), 0, 'operator retry: dead list empty');
is(health()->{deals}{dead}, 0, 'operator retry: /health dead 0');
sleep 1;
GistTest::pipedrive_exactly_once_ok($pd, $_, $ids{$_}, "operator retry: $_ still exactly once") for qw(reject unauth);

# --- 429 / 503 waits are honoured ----------------------------------------------------------------
for my $case (['limited', { status => 429, retry_after => 2, reset => 2 }, '429 Retry-After: 2'],
              ['limreset', { status => 429, retry_after => '', reset => 2 }, '429 x-ratelimit-reset: 2'],
              ['maint', { status => 503, retry_after => 2 }, '503 Retry-After: 2']) {
    my ($u, $fail, $name) = @$case;
    $pd->set_behaviour({ endpoints => { create_deal => { fail => { count => 1, %$fail } } } });
    my $mark = time;
    post_user($u);
    settled_once($u, $name, 20);
    my @r = sort { $a->{time} <=> $b->{time} } grep { $_->{time} >= $mark } $pd->requests;
    my ($f) = grep { $_->{action} eq 'fail' } @r;
    next unless ok($f, "$name: the failure was served");
    my $gid = $ids{$u}[0];
    my ($next) = grep { $_->{time} > $f->{time} && ($_->{endpoint} // '') eq 'create_deal'
                        && index($_->{json}{title} // '', "Gist $gid by ") == 0 } @r;
    ok($next, "$name: the deal create was repeated");
    my $gap = $next ? $next->{time} - $f->{time} : 0;
    ok($gap >= 1.7, sprintf("$name: not before the server's 2 s (%.2f s)", $gap));
    ok($gap < 6, sprintf("$name: but retried soon after (%.2f s)", $gap));
}

# --- at the end: nothing left ------------------------------------------------------------------
ok(wait_idle(10), 'at the end: /health shows nothing queued or retrying');
is(health()->{deals}{dead}, 0, 'at the end: nothing dead');

# --- logs, contract -----------------------------------------------------------------------------
$ng->stop;
$ng->no_alerts;
my $log = $ng->error_log;
ok(index($log, $pd->token) < 0, 'the Pipedrive token is not in the error log');
GistTest::pipedrive_contract_ok([$pd], 'pipedrive_faults.t');

done_testing;
