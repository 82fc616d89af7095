#!/usr/bin/perl

# Redis stopped while NGINX serves: every endpoint answers 503 redis_unavailable at once, /health
# 503 {"redis":"down"}; Redis started again: everything works within a few seconds, without
# reloading NGINX (same workers). Twice, to see the reconnect repeat.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my ($redis, $stub, $ng) = $t->setup(scenario => { users => {
    octocat => { gists => [StubGitHub::make_gists('octocat', 2)] },
} });

my ($st, $h, $body, $j) = $ng->http(GET => '/health');
is($st, 200, 'health 200 with Redis up');
is_deeply(GistTest::health_core($j), { status => 'ok', redis => 'up', pipedrive => 'off' }, 'health body with Redis up');
($st) = $ng->http(POST => '/user/octocat');
is($st, 201, 'POST 201 with Redis up');

my @workers = $ng->worker_pids;

for my $round (1, 2) {
    $redis->stop;

    # Each worker has its own connection: ask several times so every worker answers.
    my @health = map { [$ng->http(GET => '/health', timeout => 5)] } 1 .. 4;
    is(scalar(grep { ($_->[0] // 0) == 503 } @health), 4, "round $round: /health 503 with Redis down");
    is(scalar(grep { ref $_->[3] eq 'HASH' && ($_->[3]{redis} // '') eq 'down'
                     && defined $_->[3]{status} && !ref $_->[3]{status} } @health), 4,
       "round $round: /health body has \"redis\":\"down\" and a status");
    like($health[0][1]{'content-type'} // '', qr{^application/json\b}, "round $round: /health 503 is JSON");

    my $t0 = time;
    error_ok([$ng->http(POST => '/user/octocat', timeout => 5)], 503, 'redis_unavailable',
             "round $round: POST 503 redis_unavailable");
    error_ok([$ng->http(POST => '/user/someone', timeout => 5)], 503, 'redis_unavailable',
             "round $round: POST of a new user 503 redis_unavailable");
    error_ok([$ng->http(GET => '/user/octocat', timeout => 5)], 503, 'redis_unavailable',
             "round $round: GET user 503 redis_unavailable");
    error_ok([$ng->http(DELETE => '/user/octocat', timeout => 5)], 503, 'redis_unavailable',
             "round $round: DELETE user 503 redis_unavailable");
    error_ok([$ng->http(GET => '/trackedusers', timeout => 5)], 503, 'redis_unavailable',
             "round $round: /trackedusers 503 redis_unavailable");
    my $took = time - $t0;
    ok($took < 3, sprintf("round $round: the five 503s came fast (%.2f s)", $took));

    error_ok([$ng->http(POST => '/user/-bad')], 400, 'invalid_login', "round $round: login validation still first");

    if ($round == 1) {
        # Stay down a while: the workers retry with backoff meanwhile (and must not log each try).
        sleep 2;
        error_ok([$ng->http(POST => '/user/octocat', timeout => 5)], 503, 'redis_unavailable',
                 "round $round: still 503 after 2 s down");
    }

    $redis->start;    # same port, empty (no persistence)

    # Every worker must be back, not just the one that happens to answer: each logs "connected"
    # once per (re)connection (2 workers x (first connect + one per round)).
    my $back = GistTest::wait_for(sub {
        my $connected = () = $ng->error_log =~ /redis: connected/g;
        return $connected >= 2 * ($round + 1);
    }, 10, 0.1);
    ok($back, "round $round: /health 200 again within 10 s of Redis coming back");
    ($st, $h, $body, $j) = $ng->http(GET => '/health');
    is_deeply(GistTest::health_core($j), { status => 'ok', redis => 'up', pipedrive => 'off' }, "round $round: health body up again");

    ($st, $h, $body, $j) = $ng->http(POST => '/user/octocat');
    is($st, 201, "round $round: POST works again (201: the new Redis is empty)");
    is(scalar @{ $j->{new_gists} || [] }, 2, "round $round: gists reported");
    ($st, $h, $body, $j) = $ng->http(GET => '/trackedusers');
    ok($st == 200 && ($j->{count} // -1) == 1, "round $round: /trackedusers works again");
    is_deeply([$ng->worker_pids], \@workers, "round $round: same workers (no reload, no crash)");
}

$ng->stop;
my $log = $ng->error_log;

# One log line per connection state change (per worker), not one per retry or per request:
# 2 workers x (first connect + 2 x (lost, back)) = 10 at most, above info level.
my @state = grep { /redis/i && /\[(?:notice|warn|error|crit|alert)\]/ } split /\n/, $log;
ok(@state >= 4 && @state <= 10, 'Redis state changes logged once each (' . scalar(@state) . ' lines)')
    or diag join "\n", @state;
$ng->no_alerts;
unlike($log, qr/exited on signal/, 'no worker exited on a signal');

done_testing;
