#!/usr/bin/perl

# "New" is decided atomically in Redis: concurrent POSTs of the same user, on several workers of
# one NGINX and on two NGINX instances sharing one Redis, report every gist as new exactly once.
# Also: two deployments with different gist_redis_prefix values on one Redis stay apart.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my @many = StubGitHub::make_gists('many', 30);
my @shared = StubGitHub::make_gists('shared', 40);
my ($redis, $stub, $ng) = $t->setup(workers => 2, scenario => { users => {
    # a small delay so that the scans overlap
    many   => { gists => \@many, delay => 0.3 },
    shared => { gists => \@shared, page_size => 15, delay => 0.2 },
    solo   => { gists => [StubGitHub::make_gists('solo', 3)] },
} });
my $ng2 = $t->nginx(workers => 2)->run;

# Checks a set of responses to concurrent POSTs of one user whose gists are @$gists.
sub exactly_once {
    my ($name, $responses, $gists) = @_;
    my $n = @$responses;
    is(scalar(grep { ($_->[0] // 0) == 200 || ($_->[0] // 0) == 201 } @$responses), $n,
       "$name: all $n answered 200/201")
        or diag explain [map { [$_->[0], $_->[2]] } grep { ($_->[0] // 0) !~ /^20[01]$/ } @$responses];
    is(scalar(grep { ($_->[0] // 0) == 201 } @$responses), 1, "$name: exactly one 201");
    my %new;
    $new{ $_->{id} }++ for map { @{ $_->[3]{new_gists} || [] } } grep { ref $_->[3] eq 'HASH' } @$responses;
    my @ids = map { $_->{id} } @$gists;
    is(scalar(grep { ($new{$_} // 0) == 1 } @ids), scalar @ids, "$name: every gist id new exactly once")
        or diag explain { map { $_ => $new{$_} // 0 } @ids };
    is(scalar keys %new, scalar @ids, "$name: no other ids reported new");
    my $complete = grep {
        my $j = $_->[3];
        ref $j eq 'HASH'
            && join(',', sort map { $_->{id} } @{ $j->{new_gists} || [] }, @{ $j->{old_gists} || [] })
               eq join(',', sort @ids)
    } @$responses;
    is($complete, $n, "$name: each response lists every gist once (new + old)");
}

# 20 in parallel on one NGINX (2 workers).
my @h = map { $ng->http_send(POST => '/user/many', timeout => 30) } 1 .. 20;
my @r = GistTest::http_wait_all(\@h, 30);
exactly_once('20 concurrent POSTs, one nginx', \@r, \@many);
is($redis->cmd('HLEN', 'gist:seen'), 30, 'gist:seen has the 30 ids');

# 2 x 12 in parallel on two NGINX instances sharing the Redis (3 pages each).
@h = map { ($ng->http_send(POST => '/user/shared', timeout => 30), $ng2->http_send(POST => '/user/shared', timeout => 30)) } 1 .. 12;
@r = GistTest::http_wait_all(\@h, 30);
exactly_once('24 concurrent POSTs over two nginx instances', \@r, \@shared);

# Both instances see the same state.
my (undef, undef, undef, $ua) = $ng->http(GET => '/trackedusers');
my (undef, undef, undef, $ub) = $ng2->http(GET => '/trackedusers');
is_deeply([map { $_->{login} } @{ $ua->{users} || [] }], [qw(many shared)], 'instance 1 lists both users');
is_deeply($ub, $ua, 'instance 2 answers the same /trackedusers');

# A deployment with another prefix on the same Redis is separate.
my $ng3 = $t->nginx(prefix => 'other:')->run;
my ($st, undef, undef, $j) = $ng3->http(GET => '/trackedusers');
is($st, 200, 'prefix other: /trackedusers 200');
is($j->{count}, 0, 'prefix other: sees no users of prefix gist:');
($st, undef, undef, $j) = $ng3->http(POST => '/user/many');
is($st, 201, 'prefix other: POST many is 201 (not tracked there)');
is(scalar @{ $j->{new_gists} || [] }, 30, 'prefix other: its own seen set (all new)');
ok((grep { /^other:/ } $redis->all_keys) >= 3, 'prefix other: keys under other:');
($st, undef, undef, $j) = $ng->http(POST => '/user/solo');
is($st, 201, 'prefix gist: solo 201');
($st, undef, undef, $j) = $ng3->http(GET => '/user/solo');
is($st, 404, 'prefix other: solo not tracked there');

$_->stop for $ng, $ng2, $ng3;
$_->no_alerts for $ng, $ng2, $ng3;

done_testing;
