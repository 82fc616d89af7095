#!/usr/bin/perl

# nginx -t for the Pipedrive and rescan directives: bad values fail with "[emerg] ... in
# <file>:<line>"; settings that only make sense together (token, claim timeout, retry bounds,
# currency, visibility) are reported at the gist_pipedrive_api_url line. Good configurations pass
# and never echo the token.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use GistTest;

my $t = GistTest->new;
my $pd_token = 'pd_ConfigTestToken_0123456789abcdef';
my $pd_file = $t->write_file('pd_token', "$pd_token\n", 0600);
my $ng = $t->nginx(vars => { REDISPORT => 6390, STUB => 'http://127.0.0.1:9' });
my $conf_path = $ng->conf_path;

sub check {
    my ($extra) = @_;
    $ng->set_conf(GistTest::standard_conf(http_extra => $extra));
    return $ng->check_conf;
}

sub pd { "    gist_pipedrive_api_url https://acme.pipedrive.com;\n    gist_pipedrive_token_file $pd_file;\n" . join('', map { "    $_\n" } @_) }

sub bad_ok {
    my ($name, $line_re, $extra) = @_;
    my ($rc, $out) = check($extra);
    my $line = $ng->conf_line($line_re) or die "test bug: no line matches $line_re";
    isnt($rc, 0, "$name: nginx -t fails");
    like($out, qr/\[emerg\] .* in \Q$conf_path\E:$line\b/, "$name: [emerg] ... in nginx.conf:$line") or diag $out;
    ok(index($out, $pd_token) < 0, "$name: the token is not echoed");
}

my ($rc, $out) = check(pd('gist_pipedrive_existing_gists skip;', 'gist_pipedrive_pipeline_id 3;',
    'gist_pipedrive_stage_id 7;', 'gist_pipedrive_owner_id 42;', 'gist_pipedrive_value 150.5;',
    'gist_pipedrive_currency EUR;', 'gist_pipedrive_visible_to 3;', 'gist_pipedrive_timeout 5s;',
    'gist_pipedrive_concurrency 8;', 'gist_pipedrive_retry_base 500ms;', 'gist_pipedrive_retry_max 2m;',
    'gist_pipedrive_max_attempts 20;', 'gist_pipedrive_claim_timeout 30s;', 'gist_pipedrive_response_wait 0;',
    'gist_rescan_interval 15m;', 'gist_rescan_concurrency 2;', 'gist_github_rate_reserve 200;'));
is($rc, 0, 'every Pipedrive and rescan directive with a good value passes') or diag $out;
ok(index($out, $pd_token) < 0, 'the Pipedrive token is not echoed by nginx -t');

bad_ok('api url without token', qr/gist_pipedrive_api_url/,
       "    gist_pipedrive_api_url https://acme.pipedrive.com;\n");
bad_ok('api url ftp://', qr/gist_pipedrive_api_url/,
       "    gist_pipedrive_api_url ftp://acme.pipedrive.com;\n    gist_pipedrive_token_file $pd_file;\n");
bad_ok('missing token file', qr/gist_pipedrive_token_file/,
       "    gist_pipedrive_api_url https://acme.pipedrive.com;\n    gist_pipedrive_token_file $t->{dir}/nope;\n");
bad_ok('claim timeout below 3 x timeout', qr/gist_pipedrive_api_url/,
       pd('gist_pipedrive_timeout 30s;', 'gist_pipedrive_claim_timeout 60s;'));
bad_ok('retry max below retry base', qr/gist_pipedrive_api_url/,
       pd('gist_pipedrive_retry_base 10s;', 'gist_pipedrive_retry_max 1s;'));
bad_ok('currency "euro"', qr/gist_pipedrive_api_url/, pd('gist_pipedrive_currency euro;'));
bad_ok('value "lots"', qr/gist_pipedrive_api_url/, pd('gist_pipedrive_value lots;'));
bad_ok('existing_gists "maybe"', qr/gist_pipedrive_existing_gists/, pd('gist_pipedrive_existing_gists maybe;'));
bad_ok('concurrency 0', qr/gist_pipedrive_concurrency/, pd('gist_pipedrive_concurrency 0;'));
bad_ok('timeout "soon"', qr/gist_pipedrive_timeout/, pd('gist_pipedrive_timeout soon;'));
bad_ok('rescan interval "often"', qr/gist_rescan_interval/, "    gist_rescan_interval often;\n");
bad_ok('rescan interval 100ms', qr/gist_rescan_interval/, "    gist_rescan_interval 100ms;\n");
bad_ok('rate reserve "-1"', qr/gist_github_rate_reserve/, "    gist_github_rate_reserve -1;\n");

done_testing;
