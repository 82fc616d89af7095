#!/usr/bin/perl

# Pagination (Link rel="next" followed over 3 pages, with per_page=100 honoured and with a small
# forced page size), the gist_github_max_pages cap, and ETag reuse: the rescan sends each page's
# ETag in If-None-Match, and a 304 reuses the stored page (those gists come back as old).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my @big = StubGitHub::make_gists('big', 250);
my @small = StubGitHub::make_gists('small', 7);
my ($redis, $stub, $ng) = $t->setup(scenario => { users => {
    big    => { gists => \@big },
    small  => { gists => \@small, page_size => 3 },
    capped => { gists => [StubGitHub::make_gists('capped', 250)] },
} });
# Another origin, which a Link header of the first stub points to for user "elsewhere".
my $other = $t->stub({ users => { elsewhere => { gists => [StubGitHub::make_gists('elsewhere', 5)] } } });
$stub->set_user(elsewhere => { gists => [StubGitHub::make_gists('elsewhere', 5)], page_size => 2,
                               link_base => $other->url });

# What the stub answers for a target right now (its ETag), asked directly.
sub etag_of {
    my ($target) = @_;
    my ($st, $h) = GistTest::http_request($stub->port, GET => $target);
    return $h->{etag};
}

# --- 250 gists, per_page=100: 3 pages ---------------------------------------------------------
my ($st, $h, $body, $j) = $ng->http(POST => '/user/big');
is($st, 201, 'big: 201');
is(scalar @{ $j->{new_gists} || [] }, 250, 'big: all 250 gists new');
is_deeply($j->{new_gists}, [map { gist_view($_) } @big], 'big: every gist, newest first');
is_deeply($j->{old_gists}, [], 'big: none old');

my @req = $stub->requests_for('big');
my @targets = map { $_->{target} } @req;
is_deeply(\@targets, ['/users/big/gists?per_page=100', '/users/big/gists?per_page=100&page=2',
                      '/users/big/gists?per_page=100&page=3'], 'big: first page, then the Link rel="next" URLs');
is(scalar(grep { ($_->{headers}{accept} // '') eq 'application/vnd.github+json'
                 && ($_->{headers}{'x-github-api-version'} // '') eq '2022-11-28' } @req), 3,
   'big: GitHub headers on every page');
ok(!grep({ exists $_->{headers}{'if-none-match'} } @req), 'big: no If-None-Match on the first scan');
is($redis->hgetall('gist:user:{big}')->{gist_count}, 250, 'big: gist_count 250 in Redis');

# --- forced page size 3: 7 gists over 3 pages -----------------------------------------------
($st, $h, $body, $j) = $ng->http(POST => '/user/small');
is($st, 201, 'small: 201');
is_deeply($j->{new_gists}, [map { gist_view($_) } @small], 'small: all 7 gists from 3 short pages');
is_deeply([map { $_->{page} } $stub->requests_for('small')], [1, 2, 3], 'small: pages 1, 2, 3 fetched');

# --- ETag reuse --------------------------------------------------------------------------------
my %etag = map { $_ => etag_of($_) } @targets;
$stub->clear_requests;
($st, $h, $body, $j) = $ng->http(POST => '/user/big');
is($st, 200, 'big rescan: 200');
@req = $stub->requests_for('big');
is_deeply([map { $_->{target} } @req], \@targets, 'big rescan: same three URLs');
is_deeply([map { $_->{headers}{'if-none-match'} } @req], [map { $etag{$_} } @targets],
          "big rescan: each page sent with that page's ETag in If-None-Match");
is_deeply($j->{new_gists}, [], 'big rescan (all 304): nothing new');
is_deeply($j->{old_gists}, [map { gist_view($_) } @big], 'big rescan (all 304): stored gists reused as old');
is($redis->hgetall('gist:user:{big}')->{gist_count}, 250, 'big rescan: gist_count still 250');

# A new gist at GitHub: every page shifts, no 304; only that gist is new.
my $fresh = StubGitHub::make_gist(id => 'f' x 32, login => 'big', created_at => '2030-01-01T00:00:00Z');
$stub->set_user(big => { gists => [$fresh, @big] });
$stub->clear_requests;
($st, $h, $body, $j) = $ng->http(POST => '/user/big');
is($st, 200, 'big after a new gist: 200');
is_deeply($j->{new_gists}, [gist_view($fresh)], 'only the added gist is new');
is(scalar @{ $j->{old_gists} || [] }, 250, 'the 250 others are old');
is(scalar(my @r = $stub->requests_for('big')), 3, 'big after a new gist: 3 pages (251 gists)');

# Only the last page changes: pages 1-2 answer 304 and are reused, page 3 is fetched.
my $last = StubGitHub::make_gist(id => 'e' x 32, login => 'big', created_at => '2000-01-01T00:00:00Z');
$stub->set_user(big => { gists => [$fresh, @big, $last] });
$stub->clear_requests;
($st, $h, $body, $j) = $ng->http(POST => '/user/big');
is($st, 200, 'big with a new oldest gist: 200');
is_deeply($j->{new_gists}, [gist_view($last)], 'mixed 304/200 pages: only the added gist is new');
is(scalar @{ $j->{old_gists} || [] }, 251, 'mixed 304/200 pages: 251 old (from reused pages too)');
is($redis->hgetall('gist:user:{big}')->{gist_count}, 252, 'gist_count 252');

# A deleted gist disappears from the result.
$stub->set_user(big => { gists => [$fresh, @big[1 .. 249], $last] });
($st, $h, $body, $j) = $ng->http(POST => '/user/big');
is($st, 200, 'big after a deletion: 200');
ok(!grep({ $_->{id} eq $big[0]{id} } @{ $j->{old_gists} || [] }, @{ $j->{new_gists} || [] }),
   'a gist gone from GitHub is not reported');
is(scalar @{ $j->{old_gists} || [] }, 251, '251 remaining, all old');

# --- Link rel="next" is only followed on the configured API origin -------------------------
($st, $h, $body, $j) = $ng->http(POST => '/user/elsewhere');
ok(defined $st, 'elsewhere: answered (' . ($st // 'none') . ')');
is(scalar(my @o = $other->requests), 0, 'a Link to another origin is not followed');
is($stub->count_for('elsewhere'), 1, 'elsewhere: only the first page asked of the API origin');

# --- gist_github_max_pages 2 -----------------------------------------------------------------
my $ng2 = $t->nginx(max_pages => 2)->run;
($st, $h, $body, $j) = $ng2->http(POST => '/user/capped');
is($st, 201, 'capped: 201');
is(scalar(my @c = $stub->requests_for('capped')), 2, 'gist_github_max_pages 2: only 2 pages fetched');
is(scalar @{ $j->{new_gists} || [] }, 200, 'capped: the 200 gists of the first 2 pages');

$ng->stop;
$ng2->stop;
$ng->no_alerts;
$ng2->no_alerts;

done_testing;
