#!/usr/bin/perl

# Tests of the test harness itself: the stub GitHub (pages, Link, ETag/304, errors, delays in
# parallel, request log) and the redis-server helper. Needs no module.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time);
use GistTest qw(json_decode);
use StubGitHub;

my $t = GistTest->new(need_module => 0);

my @g = StubGitHub::make_gists('octocat', 5);
my $stub = $t->stub({ users => {
    octocat => { gists => \@g },
    Paged   => { gists => [StubGitHub::make_gists('paged', 5)], page_size => 2 },
    limited => { status => 403, reset_in => 77 },
    secondary => { status => 429, retry_after => 12 },
    broken  => { status => 500 },
    garbage => { body => '{"not json' },
    slow    => { gists => [], delay => 1 },
    hangup  => { close => 1 },
    noetag  => { gists => [@g[0, 1]], etag => 0 },
} });
my $port = $stub->port;
sub get { GistTest::http_request($port, GET => @_) }

# A plain page, with GitHub's headers.
my ($st, $h, $body, $j) = get('/users/octocat/gists?per_page=100',
    headers => { 'User-Agent' => 'harness-test', Accept => 'application/vnd.github+json' });
is($st, 200, 'user page 200');
is(ref $j, 'ARRAY', 'JSON array');
is(scalar @$j, 5, 'all 5 gists');
is($j->[0]{id}, $g[0]{id}, 'newest first as given');
ok(exists $j->[0]{files}{'file0.txt'}{filename}, 'files object keyed by name with filename');
is($j->[0]{owner}{login}, 'octocat', 'owner.login');
like($h->{etag}, qr{^W/"[0-9a-f]{32}"$}, 'weak ETag');
is($h->{'x-ratelimit-limit'}, 60, 'x-ratelimit-limit');
ok(defined $h->{'x-ratelimit-remaining'} && defined $h->{'x-ratelimit-reset'}
   && defined $h->{'x-ratelimit-used'} && $h->{'x-ratelimit-resource'} eq 'core', 'rate-limit headers');
ok(!exists $h->{link}, 'no Link on a single page');
my $etag = $h->{etag};

# 304 on a matching If-None-Match, 200 otherwise.
($st, $h, $body) = get('/users/octocat/gists?per_page=100', headers => { 'If-None-Match' => $etag });
is($st, 304, '304 on matching If-None-Match');
is($body, '', '304 has no body');
is($h->{etag}, $etag, '304 repeats the ETag');
($st) = get('/users/octocat/gists?per_page=100', headers => { 'If-None-Match' => 'W/"other"' });
is($st, 200, '200 on a stale If-None-Match');

# per_page honoured, and Link headers with the stub's absolute URL.
($st, $h, $body, $j) = get('/users/octocat/gists?per_page=2');
is(scalar @$j, 2, 'per_page=2 gives 2');
my $u = $stub->url;
is($h->{link}, qq{<$u/users/octocat/gists?per_page=2&page=2>; rel="next", <$u/users/octocat/gists?per_page=2&page=3>; rel="last"},
   'Link next/last on page 1');
($st, $h, $body, $j) = get('/users/octocat/gists?per_page=2&page=3');
is(scalar @$j, 1, 'last page has the rest');
unlike($h->{link}, qr/rel="next"/, 'no next on the last page');
like($h->{link}, qr/rel="prev"/, 'prev on the last page');

# Forced page size, case-insensitive user lookup.
($st, $h, $body, $j) = get('/users/paged/gists?per_page=100');
is(scalar @$j, 2, 'forced page size 2');
like($h->{link}, qr{per_page=100&page=2>; rel="next"}, 'next keeps the requested per_page');
my ($e1) = $h->{etag};
($st, $h) = get('/users/paged/gists?per_page=100&page=2');
isnt($h->{etag}, $e1, 'each page has its own ETag');

# Errors.
($st, $h, $body, $j) = get('/users/nobody/gists?per_page=100');
is($st, 404, 'unknown user 404');
is($j->{message}, 'Not Found', '404 message');
like($j->{documentation_url}, qr{^https://docs\.github\.com/}, '404 documentation_url');

($st, $h, $body, $j) = get('/users/limited/gists');
is($st, 403, '403 rate limit');
is($h->{'x-ratelimit-remaining'}, 0, '403 remaining 0');
cmp_ok(abs($h->{'x-ratelimit-reset'} - time - 77), '<', 5, '403 reset');
like($j->{message}, qr/rate limit/, '403 message');

($st, $h) = get('/users/secondary/gists');
is($st, 429, 'secondary rate limit 429');
is($h->{'retry-after'}, 12, '429 retry-after');

($st) = get('/users/broken/gists');
is($st, 500, 'server error 500');

($st, $h, $body, $j) = get('/users/garbage/gists');
is($st, 200, 'garbage 200');
is($body, '{"not json', 'garbage body as given');
ok(!defined $j, 'garbage does not decode');

($st, $h, $body) = get('/users/hangup/gists', timeout => 3);
ok(!defined $st, 'hangup: no answer') or diag $body;

($st, $h) = get('/users/noetag/gists');
ok($st == 200 && !exists $h->{etag}, 'etag => 0: no ETag');

# Delays are served in parallel.
my $t0 = time;
my @hs = map { GistTest::http_send($port, GET => '/users/slow/gists') } 1 .. 20;
my @r = GistTest::http_wait_all(\@hs, 10);
my $took = time - $t0;
is(scalar(grep { ($_->[0] // 0) == 200 } @r), 20, '20 delayed requests all answered');
cmp_ok($took, '>=', 0.9, 'delay honoured');
cmp_ok($took, '<', 3, 'delayed requests served in parallel');

# Keep-alive: two requests on one connection.
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die;
    print $s "GET /users/noetag/gists HTTP/1.1\r\nHost: x\r\n\r\n";
    print $s "GET /users/noetag/gists HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    local $/;
    my $all = <$s>;
    my @st = $all =~ m{HTTP/1\.1 (\d+) }g;
    is_deeply(\@st, [200, 200], 'keep-alive: two answers on one connection');
}

# The scenario is re-read on every request.
$stub->set_user(octocat => { gists => [@g[0, 1]] });
($st, $h, $body, $j) = get('/users/octocat/gists?per_page=100');
is(scalar @$j, 2, 'scenario change seen on the next request');
$stub->set_user(octocat => undef);
($st) = get('/users/octocat/gists?per_page=100');
is($st, 404, 'removed user 404');

# The request log.
$stub->clear_requests;
get('/users/OctoCat/gists?per_page=100&page=2', headers => { 'X-Test' => 'yes', Authorization => 'Bearer abc' });
my @req = $stub->requests;
is(scalar @req, 1, 'one request logged after clear');
is($req[0]{method}, 'GET', 'logged method');
is($req[0]{target}, '/users/OctoCat/gists?per_page=100&page=2', 'logged target');
is($req[0]{login}, 'OctoCat', 'logged login');
is($req[0]{page}, 2, 'logged page');
is($req[0]{query}{per_page}, '100', 'logged query');
is($req[0]{headers}{'x-test'}, 'yes', 'logged header (lower-case name)');
is($req[0]{headers}{authorization}, 'Bearer abc', 'logged authorization');
is($stub->count_for('octocat'), 1, 'count_for is case-insensitive');
is($stub->count_for('other'), 0, 'count_for other user');

# The redis helper: start, command, stop, restart on the same port.
my $redis = $t->redis;
is($redis->cmd('PING'), 'PONG', 'redis PING');
$redis->cmd('SET', 'k', "v\r\nx");
is($redis->cmd('GET', 'k'), "v\r\nx", 'redis binary-safe GET');
is_deeply([$redis->all_keys], ['k'], 'redis KEYS');
$redis->stop;
ok(!eval { $redis->cmd('PING'); 1 }, 'redis stopped');
$redis->start;
is($redis->cmd('PING'), 'PONG', 'redis restarted on the same port');
is_deeply([$redis->all_keys], [], 'restarted redis is empty (--save "")');

$stub->stop;
($st) = get('/users/octocat/gists', timeout => 2);
ok(!defined $st, 'stub stopped');

# The nginx helpers, on a plain nginx (no module): run, http, reload, nginx -t, stop.
{
    local $t->{module} = undef;
    my $ng = $t->nginx(conf => <<'EOF');
%%TEST_GLOBALS%%
worker_processes 2;
events { worker_connections 64; }
http {
%%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT%%;
        location /json { default_type application/json; return 200 '{"a":[1,null]}'; }
        location /hdr  { add_header X-Mixed-Case yes; return 204; }
    }
}
EOF
    my ($rc, $out) = $ng->check_conf;
    is($rc, 0, 'nginx -t ok on a good conf') or diag $out;
    $ng->run;
    my @w = $ng->worker_pids;
    is(scalar @w, 2, 'two workers');
    ($st, $h, $body, $j) = $ng->http(GET => '/json');
    is($st, 200, 'nginx answers');
    is_deeply($j, { a => [1, undef] }, 'JSON decoded');
    like($h->{'content-type'}, qr{application/json}, 'lower-case header names');
    ($st, $h) = $ng->http(GET => '/hdr');
    is($h->{'x-mixed-case'}, 'yes', 'header name lower-cased');
    ok($ng->reload, 'reload: new workers up');
    my %old = map { $_ => 1 } @w;
    ok(GistTest::wait_for(sub { !grep { $old{$_} } $ng->worker_pids }, 5), 'all workers replaced');
    ($st) = $ng->http(GET => '/json');
    is($st, 200, 'answers after reload');
    $ng->no_alerts;
    $ng->set_conf("events {}\nhttp { bogus_directive 1; }\n");
    ($rc, $out) = $ng->check_conf;
    isnt($rc, 0, 'nginx -t fails on a bad conf');
    like($out, qr/\[emerg\] .*unknown directive "bogus_directive" in \Q$ng->{dir}\E\/nginx\.conf:2/,
         'nginx -t output has [emerg] ... in file:line');
    my $m = $ng->{master};
    ok($ng->stop, 'stop');
    ok(!kill(0, $m), 'master gone');
}

done_testing;
