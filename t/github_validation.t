#!/usr/bin/perl

# What GitHub sends is checked before it is stored or echoed: a gist whose id is not 1 to 64
# lowercase hex digits, or whose html_url is not on https://gist.github.com/, is skipped with one
# warning line in the error log; the user's other gists are tracked as usual (no 502, no deal,
# nothing of the skipped gist in Redis or in any answer).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my $good = StubGitHub::make_gist(id => 'aaaa0001', login => 'octocat', created_at => '2024-03-01T10:00:00Z');
my $bad_id = StubGitHub::make_gist(id => 'aaaa0002', login => 'octocat', created_at => '2024-02-01T10:00:00Z');
$bad_id->{id} = "AAAA:0002\r\nX";
my $bad_url = StubGitHub::make_gist(id => 'aaaa0003', login => 'octocat', created_at => '2024-01-01T10:00:00Z');
$bad_url->{html_url} = 'https://evil.test/aaaa0003';
my $js_url = StubGitHub::make_gist(id => 'aaaa0004', login => 'octocat', created_at => '2023-01-01T10:00:00Z');
$js_url->{html_url} = 'javascript:alert(1)';

my ($redis, $stub, $ng) = $t->setup(
    scenario => { users => { octocat => { gists => [$good, $bad_id, $bad_url, $js_url] } } });

my ($st, $h, $body, $j) = $ng->http(POST => '/user/octocat');
is($st, 201, 'POST /user/octocat: 201 despite invalid gists') or diag $body;
is_deeply([map { $_->{id} } @{ $j->{new_gists} || [] }], ['aaaa0001'], 'only the valid gist is reported');
is_deeply($j->{new_gists}[0], { %{ gist_view($good) } }, 'the valid gist as GitHub sent it');
is_deeply($j->{old_gists}, [], 'no old gists');

($st, $h, $body, $j) = $ng->http(GET => '/user/octocat');
is($st, 200, 'GET /user/octocat');
is_deeply([map { $_->{id} } @{ $j->{gists} || [] }], ['aaaa0001'], 'GET shows only the valid gist');
is($j->{gist_count}, 1, 'gist_count counts only the valid gist');

my $seen = $redis->cmd('HKEYS', 'gist:seen');
is_deeply([sort @$seen], ['aaaa0001'], 'only the valid gist is marked seen');
my $stored = $redis->cmd('GET', 'gist:pages:{octocat}') // '';
ok(index($stored, 'evil.test') < 0 && index($stored, 'javascript:') < 0 && index($stored, 'AAAA') < 0,
   'nothing of the invalid gists is stored');

my $log = $ng->error_log;
my @warn = grep { /\[warn\].*GitHub listed an invalid gist for octocat, skipped/ } split /\n/, $log;
is(scalar @warn, 3, 'one warning line per skipped gist') or diag $log;
like($warn[0] // '', qr/invalid gist id "AAAA:0002\?\?X"/, 'the bad id, control bytes masked');
like($warn[1] // '', qr{gist aaaa0003: html_url "https://evil.test/aaaa0003" is not on https://gist.github.com/},
     'the bad html_url');
ok($log !~ /\r/, 'no raw CR in the error log');

# A rescan later (same stub): still one warning per scan and per gist, still no failure.
($st) = $ng->http(POST => '/user/octocat');
is($st, 200, 'second POST: 200');

$ng->no_alerts;

done_testing;
