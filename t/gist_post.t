#!/usr/bin/perl

# POST /user/{login}: 201 then 200, the body shape, newest first, empty lists, null descriptions,
# the request GitHub receives (headers, per_page, no Authorization without a token), the Redis
# state, and case-insensitive logins.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my @g = (
    StubGitHub::make_gist(id => 'aaaa0001', login => 'octocat', created_at => '2024-03-01T10:00:00Z',
                          updated_at => '2024-03-05T10:00:00Z', files => ['b.rb', 'a.py'],
                          description => "h\x{e9}llo \x{2713} \"quoted\""),
    StubGitHub::make_gist(id => 'aaaa0002', login => 'octocat', created_at => '2024-02-01T10:00:00Z',
                          description => undef),
    StubGitHub::make_gist(id => 'aaaa0003', login => 'octocat', created_at => '2024-01-01T10:00:00Z',
                          description => ''),
);
my ($redis, $stub, $ng) = $t->setup(scenario => { users => {
    # served out of order: the module must answer newest first
    octocat   => { gists => [@g[1, 0, 2]] },
    emptyuser => { gists => [] },
    mixedcase => { gists => [StubGitHub::make_gists('MixedCase', 2)] },
} });

# --- first scan: 201, everything new -------------------------------------------------------
my ($st, $h, $body, $j) = $ng->http(POST => '/user/octocat');
is($st, 201, 'first POST: 201 Created');
like($h->{'content-type'}, qr{^application/json\b}, 'content-type application/json');
is(ref $j, 'HASH', 'body is a JSON object') or diag $body;
is_deeply([sort keys %$j], [qw(login new_gists old_gists scanned_at tracked_since)], 'body keys');
is($j->{login}, 'octocat', 'login');
like($j->{tracked_since}, $RFC3339, 'tracked_since is RFC 3339 UTC');
like($j->{scanned_at}, $RFC3339, 'scanned_at is RFC 3339 UTC');
is_deeply($j->{new_gists}, [map { gist_view($_) } @g], 'new_gists: all three, newest first, GitHub fields');
is_deeply($j->{old_gists}, [], 'old_gists empty');
like($body, qr/"old_gists"\s*:\s*\[\s*\]/, 'old_gists is [] in the JSON text (not null)');
ok(exists $j->{new_gists}[1]{description} && !defined $j->{new_gists}[1]{description},
   'null description stays null');
is($j->{new_gists}[0]{description}, "h\x{e9}llo \x{2713} \"quoted\"", 'unicode description round-trips');
is_deeply($j->{new_gists}[0]{files}, ['a.py', 'b.rb'], 'files: list of names');
my $first = $j;

# --- what GitHub was asked --------------------------------------------------------------------
my @req = $stub->requests_for('octocat');
is(scalar @req, 1, 'one GitHub request for a one-page user');
is($req[0]{method}, 'GET', 'GitHub: GET');
is($req[0]{target}, '/users/octocat/gists?per_page=100', 'GitHub: /users/octocat/gists?per_page=100');
my $rh = $req[0]{headers};
ok(defined $rh->{'user-agent'} && length $rh->{'user-agent'}, 'GitHub: User-Agent present')
    or diag explain $rh;
is($rh->{accept}, 'application/vnd.github+json', 'GitHub: Accept: application/vnd.github+json');
is($rh->{'x-github-api-version'}, '2022-11-28', 'GitHub: X-GitHub-Api-Version: 2022-11-28');
ok(!exists $rh->{authorization}, 'GitHub: no Authorization without a token file');
ok(!exists $rh->{'if-none-match'}, 'GitHub: no If-None-Match on the first scan');

# --- Redis state ------------------------------------------------------------------------------
is_deeply([GistTest::state_keys($redis)], ['gist:pages:{octocat}', 'gist:seen', 'gist:user:{octocat}', 'gist:users'],
          'Redis keys (prefix gist:; a user\'s keys share the hash tag {login})');
is_deeply($redis->cmd('ZRANGE', 'gist:users', 0, -1), ['octocat'], 'gist:users holds the login');
my $uh = $redis->hgetall('gist:user:{octocat}');
is($uh->{login}, 'octocat', 'user hash: login');
is($uh->{gist_count}, 3, 'user hash: gist_count');
is($uh->{tracked_since}, $first->{tracked_since}, 'user hash: tracked_since');
is_deeply([sort keys %{ $redis->hgetall('gist:seen') }], [sort map { $_->{id} } @g], 'gist:seen holds the ids');

# --- second scan: 200, everything old ------------------------------------------------------
sleep 1.1;    # so scanned_at moves on (second resolution)
($st, $h, $body, $j) = $ng->http(POST => '/user/octocat');
is($st, 200, 'second POST: 200');
is($j->{login}, 'octocat', 'second: login');
is($j->{tracked_since}, $first->{tracked_since}, 'second: tracked_since unchanged');
ok(defined $j->{scanned_at} && $j->{scanned_at} gt $first->{scanned_at}, 'second: scanned_at later')
    or diag "$first->{scanned_at} -> " . ($j->{scanned_at} // 'undef');
is_deeply($j->{new_gists}, [], 'second: new_gists empty');
like($body, qr/"new_gists"\s*:\s*\[\s*\]/, 'second: new_gists is [] in the JSON text');
is_deeply($j->{old_gists}, [map { gist_view($_) } @g], 'second: old_gists all three, newest first');

# --- a new gist at GitHub -----------------------------------------------------------------------
my $new = StubGitHub::make_gist(id => 'aaaa0000', login => 'octocat', created_at => '2024-04-01T00:00:00Z');
$stub->set_user(octocat => { gists => [$new, @g] });
($st, $h, $body, $j) = $ng->http(POST => '/user/octocat');
is($st, 200, 'third POST: 200');
is_deeply($j->{new_gists}, [gist_view($new)], 'third: only the added gist is new');
is_deeply($j->{old_gists}, [map { gist_view($_) } @g], 'third: the others are old');

# --- a user without gists -----------------------------------------------------------------
($st, $h, $body, $j) = $ng->http(POST => '/user/emptyuser');
is($st, 201, 'user without gists: 201');
like($body, qr/"new_gists"\s*:\s*\[\s*\]/, 'no gists: new_gists []');
like($body, qr/"old_gists"\s*:\s*\[\s*\]/, 'no gists: old_gists []');

# --- case-insensitive logins ----------------------------------------------------------------
($st, $h, $body, $j) = $ng->http(POST => '/user/MixedCase');
is($st, 201, 'POST /user/MixedCase: 201');
is($j->{login}, 'mixedcase', 'reported lower-case');
is(scalar @{ $j->{new_gists} || [] }, 2, 'MixedCase: two new');
($st, $h, $body, $j) = $ng->http(POST => '/user/MIXEDCASE');
is($st, 200, 'POST /user/MIXEDCASE: 200, same user');
is($j->{login}, 'mixedcase', 'MIXEDCASE reported lower-case');
is(scalar @{ $j->{old_gists} || [] }, 2, 'MIXEDCASE: the same two gists, now old');
($st, $h, $body, $j) = $ng->http(POST => '/user/OctoCat');
is($st, 200, 'POST /user/OctoCat: 200 (octocat already tracked)');
is($j->{login}, 'octocat', 'OctoCat reported lower-case');
is($j->{tracked_since}, $first->{tracked_since}, 'OctoCat is the same user');
ok(!grep({ /MixedCase|MIXEDCASE|OctoCat/ } $redis->all_keys), 'no mixed-case Redis keys');
is_deeply($redis->cmd('ZRANGE', 'gist:users', 0, -1), [qw(emptyuser mixedcase octocat)],
          'gist:users: lower-case logins, each once');
($st, $h, $body, $j) = $ng->http(GET => '/trackedusers');
is_deeply([map { $_->{login} } @{ $j->{users} || [] }], [qw(emptyuser mixedcase octocat)],
          '/trackedusers lists each user once, lower-case');

$ng->stop;
$ng->no_alerts;

done_testing;
