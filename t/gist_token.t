#!/usr/bin/perl

# gist_github_token_file: the token is sent as "Authorization: Bearer <token>" on every GitHub
# request, and never appears in the error log (info level) or in any response.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;
use StubGitHub;

my $t = GistTest->new;

my $token = 'ghp_SeCrEtT0kEn4TestsOnly1234567890abcd';
my $token_file = $t->write_file('token', "$token\n", 0600);

my ($redis, $stub, $ng) = $t->setup(
    token_file => $token_file,
    timeout => '1s',
    scenario => { users => {
        octocat => { gists => [StubGitHub::make_gists('octocat', 5)], page_size => 2 },
        broken  => { status => 500 },
        limited => { status => 403 },
        denied  => { status => 401 },
        slow    => { gists => [], delay => 2 },
        garbage => { body => 'nonsense' },
    } },
);

my @bodies;
my @headers;
sub req {
    my @r = $ng->http(@_);
    push @bodies, $r[2] // '';
    push @headers, join "\n", map { "$_: $r[1]{$_}" } sort keys %{ $r[1] || {} };
    return @r;
}

my ($st) = req(POST => '/user/octocat');
is($st, 201, 'POST with a token: 201');
my @req = $stub->requests_for('octocat');
is(scalar @req, 3, 'three pages fetched');
is(scalar(grep { ($_->{headers}{authorization} // '') eq "Bearer $token" } @req), 3,
   'every GitHub request has Authorization: Bearer <token> (trailing newline stripped)')
    or diag explain [map { $_->{headers}{authorization} } @req];

($st) = req(POST => '/user/octocat');
is($st, 200, 'rescan with a token: 200');
@req = $stub->requests_for('octocat');
is(scalar(grep { ($_->{headers}{authorization} // '') eq "Bearer $token" } @req), 6,
   'conditional requests carry the token too');

# Error paths, which are the likeliest to log details.
($st) = req(POST => '/user/nobody');
is($st, 404, 'unknown user: 404');
($st) = req(POST => '/user/broken');
is($st, 502, 'GitHub 500: 502');
($st) = req(POST => '/user/limited');
is($st, 503, 'GitHub 403 rate limit: 503');
($st) = req(POST => '/user/denied');
is($st, 502, 'GitHub 401: 502');
($st) = req(POST => '/user/slow');
is($st, 504, 'GitHub timeout: 504');
($st) = req(POST => '/user/garbage');
is($st, 502, 'GitHub garbage: 502');
req(GET => '/user/octocat');
req(GET => '/trackedusers');
req(GET => '/health');
req(PUT => '/user/octocat');
req(POST => '/user/-bad');

# A reload re-reads the token file.
ok($ng->reload, 'reload');
($st) = req(POST => '/user/octocat');
is($st, 200, 'after reload: 200');

my $part = substr($token, 4, 16);    # catches partial or prefixed echoes too
ok(!grep({ index($_, $part) >= 0 } @bodies), 'token not in any response body');
ok(!grep({ index($_, $part) >= 0 } @headers), 'token not in any response header');

my ($rc, $out) = $ng->check_conf;
is($rc, 0, 'nginx -t accepts the token file');
ok(index($out, $part) < 0, 'token not in nginx -t output');

$ng->stop;
my $log = $ng->error_log;
ok(length $log > 0, 'error log was written (info level)');
ok(index($log, $part) < 0, 'token not in the error log');
$ng->no_alerts;

# Even at debug level (Debian's nginx is built --with-debug), the token stays out of the log.
my $dbg = $t->nginx(token_file => $token_file, timeout => '1s', log_level => 'debug')->run;
($st) = $dbg->http(POST => '/user/octocat');
is($st, 200, 'debug-level nginx: POST 200');
($st) = $dbg->http(POST => '/user/broken');
is($st, 502, 'debug-level nginx: GitHub 500 -> 502');
($st) = $dbg->http(POST => '/user/denied');
is($st, 502, 'debug-level nginx: GitHub 401 -> 502');
$dbg->stop;
$log = $dbg->error_log;
like($log, qr/\[debug\]/, 'debug-level log has debug lines');
ok(index($log, $part) < 0, 'token not in the debug-level error log');

done_testing;
