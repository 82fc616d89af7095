#!/usr/bin/perl

# Tests of the harness additions for the rescan tests (no module needed): the stub GitHub's
# shared rate budget (set_rate: one less per answer but a 304, 403 at 0 until the reset, refill
# after it, the budget in x-ratelimit-*), and the "status" and "peer_port" of each logged request.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new(need_module => 0);

my $stub = $t->stub({ users => { a => { gists => [StubGitHub::make_gists('a', 1)] }, b => { status => 500 } } });
sub get { GistTest::http_request($stub->port, GET => @_) }

my ($st, $h) = get('/users/a/gists');
is($st, 200, 'no budget: 200');
is($h->{'x-ratelimit-remaining'}, 59, 'no budget: the default headers');
is($stub->rate, undef, 'no budget: rate is undef');

my $reset = int(time) + 3;
$stub->set_rate(limit => 10, remaining => 3, reset_at => $reset, window => 100);
($st, $h) = get('/users/a/gists');
is($st, 200, 'budget: 200');
is($h->{'x-ratelimit-remaining'}, 2, 'budget: 3 -> 2');
is($h->{'x-ratelimit-limit'}, 10, 'budget: limit header');
is($h->{'x-ratelimit-reset'}, $reset, 'budget: reset header');
my $etag = $h->{etag};
($st, $h) = get('/users/a/gists', headers => { 'If-None-Match' => $etag });
is($st, 304, 'budget: 304');
is($h->{'x-ratelimit-remaining'}, 2, 'budget: a 304 is free');
($st, $h) = get('/users/b/gists');
is($st, 500, 'budget: a 500 for b');
is($h->{'x-ratelimit-remaining'}, 1, 'budget: it costs one too');
($st) = get('/users/a/gists');
is($st, 200, 'budget: last one');
my $body;
($st, $h, $body) = get('/users/a/gists');
is($st, 403, 'budget: exhausted -> 403');
is($h->{'x-ratelimit-remaining'}, 0, 'budget: 403 remaining 0');
is($h->{'x-ratelimit-reset'}, $reset, 'budget: 403 carries the reset');
like($body, qr/rate limit exceeded/, 'budget: GitHub\'s message');
is($stub->rate->{remaining}, 0, 'rate(): remaining 0');
is($stub->rate->{used}, 3, 'rate(): used 3');

GistTest::wait_for(sub { time >= $reset }, 5, 0.05);
($st, $h) = get('/users/a/gists');
is($st, 200, 'after the reset: 200');
is($h->{'x-ratelimit-remaining'}, 9, 'after the reset: refilled to the limit, minus this one');
ok($h->{'x-ratelimit-reset'} >= $reset + 100, 'after the reset: next reset one window later');
$stub->set_rate(undef);
($st, $h) = get('/users/a/gists');
is($h->{'x-ratelimit-remaining'}, 59, 'budget off again');

my @r = $stub->requests;
is_deeply([map { $_->{status} } @r], [200, 200, 304, 500, 200, 403, 200, 200], 'the log has each answer\'s status');
ok(!grep({ !($_->{peer_port} // 0) } @r), 'the log has each client port');

done_testing;
