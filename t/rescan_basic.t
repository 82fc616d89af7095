#!/usr/bin/perl

# Issue 5, background rescans (docs/rescan.md), the basics with `gist_rescan_interval 2s`:
# a gist added at the stub GitHub shows up in GET /user and becomes exactly one Pipedrive deal
# without any client call; rescans of an unchanged user send If-None-Match and get 304s (counted
# at the stub); GET /user and /trackedusers show last_scanned_at, next_scan_at (RFC 3339, within
# one interval) and last_scan; /health shows "rescan" and "github"; an untracked user is no
# longer rescanned (nor resurrected by a scan in flight); `gist_rescan_interval off` sends no
# background request at all.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);
use Time::Local qw(timegm);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my $INTERVAL = 2;    # seconds

sub epoch_of {
    my ($s) = @_;
    return undef unless defined $s && $s =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?Z\z/;
    return timegm($6, $5, $4, $3, $2 - 1, $1) + ($7 // 0);
}

sub ids { [map { $_->{id} } @_] }

my @alice = StubGitHub::make_gists('alice', 2, tag => 'rescan-basic');
my $alice_new = StubGitHub::make_gist(id => 'a11ce0ae3', login => 'alice', created_at => '2030-01-01T00:00:00Z',
                                      files => ['added_later.py'], description => 'Added while tracked');
my @bob = StubGitHub::make_gists('bob', 1, tag => 'rescan-basic');
my @carol = StubGitHub::make_gists('carol', 1, tag => 'rescan-basic');

my $redis = $t->redis;
my $gh = $t->stub({ users => { alice => { gists => \@alice }, bob => { gists => \@bob } } });
my $gh_off = $t->stub({ users => { carol => { gists => \@carol } } });
my $pd = $t->pipedrive;

my $ng = $t->nginx(workers => 2, stub => $gh,
    http_extra => "    gist_rescan_interval ${INTERVAL}s;\n    gist_github_rate_reserve 10;\n"
                  . $t->pipedrive_conf($pd, response_wait => '2s'))->run;
my $ng_off = $t->nginx(workers => 2, stub => $gh_off, prefix => 'off:',
    http_extra => "    gist_rescan_interval off;\n")->run;

# The stub answers like unauthenticated GitHub (limit 60, remaining 59): below the default reserve
# (100) rescans would (rightly) never start, hence gist_github_rate_reserve 10.

# --- rescans off: tracked once, never fetched again --------------------------------------------
my ($st, $h, $body, $j) = $ng_off->http(POST => '/user/carol');
is($st, 201, 'off: POST carol 201');
my $off_since = time;
($st, undef, $body, $j) = $ng_off->http(GET => '/user/carol');
is($st, 200, 'off: GET carol 200');
ok(exists $j->{next_scan_at} && !defined $j->{next_scan_at}, 'off: next_scan_at is null') or diag $body;
like($j->{last_scanned_at} // '', $RFC3339, 'off: last_scanned_at is RFC 3339');
is($j->{last_scan}, 'ok', 'off: last_scan "ok" after the POST scan') or diag $body;
(undef, undef, $body, $j) = $ng_off->http(GET => '/health');
ok(ref $j->{rescan} eq 'HASH' && exists $j->{rescan}{interval_s} && !defined $j->{rescan}{interval_s},
   'off: /health rescan.interval_s is null') or diag $body;
is($redis->cmd('EXISTS', 'off:rescan'), 0, 'off: no rescan schedule in Redis');

# --- tracking: the schedule's first due time within one interval -------------------------------
my ($t_post, $post_alice);
($st, $h, $body, $post_alice) = $ng->http(POST => '/user/alice');
is($st, 201, 'POST alice 201');
$t_post = time;
($st) = $ng->http(POST => '/user/bob');
is($st, 201, 'POST bob 201');
ok(GistTest::pipedrive_wait($pd, 'alice', ids(@alice), 20), 'alice: her 2 first gists became deals');

($st, undef, $body, $j) = $ng->http(GET => '/user/alice');
is($st, 200, 'GET alice 200');
like($j->{last_scanned_at} // '', $RFC3339, 'GET alice: last_scanned_at RFC 3339');
like($j->{next_scan_at} // '', $RFC3339, 'GET alice: next_scan_at RFC 3339') or diag $body;
ok(defined $j->{last_scan} && $j->{last_scan} =~ /^(?:ok|not_modified)\z/, 'GET alice: last_scan ok/not_modified')
    or diag $body;
{
    my $next = epoch_of($j->{next_scan_at});
    my $now = time;
    # First due: tracked + interval x U(0.5, 1); a rescan may already have moved it to now + interval.
    ok(defined $next && $next > $now - 1.5 && $next <= $now + $INTERVAL + 1.01,
       sprintf('GET alice: next_scan_at %s is within one interval of now (%.1f s away)',
               $j->{next_scan_at} // 'undef', ($next // 0) - $now));
}
my $z = $redis->cmd('ZSCORE', 'gist:rescan', 'alice');
ok(defined $z && $z > 1e12, 'Redis: alice has a due time (ms) in gist:rescan') or diag explain $z;

($st, undef, $body, $j) = $ng->http(GET => '/trackedusers');
is($st, 200, 'GET /trackedusers 200');
my %tu = map { $_->{login} => $_ } @{ $j->{users} || [] };
for my $u (qw(alice bob)) {
    my $r = $tu{$u} || {};
    like($r->{last_scanned_at} // '', $RFC3339, "trackedusers $u: last_scanned_at");
    like($r->{next_scan_at} // '', $RFC3339, "trackedusers $u: next_scan_at");
    ok(defined $r->{last_scan} && $r->{last_scan} =~ /^(?:ok|not_modified)\z/, "trackedusers $u: last_scan")
        or diag explain $r;
}

# --- /health: rescan and github ----------------------------------------------------------------
($st, undef, $body, $j) = $ng->http(GET => '/health');
is($st, 200, '/health 200');
is_deeply($j->{rescan}, { interval_s => $INTERVAL, overdue => 0 }, '/health rescan: interval_s 2, overdue 0')
    or diag $body;
is($j->{github}{remaining}, 59, '/health github.remaining: what the stub said (59)') or diag $body;
is($j->{github}{limit}, 60, '/health github.limit: 60');
{
    my $reset = epoch_of($j->{github}{reset});
    ok(defined $reset && abs($reset - (time + 3600)) < 10, '/health github.reset: RFC 3339, the stub\'s reset (now + 1 h)')
        or diag $body;
}

# --- unchanged: conditional rescans answered 304 -----------------------------------------------
ok(GistTest::wait_for(sub { $gh->count_for('alice') >= 3 }, 4 * $INTERVAL + 2, 0.1),
   'alice is rescanned without any client call (>= 2 rescans within 4 intervals)')
    or diag 'alice requests: ' . $gh->count_for('alice');
{
    my @r = $gh->requests_for('alice');
    my ($first, @rescans) = @r;
    is($first->{status}, 200, 'first fetch (POST) answered 200');
    my @inm = grep { defined $_->{headers}{'if-none-match'} } @rescans;
    is(scalar @inm, scalar @rescans, scalar(@rescans) . ' rescans, every one with If-None-Match');
    my @n304 = grep { ($_->{status} // 0) == 304 } @rescans;
    is(scalar @n304, scalar @rescans, 'every rescan of an unchanged user was answered 304 by the stub');
    my $gap = @r >= 2 ? $r[-1]{time} - $r[-2]{time} : 0;
    ok($gap >= $INTERVAL * 0.9, sprintf('consecutive rescans %.2f s apart (interval %d s)', $gap, $INTERVAL));
}
ok(GistTest::wait_for(sub {
    my (undef, undef, undef, $u) = $ng->http(GET => '/user/alice');
    ref $u eq 'HASH' && ($u->{last_scan} // '') eq 'not_modified'
        && ($u->{last_scanned_at} // '') ne $post_alice->{scanned_at};
}, 2 * $INTERVAL + 2, 0.2), 'GET alice: last_scan "not_modified" and last_scanned_at moved on after a 304 rescan');
($st, undef, $body, $j) = $ng->http(GET => '/user/alice');
{
    my $next = epoch_of($j->{next_scan_at});
    my $last = epoch_of($j->{last_scanned_at});
    ok(defined $next && $next > time - 1 && $next <= time + $INTERVAL + 1,
       'GET alice after a rescan: next_scan_at within one interval of now') or diag $body;
    ok(defined $next && defined $last && $next - $last >= $INTERVAL - 1 && $next - $last <= $INTERVAL + 1.5,
       'GET alice after a rescan: next_scan_at ~ last_scanned_at + interval') or diag $body;
}

# --- a new gist at GitHub: seen and dealt without a client call; untrack bob meanwhile ----------
($st) = $ng->http(DELETE => '/user/bob');
is($st, 204, 'DELETE bob 204');
my $t_untrack = time;
$gh->set_user(alice => { gists => [$alice_new, @alice] });
my $t_added = time;

ok(GistTest::wait_for(sub {
    my (undef, undef, undef, $u) = $ng->http(GET => '/user/alice');
    ref $u eq 'HASH' && ($u->{gist_count} // 0) == 3 && grep { $_->{id} eq $alice_new->{id} } @{ $u->{gists} || [] };
}, 2 * $INTERVAL + 3, 0.1), 'GET alice shows the gist added at the stub within two intervals, no POST sent');
my $seen_after = time - $t_added;
ok(GistTest::pipedrive_wait($pd, 'alice', ids($alice_new, @alice), 20),
   'the added gist became a deal at the stub Pipedrive');
GistTest::pipedrive_exactly_once_ok($pd, 'alice', ids($alice_new, @alice),
    'alice: exactly one deal and one note per gist (3), one person');
diag(sprintf('added gist visible after %.1f s', $seen_after)) if $ENV{TEST_NGINX_VERBOSE};
($st, undef, $body, $j) = $ng->http(GET => '/user/alice');
my ($g) = grep { $_->{id} eq $alice_new->{id} } @{ $j->{gists} || [] };
like($g->{first_seen_at} // '', $RFC3339, 'the added gist has first_seen_at');
ok(GistTest::wait_for(sub {
    my (undef, undef, undef, $u) = $ng->http(GET => '/user/alice');
    my ($x) = grep { $_->{id} eq $alice_new->{id} } @{ $u->{gists} || [] };
    ref $x->{deal} eq 'HASH' && ($x->{deal}{status} // '') eq 'created';
}, 10, 0.2), 'GET alice: the added gist\'s deal is "created"');
my @changed = grep { $_->{time} >= $t_added && ($_->{status} // 0) == 200 } $gh->requests_for('alice');
ok(@changed >= 1, 'the rescan after the change got a 200 (the page\'s ETag changed)');
ok(!grep({ ($_->{method} // '') ne 'GET' } $gh->requests), 'only GETs reached the stub GitHub');

# No POST /user was sent after the first two: the access log shows only GETs and the DELETE since.
{
    open my $fh, '<', $ng->dir . '/access.log' or die $!;
    my @posts = grep { /"POST / } <$fh>;
    is(scalar @posts, 2, 'the access log has only the two tracking POSTs');
}

# --- bob: untracked, no longer rescanned -------------------------------------------------------
GistTest::wait_for(sub { time - $t_untrack >= 3 * $INTERVAL }, 3 * $INTERVAL + 1, 0.1);
# A scan of bob in flight at the DELETE may still reach the stub; nothing after that.
my @bob_after = grep { $_->{time} > $t_untrack + 0.5 } $gh->requests_for('bob');
is(scalar @bob_after, 0, sprintf('bob: no request in the %.1f s (%.1f intervals) after the untrack',
                                 time - $t_untrack - 0.5, (time - $t_untrack - 0.5) / $INTERVAL));
($st) = $ng->http(GET => '/user/bob');
is($st, 404, 'bob stays untracked (no rescan resurrected him)');
is($redis->cmd('ZSCORE', 'gist:rescan', 'bob'), undef, 'Redis: bob is not in gist:rescan');
is_deeply([map { $_->{login} } @{ ($ng->http(GET => '/trackedusers'))[3]{users} || [] }], ['alice'],
          '/trackedusers: alice only');

# --- rescans off: still a single request, long after ------------------------------------------
ok(time - $off_since >= 3 * $INTERVAL, sprintf('off: observed for %.1f s', time - $off_since));
is($gh_off->count_for('carol'), 1, 'off: carol was fetched once (the POST), no background request');
is(scalar(my @all = $gh_off->requests), 1, 'off: the stub got no other request either');

$ng->no_alerts;
$ng_off->no_alerts;

done_testing;
