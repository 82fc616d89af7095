#!/usr/bin/perl

# A Redis failover behind a proxy (as with ElastiCache behind the TLS tunnel): the workers'
# connections still lead to the old primary, now a replica, which answers writes with READONLY.
# The module drops such a connection and connects again, through the proxy, to the new primary:
# tracking works again within seconds, and what was tracked before the failover is still there.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

# A full sync otherwise waits repl-diskless-sync-delay (5 s) for more replicas to join.
my $a = $t->redis(args => [qw(--repl-diskless-sync-delay 0)]);
my $b = $t->redis(args => [qw(--repl-diskless-sync-delay 0)]);
$b->cmd('REPLICAOF', '127.0.0.1', $a->port);
my $proxy = $t->proxy($a->port);
my $stub = $t->stub({ users => { map { $_ => { gists => [StubGitHub::make_gists($_, 1)] } } qw(before after) } });
my $ng = $t->nginx(workers => 2, redis_line => '127.0.0.1:' . $proxy->port)->run;

my ($st) = $ng->http(POST => '/user/before');
is($st, 201, 'tracked before the failover');
ok(GistTest::wait_for(sub { ($b->cmd('EXISTS', 'gist:user:{before}') // 0) == 1 }, 15), 'replicated to the replica');

# Failover: the replica becomes the primary, the old primary follows it, and the proxy sends new
# connections to the new primary. The workers' connections still lead to the old one.
$b->cmd('REPLICAOF', 'NO', 'ONE');
$a->cmd('REPLICAOF', '127.0.0.1', $b->port);
$proxy->set_target($b->port);
my $t0 = time;

my @statuses;
my $ok = GistTest::wait_for(sub {
    my ($s) = $ng->http(POST => '/user/after');
    push @statuses, $s // 0;
    return ($s // 0) == 201;
}, 10, 0.2);
ok($ok, sprintf('tracking works again %.1f s after the failover (answers: %s)', time - $t0, join(' ', @statuses)));
ok(!grep({ $_ != 201 && $_ != 503 } @statuses), 'meanwhile only 503 redis_unavailable, never another error');
is($b->cmd('EXISTS', 'gist:user:{after}'), 1, 'the new user is on the new primary');

# Every worker comes back to the new primary (a worker whose connection got READONLY waits its
# reconnect backoff first, answering 503 meanwhile).
my @last;
ok(GistTest::wait_for(sub {
    @last = map { ($ng->http(POST => '/user/after'))[0] // 0 } 1 .. 10;
    return !grep { $_ != 200 } @last;
}, 5, 0.1), "writes work again on every worker (last round: @last)");
my ($s, $h, $body, $j) = $ng->http(GET => '/trackedusers');
is_deeply([sort map { $_->{login} } @{ $j->{users} || [] }], [qw(after before)], 'both users listed');
like($ng->error_log, qr/READONLY/, 'the error log says why the connection was dropped');
$ng->stop;
$ng->no_alerts;

done_testing;
