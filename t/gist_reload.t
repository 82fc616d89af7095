#!/usr/bin/perl

# Reload (SIGHUP) under traffic: requests before, during and after each reload all succeed
# (including scans in flight in the old workers), old workers exit, and neither reload nor quit
# leaves an [alert] in the error log.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my ($redis, $stub, $ng) = $t->setup(workers => 2, scenario => { users => {
    fast => { gists => [StubGitHub::make_gists('fast', 2)] },
    slow => { gists => [StubGitHub::make_gists('slow', 3)], delay => 1 },
} });

my ($st) = $ng->http(POST => '/user/fast');
is($st, 201, 'fast tracked');
($st) = $ng->http(POST => '/user/slow');
is($st, 201, 'slow tracked');

sub batch {
    return map {
        ($ng->http_send(POST => '/user/slow', timeout => 20),
         $ng->http_send(POST => '/user/fast', timeout => 20),
         $ng->http_send(GET => '/health', timeout => 20),
         $ng->http_send(GET => '/trackedusers', timeout => 20),
         $ng->http_send(GET => '/user/fast', timeout => 20))
    } 1 .. 2;
}

my (@all, @retired);
for my $round (1 .. 3) {
    my @old = $ng->worker_pids;
    push @retired, @old;
    my @h = batch();                         # in flight in the old workers
    sleep 0.2;
    kill 'HUP', $ng->{master};
    push @h, batch();                        # while the reload happens
    my $up = GistTest::wait_for(sub {
        my %o = map { $_ => 1 } @old;
        return (grep { !$o{$_} } $ng->worker_pids) >= 2;
    }, 10);
    ok($up, "round $round: new workers up");
    push @h, batch();                        # served by the new workers
    my @r = GistTest::http_wait_all(\@h, 25);
    my @bad = grep { ($_->[0] // 0) != 200 } @r;
    is(scalar @bad, 0, "round $round: all " . scalar(@r) . ' requests across the reload answered 200')
        or diag explain [map { [$_->[0], $_->[2]] } @bad];
    push @all, @r;
}
is(scalar(grep { ref $_->[3] eq 'HASH' } @all), scalar @all, 'every answer was JSON');

my %live = map { $_ => 1 } $ng->worker_pids;
ok(GistTest::wait_for(sub { !grep { kill 0, $_ } @retired }, 15), 'old workers exited after the reloads');

($st) = $ng->http(GET => '/health');
is($st, 200, 'health after reloads');
$ng->no_alerts('no alert after reloads');

# Quit with a scan in flight: the scan completes, then the master exits.
my $h = $ng->http_send(POST => '/user/slow', timeout => 20);
sleep 0.3;
my $m = $ng->{master};
kill 'QUIT', $m;
my ($r) = GistTest::http_wait_all([$h], 20);
is($r->[0], 200, 'scan in flight at quit completes with 200');
ok(GistTest::wait_for(sub { !kill 0, $m }, 15), 'master exits after quit');
delete $ng->{master};
$ng->no_alerts('no alert after quit');

done_testing;
