#!/usr/bin/perl

# Issue 8, the read path (docs/read-path.md): answers from memory that stay fresh across
# instances (pub/sub, and the TTL when the subscription is lost), strong ETags and 304s, pages
# of /trackedusers that a walk sees each user exactly once in while others track and untrack, no
# request whose Redis work grows with the number of users, and gist_cache_ttl 0 as before.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my $TTL = 2;
my $redis = $t->redis;
my $stub = $t->stub({ users => { map { $_ => { gists => [StubGitHub::make_gists($_, 1)] } }
                                 qw(alice bob carol dave walker1 walker2 walker3) } });
my $a = $t->nginx(workers => 2, http_extra => "    gist_cache_ttl ${TTL}s;\n")->run;
my $b = $t->nginx(workers => 2, http_extra => "    gist_cache_ttl ${TTL}s;\n")->run;

sub logins_of { my ($j) = @_; return [map { $_->{login} } @{ $j->{users} || [] }] }

# Polls GET /trackedusers on $ng until $cond holds; returns the seconds it took (undef: never).
sub seen_within {
    my ($ng, $cond, $limit) = @_;
    my $t0 = time;
    while (time - $t0 < $limit) {
        my ($st, $h, $body, $j) = $ng->http(GET => '/trackedusers');
        return time - $t0 if $st == 200 && $cond->($j);
        sleep 0.02;
    }
    return undef;
}

sub numsub {
    my $r = $redis->cmd('PUBSUB', 'NUMSUB', 'gist:changes');
    return $r->[1] // 0;
}

# --- freshness across two instances ------------------------------------------------------------
ok(GistTest::wait_for(sub { numsub() == 4 }, 5), 'every worker of both instances subscribed (4)');
for my $ng ($a, $b) { $ng->http(GET => '/trackedusers') for 1 .. 4 }    # both caches warm, empty

my ($st) = $a->http(POST => '/user/alice');
is($st, 201, 'alice tracked through A');
my ($s2, $h2, $b2, $j2) = $a->http(GET => '/trackedusers');
is_deeply(logins_of($j2), ['alice'], 'A, the instance that tracked, shows alice at once');
my $took = seen_within($b, sub { grep { $_ eq 'alice' } @{ logins_of($_[0]) } }, $TTL + 1);
ok(defined $took && $took <= $TTL, sprintf('B shows alice within the TTL (%.2f s)', $took // -1));

($st) = $a->http(DELETE => '/user/alice');
is($st, 204, 'alice untracked through A');
$took = seen_within($b, sub { !grep { $_ eq 'alice' } @{ logins_of($_[0]) } }, $TTL + 1);
ok(defined $took && $took <= $TTL, sprintf('B no longer shows alice within the TTL (%.2f s)', $took // -1));

# Without the subscription: still within the TTL, and the subscription comes back.
$b->http(GET => '/trackedusers') for 1 .. 4;
$redis->cmd('CLIENT', 'KILL', 'TYPE', 'pubsub');
($st) = $a->http(POST => '/user/bob');
is($st, 201, 'bob tracked through A while the subscriptions are down');
$took = seen_within($b, sub { grep { $_ eq 'bob' } @{ logins_of($_[0]) } }, $TTL + 1);
ok(defined $took && $took <= $TTL + 0.2, sprintf('B shows bob within the TTL without pub/sub (%.2f s)', $took // -1));
ok(GistTest::wait_for(sub { numsub() == 4 }, 10), 'the subscriptions come back (4)');
($st) = $a->http(POST => '/user/carol');
$took = seen_within($b, sub { grep { $_ eq 'carol' } @{ logins_of($_[0]) } }, $TTL + 1);
ok(defined $took && $took < $TTL, sprintf('... and B hears of carol through them (%.2f s)', $took // -1));

# --- conditional GETs ----------------------------------------------------------------------------
for my $uri ('/trackedusers', '/user/bob') {
    my ($s, $h, $body) = $b->http(GET => $uri);
    my $etag = $h->{etag} // '';
    like($etag, qr/^"[0-9a-f]{16}"$/, "$uri: strong ETag");
    my ($s304, $h304, $b304) = $b->http(GET => $uri, headers => { 'If-None-Match' => $etag });
    is($s304, 304, "$uri: If-None-Match with it: 304");
    is($b304 // '', '', "$uri: 304 has no body");
    is($h304->{etag}, $etag, "$uri: 304 repeats the ETag");
    my ($sh, $hh, $bh) = $b->http(HEAD => $uri);
    is($sh, 200, "$uri: HEAD 200");
    is($hh->{etag}, $etag, "$uri: HEAD has the same ETag");
    is($bh // '', '', "$uri: HEAD has no body");
}
my (undef, $h_before) = $a->http(GET => '/trackedusers');
($st) = $a->http(POST => '/user/dave');
my ($s_after, $h_after, undef, $j_after) = $a->http(GET => '/trackedusers',
                                                    headers => { 'If-None-Match' => $h_before->{etag} });
is($s_after, 200, 'after a change the old ETag gets 200');
isnt($h_after->{etag}, $h_before->{etag}, '... with a new ETag');

# --- pages under concurrent tracking -------------------------------------------------------------
my @crowd = map { sprintf 'crowd%04d', $_ } 1 .. 2500;
$redis->seed_users('gist:', @crowd);
my $churn = fork // die "fork: $!";
if ($churn == 0) {
    # Another client tracks and untracks users whose logins fall between the crowd's.
    my $end = time + 8;
    while (time < $end) {
        for my $u (qw(walker1 walker2 walker3)) {
            GistTest::http_request($a->port, POST => "/user/$u");
            GistTest::http_request($a->port, DELETE => "/user/$u");
        }
    }
    POSIX::_exit(0);
}
my (%times, $pages, $bad);
my $cursor;
do {
    my $q = '/trackedusers?limit=100' . (defined $cursor ? "&cursor=$cursor" : '');
    my ($s, $h, $body, $j) = $b->http(GET => $q);
    if ($s != 200) { $bad = "$q: $s"; last }
    $pages++;
    $times{$_}++ for @{ logins_of($j) };
    $cursor = $j->{next_cursor};
    sleep 0.01;
} while (defined $cursor && $pages < 100);
waitpid $churn, 0;
ok(!$bad, 'every page answered 200') or diag $bad;
is(scalar(grep { ($times{$_} // 0) == 1 } @crowd), 2500, "a walk of $pages pages lists each of the 2,500 users exactly once");
ok(!grep({ $_ > 1 } values %times), 'nobody twice');
my ($sp, $hp, $bp, $jp) = $b->http(GET => '/trackedusers?limit=10');
ok($jp->{count} >= 2500, "count is every tracked user ($jp->{count})");
is(scalar @{ $jp->{users} }, 10, 'limit=10: ten users');
for my $badc ('nope', 'b2N0b2NhdA==', '%00') {
    my @r = $b->http(GET => "/trackedusers?cursor=$badc");
    error_ok(\@r, 400, 'invalid_cursor', "cursor=$badc: 400 invalid_cursor");
}
error_ok([$b->http(GET => '/trackedusers?limit=0')], 400, 'invalid_limit', 'limit=0: 400 invalid_limit');

# --- no request whose Redis work grows with the number of users ----------------------------------
$redis->seed_users('gist:', map { sprintf 'many%05d', $_ } 1 .. 17500);    # 20,000+ users in all
sleep $TTL + 0.1;    # nothing cached
my $stop = $redis->monitor;
$b->http(GET => '/trackedusers?limit=10');
$b->http(GET => '/user/bob');
$b->http(GET => '/health');
$b->http(POST => '/user/bob');
my @seen = $stop->();
my $lines = scalar @seen;
ok($lines > 0 && $lines < 200, "four requests at 20,000 users: $lines Redis commands (a walk would be 20,000+)")
    or diag join "\n", @seen[0 .. 20];


# --- gist_cache_ttl 0: every read goes to Redis, no subscription -------------------------------
my $c = $t->nginx(workers => 1, http_extra => "    gist_cache_ttl 0;\n")->run;
my $subs = numsub();
$stop = $redis->monitor;
$c->http(GET => '/trackedusers?limit=5') for 1 .. 3;
my @evals = grep { /"EVAL"/i || /"EVALSHA"/i } $stop->();
is(scalar @evals, 3, 'gist_cache_ttl 0: three reads, three scripts in Redis');
is(numsub(), $subs, 'gist_cache_ttl 0: no subscription of its own');
my ($sc, $hc) = $c->http(GET => '/trackedusers?limit=5');
like($hc->{etag} // '', qr/^"[0-9a-f]{16}"$/, 'gist_cache_ttl 0: ETags all the same');

$_->stop for $a, $b, $c;
$_->no_alerts for $a, $b, $c;

done_testing;
