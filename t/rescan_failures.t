#!/usr/bin/perl

# Issue 5: failing users (docs/rescan.md, "outcome | next due"). With `gist_rescan_interval 2s`:
#  - a user whose rescans fail (the stub answers 500 for that user only) keeps being retried with
#    backoff (min(interval, 30 s x 2^(failures-1)) x U(0.5, 1): 1..2 s here), shows
#    last_scan "github_unavailable", stays tracked, and does not stall the others;
#  - a user GitHub now answers 404 for is marked (last_scan "github_user_not_found" in
#    /trackedusers and GET /user), stays tracked, and is retried only every 4 intervals;
#  - the healthy users keep being rescanned once per interval all along.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my $INTERVAL = 2;
my $WINDOW = 7 * $INTERVAL;
my @ok = map { "healthy$_" } 1 .. 3;
my %gists = map { $_ => [StubGitHub::make_gists($_, 1, tag => 'fail')] } @ok, 'broken', 'gone';

my $redis = $t->redis;
my $gh = $t->stub({ users => { map { $_ => { gists => $gists{$_} } } keys %gists } });
my $ng = $t->nginx(workers => 2, http_extra => "    gist_rescan_interval ${INTERVAL}s;\n    gist_github_rate_reserve 10;\n")->run;

my @h = map { $ng->http_send(POST => "/user/$_", timeout => 10) } sort keys %gists;
is(scalar(grep { ($_->[0] // 0) == 201 } GistTest::http_wait_all(\@h, 10)), 5, '5 users tracked');

# broken: 500 from now on; gone: GitHub no longer knows the user.
$gh->set_user(broken => { gists => $gists{broken}, status => 500 });
$gh->set_user(gone => undef);
my $t0 = time;

sub times_of { my ($u) = @_; return map { $_->{time} } grep { $_->{time} > $t0 } $gh->requests_for($u) }

sub user_view { my ($u) = @_; return ($ng->http(GET => "/user/$u"))[3] || {} }

ok(GistTest::wait_for(sub { (user_view('gone')->{last_scan} // '') eq 'github_user_not_found' }, 2 * $INTERVAL + 1, 0.1),
   'gone: GET /user shows last_scan "github_user_not_found"');
ok(GistTest::wait_for(sub { (user_view('broken')->{last_scan} // '') eq 'github_unavailable' }, 2 * $INTERVAL + 1, 0.1),
   'broken: GET /user shows last_scan "github_unavailable"');

GistTest::wait_for(sub { time - $t0 >= $WINDOW }, $WINDOW + 1, 0.2);
my $w = time - $t0;

# Healthy users: once per interval, as if nothing else was going on.
for my $u (@ok) {
    my @ts = times_of($u);
    my $max = 0;
    for (1 .. $#ts) { $max = $ts[$_] - $ts[$_ - 1] if $ts[$_] - $ts[$_ - 1] > $max }
    my $lo = int($w / $INTERVAL) - 1;
    ok(@ts >= $lo && @ts <= $w / $INTERVAL + 1,
       sprintf('%s: %d rescans in %.1f s (%d..%d expected)', $u, scalar @ts, $w, $lo, int($w / $INTERVAL + 1)));
    ok($max <= $INTERVAL + 1, sprintf('%s: never more than %.2f s between rescans', $u, $max));
}

# broken: retried with backoff (between interval/2 and interval apart), not hammered, not dropped.
{
    my @ts = times_of('broken');
    my ($min, $max) = (1e9, 0);
    for (1 .. $#ts) {
        my $g = $ts[$_] - $ts[$_ - 1];
        $min = $g if $g < $min;
        $max = $g if $g > $max;
    }
    ok(@ts >= 4, sprintf('broken: retried %d times in %.1f s', scalar @ts, $w));
    ok(@ts <= 2 * $w / $INTERVAL + 1, sprintf('broken: not hammered (%d requests, at most %d)', scalar @ts,
                                              2 * $w / $INTERVAL + 1));
    ok($min >= $INTERVAL / 2 - 0.2 && $max <= $INTERVAL + 1,
       sprintf('broken: retries %.2f .. %.2f s apart (backoff capped at the interval: %.1f .. %.1f s)', $min, $max,
               $INTERVAL / 2, $INTERVAL));
    is(scalar(grep { ($_->{status} // 0) != 500 } grep { $_->{time} > $t0 } $gh->requests_for('broken')), 0,
       'broken: every retry was answered 500');
    my $f = $redis->cmd('HGET', 'gist:user:{broken}', 'failures');
    ok(defined $f && $f >= @ts - 1, 'broken: consecutive failures counted in Redis (' . ($f // 'undef') . ')');
    my @warn = grep { /rescan of broken failed/ } split /\n/, $ng->error_log;
    ok(@warn >= 1, 'broken: the failed rescans are logged');
}

# gone: one retry per 4 intervals.
{
    my @ts = times_of('gone');
    my @healthy = map { scalar(my @x = times_of($_)) } @ok;
    my ($fewest) = sort { $a <=> $b } @healthy;
    ok(@ts >= 1 && @ts <= $w / (4 * $INTERVAL) + 1,
       sprintf('gone: %d requests in %.1f s (one per 4 intervals: at most %d)', scalar @ts, $w, $w / (4 * $INTERVAL) + 1));
    ok(@ts * 2 <= $fewest, "gone: far fewer requests than a healthy user (@{[scalar @ts]} vs $fewest)");
    my $min = 1e9;
    for (1 .. $#ts) { $min = $ts[$_] - $ts[$_ - 1] if $ts[$_] - $ts[$_ - 1] < $min }
    ok(@ts < 2 || $min >= 4 * $INTERVAL - 0.5, sprintf('gone: retries at least 4 intervals apart (%.2f s)', $min));
    is(scalar(grep { ($_->{status} // 0) != 404 } grep { $_->{time} > $t0 } $gh->requests_for('gone')), 0,
       'gone: answered 404');
}

# Both stay tracked and visible with their outcome; the healthy ones say ok / not_modified.
my ($st, undef, $body, $j) = $ng->http(GET => '/trackedusers');
is($st, 200, '/trackedusers 200');
my %tu = map { $_->{login} => $_ } @{ $j->{users} || [] };
is($j->{count}, 5, '/trackedusers: all 5 still tracked');
is($tu{gone}{last_scan}, 'github_user_not_found', '/trackedusers: gone is marked github_user_not_found');
is($tu{broken}{last_scan}, 'github_unavailable', '/trackedusers: broken is marked github_unavailable');
like($tu{$_}{last_scan} // '', qr/^(?:ok|not_modified)\z/, "/trackedusers: $_ is $tu{$_}{last_scan}") for @ok;
like($tu{gone}{next_scan_at} // '', $RFC3339, '/trackedusers: gone has a next_scan_at');
my $gv = user_view('gone');
is($gv->{gist_count}, 1, 'gone: its stored gists are kept');

# broken recovers: back to ok, failures reset.
$gh->set_user(broken => { gists => $gists{broken} });
ok(GistTest::wait_for(sub { (user_view('broken')->{last_scan} // '') =~ /^(?:ok|not_modified)\z/ }, 2 * $INTERVAL + 1, 0.1),
   'broken: recovers once GitHub answers again');
is($redis->cmd('HGET', 'gist:user:{broken}', 'failures'), 0, 'broken: failures back to 0');
($st, undef, $body, $j) = $ng->http(GET => '/health');
is($j->{rescan}{overdue}, 0, '/health: nothing overdue') or diag $body;
$ng->no_alerts;

done_testing;
