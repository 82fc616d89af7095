#!/usr/bin/perl

# Issue 5, graceful: a reload or a quit while rescans are in flight neither loses nor doubles a
# claimed scan. A claim is a lease (2 x gist_upstream_timeout x (gist_github_max_pages + 1) =
# 2 x 1.5 s x 2 = 6 s here): a scan the old worker does not finish is taken over when it runs out.
# Two reloads, each while the slow user's fetch (0.8 s at the stub) is in flight, then a quit
# and a fresh start the same way. Checked at the stub: no user is ever fetched twice at once or
# twice within 0.9 interval (no double claim), no user waits longer than lease + interval (none is
# lost), every user is rescanned after the last reload and after the restart, and the count stays
# at most one per interval.

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
my $LEASE = 2 * 1.5 * (1 + 1);
my $SLOW = 0.8;
my $FAST = 0.3;
my @users = ((map { "reload$_" } 1 .. 5), 'slow');

my $redis = $t->redis;
my $gh = $t->stub({ users => { map {
    $_ => { gists => [StubGitHub::make_gists($_, 2, tag => 'reload')], delay => ($_ eq 'slow' ? $SLOW : $FAST) }
} @users } });
my $ng = $t->nginx(workers => 2, timeout => '1500ms', max_pages => 1,
                   http_extra => "    gist_rescan_interval ${INTERVAL}s;\n    gist_github_rate_reserve 10;\n")->run;

my @h = map { $ng->http_send(POST => "/user/$_", timeout => 10) } @users;
is(scalar(grep { ($_->[0] // 0) == 201 } GistTest::http_wait_all(\@h, 10)), scalar @users, 'all users tracked');
my $t_tracked = time;

# Waits until a new fetch of the slow user is in flight at the stub (started within the last
# 0.3 s, after the one the previous call saw).
my $slow_seen = $t_tracked;
sub slow_in_flight {
    return GistTest::wait_for(sub {
        my @r = $gh->requests_for('slow');
        return 0 unless @r && $r[-1]{time} > $slow_seen && time - $r[-1]{time} < 0.3;
        $slow_seen = $r[-1]{time};
        return 1;
    }, $LEASE + $INTERVAL + $SLOW + 2, 0.02);
}

my @retired;
for my $round (1 .. 2) {
    ok(slow_in_flight(), "round $round: a rescan of slow is in flight");
    my @old = $ng->worker_pids;
    push @retired, @old;
    ok($ng->reload, "round $round: reloaded, new workers up");
}
my $t_last_reload = time;
ok(GistTest::wait_for(sub { !grep { kill 0, $_ } @retired }, 10), 'old workers exited');

# After the last reload every user is rescanned within lease + interval (a scan the old worker
# dropped runs out of its lease and is taken over).
ok(GistTest::wait_for(sub {
    !grep { my $u = $_; !grep { $_->{time} > $t_last_reload + 0.1 } $gh->requests_for($u) } @users;
}, $LEASE + $INTERVAL + 2, 0.1), 'every user is rescanned after the last reload');

# Quit while slow's fetch is in flight, then start again: nothing is lost.
ok(slow_in_flight(), 'quit: a rescan of slow is in flight');
my $t_quit = time;
ok($ng->stop, 'quit: nginx exited');
my $quit_took = time - $t_quit;
$ng->run;
my $t_restart = time;
ok(GistTest::wait_for(sub {
    !grep { my $u = $_; !grep { $_->{time} > $t_restart } $gh->requests_for($u) } @users;
}, $LEASE + $INTERVAL + 2, 0.1), 'every user is rescanned after the restart');
GistTest::wait_for(sub { time - $t_restart >= $LEASE + $INTERVAL + 0.5 }, $LEASE + $INTERVAL + 1, 0.1);
my $t_end = time;

# --- the whole history, per user ---------------------------------------------------------------
for my $u (@users) {
    my @ts = map { $_->{time} } $gh->requests_for($u);
    shift @ts;    # the POST's fetch; the first rescan follows it after interval x U(0.5, 1)
    my @gaps = map { $ts[$_] - $ts[$_ - 1] } 1 .. $#ts;
    my ($min, $max) = (1e9, 0);
    for (@gaps) { $min = $_ if $_ < $min; $max = $_ if $_ > $max }
    # The restart's gap also holds the time the quit took and the start.
    my $allow = $LEASE + $INTERVAL + 1 + $quit_took + 1;
    ok(@ts >= 4 && $min >= 0.9 * $INTERVAL,
       sprintf('%s: %d rescans, never two within %.1f s (closest %.2f s apart)', $u, scalar @ts, 0.9 * $INTERVAL, $min));
    ok($max <= $allow, sprintf('%s: longest wait between rescans %.2f s <= lease + interval (+ restart) %.1f s',
                               $u, $max, $allow));
    my $window = $t_end - $t_tracked;
    ok(@ts <= $window / $INTERVAL + 1,
       sprintf('%s: %d rescans in %.1f s: at most one per interval', $u, scalar @ts, $window));
}
diag(join "\n", map {
    my $u = $_;
    my @ts = map { sprintf '%.1f', $_->{time} - $t_tracked } $gh->requests_for($u);
    "$u: @ts";
} @users) if $ENV{TEST_NGINX_VERBOSE};
diag(sprintf('reloads done at %.1f s, quit at %.1f s (took %.1f s), restart at %.1f s',
             $t_last_reload - $t_tracked, $t_quit - $t_tracked, $quit_took, $t_restart - $t_tracked))
    if $ENV{TEST_NGINX_VERBOSE};

my %due = @{ $redis->cmd('ZRANGE', 'gist:rescan', 0, -1, 'WITHSCORES') };
is_deeply([sort keys %due], [sort @users], 'gist:rescan still holds every user');
$ng->no_alerts;

done_testing;
