#!/usr/bin/perl

# Reload storm (issue 10 §4): 50 reloads in a row while wrk reads /trackedusers and 20 first scans
# are in flight (GitHub is slow, so every scan spans several reloads and is finished by a worker
# that is shutting down): wrk sees no non-2xx answer and no socket error, every POST answers 201,
# all 20 users end up tracked with their gists, and the error log has no [alert] (or worse).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $WRK = '/usr/bin/wrk';
plan(skip_all => "$WRK not installed (Debian package wrk)") unless -x $WRK;

my $t = GistTest->new;
my $USERS = 20;
my $RELOADS = 50;
my @logins = map { sprintf 'storm%02d', $_ } 1 .. $USERS;
# Two pages of 2 gists, each page answered after 0.8 s: a scan takes about 1.6 s.
my %users = map { $_ => { gists => [StubGitHub::make_gists($_, 4)], page_size => 2, delay => 0.8 } } @logins;
my ($redis, $stub, $ng) = $t->setup(workers => 2, scenario => { users => \%users });

# wrk in the background until the storm is over (SIGINT makes it stop and print its report).
# "Connection: close": on reload an old worker closes its idle keep-alive connections, and a
# request wrk writes on one at that moment is lost (wrk counts a read error and does not retry,
# as HTTP/1.1 lets a client do). That is NGINX's own behaviour, the same for a plain
# `return 200` location, so each request gets a connection of its own here.
my $wrk_out = $t->dir . '/wrk.out';
my $wrk = fork // die "fork: $!";
if ($wrk == 0) {
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', $wrk_out;
    open STDERR, '>&', \*STDOUT;
    exec $WRK, '-t', '1', '-c', '4', '-d', '300s', '--timeout', '5s', '-H', 'Connection: close',
        'http://127.0.0.1:' . $ng->port . '/trackedusers' or POSIX::_exit(127);
}
sleep 0.5;

my (@posts, $reloaded, @reloads);
my $t0 = time;
for my $i (1 .. $RELOADS) {
    push @posts, $ng->http_send(POST => "/user/$logins[$i - 1]", timeout => 60) if $i <= $USERS;
    my $start = time;
    $reloaded++ if $ng->reload(15);
    push @reloads, [$start, time];
    sleep 0.05;
}
my $storm = time - $t0;
is($reloaded, $RELOADS, "$RELOADS reloads, each brought up new workers (" . sprintf('%.1f s', $storm) . ')');

my @r = GistTest::http_wait_all(\@posts, 60);
# Each scan overlapped reloads: one was under way (from SIGHUP until its new workers were up)
# between the scan's first request to GitHub and its last page's answer (the stub logs each
# request when it arrives, then waits 0.8 s). Under a heavy load a reload takes longer than a scan.
my @overlap = map {
    my @times = sort { $a <=> $b } map { $_->{time} } $stub->requests_for($_);
    my ($from, $to) = @times ? ($times[0], $times[-1] + 0.8) : (0, 0);
    scalar grep { $_->[0] < $to && $_->[1] > $from } @reloads;
} @logins;
my @by_overlap = sort { $a <=> $b } @overlap;
cmp_ok($by_overlap[0], '>=', 1, "every scan overlapped reloads (fewest: $by_overlap[0], most: $by_overlap[-1])");

my @bad = grep { ($r[$_][0] // 0) != 201 } 0 .. $#r;
is(scalar @bad, 0, "all $USERS first scans in flight during the reloads answered 201")
    or diag explain [map { [$logins[$_], $r[$_][0], $r[$_][2]] } @bad];
my @short = grep { ref $r[$_][3] ne 'HASH' || @{ $r[$_][3]{new_gists} || [] } != 4 } 0 .. $#r;
is(scalar @short, 0, 'each scan reported its 4 gists as new')
    or diag explain [map { $logins[$_] } @short];

kill 'INT', $wrk;
my $done = GistTest::wait_for(sub { waitpid($wrk, WNOHANG) == $wrk }, 10);
if (!$done) { kill 'KILL', $wrk; waitpid($wrk, 0) }
my $report = do { local $/; open my $f, '<', $wrk_out or die "$wrk_out: $!"; <$f> } // '';
note($report);
my ($requests) = $report =~ /(\d+) requests in/;
ok(($requests // 0) > 0, 'wrk made requests during the storm (' . ($requests // 'none') . ')')
    or diag($report);
unlike($report, qr/Socket errors/, 'wrk: no socket error (connect, read, write, timeout)');
unlike($report, qr/Non-2xx/, 'wrk: no non-2xx answer');

my ($st, undef, undef, $j) = $ng->http(GET => '/trackedusers');
is($st, 200, 'trackedusers after the storm');
is_deeply([sort map { $_->{login} } @{ $j->{users} || [] }], [sort @logins],
          "all $USERS users are tracked");
is_deeply([sort map { $_->{gist_count} // 0 } @{ $j->{users} || [] }], [(4) x $USERS],
          'each with its 4 gists');

ok(GistTest::wait_for(sub { scalar($ng->worker_pids) == 2 && !grep { /shutting down/ } _children() }, 20),
   'every old worker exited');
$ng->no_alerts('no [alert], [crit] or [emerg] after the storm');

done_testing;

# Command lines of the master's children.
sub _children {
    my $m = $ng->{master} or return ();
    my @c;
    for my $d (glob '/proc/[0-9]*') {
        open my $s, '<', "$d/stat" or next;
        my $st = <$s> // '';
        next unless $st =~ /\)\s+\S+\s+(\d+)/ && $1 == $m;
        open my $c, '<', "$d/cmdline" or next;
        push @c, scalar(<$c>) // '';
    }
    return @c;
}
