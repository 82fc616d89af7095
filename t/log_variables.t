#!/usr/bin/perl

# Issue 11, item 3: $gist_login, $gist_github_requests and $gist_scan in a JSON access log
# (the production config's log_format uses them the same way).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest qw(wait_for json_decode);
use StubGitHub;

my $t = GistTest->new;
my @gists = StubGitHub::make_gists('alice', 2, tag => 'logvars');
my $redis = $t->redis;
my $gh = $t->stub({ users => { alice => { gists => \@gists } } });
my $log = $t->dir . '/gist_access.log';
my $ng = $t->nginx(workers => 2, http_extra => <<"EOF2")->run;
    log_format gist_json escape=json
        '{"method":"\$request_method","uri":"\$uri","status":\$status,'
        '"gist_login":"\$gist_login","gist_github_requests":\$gist_github_requests,'
        '"gist_scan":"\$gist_scan"}';
    access_log $log gist_json;
EOF2

my @calls = (
    [POST => '/user/Alice', 201], [POST => '/user/alice', 200], [GET => '/user/alice', 200],
    [GET => '/health', 200], [POST => '/user/nobody', 404], [GET => '/trackedusers', 200],
    [DELETE => '/user/alice', 204], [GET => '/user/-bad-', 400],
);
for my $c (@calls) {
    my ($st) = $ng->http($c->[0] => $c->[1]);
    is($st, $c->[2], "$c->[0] $c->[1]: $c->[2]");
}

my @lines;
ok(wait_for(sub {
    open my $fh, '<', $log or return 0;
    @lines = <$fh>;
    close $fh;
    @lines >= @calls;
}, 5), 'every request is in the access log');
my @entries = map { json_decode($_) } @lines;
is(scalar(grep { ref $_ eq 'HASH' } @entries), scalar @calls, 'every line is valid JSON');

my @got = map { [@{$_}{qw(method uri gist_login gist_github_requests gist_scan)}] } @entries;
is_deeply(\@got, [
    ['POST', '/user/Alice', 'alice', 1, 'first'],
    ['POST', '/user/alice', 'alice', 1, 'rescan'],     # one request, answered 304
    ['GET', '/user/alice', 'alice', 0, 'cached'],
    ['GET', '/health', '', 0, ''],
    ['POST', '/user/nobody', 'nobody', 1, 'first'],
    ['GET', '/trackedusers', '', 0, ''],
    ['DELETE', '/user/alice', 'alice', 0, ''],
    ['GET', '/user/-bad-', '', 0, ''],
], 'login, GitHub requests and scan kind per request') or diag explain \@got;

$ng->no_alerts;
done_testing;
