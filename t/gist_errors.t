#!/usr/bin/perl

# GitHub failures and what POST /user/{login} answers; none of them changes Redis:
#   404 -> 404 github_user_not_found; 403 + x-ratelimit-remaining: 0 and 429 + retry-after ->
#   503 github_rate_limited + Retry-After; 5xx, bad JSON, connection closed, unreachable ->
#   502 github_unavailable; 401/422 -> 502 github_rejected; slower than gist_upstream_timeout ->
#   504 github_timeout.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my @pg = StubGitHub::make_gists('paged', 5);
my ($redis, $stub, $ng) = $t->setup(
    timeout => '1s',
    scenario => { users => {
        limited   => { status => 403, reset_in => 77 },
        secondary => { status => 429, retry_after => 12 },
        e500      => { status => 500 },
        e502      => { status => 502 },
        e503      => { status => 503 },
        garbage   => { body => '{"not json' },
        html      => { body => '<html><body>Unicorn!</body></html>' },
        notarray  => { body => '{"message":"surprise"}' },
        hangup    => { close => 1 },
        denied    => { status => 401 },
        invalid   => { status => 422 },
        slow      => { gists => [], delay => 3 },
        page2fail => { gists => \@pg, page_size => 2, page_status => { 2 => 500 } },
        flaky     => { gists => [@pg[0, 1]] },
    } },
);

sub post { [$ng->http(POST => "/user/$_[0]", timeout => 10)] }
# Redis content: every key with its type and value (hashes as field => value).
sub state_now {
    my %s;
    for my $k (GistTest::state_keys($redis)) {
        my $type = $redis->cmd('TYPE', $k);
        $s{$k} = $type eq 'hash' ? { %{ $redis->hgetall($k) } }
               : $type eq 'zset' ? $redis->cmd('ZRANGE', $k, 0, -1, 'WITHSCORES')
               : $type eq 'string' ? $redis->cmd('GET', $k)
               : "type $type";
    }
    return \%s;
}

my $r;

$r = post('nobody');
error_ok($r, 404, 'github_user_not_found', 'unknown GitHub user: 404 github_user_not_found');
is(scalar(my @x = $stub->requests_for('nobody')), 1, 'unknown user: GitHub was asked once');

$r = post('limited');
error_ok($r, 503, 'github_rate_limited', '403 + x-ratelimit-remaining 0: 503 github_rate_limited');
like($r->[1]{'retry-after'} // '', qr/^\d+$/, '403: Retry-After is a number of seconds');
ok(($r->[1]{'retry-after'} // 0) >= 60 && $r->[1]{'retry-after'} <= 3600,
   "403: Retry-After follows x-ratelimit-reset (77 s away): " . ($r->[1]{'retry-after'} // 'none'));

$r = post('secondary');
error_ok($r, 503, 'github_rate_limited', '429 + retry-after: 503 github_rate_limited');
like($r->[1]{'retry-after'} // '', qr/^\d+$/, '429: Retry-After is a number of seconds');
ok(($r->[1]{'retry-after'} // 0) >= 12 && $r->[1]{'retry-after'} <= 3600,
   "429: Retry-After not shorter than GitHub's 12 s: " . ($r->[1]{'retry-after'} // 'none'));

error_ok(post($_->[0]), 502, 'github_unavailable', "$_->[1]: 502 github_unavailable") for
    ['e500', 'GitHub 500'], ['e502', 'GitHub 502'], ['e503', 'GitHub 503'], ['garbage', 'truncated JSON'],
    ['html', 'HTML body'], ['notarray', 'JSON that is not a gist list'],
    ['hangup', 'connection closed without an answer'], ['page2fail', '500 on page 2'];

error_ok(post('denied'), 502, 'github_rejected', 'GitHub 401: 502 github_rejected');
error_ok(post('invalid'), 502, 'github_rejected', 'GitHub 422: 502 github_rejected');

my $t0 = time;
$r = post('slow');
my $took = time - $t0;
error_ok($r, 504, 'github_timeout', 'GitHub slower than gist_upstream_timeout 1s: 504 github_timeout');
ok($took < 2.5, sprintf('timeout after ~1 s, not the stub\'s 3 s delay (%.2f s)', $took));

# Nothing stored by any of them.
is_deeply([GistTest::state_keys($redis)], [], 'Redis has no keys after failed scans');
my ($st, $h, $body, $j) = $ng->http(GET => '/trackedusers');
is($st, 200, '/trackedusers 200');
is($j->{count}, 0, '/trackedusers count 0');
is_deeply($j->{users}, [], '/trackedusers users []');
error_ok([$ng->http(GET => '/user/nobody')], 404, 'not_tracked', 'unknown user is not tracked');
error_ok([$ng->http(GET => '/user/page2fail')], 404, 'not_tracked', 'failed paged scan tracked nothing');

# A tracked user whose rescan fails keeps its state exactly.
($st) = $ng->http(POST => '/user/flaky');
is($st, 201, 'flaky: first scan 201');
my $before = state_now();
my @flaky_cases = ({ status => 500 }, { status => 403 }, { status => 429 }, { body => 'junk' },
                   { close => 1 }, { status => 404 }, { gists => [], delay => 3 });
for my $case (@flaky_cases) {
    $stub->set_user(flaky => $case);
    ($st) = $ng->http(POST => '/user/flaky', timeout => 10);
    ok(defined $st && $st >= 500 || (defined $st && $st == 404), 'flaky rescan fails: ' . ($st // 'none'));
}
is_deeply(state_now(), $before, 'failed rescans changed nothing in Redis');

# GitHub unreachable: nothing listens on the configured port.
my $dead = GistTest::free_port();
my $ng2 = $t->nginx(api_url => "http://127.0.0.1:$dead", timeout => '2s')->run;
$r = [$ng2->http(POST => '/user/octocat')];
error_ok($r, 502, 'github_unavailable', 'GitHub unreachable: 502 github_unavailable');
is_deeply(state_now(), $before, 'unreachable GitHub: Redis unchanged');

$ng->stop;
$ng2->stop;
$ng->no_alerts;
$ng2->no_alerts;

done_testing;
