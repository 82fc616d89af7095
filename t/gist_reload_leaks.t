#!/usr/bin/perl

# Many reloads do not leak: the master's memory and open files stay flat across 40 reloads (the
# module keeps nothing per cycle outside the cycle's pool, and opens no socket in the master),
# each generation of workers serves, and no [alert] is logged.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;
use StubGitHub;

my $t = GistTest->new;
my ($redis, $stub, $ng) = $t->setup(workers => 1, scenario => { users => {
    octocat => { gists => [StubGitHub::make_gists('octocat', 2)] },
} });

sub master_rss_kb {
    open my $f, '<', "/proc/$ng->{master}/status" or return 0;
    while (<$f>) { return $1 if /^VmRSS:\s+(\d+)/ }
    return 0;
}
sub master_fds { opendir my $d, "/proc/$ng->{master}/fd" or return 0; return scalar grep { !/^\./ } readdir $d }
# Old workers hold a channel to the master until they have exited and the master has reaped
# them: measure once they are gone and the master's fd count has stopped moving.
sub settled {
    GistTest::wait_for(sub { scalar($ng->worker_pids) == 1 }, 10) or return 0;
    my ($last, $same) = (-1, 0);
    return GistTest::wait_for(sub {
        my $n = master_fds();
        $same = $n == $last ? $same + 1 : 0;
        $last = $n;
        return $same >= 3;
    }, 10, 0.2);
}

my ($st) = $ng->http(POST => '/user/octocat');
is($st, 201, 'tracked before the reloads');

# A few reloads first: the first ones grow the master's pools to their working size.
$ng->reload for 1 .. 5;
settled();
my ($rss0, $fds0) = (master_rss_kb(), master_fds());
ok($rss0 > 0 && $fds0 > 0, "baseline: master RSS $rss0 kB, $fds0 fds");

my $served = 0;
for my $i (1 .. 40) {
    $ng->reload;
    my ($s) = $ng->http(GET => '/user/octocat');
    $served++ if ($s // 0) == 200;
}
is($served, 40, 'every generation of workers served');
ok(settled(), 'old workers exited');

my ($rss1, $fds1) = (master_rss_kb(), master_fds());
# Fewer is fine (a channel of an earlier generation closed late); more is a leak.
cmp_ok($fds1, '<=', $fds0, "master fds did not grow over 40 reloads ($fds0 → $fds1)");
# Some allocator noise is normal; a per-reload leak of even 100 kB would add 4 MB.
cmp_ok($rss1 - $rss0, '<', 2048, "master RSS grew by less than 2 MB over 40 reloads ($rss0 → $rss1 kB)");

$ng->stop;
is_deeply([$ng->alerts], [], 'no [alert] or worse in the error log');

done_testing;
