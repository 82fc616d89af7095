#!/usr/bin/perl

# The worker never waits for DNS: libcurl resolves names on a thread, and a transfer cancelled
# while its name is still being resolved (here: the client goes away) must not make the worker
# wait for that thread. With getaddrinfo() of the GitHub host sleeping 8 s (an LD_PRELOAD shim)
# and one worker, a POST /user is aborted after 1 s; /health answers at once meanwhile and
# afterwards, and the worker logs no alert.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my $shim = "$t->{dir}/slow_getaddrinfo.so";
system('cc', '-shared', '-fPIC', '-O2', '-o', $shim, "$FindBin::Bin/shims/slow_getaddrinfo.c", '-ldl') == 0
    or BAIL_OUT('cannot build the getaddrinfo shim');

my $redis = $t->redis;
my $stub = $t->stub({ users => { octocat => { gists => [StubGitHub::make_gists('octocat', 1)] } } });
# The host name is resolved only by curl, in the worker. "localhost." (the same loopback name in
# its absolute form) because curl answers "localhost" itself, without getaddrinfo().
my $ng = $t->nginx(workers => 1, timeout => '30s', api_url => 'http://localhost.:' . $stub->port);
{
    local $ENV{GIST_SLOW_DNS_HOST} = 'localhost.';
    local $ENV{GIST_SLOW_DNS_SECONDS} = 8;
    # Keep what is preloaded already (a sanitizer runtime must stay first).
    local $ENV{LD_PRELOAD} = join ' ', grep { defined && length } $ENV{LD_PRELOAD}, $shim;
    $ng->run;
}

my ($st) = $ng->http(GET => '/health');
is($st, 200, 'health before');

my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng->port, Timeout => 5)
    or die "connect: $!";
print $c "POST /user/octocat HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n";
sleep 1;    # the scan is waiting for the name of the GitHub host
my $s = time;
($st) = $ng->http(GET => '/health', timeout => 10);
my $before_abort = time - $s;
is($st, 200, 'health while the name is being resolved');
cmp_ok($before_abort, '<', 0.1, sprintf('... answered in %.3f s', $before_abort));

close $c;   # the client goes away: the transfer is cancelled mid-resolve
sleep 0.2;
my @took;
for (1 .. 5) {
    $s = time;
    ($st) = $ng->http(GET => '/health', timeout => 10);
    push @took, time - $s;
    is($st, 200, "health after the abort ($_)");
}
my ($worst) = sort { $b <=> $a } @took;
cmp_ok($worst, '<', 0.1, sprintf('the worker did not wait for the resolver: slowest /health %.3f s', $worst));
is($stub->count_for('octocat'), 0, 'GitHub was never reached');
ok(kill(0, ($ng->worker_pids)[0]), 'the worker is alive');

$ng->stop;
$ng->no_alerts;

done_testing;
