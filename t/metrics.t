#!/usr/bin/perl

# Issue 11, item 1: GET /metrics (location gist_metrics) in Prometheus' text format.
# - `promtool check metrics` accepts every scrape (format and naming conventions);
# - after a known sequence of requests every counter moved by exactly the expected amount, summed
#   over both workers (the counters live in the shared-memory zone "gist_metrics");
# - a reload keeps the counts; Redis' gauges (queues, GitHub budget) come from Redis at scrape time;
# - Redis errors and reconnects are counted.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;
use StubGitHub;

my $PROMTOOL = '/usr/bin/promtool';
plan(skip_all => "$PROMTOOL missing (Debian package prometheus)") unless -x $PROMTOOL;

my $t = GistTest->new;

my @alice = StubGitHub::make_gists('alice', 2, tag => 'metrics');
my @bob = StubGitHub::make_gists('bob', 1, tag => 'metrics');
my $redis = $t->redis;
my $gh = $t->stub({ users => { alice => { gists => \@alice }, bob => { gists => \@bob } } });
my $pd = $t->pipedrive;
my $ng = $t->nginx(workers => 2, http_extra => $t->pipedrive_conf($pd, response_wait => '3s'),
                   server_extra => "        location = /metrics { gist_metrics; }\n"
                                 . "        location /deals { gist_deals; }\n")->run;

# GET /metrics -> { 'name{labels}' => value }, after `promtool check metrics` on the body.
my $scrapes = 0;
sub scrape {
    my ($name) = @_;
    my ($st, $h, $body) = $ng->http(GET => '/metrics');
    $scrapes++;
    is($st, 200, "$name: 200");
    like($h->{'content-type'} // '', qr{^text/plain; version=0\.0\.4}, "$name: Prometheus' content type");
    my $file = $t->write_file("scrape$scrapes.txt", $body // '');
    my $out = `$PROMTOOL check metrics < $file 2>&1`;
    is($? >> 8, 0, "$name: promtool check metrics is happy") or diag $out;
    my %m;
    for (split /\n/, $body // '') {
        next if /^#/ || !/\S/;
        my ($k, $v) = /^(\S+(?:\{[^}]*\})?) (\S+)$/ or do { fail("$name: bad line '$_'"); next };
        $m{$k} = $v;
    }
    return \%m;
}

# $after - $before for every key of %$expect, compared with %$expect.
sub moved_ok {
    my ($before, $after, $expect, $name) = @_;
    my %got = map { $_ => ($after->{$_} // 0) - ($before->{$_} // 0) } keys %$expect;
    is_deeply(\%got, $expect, $name) or diag explain { before => { map { $_ => $before->{$_} } keys %$expect },
                                                       after => { map { $_ => $after->{$_} } keys %$expect } };
}

my $m0 = scrape('first scrape');
ok(exists $m0->{'gist_http_requests_total{endpoint="user",status="200"}'}, 'known series are there at zero');
is($m0->{'gist_redis_up'}, 1, 'gist_redis_up 1');

# --- a known sequence -------------------------------------------------------------------------
my ($st) = $ng->http(POST => '/user/alice', timeout => 15);
is($st, 201, 'POST /user/alice 201');
ok(GistTest::pipedrive_wait($pd, 'alice', [map { $_->{id} } @alice], 20), 'alice: two deals');
$ng->http(GET => '/user/alice') for 1 .. 2;
$ng->http(GET => '/trackedusers');
$ng->http(GET => '/health');
($st) = $ng->http(POST => '/user/nobody');
is($st, 404, 'POST /user/nobody 404');
($st) = $ng->http(POST => '/user/alice', timeout => 15);
is($st, 200, 'POST /user/alice again 200 (a 304 from GitHub)');
$ng->http(DELETE => '/trackedusers');

my $m1 = scrape('after the sequence');
moved_ok($m0, $m1, {
    'gist_http_requests_total{endpoint="user",status="201"}' => 1,
    'gist_http_requests_total{endpoint="user",status="200"}' => 3,
    'gist_http_requests_total{endpoint="user",status="404"}' => 1,
    'gist_http_requests_total{endpoint="trackedusers",status="200"}' => 1,
    'gist_http_requests_total{endpoint="trackedusers",status="405"}' => 1,
    'gist_http_requests_total{endpoint="health",status="200"}' => 1,
    'gist_http_requests_total{endpoint="metrics",status="200"}' => 1,    # the first scrape
    'gist_github_requests_total{outcome="200"}' => 1,
    'gist_github_requests_total{outcome="304"}' => 1,
    'gist_github_requests_total{outcome="404"}' => 1,
    'gist_github_requests_total{outcome="5xx"}' => 0,
    'gist_scans_total{kind="first",result="ok"}' => 1,
    'gist_scans_total{kind="first",result="failed"}' => 1,
    'gist_scans_total{kind="rescan",result="not_modified"}' => 1,
    'gist_scans_total{kind="rescan",result="ok"}' => 0,
    'gist_scan_duration_seconds_count' => 3,
    'gist_scan_duration_seconds_bucket{le="+Inf"}' => 3,
    'gist_pipedrive_requests_total{operation="create_person",outcome="ok"}' => 1,
    'gist_pipedrive_requests_total{operation="create_deal",outcome="ok"}' => 2,
    'gist_pipedrive_requests_total{operation="create_note",outcome="ok"}' => 2,
    'gist_deal_jobs_total{event="done"}' => 2,
    'gist_deal_jobs_total{event="dead_lettered"}' => 0,
}, 'every counter moved by exactly the expected amount (both workers together)');
ok($m1->{'gist_scan_duration_seconds_sum'} > 0, 'scan duration sum > 0');
is($m1->{'gist_github_rate_remaining'}, $gh->rate_remaining, "GitHub budget remaining as the stub says")
    if $gh->can('rate_remaining');
ok(defined $m1->{'gist_github_rate_remaining'}, 'gist_github_rate_remaining is there');
is($m1->{'gist_deal_queue_jobs{queue="queued"}'}, 0, 'queue depth: queued 0');
is($m1->{'gist_deal_queue_jobs{queue="dead"}'}, 0, 'queue depth: dead 0');
is($m1->{'gist_rescans_overdue'}, 0, 'rescans overdue 0');

# --- a dead letter and an operator retry -------------------------------------------------------
$pd->set_behaviour({ endpoints => { create_deal => { fail => { status => 422 } } } });
$ng->http(POST => '/user/bob', timeout => 15);
ok(GistTest::wait_for(sub { scrape_quiet()->{'gist_deal_queue_jobs{queue="dead"}'} == 1 }, 15, 0.2),
   'the dead letter shows in gist_deal_queue_jobs{queue="dead"}');
$pd->set_behaviour({});
my $m2 = scrape('with a dead letter');
$ng->http(POST => '/deals/retry');
ok(GistTest::pipedrive_wait($pd, 'bob', [$bob[0]{id}], 20), 'bob: the retried deal');
ok(GistTest::wait_for(sub { scrape_quiet()->{'gist_deal_jobs_total{event="done"}'} == 3 }, 10, 0.2), 'done 3');
my $m3 = scrape('after the retry');
moved_ok($m1, $m3, {
    'gist_deal_jobs_total{event="dead_lettered"}' => 1,
    'gist_deal_jobs_total{event="operator_retried"}' => 1,
    'gist_deal_jobs_total{event="done"}' => 1,
    'gist_pipedrive_requests_total{operation="create_deal",outcome="permanent"}' => 1,
    'gist_pipedrive_requests_total{operation="create_deal",outcome="ok"}' => 1,
    'gist_http_requests_total{endpoint="deals",status="200"}' => 1,
}, 'dead letter and operator retry counted');

# --- a reload keeps the counts ------------------------------------------------------------------
my $before = scrape('before reload');
ok($ng->reload, 'reload');
my $after = scrape('after reload');
my @same = grep { /^gist_(?:github|scans|pipedrive|deal_jobs)_/ || /endpoint="user"/ } keys %$before;
is_deeply({ map { $_ => $after->{$_} } @same }, { map { $_ => $before->{$_} } @same },
          'every counter survived the reload') ;
is($after->{'gist_http_requests_total{endpoint="metrics",status="200"}'}
   - $before->{'gist_http_requests_total{endpoint="metrics",status="200"}'}, 1, 'and keeps counting');

# --- Redis errors and reconnects ----------------------------------------------------------------
$redis->stop;
($st) = $ng->http(GET => '/trackedusers');
is($st, 503, 'Redis down: 503');
my $down = scrape('Redis down');
is($down->{'gist_redis_up'}, 0, 'gist_redis_up 0');
ok(!exists $down->{'gist_deal_queue_jobs{queue="dead"}'}, 'no Redis gauges while it is down');
ok($down->{'gist_redis_errors_total{kind="unavailable"}'} - ($after->{'gist_redis_errors_total{kind="unavailable"}'} // 0) >= 2,
   'Redis errors counted');
$redis->start;
ok(GistTest::wait_for(sub { my ($s) = $ng->http(GET => '/trackedusers'); ($s // 0) == 200 }, 15, 0.2), 'Redis back');
ok(GistTest::wait_for(sub { (scrape_quiet()->{'gist_redis_reconnects_total'} // 0) >= 1 }, 10, 0.2),
   'reconnects counted');

$ng->no_alerts;

done_testing;

# A scrape without its own assertions (for polling).
sub scrape_quiet {
    my (undef, undef, $body) = $ng->http(GET => '/metrics');
    my %m;
    for (split /\n/, $body // '') {
        next if /^#/;
        $m{$1} = $2 if /^(\S+(?:\{[^}]*\})?) (\S+)$/;
    }
    return \%m;
}
