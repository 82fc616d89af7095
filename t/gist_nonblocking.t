#!/usr/bin/perl

# The worker never blocks: with worker_processes 1 and the stub delaying user "slow" by 3 s,
# 50 POST /user/slow are sent at once; while they are in flight /health, /trackedusers and
# GET /user answer at once; then all 50 answer 200/201 with every gist new exactly once.
# Also: a client that goes away mid-scan is cleaned up without harm.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my $DELAY = 3;
my @slow = StubGitHub::make_gists('slow', 4);
my ($redis, $stub, $ng) = $t->setup(workers => 1, timeout => '10s', scenario => { users => {
    slow  => { gists => \@slow, delay => $DELAY },
    quick => { gists => [StubGitHub::make_gists('quick', 1)] },
} });
is(scalar(my @w = $ng->worker_pids), 1, 'one worker');

my ($st) = $ng->http(POST => '/user/quick');
is($st, 201, 'quick user tracked');

my $t0 = time;
my @h = map { $ng->http_send(POST => '/user/slow', timeout => 30) } 1 .. 50;
ok(GistTest::wait_for(sub { $stub->count_for('slow') >= 1 }, 2), 'the scans reached the stub');

# While the 50 scans wait for GitHub, the single worker keeps answering.
my @fast;
for my $uri ('/health', '/trackedusers', '/user/quick', '/health', '/trackedusers') {
    my $s = time;
    my ($st, $hd, $body, $j) = $ng->http(GET => $uri, timeout => 10);
    push @fast, [$uri, $st, time - $s, time - $t0];
}
for my $f (@fast) {
    my ($uri, $st, $took, $at) = @$f;
    is($st, 200, "GET $uri during the scans: 200");
    ok($took < 1.0, sprintf("GET $uri answered in %.3f s (the scans wait %d s)", $took, $DELAY));
}
ok($fast[-1][3] < $DELAY - 0.5, sprintf('those answers came while the scans were still waiting (%.2f s in)', $fast[-1][3]));
my $in_flight = grep { !$_->{done} } @h;
is($in_flight, 50, 'all 50 scans still in flight then');

my @r = GistTest::http_wait_all(\@h, 30);
my $took = time - $t0;
is(scalar(grep { ($_->[0] // 0) == 200 || ($_->[0] // 0) == 201 } @r), 50, 'all 50 scans answered 200/201')
    or diag explain [map { [$_->[0], $_->[2]] } grep { ($_->[0] // 0) !~ /^20[01]$/ } @r];
is(scalar(grep { ($_->[0] // 0) == 201 } @r), 1, 'exactly one 201');
ok($took < 3 * $DELAY, sprintf('the 50 scans ran in parallel (%.1f s for 50 x %d s)', $took, $DELAY));
my %new;
$new{ $_->{id} }++ for map { @{ $_->[3]{new_gists} || [] } } grep { ref $_->[3] eq 'HASH' } @r;
is_deeply(\%new, { map { $_->{id} => 1 } @slow }, 'every gist reported new exactly once across the 50');

# A client that disconnects mid-scan.
my $before = $stub->count_for('slow');
for (1 .. 5) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng->port) or die;
    print $s "POST /user/slow HTTP/1.1\r\nHost: x\r\n\r\n";
    close $s;
}
ok(GistTest::wait_for(sub { $stub->count_for('slow') >= $before + 1 }, 3), 'abandoned scans reached the stub');
my $s0 = time;
($st) = $ng->http(GET => '/health');
is($st, 200, 'health answers with abandoned scans pending');
sleep $DELAY + 0.5;    # let GitHub's answers arrive for the abandoned requests
($st) = $ng->http(POST => '/user/quick');
is($st, 200, 'worker still serves scans after abandoned ones');
is_deeply([$ng->worker_pids], \@w, 'same worker (no crash)');

$ng->stop;
$ng->no_alerts;
unlike($ng->error_log, qr/exited on signal/, 'no worker exited on a signal');

done_testing;
