#!/usr/bin/perl

# Issue 5: the fleet as a whole rescans each tracked user once per interval. Two NGINX instances
# with 2 workers each share one Redis and one stub GitHub; which worker sent a request is told by
# its client port (the stub logs it; /proc maps it to the worker while the connection lasts).
# 6 users, `gist_rescan_interval 2s`, observed for 5 intervals: every user is
# fetched 4..6 times (not 4x as often, which would mean every worker rescans), never twice at once
# (each request takes 0.2 s at the stub; consecutive fetches of a user are >= 0.9 interval apart),
# and both instances take part.

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
my $INTERVALS = 5;
my $DELAY = 0.2;
my @users = map { "fleet$_" } 1 .. 6;

my %scenario = (users => { map { $_ => { gists => [StubGitHub::make_gists($_, 2, tag => 'fleet')], delay => $DELAY } } @users });
my $redis = $t->redis;
my $gh = $t->stub(\%scenario);
my $conf = "    gist_rescan_interval ${INTERVAL}s;\n    gist_github_rate_reserve 10;\n";
my $ng1 = $t->nginx(workers => 2, http_extra => $conf)->run;
my $ng2 = $t->nginx(workers => 2, http_extra => $conf)->run;
my %instance_of = ((map { $_ => 'ng1' } $ng1->worker_pids), (map { $_ => 'ng2' } $ng2->worker_pids));

# Client port => pid for the TCP sockets the workers hold (/proc/net/tcp and /proc/<pid>/fd),
# merged into %port_pid.
my %port_pid;
sub snapshot_ports {
    my %inode_pid;
    for my $pid (keys %instance_of) {
        for my $fd (glob "/proc/$pid/fd/*") {
            my $l = readlink $fd or next;
            $inode_pid{$1} = $pid if $l =~ /^socket:\[(\d+)\]/;
        }
    }
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $f or next;
        <$fh>;
        while (<$fh>) {
            my @f = split ' ';
            my ($lport) = ($f[1] // '') =~ /:([0-9A-F]+)$/ or next;
            $port_pid{ hex $lport } = $inode_pid{ $f[9] } if $inode_pid{ $f[9] // '' };
        }
    }
}

# Track every user, half through each instance, all at once.
my $i = 0;
my @h = map { ($i++ % 2 ? $ng2 : $ng1)->http_send(POST => "/user/$_", timeout => 10) } @users;
my @r = GistTest::http_wait_all(\@h, 10);
is(scalar(grep { ($_->[0] // 0) == 201 } @r), scalar @users, 'all 6 users tracked (201)');
my $t0 = time;
my $tracking_done = $t0;

# Observe for $INTERVALS intervals.
GistTest::wait_for(sub { snapshot_ports(); time - $t0 >= $INTERVAL * $INTERVALS }, $INTERVAL * $INTERVALS + 1, 0.1);
my $t1 = time;
sleep $DELAY + 0.1;    # requests started before $t1 are logged at once; let them finish
snapshot_ports();

my @reqs = grep { defined $_->{login} } $gh->requests;
my (%in, %all, %by_instance, %by_worker);
for my $r (@reqs) {
    push @{ $all{ $r->{login} } }, $r->{time};
    next unless $r->{time} > $tracking_done && $r->{time} <= $t1;
    push @{ $in{ $r->{login} } }, $r->{time};
    my $pid = $port_pid{ $r->{peer_port} // 0 };
    $by_instance{ $pid ? $instance_of{$pid} : 'unknown' }++;
    $by_worker{ $pid ? "$instance_of{$pid}/$pid" : 'unknown' }++;
}

my $lo = $INTERVALS - 1;
my $hi = $INTERVALS + 1;
my @counts = map { scalar @{ $in{$_} || [] } } @users;
my $workers = join ', ', map { "$_ $by_worker{$_}" } sort keys %by_worker;
diag(sprintf('window %.1f s; fetches per user: %s; by worker: %s', $t1 - $tracking_done,
             join(' ', @counts), $workers)) if $ENV{TEST_NGINX_VERBOSE};
for my $u (@users) {
    my $n = scalar @{ $in{$u} || [] };
    ok($n >= $lo && $n <= $hi, "$u: fetched $n times in $INTERVALS intervals (expected $lo..$hi, not ~"
       . 4 * $INTERVALS . ')');
}
my $total = 0;
$total += $_ for @counts;
ok($total <= @users * $hi, "fleet total $total <= " . @users * $hi . ' (one per user per interval, not per worker)');

# Never two fetches of a user at once, nor close together: after a scan the next is an interval away.
for my $u (@users) {
    my @ts = sort { $a <=> $b } @{ $all{$u} || [] };
    shift @ts;    # the POST's fetch: the first rescan follows it after interval x U(0.5, 1)
    my $min = 1e9;
    $min = $ts[$_] - $ts[$_ - 1] < $min ? $ts[$_] - $ts[$_ - 1] : $min for 1 .. $#ts;
    ok($min >= $INTERVAL * 0.9, sprintf('%s: consecutive fetches at least %.2f s apart (>= %.1f; a fetch takes %.1f s)',
                                        $u, $min, $INTERVAL * 0.9, $DELAY));
}

is($by_instance{unknown} // 0, 0, 'every rescan was traced to a worker by its client port') or diag $workers;
{
    # Workers tick with a jittered period, so the one that scanned a user is not in phase with
    # that user's next due time (before that fix one instance did all the rescans).
    ok(($by_instance{ng1} // 0) > 0 && ($by_instance{ng2} // 0) > 0,
       sprintf('both instances rescan (ng1 %d, ng2 %d fetches)', $by_instance{ng1} // 0, $by_instance{ng2} // 0))
        or diag "fetches by worker: $workers";
}

# The unchanged users were fetched conditionally and answered 304.
my @rescans = grep { $_->{time} > $tracking_done } @reqs;
is(scalar(grep { ($_->{status} // 0) == 304 && defined $_->{headers}{'if-none-match'} } @rescans), scalar @rescans,
   'every rescan sent If-None-Match and got a 304')
    or diag explain [map { { login => $_->{login}, status => $_->{status}, inm => $_->{headers}{'if-none-match'},
                              t => sprintf('%.2f', $_->{time} - $tracking_done) } }
                     grep { ($_->{status} // 0) != 304 } @rescans];

# Schedule in Redis: one entry per user, none overdue.
my $z = $redis->cmd('ZRANGE', 'gist:rescan', 0, -1, 'WITHSCORES');
my %due = @$z;
is_deeply([sort keys %due], [sort @users], 'gist:rescan holds exactly the 6 users');
my ($st, undef, $body, $j) = $ng2->http(GET => '/health');
is($j->{rescan}{overdue}, 0, '/health: no user overdue') or diag $body;

$_->no_alerts for $ng1, $ng2;

done_testing;
