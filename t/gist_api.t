#!/usr/bin/perl

# GET /user/{login} (stored state, never calls GitHub), DELETE /user/{login} (204, then 404;
# seen gists stay seen when re-tracked), GET /trackedusers (shape, sorted by login), GET /health,
# 405 with Allow for other methods, HEAD, and request bodies (discarded; over 64 KiB -> 413).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my @oc = StubGitHub::make_gists('octocat', 3);
my ($redis, $stub, $ng) = $t->setup(scenario => { users => {
    octocat => { gists => \@oc },
    bob     => { gists => [StubGitHub::make_gists('bob', 1)] },
    alice   => { gists => [StubGitHub::make_gists('alice', 2)] },
    zed     => { gists => [] },
} });

# --- GET /user/{login} ---------------------------------------------------------------------
error_ok([$ng->http(GET => '/user/octocat')], 404, 'not_tracked', 'GET untracked user: 404 not_tracked');
is($stub->count_for('octocat'), 0, 'GET of an untracked user does not call GitHub');

my ($st, $h, $body, $post) = $ng->http(POST => '/user/octocat');
is($st, 201, 'POST octocat: 201');

my $j;
($st, $h, $body, $j) = $ng->http(GET => '/user/octocat');
is($st, 200, 'GET tracked user: 200');
like($h->{'content-type'}, qr{^application/json\b}, 'GET user: application/json');
is_deeply([sort keys %{ $j || {} }], [qw(gist_count gists last_scan last_scanned_at login next_scan_at tracked_since)], 'GET user: keys');
is($j->{login}, 'octocat', 'GET user: login');
is($j->{tracked_since}, $post->{tracked_since}, 'GET user: tracked_since as reported by POST');
is($j->{last_scanned_at}, $post->{scanned_at}, 'GET user: last_scanned_at is the last scan');
is($j->{gist_count}, 3, 'GET user: gist_count 3');
my @fs = map { delete $_->{first_seen_at} } @{ $j->{gists} || [] };
is(scalar(grep { defined && /$RFC3339/ } @fs), 3, 'GET user: every gist has an RFC 3339 first_seen_at');
is_deeply($j->{gists}, [map { gist_view($_) } @oc], 'GET user: the stored gists, newest first');
is($stub->count_for('octocat'), 1, 'GET of a tracked user does not call GitHub');

($st, $h, $body, $j) = $ng->http(GET => '/user/OctoCAT');
is($st, 200, 'GET /user/OctoCAT: 200');
is($j->{login}, 'octocat', 'GET mixed case: the lower-case user');

($st, $h, $body) = $ng->http(HEAD => '/user/octocat');
is($st, 200, 'HEAD /user/octocat: 200');
is($body, '', 'HEAD: no body');
is($stub->count_for('octocat'), 1, 'HEAD does not call GitHub');

# --- GET /trackedusers ---------------------------------------------------------------------
for my $u (qw(zed bob alice)) {
    ($st) = $ng->http(POST => "/user/$u");
    is($st, 201, "POST $u: 201");
}
($st, $h, $body, $j) = $ng->http(GET => '/trackedusers');
is($st, 200, '/trackedusers: 200');
like($h->{'content-type'}, qr{^application/json\b}, '/trackedusers: application/json');
# issue 8: pages; one page holds every user here, so next_cursor is null
is_deeply([sort keys %{ $j || {} }], [qw(count next_cursor users)], '/trackedusers: keys');
ok(exists $j->{next_cursor} && !defined $j->{next_cursor}, '/trackedusers: next_cursor null on the last page');
is($j->{count}, 4, '/trackedusers: count 4');
is_deeply([map { $_->{login} } @{ $j->{users} || [] }], [qw(alice bob octocat zed)], 'users sorted by login');
is_deeply([map { [sort keys %$_] } @{ $j->{users} || [] }],
          [([qw(gist_count last_scan last_scanned_at login next_scan_at tracked_since)]) x 4], 'user entries: keys');
is_deeply([map { $_->{gist_count} } @{ $j->{users} || [] }], [2, 1, 3, 0], 'user entries: gist_count');
is(scalar(grep { ($_->{tracked_since} // '') =~ $RFC3339 && ($_->{last_scanned_at} // '') =~ $RFC3339 }
          @{ $j->{users} || [] }), 4, 'user entries: RFC 3339 times');
($st, $h, $body) = $ng->http(HEAD => '/trackedusers');
ok($st == 200 && $body eq '', 'HEAD /trackedusers: 200, no body');

# --- GET /health ---------------------------------------------------------------------------
($st, $h, $body, $j) = $ng->http(GET => '/health');
is($st, 200, '/health: 200');
like($h->{'content-type'}, qr{^application/json\b}, '/health: application/json');
is_deeply(GistTest::health_core($j), { status => 'ok', redis => 'up', pipedrive => 'off' }, '/health: {"status":"ok","redis":"up"}');

# --- DELETE --------------------------------------------------------------------------------
my $seen_before = $redis->hgetall('gist:seen');
($st, $h, $body) = $ng->http(DELETE => '/user/OctoCat');
is($st, 204, 'DELETE /user/OctoCat: 204');
is($body, '', 'DELETE: no body');
error_ok([$ng->http(DELETE => '/user/octocat')], 404, 'not_tracked', 'DELETE again: 404 not_tracked');
error_ok([$ng->http(GET => '/user/octocat')], 404, 'not_tracked', 'GET after DELETE: 404 not_tracked');
error_ok([$ng->http(DELETE => '/user/neverseen')], 404, 'not_tracked', 'DELETE unknown: 404 not_tracked');
($st, $h, $body, $j) = $ng->http(GET => '/trackedusers');
is_deeply([map { $_->{login} } @{ $j->{users} || [] }], [qw(alice bob zed)], '/trackedusers without octocat');
is($j->{count}, 3, '/trackedusers count 3');
ok(!grep({ $_ eq 'gist:user:{octocat}' || $_ eq 'gist:pages:{octocat}' } $redis->all_keys),
   'Redis: gist:user:{octocat} and gist:pages:{octocat} removed');
ok(!$redis->cmd('ZSCORE', 'gist:users', 'octocat'), 'Redis: octocat not in gist:users');
is_deeply($redis->hgetall('gist:seen'), $seen_before, 'Redis: seen gist ids kept, with their times');
is($stub->count_for('octocat'), 1, 'DELETE does not call GitHub');

# Re-tracking: 201, and the gists seen before are old.
my $new = StubGitHub::make_gist(id => 'beef' x 8, login => 'octocat', created_at => '2031-01-01T00:00:00Z');
$stub->set_user(octocat => { gists => [$new, @oc] });
($st, $h, $body, $j) = $ng->http(POST => '/user/octocat');
is($st, 201, 're-track after DELETE: 201');
is_deeply($j->{new_gists}, [gist_view($new)], 're-track: only the never-seen gist is new');
is_deeply($j->{old_gists}, [map { gist_view($_) } @oc], 're-track: previously seen gists are old');
ok($j->{tracked_since} ge $post->{tracked_since}, 're-track: tracked_since restarts');

# --- 405 with Allow ------------------------------------------------------------------------
for my $c (['/user/octocat', 'GET, HEAD, POST, DELETE', [qw(PUT PATCH OPTIONS PROPFIND)]],
           ['/trackedusers', 'GET, HEAD', [qw(POST PUT DELETE PATCH OPTIONS)]],
           ['/health', 'GET, HEAD', [qw(POST PUT DELETE PATCH OPTIONS)]]) {
    my ($uri, $allow, $methods) = @$c;
    for my $m (@$methods) {
        my $r = [$ng->http($m => $uri)];
        my $code = ref $r->[3] eq 'HASH' ? $r->[3]{error} // '' : '';
        error_ok($r, 405, $code, "$m $uri: 405 with a JSON error");
        ok(length $code, "$m $uri: error code present");
        is($r->[1]{allow}, $allow, "$m $uri: Allow: $allow");
    }
}
is($stub->count_for('octocat'), 2, '405s did not call GitHub');

# --- request bodies --------------------------------------------------------------------------
($st, $h, $body, $j) = $ng->http(POST => '/user/bob', body => 'x=1&y=2',
                                 headers => { 'Content-Type' => 'application/x-www-form-urlencoded' });
is($st, 200, 'POST with a small body: 200');
($st) = $ng->http(POST => '/user/bob', body => 'z' x 60000);
is($st, 200, 'POST with a 60000-byte body: 200');

# The body is read off the connection: the next request on the same keep-alive connection works.
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ng->port) or die;
    my $b = 'hello=world' x 100;
    print $s "POST /user/bob HTTP/1.1\r\nHost: x\r\nContent-Length: " . length($b) . "\r\n\r\n$b";
    print $s "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    my $all = '';
    my $sel = IO::Select->new($s);
    my $end = time + 10;
    while (time < $end && $sel->can_read($end - time)) {
        my $n = sysread($s, my $buf, 65536) or last;
        $all .= $buf;
    }
    my @st = $all =~ m{HTTP/1\.1 (\d{3}) }g;
    is_deeply(\@st, [200, 200], 'keep-alive: POST with body then GET /health both answered')
        or diag $all;
}

my $before = $stub->count_for('bob');
my $r = [$ng->http(POST => '/user/bob', body => 'y' x 65537)];
error_ok($r, 413, 'body_too_large', 'POST with a 65537-byte body: 413 body_too_large');
$r = [$ng->http(POST => '/user/bob', headers => { 'Content-Length' => 1048576 }, timeout => 5)];
error_ok($r, 413, 'body_too_large', 'Content-Length 1 MiB (body not sent): 413 body_too_large');
is($stub->count_for('bob'), $before, '413: GitHub not called');

$ng->stop;
$ng->no_alerts;

done_testing;
